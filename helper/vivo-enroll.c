/*
 * vivo-enroll - add, list, remove, test and probe implants.
 *
 *   vivo-enroll [--config PATH] COMMAND [options]
 *
 * Exit status 0 on success; otherwise non-zero with a one-line reason on
 * stderr. See README.md and docs/.
 */
#include "lib/auth.h"
#include "lib/card.h"
#include "lib/config.h"
#include "lib/file.h"
#include "lib/harden.h"
#include "lib/hmac.h"
#include "lib/log.h"
#include "lib/pcsc.h"
#include "lib/store.h"
#include "lib/tapreg.h"
#include "lib/u2f.h"
#include "lib/uid.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 2

struct opts {
	const char *config;
	const char *user;
	const char *method;
	const char *label;
	unsigned timeout; /* 0 = the config's */
	unsigned slot;    /* hmac: 1 or 2 */
	int secret_stdin; /* hmac: the slot's secret comes on stdin */
	int program;      /* hmac: write a new random secret */
	int yes;          /* hmac --program: don't ask */
};

/* A secret held while the tool runs (an hmac slot key): die() wipes it
 * before exiting, as the normal path does. */
static void *live_secret;
static size_t live_secret_len;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	if (live_secret != NULL)
		OPENSSL_cleanse(live_secret, live_secret_len);
	fputs("vivo-enroll: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: vivo-enroll [--config PATH] COMMAND [options]\n"
	      "  add --method u2f [--user NAME] [--label TEXT] [--timeout N]\n"
	      "  add --method uid [--user NAME] [--label TEXT] [--timeout N]\n"
	      "  add --method hmac --slot 1|2 (--secret-stdin | --program [--yes])\n"
	      "      [--user NAME] [--label TEXT] [--timeout N]\n"
	      "  list [--user NAME]\n"
	      "  remove --label TEXT [--user NAME]\n"
	      "  test [--user NAME] [--timeout N]\n"
	      "  migrate\n"
	      "  probe [--timeout N]\n", stderr);
	exit(EXIT_USAGE);
}

/* 1 if `w` is one of the space-separated words of `list`. */
static int
word_in(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Parse the options after the command; `allowed` lists the ones it takes. */
static void
parse_opts(int argc, char **argv, const char *allowed, struct opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strncmp(k, "--", 2) != 0 || !word_in(allowed, k))
			die(EXIT_USAGE, "unknown option \"%s\" (try: %s)", k, allowed);
		if (strcmp(k, "--secret-stdin") == 0 || strcmp(k, "--program") == 0 ||
		    strcmp(k, "--yes") == 0) {
			*(k[2] == 's' ? &o->secret_stdin : k[2] == 'p' ? &o->program :
			    &o->yes) = 1;
			continue;
		}
		if (v == NULL)
			die(EXIT_USAGE, "%s needs a value", k);
		i++;
		if (strcmp(k, "--user") == 0)
			o->user = v;
		else if (strcmp(k, "--method") == 0)
			o->method = v;
		else if (strcmp(k, "--label") == 0)
			o->label = v;
		else if (strcmp(k, "--slot") == 0) {
			if (vivo_parse_uint(v, 1, 2, &o->slot) != 0)
				die(EXIT_USAGE, "--slot: 1 or 2");
		}
		else if (strcmp(k, "--timeout") == 0) {
			if (vivo_parse_uint(v, 1, VIVO_TIMEOUT_MAX, &o->timeout) != 0)
				die(EXIT_USAGE, "--timeout: 1..%d seconds", VIVO_TIMEOUT_MAX);
		} else
			die(EXIT_USAGE, "unknown option \"%s\"", k);
	}
}

/* The caller's user name, and the target user (default: the caller);
 * enrolling for someone else needs root. */
static const char *
target_user(const struct opts *o, struct passwd *pw, char *buf, size_t bufsz)
{
	struct passwd *res = NULL;
	const char *self;

	if (getpwuid_r(getuid(), pw, buf, bufsz, &res) != 0 || res == NULL)
		die(1, "cannot find the account of uid %u", (unsigned)getuid());
	self = pw->pw_name;
	if (o->user == NULL || strcmp(o->user, self) == 0)
		return self;
	if (geteuid() != 0)
		die(1, "enrolling for another user (%s) needs root", o->user);
	if (!vivo_user_valid(o->user))
		die(1, "invalid user name");
	if (vivo_getpw(o->user, pw, buf, bufsz) != 0)
		die(1, "no such user: %s", o->user);
	return o->user;
}

/* Where this caller writes: root the system store (the protected file,
 * or its public part for methods whose data is public), a user their own
 * user store (when the config enables it). `other` is the second file of
 * the system store, whose labels must not clash ("" for the user store). */
struct target {
	char path[VIVO_PATH_MAX];
	char other[VIVO_PATH_MAX];
	mode_t file_mode, dir_mode;
	uid_t owner;
};

