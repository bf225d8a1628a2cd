/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tapreg.c - see tapreg.h.
 *
 * Names in the directory (anything else is ignored):
 *   t.<32 hex>  an entry being written (not yet counted)
 *   w.<32 hex>  a waiting request; live while its creator holds the flock
 *   c.<32 hex>  a contest marker: "reader=R\ntime=MS\nwho=TEXT\n"
 * An entry is locked before it is linked under its w. name, so a w. file
 * whose lock can be taken is dead for good.
 */
#include "tapreg.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAME_LEN (2 + 32) /* "w." + 32 hex */
#define CONTENT_MAX 2048
#define TMP_MAX_AGE_S 10 /* a t. file this old was left by a dead writer */

struct vivo_tapreg {
	int dfd;   /* the directory */
	int fd;    /* our entry, locked */
	dev_t dev; /* to know our own entry when scanning */
	ino_t ino;
	char name[NAME_LEN + 1];
	char me[512]; /* our description, for the contest marker */
};

int64_t
vivo_tapreg_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		return vivo_now_ms();
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A value on one line: control bytes become '?'. */
static void
clean(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < n && src != NULL && src[i] != '\0'; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
		    ? '?'
		    : src[i];
	if (n > 0)
		dst[i] = '\0';
}

static int
random_name(char prefix, char out[NAME_LEN + 1])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	out[0] = prefix;
	out[1] = '.';
	return vivo_hex_encode(b, sizeof(b), out + 2, NAME_LEN - 1);
}

static int
is_ours(const char *name, char prefix)
{
	if (strlen(name) != NAME_LEN || name[0] != prefix || name[1] != '.')
		return 0;
	for (size_t i = 2; i < NAME_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
			(name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

/* Open (creating as root) the directory and check it: root's, 01777. */
static int
open_dir(const char *dir, char *err, size_t errsz)
{
	struct stat st;
	int dfd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT && geteuid() == 0) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errsz, "cannot create %s: %s", dir,
			    strerror(errno));
			return -1;
		}
		dfd =
		    open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd >= 0 && fstat(dfd, &st) == 0 && st.st_uid == 0 &&
		    (st.st_mode & 07777) != 01777 && fchmod(dfd, 01777) != 0) {
			close(dfd);
			dfd = -1;
		}
	}
	if (dfd < 0) {
		snprintf(err, errsz, "cannot open %s: %s%s", dir,
		    strerror(errno),
		    errno == ENOENT
			? " (made at boot by the package's tmpfiles.d "
			  "entry, or by the first request that runs as root)"
			: "");
		return -1;
	}
	/* root's (or, as for every file we read, the caller's own: a user
	 * who owns the registry fools only requests running as that user;
	 * root-run ones refuse it) */
	if (fstat(dfd, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 07777) != 01777) {
		snprintf(err, errsz,
		    "%s is not root's with mode 1777: refusing "
		    "to trust it",
		    dir);
		close(dfd);
		return -1;
	}
	return dfd;
}

/* 1 if the entry `name` is held by a live process, 0 if dead, -1 if it
 * cannot be told (gone meanwhile). On 1 and with buf, its content. */
