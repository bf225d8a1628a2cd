/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file.c - see file.h. The checks follow OpenSSH's safe_path() idea.
 */
#include "file.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int
owner_ok(const struct stat *st, uid_t owner)
{
	return st->st_uid == 0 || st->st_uid == owner;
}

int
vivo_file_check_parents(const char *path, uid_t owner, const char **why)
{
	char tmp[PATH_MAX], real[PATH_MAX];
	char *dir;
	int ok = -1;

	if (vivo_strlcpy(tmp, path, sizeof(tmp)) != 0) {
		*why = "path too long";
		return VIVO_ERR_FILE_UNSAFE;
	}
	dir = dirname(tmp);
	if (realpath(dir, real) == NULL) {
		*why = "cannot resolve its directory";
		return errno == ENOENT ? VIVO_ERR_FILE_NOENT
		    : errno == EACCES  ? VIVO_ERR_FILE_ACCES
				       : VIVO_ERR_FILE_IO;
	}
	for (;;) {
		struct stat st;
		if (stat(real, &st) != 0) {
			*why = "cannot stat a parent directory";
			return errno == EACCES ? VIVO_ERR_FILE_ACCES
					       : VIVO_ERR_FILE_IO;
		}
		if (!S_ISDIR(st.st_mode) || !owner_ok(&st, owner) ||
		    (st.st_mode & 022) != 0) {
			*why = "a parent directory is not owned by root or the "
			       "owner, or is group/world-writable";
			ok = VIVO_ERR_FILE_UNSAFE;
			break;
		}
		if (strcmp(real, "/") == 0) {
			ok = 0;
			break;
		}
		dir = dirname(real);
		memmove(real, dir, strlen(dir) + 1);
	}
	return ok;
}

int
vivo_file_read(const char *path, uid_t owner, size_t cap, char **buf,
    size_t *len, const char **why)
{
	struct stat st;
	char *b = NULL;
	size_t off = 0;
	int fd = -1, ok = VIVO_ERR_FILE_IO, r;

	*buf = NULL;
	*why = "read error";
	if ((r = vivo_file_check_parents(path, owner, why)) != 0)
		return r;
	fd = open(
	    path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		switch (errno) {
		case ENOENT: *why = "no such file"; return VIVO_ERR_FILE_NOENT;
		case EACCES:
			*why = "permission denied";
			return VIVO_ERR_FILE_ACCES;
		case ELOOP:
			*why = "is a symbolic link";
			return VIVO_ERR_FILE_UNSAFE;
		default: *why = "cannot open"; return VIVO_ERR_FILE_IO;
		}
	}
	if (fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		ok = VIVO_ERR_FILE_UNSAFE;
		goto out;
	}
	if (!owner_ok(&st, owner) || (st.st_mode & 022) != 0) {
		*why = "not owned by root or its user, or group/world-writable";
		ok = VIVO_ERR_FILE_UNSAFE;
		goto out;
	}
	if ((size_t)st.st_size > cap) {
		*why = "file too large";
		ok = VIVO_ERR_FILE_BIG;
		goto out;
	}
	if ((b = malloc(cap + 1)) == NULL)
		goto out;
	for (;;) {
		ssize_t n = read(fd, b + off, cap + 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		off += (size_t)n;
		if (off > cap) { /* grew while we read */
			*why = "file too large";
			ok = VIVO_ERR_FILE_BIG;
			goto out;
		}
	}
	b[off] = '\0';
	*buf = b;
	*len = off;
	b = NULL;
	ok = 0;
out:
	if (b != NULL) {
		explicit_bzero(b, cap + 1);
		free(b);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

static int
fsync_dir_of(const char *path)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (vivo_strlcpy(tmp, path, sizeof(tmp)) != 0)
		return -1;
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* The temp file for `path`: ".<name>.tmp.<pid>" in the same directory.
 * The leading dot keeps it apart from every store file (user names never
 * start with a dot). */
static int
temp_name(const char *path, long pid, char *out, size_t outsz)
{
	char dirbuf[PATH_MAX], basebuf[PATH_MAX];

	if (vivo_strlcpy(dirbuf, path, sizeof(dirbuf)) != 0 ||
	    vivo_strlcpy(basebuf, path, sizeof(basebuf)) != 0)
		return -1;
	return snprintf(out, outsz, "%s/.%s.tmp.%ld", dirname(dirbuf),
		   basename(basebuf), pid) < (int)outsz
	    ? 0
	    : -1;
}

int
vivo_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const uint8_t *p = data;
	size_t off = 0;
	int fd = -1, ok = VIVO_ERR_FILE_IO, saved;

	if (temp_name(path, (long)getpid(), tmp, sizeof(tmp)) != 0) {
		errno = ENAMETOOLONG;
		return VIVO_ERR_FILE_IO;
	}
	(void)unlink(tmp); /* a leftover of a killed run with our pid */
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return VIVO_ERR_FILE_IO;
	if (fchmod(fd, mode) != 0) /* umask must not widen or narrow it */
		goto out;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	if (fsync_dir_of(path) != 0) {
		ok =
		    VIVO_ERR_FILE_NOTSYNCED; /* renamed; not known to be durable */
		goto done;
	}
	ok = 0;
	goto done;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	errno = saved;
	return VIVO_ERR_FILE_IO;
done:
	return ok;
}

void
vivo_file_clean_stale(const char *path)
{
	char dirbuf[PATH_MAX], basebuf[PATH_MAX], prefix[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int dfd;
	size_t pl;

	if (vivo_strlcpy(dirbuf, path, sizeof(dirbuf)) != 0 ||
	    vivo_strlcpy(basebuf, path, sizeof(basebuf)) != 0 ||
	    snprintf(prefix, sizeof(prefix), ".%s.tmp.", basename(basebuf)) >=
		(int)sizeof(prefix))
		return;
	if ((d = opendir(dirname(dirbuf))) == NULL)
		return;
	dfd = dirfd(d);
	pl = strlen(prefix);
	while ((de = readdir(d)) != NULL) {
		const char *rest = de->d_name + pl;
		if (strncmp(de->d_name, prefix, pl) != 0 || *rest == '\0' ||
		    strspn(rest, "0123456789") != strlen(rest))
			continue; /* only ".<name>.tmp.<digits>" */
		(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

int
vivo_file_mkparents(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (vivo_strlcpy(tmp, path, sizeof(tmp)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

int
vivo_file_lock_dir(const char *path)
{
	char dirbuf[PATH_MAX], lock[PATH_MAX];
	int fd;

	if (vivo_strlcpy(dirbuf, path, sizeof(dirbuf)) != 0 ||
	    snprintf(lock, sizeof(lock), "%s/.lock", dirname(dirbuf)) >=
		(int)sizeof(lock))
		return -1;
	/* a lock file only its writer can open: anyone may open a directory,
	 * and so anyone could hold a lock taken on the directory itself */
	fd = open(
	    lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

void
vivo_file_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}