static void
write_target(const struct vivo_config *c, const char *cfgpath,
    const char *user, const struct passwd *pw, unsigned method,
    struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (geteuid() == 0) {
		int pub = vivo_method_is_public(method);
		if (vivo_store_system_path(c, user, pub ? t->other : t->path,
		    sizeof(t->path)) != 0 || vivo_store_public_path(c, user,
		    pub ? t->path : t->other, sizeof(t->path)) != 0)
			die(1, "store path too long");
		/* only public data may be read by others (a screen locker
		 * reads it as the user) */
		t->file_mode = pub ? 0644 : 0600;
		t->dir_mode = 0755;
		t->owner = 0;
		return;
	}
	if (!c->user_store)
		die(1, "writing the system store needs root; run as root, or set "
		    "user_store = true in %s", cfgpath);
	if (vivo_store_user_path(pw->pw_dir, t->path, sizeof(t->path)) != 0)
		die(1, "user store path too long");
	t->file_mode = 0600;
	t->dir_mode = 0700;
	t->owner = geteuid();
}

static void
print_ready(void *arg, size_t nreaders)
{
	unsigned timeout = *(unsigned *)arg;

	if (nreaders == 0)
		printf("No reader found yet: connect one, then hold the implant to "
		    "it (%u s)...\n", timeout);
	else
		printf("Hold the implant to the reader (%u s)...\n", timeout);
	fflush(stdout);
}

static void
print_wait(void *arg, unsigned timeout, size_t nreaders)
{
	(void)arg;
	print_ready(&timeout, nreaders);
}

/* Who this tool is, for the one-request rule (tapreg.h). */
static void
waiter(const char *what, const char *user, struct vivo_waiter *w)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	const char *tty = ttyname(STDIN_FILENO);

	memset(w, 0, sizeof(*w));
	snprintf(w->service, sizeof(w->service), "vivo-enroll %s", what);
	(void)vivo_strlcpy(w->user, user ? user : "", sizeof(w->user));
	(void)vivo_strlcpy(w->tty, tty ? tty : "", sizeof(w->tty));
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
		(void)vivo_strlcpy(w->ruser, pw.pw_name, sizeof(w->ruser));
}

/* Register as waiting for a tap; dies when that cannot be done. */
static vivo_tapreg_t *
join(const struct vivo_config *c, const char *what, const char *user)
{
	struct vivo_waiter w;
	vivo_tapreg_t *reg = NULL;
	char err[512];

	waiter(what, user, &w);
	if (vivo_tapreg_join(&reg, VIVO_TAPREG_DIR, &w, c, err, sizeof(err)) != 0)
		die(1, "%s", err);
	return reg;
}

/* Dies when the tap on `reader` is contested. */
static void
check_tap(vivo_tapreg_t *reg, vivo_pcsc_t *p, const char *reader)
{
	char other[1024];
	int st = vivo_tapreg_check(reg, reader, vivo_tapreg_now(), other,
	    sizeof(other));

	if (st == VIVO_TAPREG_FREE)
		return;
	vivo_pcsc_free(&p);
	if (st == VIVO_TAPREG_CONTESTED)
		die(1, "not using this tap: another request is waiting for a tap "
		    "on the same reader: %s. Nothing was changed.", other);
	die(1, "cannot tell whether another request waits for this tap; "
	    "nothing was changed");
}

/* Work on a tapped chip: 0 done, VIVO_ERR_CARD_COMM to wait for another tap;
 * anything else dies with its own message. */
typedef int (*chip_fn)(const struct vivo_transport *t, void *arg);

/* Wait for a fresh tap and run fn on the chip, until it completes. */
static void
with_tapped_chip(const struct vivo_config *c, const char *what,
    const char *user, unsigned timeout, chip_fn fn, void *arg)
{
	vivo_pcsc_t *p = NULL;
	vivo_tapreg_t *reg = join(c, what, user);
	int64_t deadline = vivo_now_ms() + (int64_t)timeout * 1000;
	int r, told = 0;

	if ((r = vivo_pcsc_new(&p, c)) != 0)
		die(1, "%s", vivo_pcsc_strerr(r));
	for (;;) {
		char reader[128];
		uint8_t atr[64];
		size_t atrlen = sizeof(atr);
		struct vivo_transport t;

		r = vivo_pcsc_wait_tap(p, deadline, told ? NULL : print_ready,
		    &timeout, reader, sizeof(reader));
		told = 1;
		if (r != 0) {
			vivo_pcsc_free(&p);
			die(1, "%s", vivo_pcsc_strerr(r));
		}
		check_tap(reg, p, reader);
		if (vivo_pcsc_connect(p, reader, &t, atr, &atrlen) != 0)
			continue;
		r = fn(&t, arg);
		vivo_pcsc_disconnect(p);
		if (r == VIVO_ERR_CARD_COMM) {
			printf("The chip was lost during the exchange: hold it still "
			    "and try again...\n");
			fflush(stdout);
			continue;
		}
		vivo_pcsc_free(&p);
		vivo_tapreg_leave(&reg);
		return;
	}
}

struct uid_read {
	uint8_t uid[VIVO_UID_MAX];
	size_t len;
};

static int
read_uid_fn(const struct vivo_transport *t, void *arg)
{
	struct uid_read *u = arg;
	int r = vivo_uid_read(t, u->uid, &u->len);

	if (r != 0 && r != VIVO_ERR_CARD_COMM)
		die(1, "this chip did not report a UID (it answered GET DATA "
		    "with an error)");
	return r;
}