static int
live(int dfd, const char *name, struct stat *st, char *buf, size_t bufsz)
{
	int fd, r;
	ssize_t n;

	fd = openat(dfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	/* a shared lock: two processes testing the same dead entry at once
	 * both see it dead; the owner's exclusive lock refuses both */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	r = errno == EWOULDBLOCK ? 1 : -1;
	if (r == 1 && buf != NULL) {
		n = pread(fd, buf, bufsz - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
	close(fd);
	return r;
}

/* The value of "key=" in a NUL-terminated text of lines, into out. */
static int
field(const char *text, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			char tmp[CONTENT_MAX];
			size_t vlen = len - klen - 1;
			if (vlen >= sizeof(tmp))
				vlen = sizeof(tmp) - 1;
			memcpy(tmp, p + klen + 1, vlen);
			tmp[vlen] = '\0';
			clean(out, outsz, tmp);
			return 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (outsz > 0)
		out[0] = '\0';
	return -1;
}

/* Does the entry text watch `reader`? (no reader= lines: every reader) */
static int
watches(const char *text, const char *reader)
{
	int any = 0;

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 7 && strncmp(p, "reader=", 7) == 0) {
			char f[256];
			size_t flen =
			    len - 7 < sizeof(f) - 1 ? len - 7 : sizeof(f) - 1;
			memcpy(f, p + 7, flen);
			f[flen] = '\0';
			any = 1;
			if (strstr(reader, f) != NULL)
				return 1;
		}
		p = nl ? nl + 1 : NULL;
	}
	return !any;
}

static void
describe(const char *text, const struct stat *st, char *out, size_t outsz)
{
	char service[64], user[65], tty[64], ruser[65], pid[16];

	(void)field(text, "service", service, sizeof(service));
	(void)field(text, "user", user, sizeof(user));
	(void)field(text, "tty", tty, sizeof(tty));
	(void)field(text, "ruser", ruser, sizeof(ruser));
	(void)field(text, "pid", pid, sizeof(pid));
	/* the file's owner is the kernel's word, the rest the writer's */
	snprintf(out, outsz,
	    "\"%s\" for %s on %s, started by %s (process %s, "
	    "uid %u)",
	    service[0] ? service : "?", user[0] ? user : "?",
	    tty[0] ? tty : "no terminal", ruser[0] ? ruser : "?",
	    pid[0] ? pid : "?", (unsigned)st->st_uid);
}

/* Remove what dead processes left, where we may (our own, or all as
 * root; the sticky bit stops the rest). */
static void
sweep(int dfd)
{
	DIR *d;
	struct dirent *de;
	int dfd2, seen = 0;
	time_t now = time(NULL);

	if ((dfd2 = dup(dfd)) < 0)
		return;
	if ((d = fdopendir(dfd2)) == NULL) {
		close(dfd2);
		return;
	}
	while ((de = readdir(d)) != NULL && seen++ < VIVO_TAPREG_SCAN_MAX) {
		struct stat st;
		int w = is_ours(de->d_name, 'w'), t = is_ours(de->d_name, 't');
		int c = is_ours(de->d_name, 'c');
		if (!w && !t && !c)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (st.st_uid != geteuid() && geteuid() != 0))
			continue;
		if (c && now - st.st_mtime <= VIVO_TAPREG_MARKER_TTL_S)
			continue; /* a recent marker still counts */
		if (t && now - st.st_mtime <= TMP_MAX_AGE_S)
			continue; /* maybe being written right now */
		if (c || live(dfd, de->d_name, &st, NULL, 0) == 0)
			(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

int
vivo_tapreg_join(vivo_tapreg_t **out, const char *dir,
    const struct vivo_waiter *me, const struct vivo_config *c, char *err,
    size_t errsz)
{
	vivo_tapreg_t *r = NULL;
	char tmp[NAME_LEN + 1], text[CONTENT_MAX], v[4][65];
	struct stat st;
	size_t off;
	int ok = -1;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	r->fd = -1;
	if ((r->dfd = open_dir(dir, err, errsz)) < 0)
		goto out;
	sweep(r->dfd);
	clean(v[0], sizeof(v[0]), me->service);
	clean(v[1], sizeof(v[1]), me->user);
	clean(v[2], sizeof(v[2]), me->tty);
	clean(v[3], sizeof(v[3]), me->ruser);
	off = (size_t)snprintf(text, sizeof(text),
	    "v=1\nservice=%s\nuser=%s\n"
	    "tty=%s\nruser=%s\nuid=%u\npid=%ld\n",
	    v[0], v[1], v[2], v[3], (unsigned)getuid(), (long)getpid());
	for (size_t i = 0; i < c->nreaders && off < sizeof(text); i++) {
		char f[128];
		clean(f, sizeof(f), c->readers[i]);
		off += (size_t)snprintf(
		    text + off, sizeof(text) - off, "reader=%s\n", f);
	}
	if (off >= sizeof(text)) {
		snprintf(err, errsz, "request description too long");
		goto out;
	}
	snprintf(r->me, sizeof(r->me),
	    "\"%s\" for %s on %s, started by %s "
	    "(process %ld, uid %u)",
	    v[0], v[1][0] ? v[1] : "?", v[2][0] ? v[2] : "no terminal",
	    v[3][0] ? v[3] : "?", (long)getpid(), (unsigned)geteuid());
	/* written and locked under a t. name, then linked as w.: a w. entry
	 * is locked from the moment anyone can see it */
	for (int tries = 0; tries < 4 && r->fd < 0; tries++) {
		if (random_name('t', tmp) != 0 ||
		    random_name('w', r->name) != 0)
			break;
		r->fd = openat(r->dfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (r->fd < 0)
			continue;
		if (fchmod(r->fd, 0644) != 0 ||
		    flock(r->fd, LOCK_EX | LOCK_NB) != 0 ||
		    write(r->fd, text, off) != (ssize_t)off ||
		    linkat(r->dfd, tmp, r->dfd, r->name, 0) != 0) {
			close(r->fd);
			r->fd = -1;
		}
		(void)unlinkat(r->dfd, tmp, 0);
	}
	if (r->fd < 0 || fstat(r->fd, &st) != 0) {
		snprintf(err, errsz, "cannot register the request in %s: %s",
		    dir, strerror(errno));
		goto out;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	*out = r;
	r = NULL;
	ok = 0;
out:
	vivo_tapreg_leave(&r);
	return ok;
}

/* Leave a marker: this tap on `reader` is contested. Best effort: the
 * other request sees us live anyway unless we are gone by then. */
static void
mark(vivo_tapreg_t *r, const char *reader, int64_t tap_ms, const char *other)
{
	char name[NAME_LEN + 1], tmp[NAME_LEN + 1], text[CONTENT_MAX], rd[256];
	int fd, n;

	clean(rd, sizeof(rd), reader);
	n = snprintf(text, sizeof(text),
	    "reader=%s\ntime=%lld\nwho=%s and %s\n", rd, (long long)tap_ms,
	    r->me, other);
	if (n < 0 || (size_t)n >= sizeof(text) || random_name('t', tmp) != 0 ||
	    random_name('c', name) != 0)
		return;
	fd = openat(r->dfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (fchmod(fd, 0644) == 0 && write(fd, text, (size_t)n) == n)
		if (linkat(r->dfd, tmp, r->dfd, name, 0) != 0)
			vivo_dbg("%s: cannot leave a contest marker: %s",
			    __func__, strerror(errno));
	close(fd);
	(void)unlinkat(r->dfd, tmp, 0);
}

int
vivo_tapreg_check(vivo_tapreg_t *r, const char *reader, int64_t tap_ms,
    char *other, size_t othersz)
{
	DIR *d;
	struct dirent *de;
	char text[CONTENT_MAX];
	int dfd2, seen = 0, status = VIVO_TAPREG_FREE;

	other[0] = '\0';
	if (r == NULL || (dfd2 = dup(r->dfd)) < 0)
		return VIVO_TAPREG_EFAIL;
	if ((d = fdopendir(dfd2)) == NULL) {
		close(dfd2);
		return VIVO_TAPREG_EFAIL;
	}
	/* first the live requests, then the markers: one that went away
	 * after seeing us left its marker before it went */
	for (int pass = 0; pass < 2 && status == VIVO_TAPREG_FREE; pass++) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			struct stat st;
			if (++seen > VIVO_TAPREG_SCAN_MAX) {
				snprintf(other, othersz,
				    "more than %d entries in the "
				    "request registry (abuse?)",
				    VIVO_TAPREG_SCAN_MAX);
				status = VIVO_TAPREG_CONTESTED;
				break;
			}
			if (pass == 0 && is_ours(de->d_name, 'w')) {
				if (live(r->dfd, de->d_name, &st, text,
					sizeof(text)) != 1 ||
				    (st.st_dev == r->dev &&
					st.st_ino == r->ino) ||
				    !watches(text, reader))
					continue;
				describe(text, &st, other, othersz);
				status = VIVO_TAPREG_CONTESTED;
				mark(r, reader, tap_ms, other);
				break;
			}
			if (pass == 1 && is_ours(de->d_name, 'c')) {
				char rd[256], tm[32], rdc[256];
				long long t;
				int fd = openat(r->dfd, de->d_name,
				    O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					O_CLOEXEC | O_NOCTTY);
				ssize_t n;
				if (fd < 0)
					continue;
				n = pread(fd, text, sizeof(text) - 1, 0);
				close(fd);
				text[n > 0 ? n : 0] = '\0';
				clean(rdc, sizeof(rdc), reader);
				if (field(text, "reader", rd, sizeof(rd)) !=
					0 ||
				    strcmp(rd, rdc) != 0 ||
				    field(text, "time", tm, sizeof(tm)) != 0)
					continue;
				t = strtoll(tm, NULL, 10);
				if (t < tap_ms - VIVO_TAPREG_CONTEST_MS)
					continue;
				(void)field(text, "who", other, othersz);
				status = VIVO_TAPREG_CONTESTED;
				break;
			}
		}
	}
	closedir(d);
	return status;
}

void
vivo_tapreg_leave(vivo_tapreg_t **rp)
{
	vivo_tapreg_t *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	if (r->fd >= 0) {
		(void)unlinkat(r->dfd, r->name, 0);
		close(r->fd);
	}
	if (r->dfd >= 0)
		close(r->dfd);
	free(r);
	*rp = NULL;
}