struct hmac_enroll {
	unsigned slot;
	int program;
	uint8_t key[VIVO_HMAC_KEY_LEN];
};

/* SELECT, program the slot if asked, then check that the card computes
 * HMAC-SHA1 with exactly our key: nothing is written before that. */
static int
hmac_enroll_fn(const struct vivo_transport *t, void *arg)
{
	struct hmac_enroll *h = arg;
	uint8_t status[VIVO_HMAC_STATUS_LEN], chal[VIVO_HMAC_CHAL_LEN];
	uint8_t resp[VIVO_HMAC_RESP_LEN], want[VIVO_HMAC_RESP_LEN];
	static const uint8_t noacc[6] = { 0 };
	int r;

	if ((r = vivo_hmac_select(t, status)) != 0) {
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		die(1, "this chip has no HMAC-SHA1 challenge-response applet");
	}
	if (h->program) {
		r = vivo_hmac_program(t, h->slot, h->key, noacc, status);
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		if (r != 0)
			die(1, "the chip refused to program slot %u (is it protected "
			    "by an access code?); nothing was written", h->slot);
	}
	if (!vivo_hmac_slot_programmed(status, h->slot))
		die(1, "slot %u of this implant is not programmed: use --program, "
		    "or program it with YubiKey tools first", h->slot);
	if (RAND_bytes(chal, sizeof(chal)) != 1 ||
	    vivo_hmac_sha1(h->key, chal, sizeof(chal), want) != 0)
		die(1, "OpenSSL error");
	r = vivo_hmac_challenge(t, h->slot, chal, sizeof(chal), resp);
	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != 0)
		die(1, "slot %u did not answer the challenge (not configured for "
		    "HMAC-SHA1 challenge-response?)", h->slot);
	r = CRYPTO_memcmp(resp, want, sizeof(resp));
	OPENSSL_cleanse(resp, sizeof(resp));
	OPENSSL_cleanse(want, sizeof(want));
	if (r != 0)
		die(1, "the secret does not match slot %u of this implant; "
		    "nothing was written", h->slot);
	return 0;
}

/* Read the 20-byte secret as 40 hex digits on stdin (never echoed). */
static void
read_secret(uint8_t key[VIVO_HMAC_KEY_LEN])
{
	char line[256], hex[256];
	size_t n = 0, len = 0;

	if (fgets(line, sizeof(line), stdin) == NULL)
		die(1, "--secret-stdin: no secret on standard input");
	for (size_t i = 0; line[i] != '\0'; i++)
		if (line[i] != ' ' && line[i] != '\n' && line[i] != '\r' &&
		    line[i] != '\t' && n < sizeof(hex) - 1)
			hex[n++] = line[i];
	hex[n] = '\0';
	if (vivo_hex_decode(hex, key, VIVO_HMAC_KEY_LEN, &len) != 0 ||
	    len != VIVO_HMAC_KEY_LEN) {
		VIVO_WIPE_ARRAY(line);
		VIVO_WIPE_ARRAY(hex);
		die(EXIT_USAGE, "--secret-stdin: expected the 20-byte secret as "
		    "40 hex digits");
	}
	VIVO_WIPE_ARRAY(line);
	VIVO_WIPE_ARRAY(hex);
}

static void
confirm_program(unsigned slot)
{
	char answer[16];

	printf("This writes a new random secret into slot %u of the implant. "
	    "Whatever uses that slot now (KeePassXC, another computer) stops "
	    "working with it.\nContinue? [y/N] ", slot);
	fflush(stdout);
	if (fgets(answer, sizeof(answer), stdin) == NULL ||
	    (answer[0] != 'y' && answer[0] != 'Y'))
		die(1, "not confirmed; nothing was changed");
}

static void
load_config(const struct opts *o, struct vivo_config *c)
{
	char err[512];

	if (vivo_config_load(o->config, geteuid(), c, err, sizeof(err)) != 0)
		die(1, "config: %s", err);
}

static const char *
cfg_path(const struct opts *o)
{
	return o->config ? o->config : VIVO_CONFIG_DEFAULT;
}

/* Lock the target's directories (creating them; the protected file's
 * first, always in that order) and load the store; `labels` gets the
 * entries of the other file of the system store, for the label check. */
struct locks {
	int a, b;
};

static struct locks
lock_and_load(const struct vivo_config *cfg, const char *user,
    const struct target *t, struct vivo_store *s, struct vivo_store *labels)
{
	char err[512];
	struct locks l = { -1, -1 };
	const char *first = t->path, *second = t->other;
	int r;

	if (t->other[0] != '\0' && t->file_mode == 0644) {
		first = t->other; /* the protected file's directory first */
		second = t->path;
	}
	if (vivo_file_mkparents(t->path, t->dir_mode) != 0)
		die(1, "cannot create the directory of %s: %s", t->path,
		    strerror(errno));
	if (t->owner == 0 && t->other[0] != '\0' && vivo_store_migrate(cfg,
	    user, err, sizeof(err)) < 0)
		die(1, "%s (nothing was changed)", err);
	if ((l.a = vivo_file_lock_dir(first)) < 0)
		die(1, "cannot lock the directory of %s: %s", first,
		    strerror(errno));
	if (second[0] != '\0' && (l.b = vivo_file_lock_dir(second)) < 0 &&
	    errno != ENOENT)
		die(1, "cannot lock the directory of %s: %s", second,
		    strerror(errno));
	r = vivo_store_load(t->path, t->owner, s, err, sizeof(err));
	if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		die(1, "%s (nothing was changed)", err);
	memset(labels, 0, sizeof(*labels));
	if (t->other[0] != '\0') {
		r = vivo_store_load(t->other, t->owner, labels, err, sizeof(err));
		if (r != 0 && r != VIVO_ERR_FILE_NOENT)
			die(1, "%s (nothing was changed)", err);
	}
	return l;
}

static void
unlock(struct locks l)
{
	vivo_file_unlock(l.b);
	vivo_file_unlock(l.a);
}

static void
save(const struct target *t, const struct vivo_store *s)
{
	vivo_file_clean_stale(t->path); /* we hold the lock */
	int r = vivo_store_save(t->path, s, t->file_mode);

	if (r == VIVO_ERR_FILE_NOTSYNCED)
		die(1, "%s was written, but its directory could not be synced to "
		    "disk (%s): after a crash the previous version may be back",
		    t->path, strerror(errno));
	if (r != 0)
		die(1, "cannot write %s: %s (the previous version is intact)",
		    t->path, strerror(errno));
}

/* Pick the entry's label (given, or "<method>-N"), check it is free and
 * there is room. */
static void
choose_label(const struct opts *o, const struct vivo_store *s,
    const struct vivo_store *other, const char *user, struct vivo_entry *e)
{
	if (o->label != NULL)
		(void)vivo_strlcpy(e->label, o->label, sizeof(e->label));
	else {
		for (unsigned n = 1;; n++) {
			snprintf(e->label, sizeof(e->label), "%s-%u", o->method, n);
			if (vivo_store_find(s, e->label) < 0 &&
			    vivo_store_find(other, e->label) < 0)
				break;
		}
	}
	if (vivo_store_find(s, e->label) >= 0 ||
	    vivo_store_find(other, e->label) >= 0)
		die(1, "%s already has an implant labelled \"%s\"", user, e->label);
	if (s->n >= VIVO_ENTRIES_MAX)
		die(1, "%s already has %d implants enrolled", user, VIVO_ENTRIES_MAX);
	vivo_store_now(e->created);
}

/* The chip was checked: lock, re-read, add, write. dup() refuses an entry
 * for a chip that is already enrolled (it dies). */
typedef void (*dup_fn)(const struct vivo_store *s, const char *user,
    void *arg);

static void
store_entry(const struct opts *o, const struct vivo_config *c,
    const struct target *t, const char *user,
    struct vivo_entry *e, dup_fn dup, void *arg)
{
	struct vivo_store *s, *other;
	struct locks l;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (other = calloc(1, sizeof(*other))) == NULL)
		die(1, "out of memory");
	l = lock_and_load(c, user, t, s, other);
	dup(s, user, arg);
	choose_label(o, s, other, user, e);
	(void)vivo_store_add(s, e);
	save(t, s);
	unlock(l);
	explicit_bzero(other, sizeof(*other));
	free(other);
	vivo_info("enrolled implant \"%s\" for %s (%s) in %s", e->label, user,
	    o->method, t->path);
	printf("Enrolled \"%s\" for %s (method %s) in %s.\n", e->label, user,
	    o->method, t->path);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

static void
uid_dup(const struct vivo_store *s, const char *user, void *arg)
{
	const struct uid_read *u = arg;

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].method == VIVO_M_UID &&
		    vivo_uid_match(u->uid, u->len, &s->e[i].uid) == 1)
			die(1, "this chip is already enrolled for %s as \"%s\"", user,
			    s->e[i].label);
}

static void
hmac_dup(const struct vivo_store *s, const char *user, void *arg)
{
	const struct hmac_enroll *h = arg;
	uint8_t resp[VIVO_HMAC_RESP_LEN], key[VIVO_HMAC_KEY_LEN];

	/* we hold K: an existing state that opens with HMAC(K, C) is this
	 * very secret */
	for (size_t i = 0; i < s->n; i++) {
		const struct vivo_hmac_data *d = &s->e[i].hmac;
		int same;
		if (s->e[i].method != VIVO_M_HMAC || d->slot != h->slot ||
		    vivo_hmac_sha1(h->key, d->challenge, sizeof(d->challenge),
		    resp) != 0)
			continue;
		same = vivo_hmac_open(d, user, resp, key) == 0;
		OPENSSL_cleanse(resp, sizeof(resp));
		OPENSSL_cleanse(key, sizeof(key));
		if (same)
			die(1, "this implant's slot %u is already enrolled for %s as "
			    "\"%s\"", h->slot, user, s->e[i].label);
	}
}

static void
add_uid(const struct opts *o, const struct vivo_config *c, const char *user,
    const struct target *t)
{
	struct uid_read u = { { 0 }, 0 };
	struct vivo_entry e;

	printf("Enrolling an implant for %s by UID.\n", user);
	with_tapped_chip(c, "add", user, o->timeout ? o->timeout : c->timeout, read_uid_fn, &u);
	if (vivo_uid_is_random(u.uid, u.len))
		die(1, "this chip shows a random ID (4 bytes starting 08), new at "
		    "every power-up: it cannot be enrolled by UID");
	memset(&e, 0, sizeof(e));
	e.method = VIVO_M_UID;
	if (vivo_uid_enroll(u.uid, u.len, VIVO_UID_ITER_DEFAULT, &e.uid) != 0)
		die(1, "cannot hash the UID (OpenSSL error)");
	store_entry(o, c, t, user, &e, uid_dup, &u);
	VIVO_WIPE_ARRAY(u.uid);
	printf("Note: a UID is not a secret. Anyone who can read this chip, even "
	    "briefly, can copy its UID onto another chip, and that copy will "
	    "be accepted. Prefer u2f or hmac where the chip supports them.\n");
	if (!(c->methods & VIVO_M_UID))
		printf("Warning: %s does not list \"uid\" in methods; this "
		    "enrollment is not accepted until it does.\n", cfg_path(o));
}

static void
add_hmac(const struct opts *o, const struct vivo_config *c, const char *user,
    const struct target *t)
{
	struct hmac_enroll h;
	struct vivo_entry e;

	memset(&h, 0, sizeof(h));
	live_secret = &h;
	live_secret_len = sizeof(h);
	if (o->slot == 0)
		die(EXIT_USAGE, "add --method hmac needs --slot 1 or --slot 2");
	if (o->secret_stdin == o->program)
		die(EXIT_USAGE, "add --method hmac needs either --secret-stdin "
		    "(keep the slot's secret) or --program (write a new one)");
	h.slot = o->slot;
	h.program = o->program;
	if (o->program) {
		if (!o->yes)
			confirm_program(o->slot);
		if (RAND_bytes(h.key, sizeof(h.key)) != 1)
			die(1, "OpenSSL cannot make a random secret");
	} else
		read_secret(h.key);
	printf("Enrolling slot %u of an implant for %s (HMAC-SHA1 "
	    "challenge-response).\n", h.slot, user);
	with_tapped_chip(c, "add", user, o->timeout ? o->timeout : c->timeout, hmac_enroll_fn,
	    &h);
	memset(&e, 0, sizeof(e));
	e.method = VIVO_M_HMAC;
	if (vivo_hmac_seal(h.key, user, h.slot, &e.hmac) != 0)
		die(1, "cannot seal the state (OpenSSL error)");
	store_entry(o, c, t, user, &e, hmac_dup, &h);
	OPENSSL_cleanse(&h, sizeof(h));
	live_secret = NULL;
	if (o->program)
		printf("Slot %u now holds a new random secret, known only to the "
		    "implant (this computer keeps it sealed).\n", o->slot);
	if (!(c->methods & VIVO_M_HMAC))
		printf("Warning: %s does not list \"hmac\" in methods; this "
		    "enrollment is not accepted until it does.\n", cfg_path(o));
}

struct u2f_enroll {
	const char *appid;
	struct vivo_u2f_reg reg;
};

/* SELECT, REGISTER with a fresh challenge, verify the attestation. */
static int
u2f_enroll_fn(const struct vivo_transport *t, void *arg)
{
	struct u2f_enroll *u = arg;
	uint8_t chal[VIVO_U2F_PARAM_LEN], app[VIVO_U2F_PARAM_LEN];
	int r;

	if ((r = vivo_u2f_select(t)) != 0) {
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		if (r == VIVO_ERR_U2F_FIDO2)
			die(1, "this chip's FIDO applet speaks FIDO2 (CTAP2) only; "
			    "u2f needs a U2F (CTAP1) applet");
		die(1, "this chip has no FIDO U2F applet");
	}
	if (RAND_bytes(chal, sizeof(chal)) != 1 ||
	    vivo_u2f_app_param(u->appid, app) != 0)
		die(1, "OpenSSL error");
	r = vivo_u2f_register(t, chal, app, &u->reg);
	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r == VIVO_ERR_CARD_PROTO)
		die(1, "the registration reply is malformed, or its attestation "
		    "signature does not verify; nothing was written");
	if (r != 0)
		die(1, "the FIDO applet refused to register (is an attestation "
		    "certificate installed?)");
	return 0;
}

static void
u2f_dup(const struct vivo_store *s, const char *user, void *arg)
{
	const struct u2f_enroll *u = arg;

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].method == VIVO_M_U2F &&
		    memcmp(s->e[i].u2f.pub, u->reg.pub, VIVO_U2F_PUB_LEN) == 0)
			die(1, "this registration is already enrolled for %s as "
			    "\"%s\"", user, s->e[i].label);
}

static void
add_u2f(const struct opts *o, const struct vivo_config *c, const char *user,
    const struct target *t)
{
	struct u2f_enroll u;
	struct vivo_entry e;

	memset(&u, 0, sizeof(u));
	u.appid = c->appid;
	printf("Registering an implant's FIDO U2F applet for %s (appid %s).\n",
	    user, c->appid);
	with_tapped_chip(c, "add", user, o->timeout ? o->timeout : c->timeout, u2f_enroll_fn,
	    &u);
	memset(&e, 0, sizeof(e));
	e.method = VIVO_M_U2F;
	(void)vivo_strlcpy(e.u2f.appid, c->appid, sizeof(e.u2f.appid));
	memcpy(e.u2f.kh, u.reg.kh, u.reg.khlen);
	e.u2f.khlen = u.reg.khlen;
	memcpy(e.u2f.pub, u.reg.pub, sizeof(e.u2f.pub));
	e.u2f.counter = 0;
	printf("Attestation certificate: %s\n", u.reg.subject);
	store_entry(o, c, t, user, &e, u2f_dup, &u);
	if (!(c->methods & VIVO_M_U2F))
		printf("Warning: %s does not list \"u2f\" in methods; this "
		    "enrollment is not accepted until it does.\n", cfg_path(o));
}

static int
cmd_add(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096];
	const char *user;
	struct target t;

	if (o->method == NULL)
		die(EXIT_USAGE, "add needs --method u2f|hmac|uid");
	if (o->label != NULL && !vivo_label_valid(o->label))
		die(EXIT_USAGE, "--label: 1..%d bytes of printable UTF-8",
		    VIVO_LABEL_MAX);
	if (strcmp(o->method, "hmac") != 0 && (o->slot || o->secret_stdin ||
	    o->program || o->yes))
		die(EXIT_USAGE, "--slot, --secret-stdin, --program and --yes are for "
		    "--method hmac");
	if (vivo_method_from_name(o->method) == 0)
		die(EXIT_USAGE, "unknown method \"%s\" (u2f, hmac, uid)", o->method);
	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	write_target(&c, cfg_path(o), user, &pw, vivo_method_from_name(o->method),
	    &t);
	if (strcmp(o->method, "uid") == 0)
		add_uid(o, &c, user, &t);
	else if (strcmp(o->method, "hmac") == 0)
		add_hmac(o, &c, user, &t);
	else
		add_u2f(o, &c, user, &t);
	return 0;
}

static void
list_store(const char *user, const char *where, const struct vivo_store *s,
    int *count)
{
	for (size_t i = 0; i < s->n; i++) {
		if (*count == 0)
			printf("%-24s %-6s %-22s %s\n", "LABEL", "METHOD", "CREATED",
			    "STORE");
		printf("%-24s %-6s %-22s %s\n", s->e[i].label,
		    vivo_method_name(s->e[i].method), s->e[i].created, where);
		(*count)++;
	}
	(void)user;
}

static int
cmd_list(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096], reason[512];
	const char *user;
	struct vivo_enrollments *en;
	int count = 0;

	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	if ((en = calloc(1, sizeof(*en))) == NULL)
		die(1, "out of memory");
	if (vivo_enrollments_load(&c, user, VIVO_EN_LIST, en, reason,
	    sizeof(reason)) != VIVO_R_OK)
		die(1, "%s", reason);
	if (en->protected_unreadable)
		printf("(%s is readable by root only: run as root to list the "
		    "hmac and uid implants of %s)\n", en->path[VIVO_ST_SYSTEM],
		    user);
	list_store(user, "system", &en->st[VIVO_ST_SYSTEM], &count);
	list_store(user, "public", &en->st[VIVO_ST_PUBLIC], &count);
	list_store(user, "user", &en->st[VIVO_ST_USER], &count);
	if (count == 0)
		printf("No implants enrolled for %s.\n", user);
	free(en);
	return 0;
}

static int
cmd_remove(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096];
	const char *user;
	struct target t, pt;
	struct vivo_store *s, *other;
	struct locks l;
	size_t left;
	int in_s, in_other;

	if (o->label == NULL)
		die(EXIT_USAGE, "remove needs --label TEXT");
	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	/* the protected file (or the user store), and the public file */
	write_target(&c, cfg_path(o), user, &pw, VIVO_M_HMAC, &t);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (other = calloc(1, sizeof(*other))) == NULL)
		die(1, "out of memory");
	l = lock_and_load(&c, user, &t, s, other);
	in_s = vivo_store_remove(s, o->label) == 0;
	in_other = vivo_store_remove(other, o->label) == 0;
	if (!in_s && !in_other)
		die(1, "%s has no implant labelled \"%s\" in %s%s%s", user,
		    o->label, t.path, t.other[0] ? " or " : "", t.other);
	if (in_s)
		save(&t, s);
	if (in_other) {
		write_target(&c, cfg_path(o), user, &pw, VIVO_M_U2F, &pt);
		save(&pt, other);
	}
	unlock(l);
	left = s->n + other->n;
	vivo_info("removed implant \"%s\" of %s from %s", o->label, user,
	    in_s ? t.path : t.other);
	printf("Removed \"%s\" for %s; %zu implant(s) remain.\n", o->label, user,
	    left);
	explicit_bzero(s, sizeof(*s));
	explicit_bzero(other, sizeof(*other));
	free(s);
	free(other);
	return 0;
}

/* Bring every user's file of the old layout (one 0644 file) to the
 * protected one; the package runs this on upgrade. Idempotent. */
static int
cmd_migrate(struct opts *o)
{
	struct vivo_config c;
	char err[512];
	DIR *d;
	struct dirent *de;
	int bad = 0, n = 0;

	if (geteuid() != 0)
		die(1, "migrate needs root");
	load_config(o, &c);
	if ((d = opendir(c.store)) == NULL) {
		if (errno == ENOENT) {
			printf("No store at %s: nothing to migrate.\n", c.store);
			return 0;
		}
		die(1, "cannot open %s: %s", c.store, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		int r;
		if (!vivo_user_valid(de->d_name) || de->d_type != DT_REG)
			continue; /* ".", "..", ".lock", ".public", temp files */
		r = vivo_store_migrate(&c, de->d_name, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "vivo-enroll: %s: %s\n", de->d_name, err);
			bad = 1;
		} else if (r > 0) {
			printf("Protected the enrollments of %s.\n", de->d_name);
			n++;
		}
	}
	closedir(d);
	printf("%d file(s) migrated%s.\n", n, bad ? "; some failed (above)" : "");
	return bad;
}

static int
cmd_test(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096];
	struct vivo_auth a;

	load_config(o, &c);
	memset(&a, 0, sizeof(a));
	a.cfg = &c;
	a.user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	a.timeout = o->timeout ? o->timeout : c.timeout;
	a.on_wait = print_wait;
	waiter("test", a.user, &a.id);
	vivo_authenticate(&a);
	if (a.result != VIVO_R_OK)
		die(1, "%s: %s", vivo_result_str(a.result), a.reason);
	printf("OK: implant \"%s\" accepted for %s (method %s).\n", a.label,
	    a.user, a.method);
	return 0;
}

static void
print_hex(const char *what, const uint8_t *b, size_t n)
{
	printf("  %s:", what);
	for (size_t i = 0; i < n; i++)
		printf(" %02X", b[i]);
	printf("\n");
}

static void
describe_atr(const uint8_t *a, size_t n)
{
	static const uint8_t storage[] = { 0x3b, 0x8f, 0x80, 0x01, 0x80, 0x4f,
		0x0c, 0xa0, 0x00, 0x00, 0x03, 0x06 };

	print_hex("ATR", a, n);
	if (n >= 15 && memcmp(a, storage, sizeof(storage)) == 0) {
		unsigned name = (unsigned)a[13] << 8 | a[14];
		const char *kind = name == 0x0001 ? "MIFARE Classic 1K" :
		    name == 0x0002 ? "MIFARE Classic 4K" :
		    name == 0x0003 ? "MIFARE Ultralight / NTAG21x" :
		    name == 0x0026 ? "MIFARE Mini" : "unknown";
		printf("  chip: contactless storage card (PC/SC part 3), standard "
		    "%02X%s, card name %04X = %s\n", a[12],
		    a[12] == 0x03 ? " (ISO 14443A-3)" : "", name, kind);
	} else if (n >= 4 && a[0] == 0x3b && (a[1] & 0xf0) == 0x80 &&
	    a[2] == 0x80 && a[3] == 0x01)
		printf("  chip: ISO 14443-4 smart card (JavaCard, DESFire, ...), "
		    "%u historical bytes\n", a[1] & 0x0f);
	else
		printf("  chip: unrecognised ATR\n");
}

/* SELECT an applet by AID; the data and SW go to the caller. */
static int
select_aid(const struct vivo_transport *t, const uint8_t *aid, size_t aidlen,
    uint8_t *data, size_t cap, size_t *dlen, uint16_t *sw)
{
	uint8_t cmd[5 + 16] = { 0x00, 0xa4, 0x04, 0x00, (uint8_t)aidlen };

	memcpy(cmd + 5, aid, aidlen);
	return vivo_apdu(t, cmd, 5 + aidlen, data, cap, dlen, sw);
}

static void
probe_chip(vivo_pcsc_t *p, const char *reader)
{
	static const uint8_t u2f_aid[] = { 0xa0, 0x00, 0x00, 0x06, 0x47, 0x2f,
		0x00, 0x01 };
	static const uint8_t otp_aid[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20,
		0x01 };
	static const uint8_t otp_aid8[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20,
		0x01, 0x01 };
	struct vivo_transport t;
	uint8_t atr[64], uid[VIVO_UID_MAX], data[256];
	size_t atrlen = sizeof(atr), uidlen = 0, dlen;
	uint16_t sw;
	int r, u2f = 0, hmac = 0, have_uid = 0;

	printf("Reader \"%s\":\n", reader);
	if (vivo_pcsc_connect(p, reader, &t, atr, &atrlen) != 0) {
		printf("  cannot connect to the chip\n");
		return;
	}
	describe_atr(atr, atrlen);
	r = vivo_uid_read(&t, uid, &uidlen);
	if (r == 0) {
		print_hex("UID", uid, uidlen);
		if (vivo_uid_is_random(uid, uidlen))
			printf("  UID: random (4 bytes starting 08): new at every "
			    "power-up, cannot be enrolled by UID\n");
		else
			printf("  UID: %zu bytes, looks fixed%s\n", uidlen,
			    uidlen == 4 ? " (4-byte NUID: often writable on magic "
			    "cards)" : "");
		have_uid = !vivo_uid_is_random(uid, uidlen);
	} else
		printf("  UID: not reported (%s)\n", r == VIVO_ERR_CARD_COMM ?
		    "chip lost" : "GET DATA refused");
	r = select_aid(&t, u2f_aid, sizeof(u2f_aid), data, sizeof(data), &dlen, &sw);
	if (r == 0 && sw == 0x9000 && dlen == 6 && memcmp(data, "U2F_V2", 6) == 0) {
		printf("  FIDO applet: U2F_V2 (u2f possible)\n");
		u2f = 1;
	} else if (r == 0 && sw == 0x9000 && dlen == 8 &&
	    memcmp(data, "FIDO_2_0", 8) == 0)
		printf("  FIDO applet: FIDO_2_0 only (CTAP2; U2F not available)\n");
	else if (r != 0)
		printf("  FIDO applet: unknown (the chip was lost)\n");
	else
		printf("  FIDO applet: none (SW %04X)\n", sw);
	r = select_aid(&t, otp_aid, sizeof(otp_aid), data, sizeof(data), &dlen, &sw);
	if (r == 0 && sw != 0x9000)
		r = select_aid(&t, otp_aid8, sizeof(otp_aid8), data, sizeof(data),
		    &dlen, &sw);
	if (r == 0 && sw == 0x9000 && dlen >= 6) {
		printf("  HMAC-SHA1 (YubiKey OTP) applet: version %u.%u.%u, slot 1 "
		    "%s, slot 2 %s\n", data[0], data[1], data[2],
		    (data[4] & 1) ? "programmed" : "empty",
		    (data[4] & 2) ? "programmed" : "empty");
		hmac = 1;
	} else if (r != 0)
		printf("  HMAC-SHA1 applet: unknown (the chip was lost)\n");
	else
		printf("  HMAC-SHA1 applet: none (SW %04X)\n", sw);
	vivo_pcsc_disconnect(p);
	printf("  methods: %s%s%s%s\n", u2f ? "u2f " : "", hmac ? "hmac " : "",
	    have_uid ? "uid (cloneable)" : "",
	    (!u2f && !hmac && !have_uid) ? "none" : "");
	VIVO_WIPE_ARRAY(uid);
	VIVO_WIPE_ARRAY(data);
}

static int
cmd_probe(struct opts *o)
{
	struct vivo_config c;
	vivo_pcsc_t *p = NULL;
	const char *names[16];
	int present[16], any = 0, r;
	size_t n;
	unsigned timeout;

	load_config(o, &c);
	timeout = o->timeout ? o->timeout : c.timeout;
	if ((r = vivo_pcsc_new(&p, &c)) != 0)
		die(1, "%s", vivo_pcsc_strerr(r));
	if ((r = vivo_pcsc_list(p, names, present, 16, &n)) != 0)
		die(1, "%s", vivo_pcsc_strerr(r));
	printf("%zu reader(s)%s\n", n, n ? ":" : "");
	for (size_t i = 0; i < n; i++)
		printf("  %s: %s\n", names[i], present[i] ? "chip present" : "empty");
	for (size_t i = 0; i < n; i++) {
		if (present[i]) {
			char name[128];
			(void)vivo_strlcpy(name, names[i], sizeof(name));
			probe_chip(p, name);
			any = 1;
		}
	}
	if (!any) {
		char reader[128];
		vivo_tapreg_t *reg = join(&c, "probe", NULL);
		r = vivo_pcsc_wait_tap(p, vivo_now_ms() + (int64_t)timeout * 1000,
		    print_ready, &timeout, reader, sizeof(reader));
		if (r != 0) {
			vivo_pcsc_free(&p);
			die(1, "%s", vivo_pcsc_strerr(r));
		}
		check_tap(reg, p, reader);
		probe_chip(p, reader);
		vivo_tapreg_leave(&reg);
	}
	vivo_pcsc_free(&p);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *cmd;
	int i = 1;

	/* first: it may hold an hmac slot secret later (no core, no ptrace) */
	if (vivo_harden_process() != 0)
		die(1, "cannot make the process non-dumpable: %s", strerror(errno));
	memset(&o, 0, sizeof(o));
	umask(022);
	vivo_log_init("vivo-enroll", 0, 0);
	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		o.config = argv[i + 1];
		if (o.config[0] != '/')
			die(EXIT_USAGE, "--config needs an absolute path");
		i += 2;
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	if (strcmp(cmd, "add") == 0) {
		parse_opts(argc - i, argv + i, "--method --user --label --timeout "
		    "--slot --secret-stdin --program --yes", &o);
		return cmd_add(&o);
	} else if (strcmp(cmd, "list") == 0) {
		parse_opts(argc - i, argv + i, "--user", &o);
		return cmd_list(&o);
	} else if (strcmp(cmd, "remove") == 0) {
		parse_opts(argc - i, argv + i, "--label --user", &o);
		return cmd_remove(&o);
	} else if (strcmp(cmd, "migrate") == 0) {
		parse_opts(argc - i, argv + i, "", &o);
		return cmd_migrate(&o);
	} else if (strcmp(cmd, "test") == 0) {
		parse_opts(argc - i, argv + i, "--user --timeout", &o);
		return cmd_test(&o);
	} else if (strcmp(cmd, "probe") == 0) {
		parse_opts(argc - i, argv + i, "--timeout", &o);
		return cmd_probe(&o);
	} else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		usage();
	die(EXIT_USAGE, "unknown command \"%s\" (add, list, remove, test, probe, "
	    "migrate)",
	    cmd);
}
