/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vivo-enroll - add, list, remove, test and probe implants.
 *
 *   vivo-enroll [--config PATH] COMMAND [options]
 *
 * Exit status 0 on success; otherwise non-zero with a one-line reason on
 * stderr. See README.md and docs/.
 */
#include "lib/auth.h"
#include "lib/authtok.h"
#include "lib/card.h"
#include "lib/config.h"
#include "lib/directory.h"
#include "lib/dirval.h"
#include "lib/file.h"
#include "lib/harden.h"
#include "lib/identify.h"
#include "lib/hmac.h"
#include "lib/log.h"
#include "lib/method.h"
#include "lib/priv.h"
#include "lib/readerio.h"
#include "lib/tap.h"
#include "lib/store.h"
#include "lib/tapreg.h"
#include "lib/u2f.h"
#include "lib/uid.h"
#include "lib/util.h"

#include <dirent.h>
#include <security/pam_appl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_USAGE 2

struct opts {
	const char *config;
	const char *user;
	const char *method;
	const char *label;
	unsigned timeout;  /* 0 = the config's */
	unsigned slot;     /* hmac: 1 or 2 */
	int secret_stdin;  /* hmac: the slot's secret comes on stdin */
	int program;       /* hmac: write a new random secret */
	int yes;           /* hmac --program: don't ask */
	int require_pin;   /* fido2: every login needs the PIN */
	int resident;      /* fido2: a discoverable credential */
	int pin_stdin;     /* fido2: the PIN is one line of stdin */
	int authtok_stdin; /* authtok set: the password is one line of stdin */
	int no_check;      /* authtok set: do not check the password first */
	const char *check_with;  /* authtok set: the PAM service to check it */
	int directory;           /* add/remove: the directory, not a file */
	const char *bind_dn;     /* --directory: bind as (else SASL EXTERNAL) */
	const char *bind_pwfile; /* --directory: that DN's password file */
};

/* No secret is held when this runs: the paths that hold one (hmac add)
 * wipe it first and only then report. */
static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("vivo-enroll: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Why something failed, for a path that must clean up before it dies. */
struct fail {
	int status;
	char why[1024];
};

static int __attribute__((format(printf, 3, 4)))
failed(struct fail *f, int status, const char *fmt, ...)
{
	va_list ap;

	f->status = status;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return -1;
}

static void usage(void) __attribute__((noreturn));
static void
usage(void)
{
	fputs(
	    "usage: vivo-enroll [--config PATH] COMMAND [options]\n"
	    "  add --method fido2 [--require-pin] [--resident] [--pin-stdin]\n"
	    "      [--user NAME] [--label TEXT] [--timeout N]\n"
	    "  add --method u2f [--user NAME] [--label TEXT] [--timeout N]\n"
	    "  add --method uid [--user NAME] [--label TEXT] [--timeout N]\n"
	    "  add --method hmac --slot 1|2 (--secret-stdin | --program "
	    "[--yes])\n"
	    "      [--user NAME] [--label TEXT] [--timeout N]\n"
	    "  add --method fido2|u2f ... --directory\n"
	    "      [--bind-dn DN --bind-password-file FILE]\n"
	    "  list [--user NAME]\n"
	    "  remove --label TEXT [--user NAME]\n"
	    "  remove --label TEXT --directory [--user NAME]\n"
	    "      [--bind-dn DN --bind-password-file FILE]\n"
	    "  export --label TEXT [--user NAME]\n"
	    "  test [--user NAME] [--timeout N] [--pin-stdin]\n"
	    "  authtok set [--user NAME] [--label TEXT] [--authtok-stdin]\n"
	    "      [--check-with SERVICE | --no-check] [--timeout N] "
	    "[--pin-stdin]\n"
	    "  authtok clear [--user NAME] [--label TEXT]\n"
	    "  migrate\n"
	    "  probe [--timeout N]\n",
	    stderr);
	exit(EXIT_USAGE);
}

/* 1 if `w` is one of the space-separated words of `list`. */
static int
word_in(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
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
			die(EXIT_USAGE, "unknown option \"%s\" (try: %s)", k,
			    allowed);
		if (strcmp(k, "--authtok-stdin") == 0) {
			o->authtok_stdin = 1;
			continue;
		}
		if (strcmp(k, "--no-check") == 0) {
			o->no_check = 1;
			continue;
		}
		if (strcmp(k, "--directory") == 0) {
			o->directory = 1;
			continue;
		}
		if (strcmp(k, "--require-pin") == 0 ||
		    strcmp(k, "--resident") == 0 ||
		    strcmp(k, "--pin-stdin") == 0) {
			*(k[2] == 'p'         ? &o->pin_stdin
				: k[4] == 'q' ? &o->require_pin
					      : &o->resident) = 1;
			continue;
		}
		if (strcmp(k, "--secret-stdin") == 0 ||
		    strcmp(k, "--program") == 0 || strcmp(k, "--yes") == 0) {
			*(k[2] == 's'         ? &o->secret_stdin
				: k[2] == 'p' ? &o->program
					      : &o->yes) = 1;
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
		else if (strcmp(k, "--bind-dn") == 0)
			o->bind_dn = v;
		else if (strcmp(k, "--bind-password-file") == 0) {
			if (v[0] != '/')
				die(EXIT_USAGE,
				    "--bind-password-file: an absolute path");
			o->bind_pwfile = v;
		} else if (strcmp(k, "--check-with") == 0) {
			if (v[0] == '\0' || strchr(v, '/') != NULL)
				die(EXIT_USAGE,
				    "--check-with: a PAM service "
				    "name");
			o->check_with = v;
		} else if (strcmp(k, "--slot") == 0) {
			if (vivo_parse_uint(v, 1, 2, &o->slot) != 0)
				die(EXIT_USAGE, "--slot: 1 or 2");
		} else if (strcmp(k, "--timeout") == 0) {
			if (vivo_parse_uint(
				v, 1, VIVO_TIMEOUT_MAX, &o->timeout) != 0)
				die(EXIT_USAGE, "--timeout: 1..%d seconds",
				    VIVO_TIMEOUT_MAX);
		} else
			die(EXIT_USAGE, "unknown option \"%s\"", k);
	}
	if ((o->bind_dn != NULL) != (o->bind_pwfile != NULL) ||
	    (!o->directory && o->bind_dn != NULL))
		die(EXIT_USAGE,
		    "--bind-dn and --bind-password-file go together, with "
		    "--directory");
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
write_target(const struct vivo_config *c, const char *cfgpath, const char *user,
    const struct passwd *pw, unsigned method, struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (geteuid() == 0) {
		int pub = vivo_method_is_public(method);
		if (vivo_store_system_path(c, user, pub ? t->other : t->path,
			sizeof(t->path)) != 0 ||
		    vivo_store_public_path(c, user, pub ? t->path : t->other,
			sizeof(t->path)) != 0)
			die(1, "store path too long");
		/* only public data may be read by others (a screen locker
		 * reads it as the user) */
		t->file_mode = pub ? 0644 : 0600;
		t->dir_mode = 0755;
		t->owner = 0;
		return;
	}
	if (!c->user_store)
		die(1,
		    "writing the system store needs root; run as root, or set "
		    "user_store = true in %s",
		    cfgpath);
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
		printf("No reader found yet: connect one, then hold the "
		       "implant to "
		       "it (%u s)...\n",
		    timeout);
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

/* The one tap loop (tap.h), as this tool uses it: fn's error, or why the
 * tap loop stopped, in f. 0 / -1. */
static int
run_tap(const struct vivo_config *c, const char *what, const char *user,
    unsigned timeout, vivo_chip_fn fn, void *arg, char *fnwhy, struct fail *f)
{
	struct vivo_waiter w;
	struct vivo_tap tp;
	int r;

	waiter(what, user, &w);
	memset(&tp, 0, sizeof(tp));
	tp.io = &vivo_pcsc_io;
	tp.regdir = VIVO_TAPREG_DIR;
	tp.cfg = c;
	tp.who = &w;
	tp.timeout = timeout;
	tp.ready = print_ready;
	tp.ready_arg = &timeout;
	r = vivo_tap_run(&tp, fn, arg);
	if (r == VIVO_OK)
		return 0;
	if (r == VIVO_ERR_TAP_CONTESTED)
		return failed(f, 1,
		    "not using this tap: another request is "
		    "waiting for a tap on the same reader: %s. Nothing was "
		    "changed.",
		    tp.why);
	if (r == VIVO_ERR_TAP_REGISTRY)
		return failed(f, 1, "%s", tp.why);
	if (fnwhy != NULL && fnwhy[0] != '\0')
		return failed(f, 1, "%s", fnwhy);
	return failed(f, 1, "%s", vivo_strerr(r));
}

/*
 * The implant's FIDO PIN: one line of standard input (--pin-stdin), or
 * typed on the terminal without echo. Asked once per run: kept (and
 * wiped at exit) for a second tap after the chip was lost. 0 / -1.
 */
static char pin_cache[VIVO_FIDO2_PIN_MAX + 2];
static int pin_cached;

static void
wipe_pin(void)
{
	explicit_bzero(pin_cache, sizeof(pin_cache));
}

/* One line typed on the terminal without echo; `hint` names the option
 * that reads it from standard input instead. 0 / -1. */
static int
read_line_noecho(const char *prompt, const char *hint, char *out, size_t outsz)
{
	struct termios old, noecho;
	FILE *in = fopen("/dev/tty", "r+");
	int tty = 0, ok = -1;

	if (in == NULL) {
		fprintf(stderr, "vivo-enroll: no terminal to ask on (use %s)\n",
		    hint);
		return -1;
	}
	if (tcgetattr(fileno(in), &old) == 0) {
		noecho = old;
		noecho.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
		tty = tcsetattr(fileno(in), TCSAFLUSH, &noecho) == 0;
	}
	fputs(prompt, in);
	fflush(in);
	if (fgets(out, (int)outsz, in) != NULL) {
		out[strcspn(out, "\r\n")] = '\0';
		ok = 0;
	}
	if (tty)
		(void)tcsetattr(fileno(in), TCSAFLUSH, &old);
	fputc('\n', in);
	fclose(in);
	return ok;
}

static int
read_pin(int from_stdin, const char *prompt, char *pin, size_t pinsz)
{
	char line[256];
	size_t n;
	int ok = -1;

	if (pin_cached)
		return vivo_strlcpy(pin, pin_cache, pinsz) == 0 ? 0 : -1;
	if (from_stdin) {
		if (fgets(line, sizeof(line), stdin) == NULL)
			return -1;
		line[strcspn(line, "\r\n")] = '\0';
	} else if (read_line_noecho(
		       prompt, "--pin-stdin", line, sizeof(line)) != 0)
		return -1;
	n = strlen(line);
	if (n < VIVO_FIDO2_PIN_MIN || n > VIVO_FIDO2_PIN_MAX)
		fprintf(stderr,
		    "vivo-enroll: a FIDO PIN is %d to %d bytes long\n",
		    VIVO_FIDO2_PIN_MIN, VIVO_FIDO2_PIN_MAX);
	else if (vivo_strlcpy(pin_cache, line, sizeof(pin_cache)) == 0 &&
	    vivo_strlcpy(pin, line, pinsz) == 0) {
		pin_cached = 1;
		ok = 0;
	}
	VIVO_WIPE_ARRAY(line);
	return ok;
}

static int
enroll_get_pin(void *arg, char *pin, size_t pinsz)
{
	const struct opts *o = arg;

	return read_pin(o->pin_stdin, "FIDO PIN of the implant: ", pin, pinsz);
}

static int
test_get_pin(void *arg, const char *prompt, char *pin, size_t pinsz)
{
	const struct opts *o = arg;

	return read_pin(o->pin_stdin, prompt, pin, pinsz);
}

/* add: enroll the tapped chip with the method's own row. */
struct add_ctx {
	const struct vivo_method_ops *m;
	struct vivo_enroll_req req;
	struct vivo_entry e;
	char why[512];
};

static int
add_fn(const struct vivo_transport *t, const uint8_t *atr, size_t atrlen,
    void *arg)
{
	struct add_ctx *x = arg;
	int r;

	(void)atr;
	(void)atrlen;
	x->why[0] = '\0';
	x->req.uidlen = 0;
	r = x->m->enroll(t, &x->req, &x->e, x->why, sizeof(x->why));
	/* the chip's UID, for hand-scan login (identify.h): a hint only,
	 * never a proof; a chip lost now keeps its enrollment */
	if (r == VIVO_OK && x->req.uidlen == 0 &&
	    vivo_uid_read(t, x->req.uid, &x->req.uidlen) != VIVO_OK)
		x->req.uidlen = 0;
	if (r == VIVO_ERR_CARD_COMM) {
		printf(
		    "The chip was lost during the exchange: hold it still and "
		    "try again...\n");
		fflush(stdout);
	}
	return r;
}

/* Read the 20-byte secret as 40 hex digits on stdin (never echoed).
 * 0 / -1 (nothing of it left in our buffers). */
static int
read_secret(uint8_t key[VIVO_HMAC_KEY_LEN], struct fail *f)
{
	char line[256], hex[256];
	size_t n = 0, len = 0;
	int ok = -1;

	if (fgets(line, sizeof(line), stdin) == NULL)
		return failed(
		    f, 1, "--secret-stdin: no secret on standard input");
	for (size_t i = 0; line[i] != '\0'; i++)
		if (line[i] != ' ' && line[i] != '\n' && line[i] != '\r' &&
		    line[i] != '\t' && n < sizeof(hex) - 1)
			hex[n++] = line[i];
	hex[n] = '\0';
	if (vivo_hex_decode(hex, key, VIVO_HMAC_KEY_LEN, &len) != 0 ||
	    len != VIVO_HMAC_KEY_LEN)
		(void)failed(f, EXIT_USAGE,
		    "--secret-stdin: expected the 20-byte "
		    "secret as 40 hex digits");
	else
		ok = 0;
	VIVO_WIPE_ARRAY(line);
	VIVO_WIPE_ARRAY(hex);
	return ok;
}

static void
confirm_program(unsigned slot)
{
	char answer[16];

	printf(
	    "This writes a new random secret into slot %u of the implant. "
	    "Whatever uses that slot now (KeePassXC, another computer) stops "
	    "working with it.\nContinue? [y/N] ",
	    slot);
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

/* Start a locked edit of the target (store.h, vivo_store_edit): the
 * old layout migrated first; `labels` of the other half of the system
 * store are read under the same locks. 0 / -1. */
static int
begin_edit(const struct vivo_config *cfg, const char *user,
    const struct target *t, struct vivo_store_edit *ed, struct fail *f)
{
	char err[512];

	memset(ed, 0, sizeof(*ed));
	ed->path = t->path;
	ed->other = t->other;
	ed->owner = t->owner;
	ed->mode = t->file_mode;
	ed->other_mode = t->file_mode == 0644 ? 0600 : 0644;
	ed->dirmode = t->dir_mode;
	ed->lock_a = ed->lock_b = -1;
	if (t->owner == 0 && t->other[0] != '\0' &&
	    vivo_store_migrate(cfg, user, err, sizeof(err)) < 0)
		return failed(f, 1, "%s (nothing was changed)", err);
	if (vivo_store_edit_begin(ed, err, sizeof(err)) != VIVO_OK)
		return failed(f, 1, "%s (nothing was changed)", err);
	return 0;
}

static int
save(struct vivo_store_edit *ed, int which, struct fail *f)
{
	char err[1024];

	if (vivo_store_edit_save(ed, which, err, sizeof(err)) != 0)
		return failed(f, 1, "%s", err);
	return 0;
}

/* Pick the entry's label (given, or "<method>-N"), check it is free and
 * there is room. 0 / -1. */
static int
choose_label(const struct opts *o, const struct vivo_store *s,
    const struct vivo_store *other, const char *user, struct vivo_entry *e,
    struct fail *f)
{
	if (o->label != NULL)
		(void)vivo_strlcpy(e->label, o->label, sizeof(e->label));
	else {
		for (unsigned n = 1;; n++) {
			snprintf(
			    e->label, sizeof(e->label), "%s-%u", o->method, n);
			if (vivo_store_find(s, e->label) < 0 &&
			    vivo_store_find(other, e->label) < 0)
				break;
		}
	}
	if (vivo_store_find(s, e->label) >= 0 ||
	    vivo_store_find(other, e->label) >= 0)
		return failed(f, 1, "%s already has an implant labelled \"%s\"",
		    user, e->label);
	if (s->n >= VIVO_ENTRIES_MAX)
		return failed(f, 1, "%s already has %d implants enrolled", user,
		    VIVO_ENTRIES_MAX);
	vivo_store_now(e->created);
	return 0;
}

/* Is the chip just enrolled already there? 0, or -1 naming the entry. */
static int
is_dup(const struct vivo_store *s, const char *user,
    const struct vivo_enroll_req *req, const struct vivo_entry *e,
    struct fail *f)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct vivo_entry *o = &s->e[i];
		int same = 0;
		if (o->method != e->method)
			continue;
		if (e->method == VIVO_M_UID)
			same =
			    vivo_uid_match(req->uid, req->uidlen, &o->uid) == 1;
		else if (e->method == VIVO_M_U2F)
			same = memcmp(o->u2f.pub, e->u2f.pub,
				   VIVO_U2F_PUB_LEN) == 0;
		else if (e->method == VIVO_M_FIDO2)
			same = o->fido2.credlen == e->fido2.credlen &&
			    memcmp(o->fido2.cred, e->fido2.cred,
				e->fido2.credlen) == 0;
		else if (e->method == VIVO_M_HMAC &&
		    o->hmac.slot == req->slot) {
			/* we hold K: a state that opens with HMAC(K, C) is this
			 * very secret */
			uint8_t resp[VIVO_HMAC_RESP_LEN],
			    key[VIVO_HMAC_KEY_LEN];
			same = vivo_hmac_sha1(req->key, o->hmac.challenge,
				   sizeof(o->hmac.challenge), resp) == 0 &&
			    vivo_hmac_open(&o->hmac, user, resp, key) == 0;
			OPENSSL_cleanse(resp, sizeof(resp));
			OPENSSL_cleanse(key, sizeof(key));
		}
		if (same)
			return failed(f, 1,
			    "this %s is already enrolled for %s as "
			    "\"%s\"",
			    e->method == VIVO_M_U2F || e->method == VIVO_M_FIDO2
				? "registration"
				: e->method == VIVO_M_HMAC ? "implant's slot"
							   : "chip",
			    user, o->label);
	}
	return 0;
}

/* The chip was checked: lock, re-read, refuse a duplicate, add, write.
 * 0 / -1 (nothing written). */
static int
store_entry(const struct opts *o, const struct vivo_config *c,
    const struct target *t, const char *user, struct vivo_entry *e,
    const struct vivo_enroll_req *req, struct fail *f)
{
	struct vivo_store_edit *ed;
	int ok = -1;

	if ((ed = calloc(1, sizeof(*ed))) == NULL)
		return failed(f, 1, "out of memory");
	if (begin_edit(c, user, t, ed, f) != 0 ||
	    is_dup(&ed->cur, user, req, e, f) != 0 ||
	    choose_label(o, &ed->cur, &ed->oth, user, e, f) != 0)
		goto out;
	(void)vivo_store_add(&ed->cur, e);
	if (save(ed, 0, f) != 0)
		goto out;
	ok = 0;
out:
	vivo_store_edit_end(ed);
	free(ed);
	return ok;
}

/* Without --bind-dn, vivo-enroll binds with SASL EXTERNAL: the identity
 * ldapi:// proves (the caller's uid). Over TLS it would prove nothing. */
static void
check_write_bind(const struct opts *o, const struct vivo_config *c)
{
	if (o->bind_dn == NULL && strncmp(c->dir.uri, "ldapi://", 8) != 0)
		die(EXIT_USAGE,
		    "--directory over %s needs --bind-dn and "
		    "--bind-password-file (SASL EXTERNAL, the default, works "
		    "over ldapi:// only)",
		    c->dir.uri[0] ? c->dir.uri : "(no directory.uri)");
}

/* The user's enrollments in the directory now (labels, duplicates; with
 * vals, the values themselves, index for index). A directory that does
 * not answer, or has no entry for the user, stops the command: 0 / -1
 * with f. */
static int
dir_current(const struct vivo_config *c, const char *user,
    struct vivo_store *st, char (*vals)[VIVO_DIRVAL_MAX + 1], size_t *nvals,
    struct fail *f)
{
	char **v = NULL, why[512];
	size_t n = 0;
	int r;

	memset(st, 0, sizeof(*st));
	if (c->dir.uri[0] == '\0')
		return failed(f, 1,
		    "no directory in the config (directory = "
		    "{ uri = ...; base = ...; })");
	r = vivo_dir_fetch(&c->dir, user, &v, &n, why, sizeof(why));
	if (r != VIVO_DIRF_FOUND)
		return failed(f, 1, "directory %s: %s", c->dir.uri, why);
	if (nvals != NULL)
		*nvals = 0;
	for (size_t i = 0; i < n && st->n < VIVO_ENTRIES_MAX; i++) {
		char w[200];
		if (vivo_dirval_parse(c, v[i], &st->e[st->n], w, sizeof(w)) !=
		    0)
			continue;
		if (vals != NULL) {
			(void)vivo_strlcpy(
			    vals[st->n], v[i], VIVO_DIRVAL_MAX + 1);
			(*nvals)++;
		}
		st->n++;
	}
	vivo_dir_free_values(v, n);
	return 0;
}

/* add --directory, after the tap: the value goes to the user's entry. */
static int
dir_store(const struct opts *o, const struct vivo_config *c, const char *user,
    struct vivo_entry *e, const struct vivo_enroll_req *req, struct fail *f)
{
	static struct vivo_store st, none;
	char *line = NULL, why[512];
	int ok;

	if (dir_current(c, user, &st, NULL, NULL, f) != 0 ||
	    is_dup(&st, user, req, e, f) != 0 ||
	    choose_label(o, &st, &none, user, e, f) != 0)
		return -1;
	if (vivo_dirval_format(e, &line) != 0)
		return failed(f, 1, "cannot write the enrollment as one line");
	ok = vivo_dir_write(
	    c, user, line, 0, o->bind_dn, o->bind_pwfile, why, sizeof(why));
	free(line);
	if (ok != 0)
		return failed(f, 1, "directory %s: %s", c->dir.uri, why);
	return 0;
}

/* What the method needs before the tap (an hmac slot secret). 0 / -1. */
static int
prepare(const struct opts *o, struct vivo_enroll_req *req, struct fail *f)
{
	if (strcmp(o->method, "hmac") != 0)
		return 0;
	if (o->slot == 0)
		return failed(f, EXIT_USAGE,
		    "add --method hmac needs --slot 1 or "
		    "--slot 2");
	if (o->secret_stdin == o->program)
		return failed(f, EXIT_USAGE,
		    "add --method hmac needs either "
		    "--secret-stdin (keep the slot's secret) or --program "
		    "(write a "
		    "new one)");
	req->slot = o->slot;
	req->program = o->program;
	if (!o->program)
		return read_secret(req->key, f);
	if (!o->yes)
		confirm_program(o->slot);
	if (RAND_bytes(req->key, sizeof(req->key)) != 1)
		return failed(f, 1, "OpenSSL cannot make a random secret");
	return 0;
}

/*
 * The system store's hand-scan index (identify.h): what this chip shows
 * without a name, its fixed UID and a discoverable credential, now leads
 * to this user. The enrollment stands whatever happens here.
 */
static void
index_entry(
    const struct vivo_config *c, const char *user, const struct add_ctx *x)
{
	char why[512] = "";
	int bad = 0;

	if (x->req.uidlen > 0 &&
	    !vivo_uid_is_random(x->req.uid, x->req.uidlen) &&
	    vivo_identify_add(c, VIVO_HINT_UID, x->req.uid, x->req.uidlen, user,
		x->e.label, why, sizeof(why)) != 0)
		bad = 1;
	if (!bad && x->e.method == VIVO_M_FIDO2 && x->e.fido2.resident &&
	    vivo_identify_add(c, VIVO_HINT_FIDO2, x->e.fido2.cred,
		x->e.fido2.credlen, user, x->e.label, why, sizeof(why)) != 0)
		bad = 1;
	if (bad)
		printf("Note: the hand-scan index was not updated (%s): this "
		       "implant logs in by name only.\n",
		    why);
}

static int
cmd_add(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096];
	const char *user;
	struct target t;
	struct add_ctx *x;
	struct fail f = { 0, "" };
	char label[VIVO_LABEL_MAX + 1];
	unsigned m;
	int ok;

	if (o->method == NULL)
		die(EXIT_USAGE, "add needs --method fido2|u2f|hmac|uid");
	if (o->label != NULL && !vivo_label_valid(o->label))
		die(EXIT_USAGE,
		    "--label: 1..%d bytes of printable UTF-8, without "
		    "control or bidi characters",
		    VIVO_LABEL_MAX);
	if (strcmp(o->method, "hmac") != 0 &&
	    (o->slot || o->secret_stdin || o->program || o->yes))
		die(EXIT_USAGE,
		    "--slot, --secret-stdin, --program and --yes are for "
		    "--method hmac");
	if (strcmp(o->method, "fido2") != 0 &&
	    (o->require_pin || o->resident || o->pin_stdin))
		die(EXIT_USAGE,
		    "--require-pin, --resident and --pin-stdin are for "
		    "--method fido2");
	if ((m = vivo_method_from_name(o->method)) == 0)
		die(EXIT_USAGE, "unknown method \"%s\" (fido2, u2f, hmac, uid)",
		    o->method);
	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	if (o->directory) {
		static struct vivo_store cur, none;
		struct vivo_entry probe_e;
		if (m == VIVO_M_HMAC || (m == VIVO_M_UID && !c.dir.allow_uid))
			die(1,
			    "--directory: only fido2 and u2f enrollments (and "
			    "uid with directory.allow_uid) may live in a "
			    "directory; an hmac state rolls on each machine");
		/* before the tap: the directory answers, the user has an
		 * entry, and the label is free */
		check_write_bind(o, &c);
		if (dir_current(&c, user, &cur, NULL, NULL, &f) != 0)
			die(f.status, "%s", f.why);
		memset(&probe_e, 0, sizeof(probe_e));
		if (choose_label(o, &cur, &none, user, &probe_e, &f) != 0)
			die(f.status, "%s", f.why);
		memset(&t, 0, sizeof(t));
		t.owner = geteuid();
		(void)vivo_strlcpy(t.path, c.dir.uri, sizeof(t.path));
	} else
		write_target(&c, cfg_path(o), user, &pw, m, &t);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		die(1, "out of memory");
	x->m = vivo_method_find(m);
	x->req.user = user;
	x->req.appid = c.appid;
	x->req.rpid = c.rpid;
	x->req.require_pin = o->require_pin;
	x->req.resident = o->resident;
	x->req.min_pin_retries = c.fido2_min_pin_retries;
	x->req.get_pin = enroll_get_pin;
	x->req.pin_arg = o;
	x->e.method = m;
	/* from here on x may hold a secret: every path wipes it before it
	 * reports and exits */
	ok = prepare(o, &x->req, &f);
	if (ok == 0) {
		if (m == VIVO_M_UID)
			printf("Enrolling an implant for %s by UID.\n", user);
		else if (m == VIVO_M_HMAC)
			printf(
			    "Enrolling slot %u of an implant for %s (HMAC-SHA1 "
			    "challenge-response).\n",
			    x->req.slot, user);
		else if (m == VIVO_M_FIDO2)
			printf("Making a FIDO2 credential on an implant for %s "
			       "(rp id %s%s%s).\n",
			    user, c.rpid,
			    o->require_pin ? ", PIN at every login" : "",
			    o->resident ? ", discoverable" : "");
		else
			printf("Registering an implant's FIDO U2F applet for "
			       "%s (appid "
			       "%s).\n",
			    user, c.appid);
		fflush(stdout);
		ok = run_tap(&c, "add", user,
		    o->timeout ? o->timeout : c.timeout, add_fn, x, x->why, &f);
	}
	if (ok == 0 && m == VIVO_M_U2F)
		printf("Attestation certificate: %s\n", x->req.attestation);
	if (ok == 0 && x->req.note[0] != '\0')
		printf("Note: %s.\n", x->req.note);
	if (ok == 0)
		ok = o->directory
		    ? dir_store(o, &c, user, &x->e, &x->req, &f)
		    : store_entry(o, &c, &t, user, &x->e, &x->req, &f);
	if (ok == 0 && t.owner == 0 && !o->directory)
		index_entry(&c, user, x);
	(void)vivo_strlcpy(label, x->e.label, sizeof(label));
	OPENSSL_cleanse(x, sizeof(*x));
	free(x);
	if (ok != 0)
		die(f.status, "%s", f.why);
	vivo_info("enrolled implant \"%s\" for %s (%s) in %s", label, user,
	    o->method, t.path);
	printf("Enrolled \"%s\" for %s (method %s) in %s.\n", label, user,
	    o->method, t.path);
	if (m == VIVO_M_UID)
		printf(
		    "Note: a UID is not a secret. Anyone who can read this "
		    "chip, "
		    "even briefly, can copy its UID onto another chip, and "
		    "that "
		    "copy will be accepted. Prefer u2f or hmac where the chip "
		    "supports them.\n");
	if (m == VIVO_M_HMAC && o->program)
		printf(
		    "Slot %u now holds a new random secret, known only to the "
		    "implant (this computer keeps it sealed).\n",
		    o->slot);
	if (!(c.methods & m))
		printf("Warning: %s does not list \"%s\" in methods; this "
		       "enrollment is not accepted until it does.\n",
		    cfg_path(o), o->method);
	return 0;
}

static void
list_store(const struct vivo_sealed_set *sealed, const char *where,
    const struct vivo_store *s, int *count)
{
	for (size_t i = 0; i < s->n; i++) {
		if (*count == 0)
			printf("%-24s %-6s %-22s %s\n", "LABEL", "METHOD",
			    "CREATED", "STORE");
		printf("%-24s %-6s %-22s %s%s\n", s->e[i].label,
		    vivo_method_name(s->e[i].method), s->e[i].created, where,
		    vivo_sealed_find(sealed, s->e[i].label, s->e[i].method)
			? " (carries the sealed login secret)"
			: "");
		(*count)++;
	}
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
		       "hmac and uid implants of %s)\n",
		    en->path[VIVO_ST_SYSTEM], user);
	{
		static struct vivo_sealed_set sealed;
		char why[512];
		if (geteuid() == 0 &&
		    vivo_authtok_load(&c, user, &sealed, why, sizeof(why)) !=
			VIVO_OK)
			printf("(sealed login secrets not shown: %s)\n", why);
		list_store(&sealed, "system", &en->st[VIVO_ST_SYSTEM], &count);
		list_store(&sealed, "public", &en->st[VIVO_ST_PUBLIC], &count);
		list_store(&sealed, "user", &en->st[VIVO_ST_USER], &count);
		list_store(&sealed,
		    en->dir_state == VIVO_DIR_CACHED ? "directory (cached)"
						     : "directory",
		    &en->st[VIVO_ST_DIRECTORY], &count);
		explicit_bzero(&sealed, sizeof(sealed));
	}
	if (en->dir_state == VIVO_DIR_CACHED ||
	    en->dir_state == VIVO_DIR_UNAVAILABLE)
		printf("(directory %s: %s)\n", c.dir.uri, en->dir_why);
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
	struct target t;
	struct vivo_store_edit *ed;
	struct fail f = { 0, "" };
	size_t left;
	int in_s, in_other;

	if (o->label == NULL)
		die(EXIT_USAGE, "remove needs --label TEXT");
	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	/* the protected file (or the user store), and the public file */
	write_target(&c, cfg_path(o), user, &pw, VIVO_M_HMAC, &t);
	if ((ed = calloc(1, sizeof(*ed))) == NULL)
		die(1, "out of memory");
	if (begin_edit(&c, user, &t, ed, &f) != 0)
		die(f.status, "%s", f.why);
	in_s = vivo_store_remove(&ed->cur, o->label) == 0;
	in_other = vivo_store_remove(&ed->oth, o->label) == 0;
	if (!in_s && !in_other)
		die(1, "%s has no implant labelled \"%s\" in %s%s%s", user,
		    o->label, t.path, t.other[0] ? " or " : "", t.other);
	if ((in_s && save(ed, 0, &f) != 0) ||
	    (in_other && save(ed, 1, &f) != 0))
		die(f.status, "%s", f.why);
	left = ed->cur.n + ed->oth.n;
	vivo_store_edit_end(ed);
	free(ed);
	if (t.owner == 0) {
		char why[512] = "";
		if (vivo_authtok_update(
			&c, user, o->label, NULL, why, sizeof(why)) < 0)
			fprintf(stderr,
			    "vivo-enroll: warning: the sealed login secret of "
			    "\"%s\" may still be there: %s\n",
			    o->label, why);
		if (vivo_identify_remove(
			&c, user, o->label, why, sizeof(why)) != 0)
			fprintf(stderr,
			    "vivo-enroll: warning: the hand-scan index may "
			    "still name \"%s\" of %s: %s\n",
			    o->label, user, why);
	}
	vivo_info("removed implant \"%s\" of %s from %s", o->label, user,
	    in_s ? t.path : t.other);
	printf("Removed \"%s\" for %s; %zu implant(s) remain.\n", o->label,
	    user, left);
	return 0;
}

/* remove --label L --directory: delete that value from the user's entry. */
static int
cmd_remove_directory(struct opts *o)
{
	static struct vivo_store st;
	static char vals[VIVO_ENTRIES_MAX][VIVO_DIRVAL_MAX + 1];
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096], why[512];
	const char *user;
	struct fail f = { 0, "" };
	size_t nvals = 0;
	int i;

	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	check_write_bind(o, &c);
	if (dir_current(&c, user, &st, vals, &nvals, &f) != 0)
		die(f.status, "%s", f.why);
	if ((i = vivo_store_find(&st, o->label)) < 0)
		die(1, "%s has no implant labelled \"%s\" in the directory",
		    user, o->label);
	if (vivo_dir_write(&c, user, vals[i], 1, o->bind_dn, o->bind_pwfile,
		why, sizeof(why)) != 0)
		die(1, "directory %s: %s", c.dir.uri, why);
	vivo_info("removed implant \"%s\" of %s from the directory %s",
	    o->label, user, c.dir.uri);
	printf("Removed \"%s\" for %s from the directory; every machine "
	       "refuses it at its next lookup.\n",
	    o->label, user);
	return 0;
}

/* export --label L: the one-line form of a local enrollment. */
static int
cmd_export(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096], reason[512], *line = NULL, why[200];
	const char *user;
	struct vivo_enrollments *en;
	const struct vivo_entry *e = NULL;
	struct vivo_entry back;

	if (o->label == NULL)
		die(EXIT_USAGE, "export needs --label TEXT");
	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	if ((en = calloc(1, sizeof(*en))) == NULL)
		die(1, "out of memory");
	c.dir.uri[0] = '\0'; /* the local enrollments */
	if (vivo_enrollments_load(&c, user, VIVO_EN_LIST, en, reason,
		sizeof(reason)) != VIVO_R_OK)
		die(1, "%s", reason);
	for (int s = 0; s < VIVO_ST_N && e == NULL; s++) {
		int i = vivo_store_find(&en->st[s], o->label);
		if (i >= 0)
			e = &en->st[s].e[i];
	}
	if (e == NULL)
		die(1, "%s has no implant labelled \"%s\"%s", user, o->label,
		    en->protected_unreadable ? " that this caller may read"
					     : "");
	if (e->method == VIVO_M_HMAC)
		die(1,
		    "\"%s\" is an hmac enrollment: its state rolls on this "
		    "machine and holds a sealed secret; it cannot be exported",
		    o->label);
	if (vivo_dirval_format(e, &line) != 0)
		die(1, "cannot write \"%s\" as one line", o->label);
	/* what we print must read back as the same enrollment */
	{
		struct vivo_config any = c;
		any.dir.allow_uid = 1;
		any.methods |= e->method;
		if (vivo_dirval_parse(&any, line, &back, why, sizeof(why)) != 0)
			die(1,
			    "internal error: the line does not read back: %s",
			    why);
		explicit_bzero(&back, sizeof(back));
	}
	if (e->method == VIVO_M_UID)
		fprintf(stderr,
		    "vivo-enroll: warning: this uid enrollment holds a hash of "
		    "the chip's UID; whoever can read it can test UIDs against "
		    "it. Put it only where the directory hides it (and set "
		    "directory.allow_uid).\n");
	printf("%s\n", line);
	free(line);
	free(en);
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
			printf(
			    "No store at %s: nothing to migrate.\n", c.store);
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
			fprintf(
			    stderr, "vivo-enroll: %s: %s\n", de->d_name, err);
			bad = 1;
		} else if (r > 0) {
			printf(
			    "Protected the enrollments of %s.\n", de->d_name);
			n++;
		}
	}
	closedir(d);
	printf(
	    "%d file(s) migrated%s.\n", n, bad ? "; some failed (above)" : "");
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
	a.get_pin = test_get_pin;
	a.arg = o;
	waiter("test", a.user, &a.id);
	vivo_authenticate(&a);
	if (a.result != VIVO_R_OK)
		die(1, "%s: %s", vivo_result_str(a.result), a.reason);
	printf("OK: implant \"%s\" accepted for %s (method %s).\n", a.label,
	    a.user, a.method);
	return 0;
}

/* ---- authtok: the login secret sealed under the implant ------------- */

struct pwconv {
	const char *user, *pw;
};

/* The check's conversation: the password for a hidden prompt, the user
 * for a visible one, nothing to pam_vivo's own PIN prompt (a password is
 * no PIN), messages on stderr. */
static int
check_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *arg)
{
	const struct pwconv *pc = arg;

	*resp = calloc((size_t)n, sizeof(**resp));
	if (*resp == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *a = NULL;
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF &&
		    strncmp(msg[i]->msg, "Implant PIN", 11) != 0)
			a = pc->pw;
		else if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			a = "";
		else if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			a = pc->user;
		else if (msg[i]->msg != NULL)
			fprintf(stderr, "  (%s)\n", msg[i]->msg);
		if (a != NULL && ((*resp)[i].resp = strdup(a)) == NULL) {
			for (int j = 0; j < i; j++)
				if ((*resp)[j].resp != NULL) {
					explicit_bzero((*resp)[j].resp,
					    strlen((*resp)[j].resp));
					free((*resp)[j].resp);
				}
			free(*resp);
			*resp = NULL;
			return PAM_BUF_ERR;
		}
	}
	return PAM_SUCCESS;
}

/* Check the password through the PAM stack of `service`. 0 / -1. */
static int
check_password(
    const char *service, const char *user, const char *pw, struct fail *f)
{
	struct pwconv pc = { user, pw };
	struct pam_conv conv = { check_conv, &pc };
	pam_handle_t *ph = NULL;
	int r;

	printf(
	    "Checking the password with the PAM service \"%s\"...\n", service);
	fflush(stdout);
	if ((r = pam_start(service, user, &conv, &ph)) == PAM_SUCCESS)
		r = pam_authenticate(ph, 0);
	if (ph != NULL)
		pam_end(ph, r);
	if (r != PAM_SUCCESS)
		return failed(f, 1,
		    "the PAM service \"%s\" refused this password for %s "
		    "(%s): nothing was sealed",
		    service, user, pam_strerror(NULL, r));
	return 0;
}

/* The enrollment to seal for: --label, or the user's only hmac or fido2
 * one (system store). Copies it to *e. 0 / -1. */
static int
seal_target(const struct opts *o, const struct vivo_enrollments *en,
    const char *user, struct vivo_entry *e, struct fail *f)
{
	const struct vivo_entry *found = NULL;
	int n = 0;

	for (int st = 0; st < VIVO_ST_USER; st++)
		for (size_t i = 0; i < en->st[st].n; i++) {
			const struct vivo_entry *x = &en->st[st].e[i];
			if (o->label != NULL) {
				if (strcmp(x->label, o->label) == 0) {
					found = x;
					n = 1;
				}
			} else if (x->method == VIVO_M_HMAC ||
			    x->method == VIVO_M_FIDO2) {
				found = x;
				n++;
			}
		}
	if (o->label == NULL && n != 1)
		return failed(f, EXIT_USAGE,
		    n == 0 ? "%s has no hmac or fido2 implant to seal for"
			   : "%s has several hmac or fido2 implants: name one "
			     "with --label",
		    user);
	if (found == NULL)
		return failed(f, 1,
		    "%s has no implant labelled \"%s\" in the system store",
		    user, o->label);
	if (found->method == VIVO_M_UID || found->method == VIVO_M_U2F)
		return failed(f, 1,
		    found->method == VIVO_M_UID
			? "\"%s\" is a uid enrollment: a UID is no secret, "
			  "nothing could be sealed under it (use hmac or "
			  "fido2)"
			: "\"%s\" is a u2f enrollment: U2F signatures give "
			  "no secret back to seal under (use hmac, or fido2 "
			  "with hmac-secret)",
		    found->label);
	if (found->method == VIVO_M_FIDO2 && !found->fido2.hmac_secret)
		return failed(f, 1,
		    "\"%s\": this implant's FIDO2 applet did not offer the "
		    "hmac-secret extension at enrollment",
		    found->label);
	*e = *found;
	return 0;
}

static int
cmd_authtok_set(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096], secret[VIVO_AUTHTOK_MAX + 2], why[512];
	const char *user;
	struct vivo_enrollments *en;
	static struct vivo_sealed_set one;
	struct vivo_sealed *s = &one.s[0];
	static struct vivo_entry e;
	static struct vivo_auth a;
	struct fail f = { 0, "" };
	int ok = -1, sh;

	if (geteuid() != 0)
		die(1,
		    "authtok needs root: the sealed secrets are root's alone "
		    "(<store>/%s/)",
		    VIVO_AUTHTOK_DIR);
	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	if ((en = calloc(1, sizeof(*en))) == NULL)
		die(1, "out of memory");
	why[0] = '\0';
	if (vivo_enrollments_load(
		&c, user, VIVO_EN_REQUEST, en, why, sizeof(why)) != VIVO_R_OK ||
	    seal_target(o, en, user, &e, &f) != 0) {
		free(en);
		if (f.why[0] == '\0')
			die(1, "%s", why);
		die(f.status, "%s", f.why);
	}
	free(en);
	secret[0] = '\0';
	if (o->authtok_stdin) {
		if (fgets(secret, sizeof(secret), stdin) == NULL)
			(void)failed(&f, 1,
			    "--authtok-stdin: no password on standard input");
		secret[strcspn(secret, "\r\n")] = '\0';
	} else {
		char prompt[160];
		snprintf(
		    prompt, sizeof(prompt), "Login password of %s: ", user);
		if (read_line_noecho(
			prompt, "--authtok-stdin", secret, sizeof(secret)) != 0)
			(void)failed(&f, 1, "no password read");
	}
	if (f.why[0] == '\0' &&
	    (secret[0] == '\0' || strlen(secret) > VIVO_AUTHTOK_MAX))
		(void)failed(&f, 1, "a password of 1..%d bytes is needed",
		    VIVO_AUTHTOK_MAX);
	if (f.why[0] == '\0' && !o->no_check)
		(void)check_password(
		    o->check_with ? o->check_with : "login", user, secret, &f);
	if (f.why[0] != '\0')
		goto out;
	/* the implant gives the key back: one authentication, exactly as a
	 * login makes it, that also derives this seal's key */
	memset(&one, 0, sizeof(one));
	(void)vivo_strlcpy(s->label, e.label, sizeof(s->label));
	s->method = e.method;
	if (RAND_bytes(s->salt, sizeof(s->salt)) != 1) {
		(void)failed(&f, 1, "OpenSSL cannot make a salt");
		goto out;
	}
	one.n = 1;
	memset(&a, 0, sizeof(a));
	a.cfg = &c;
	a.user = user;
	a.timeout = o->timeout ? o->timeout : c.timeout;
	a.on_wait = print_wait;
	a.get_pin = test_get_pin;
	a.arg = o;
	a.seals = &one;
	waiter("authtok set", user, &a.id);
	printf("Sealing the login password of %s under implant \"%s\" (%s).\n",
	    user, e.label, vivo_method_name(e.method));
	fflush(stdout);
	vivo_authenticate(&a);
	if (a.result != VIVO_R_OK) {
		(void)failed(
		    &f, 1, "%s: %s", vivo_result_str(a.result), a.reason);
		goto out;
	}
	if (!a.have_seal_key || strcmp(a.label, e.label) != 0) {
		(void)failed(&f, 1,
		    "implant \"%s\" answered, not \"%s\" (or without a "
		    "secret): nothing was sealed",
		    a.label, e.label);
		goto out;
	}
	vivo_store_now(s->created);
	sh = vivo_authtok_shadow(user, s->shadow);
	s->has_shadow = sh == 1;
	if (sh < 0 || vivo_authtok_seal(s, user, a.seal_key, secret) != 0 ||
	    vivo_authtok_update(&c, user, s->label, s, why, sizeof(why)) < 0) {
		(void)failed(&f, 1, "cannot seal: %s",
		    sh < 0 ? "cannot read the shadow entry" : why);
		goto out;
	}
	ok = 0;
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(&a, sizeof(a));
	if (ok != 0) {
		explicit_bzero(&one, sizeof(one));
		die(f.status ? f.status : 1, "%s", f.why);
	}
	vivo_info("sealed the login secret of %s under implant \"%s\"", user,
	    e.label);
	printf("Sealed: a login with implant \"%s\" hands the password of %s "
	       "to the modules after pam_vivo where authtok = true.%s\n",
	    e.label, user,
	    s->has_shadow ? ""
			  : " (No shadow entry: a password changed elsewhere "
			    "cannot be detected.)");
	explicit_bzero(&one, sizeof(one));
	return 0;
}

static int
cmd_authtok_clear(struct opts *o)
{
	struct vivo_config c;
	struct passwd pw;
	char pwbuf[4096], why[512];
	const char *user;
	int r;

	if (geteuid() != 0)
		die(1, "authtok needs root");
	load_config(o, &c);
	user = target_user(o, &pw, pwbuf, sizeof(pwbuf));
	r = vivo_authtok_update(&c, user, o->label, NULL, why, sizeof(why));
	if (r < 0)
		die(1, "%s", why);
	if (r == 0)
		die(1, "%s has no sealed login secret%s%s%s", user,
		    o->label ? " for \"" : "", o->label ? o->label : "",
		    o->label ? "\"" : "");
	vivo_info("cleared the sealed login secret of %s%s%s", user,
	    o->label ? " for " : "", o->label ? o->label : "");
	printf("Cleared.\n");
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
		const char *kind = name == 0x0001 ? "MIFARE Classic 1K"
		    : name == 0x0002              ? "MIFARE Classic 4K"
		    : name == 0x0003 ? "MIFARE Ultralight / NTAG21x"
		    : name == 0x0026 ? "MIFARE Mini"
				     : "unknown";
		printf(
		    "  chip: contactless storage card (PC/SC part 3), standard "
		    "%02X%s, card name %04X = %s\n",
		    a[12], a[12] == 0x03 ? " (ISO 14443A-3)" : "", name, kind);
	} else if (n >= 4 && a[0] == 0x3b && (a[1] & 0xf0) == 0x80 &&
	    a[2] == 0x80 && a[3] == 0x01)
		printf(
		    "  chip: ISO 14443-4 smart card (JavaCard, DESFire, ...), "
		    "%u historical bytes\n",
		    a[1] & 0x0f);
	else
		printf("  chip: unrecognised ATR\n");
}

/* probe: what the chip on the transport is, by the methods' own rows. */
static void
probe_chip(const struct vivo_transport *t, const uint8_t *atr, size_t atrlen)
{
	char line[512], usable[64] = "", best[16] = "";
	int lost = 0;

	describe_atr(atr, atrlen);
	for (size_t i = 0; i < vivo_nmethods && !lost; i++) {
		const struct vivo_method_ops *m = &vivo_methods[i];
		int r = m->describe(t, line, sizeof(line));
		if (r == VIVO_ERR_CARD_COMM) {
			printf("  %s: unknown (the chip was lost)\n", m->name);
			lost = 1;
			continue;
		}
		printf("  %s\n", line);
		if (r == 1) {
			if (best[0] == '\0')
				(void)vivo_strlcpy(best, m->name, sizeof(best));
			strcat(usable, m->name);
			strcat(usable,
			    m->bit == VIVO_M_UID ? " (cloneable) " : " ");
		}
	}
	printf("  methods: %s\n", usable[0] ? usable : "none");
	if (best[0] != '\0')
		printf("  recommended: %s (the strongest this chip offers)\n",
		    best);
}

static int
probe_fn(const struct vivo_transport *t, const uint8_t *atr, size_t atrlen,
    void *arg)
{
	(void)arg;
	printf("Chip presented:\n");
	probe_chip(t, atr, atrlen);
	return VIVO_OK;
}

static int
cmd_probe(struct opts *o)
{
	struct vivo_config c;
	void *h = NULL;
	const char *names[16];
	char name[128];
	int present[16], any = 0, r;
	size_t n;
	unsigned timeout;
	struct fail f = { 0, "" };

	load_config(o, &c);
	timeout = o->timeout ? o->timeout : c.timeout;
	if ((r = vivo_pcsc_io.open(&h, &c)) != VIVO_OK)
		die(1, "%s", vivo_strerr(r));
	if ((r = vivo_pcsc_io.list(h, names, present, 16, &n)) != VIVO_OK) {
		vivo_pcsc_io.close(h);
		die(1, "%s", vivo_strerr(r));
	}
	printf("%zu reader(s)%s\n", n, n ? ":" : "");
	for (size_t i = 0; i < n; i++)
		printf("  %s: %s\n", names[i],
		    present[i] ? "chip present" : "empty");
	/* chips lying on a reader are described as they are (nothing is
	 * written, nothing is decided); otherwise wait for a tap */
	for (size_t i = 0; i < n; i++) {
		struct vivo_transport t;
		uint8_t atr[64];
		size_t atrlen = sizeof(atr);
		if (!present[i])
			continue;
		any = 1;
		(void)vivo_strlcpy(name, names[i], sizeof(name));
		printf("Reader \"%s\":\n", name);
		if (vivo_pcsc_io.connect(h, name, &t, atr, &atrlen) !=
		    VIVO_OK) {
			printf("  cannot connect to the chip\n");
			continue;
		}
		probe_chip(&t, atr, atrlen);
		vivo_pcsc_io.disconnect(h);
	}
	vivo_pcsc_io.close(h);
	if (!any &&
	    run_tap(&c, "probe", NULL, timeout, probe_fn, NULL, NULL, &f) != 0)
		die(f.status, "%s", f.why);
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
		die(1, "cannot make the process non-dumpable: %s",
		    strerror(errno));
	memset(&o, 0, sizeof(o));
	atexit(wipe_pin);
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
		parse_opts(argc - i, argv + i,
		    "--method --user --label --timeout "
		    "--slot --secret-stdin --program --yes "
		    "--require-pin --resident --pin-stdin "
		    "--directory --bind-dn --bind-password-file",
		    &o);
		return cmd_add(&o);
	} else if (strcmp(cmd, "export") == 0) {
		parse_opts(argc - i, argv + i, "--label --user", &o);
		return cmd_export(&o);
	} else if (strcmp(cmd, "list") == 0) {
		parse_opts(argc - i, argv + i, "--user", &o);
		return cmd_list(&o);
	} else if (strcmp(cmd, "remove") == 0) {
		parse_opts(argc - i, argv + i,
		    "--label --user --directory --bind-dn "
		    "--bind-password-file",
		    &o);
		if (o.directory) {
			if (o.label == NULL)
				die(EXIT_USAGE, "remove needs --label TEXT");
			return cmd_remove_directory(&o);
		}
		return cmd_remove(&o);
	} else if (strcmp(cmd, "migrate") == 0) {
		parse_opts(argc - i, argv + i, "", &o);
		return cmd_migrate(&o);
	} else if (strcmp(cmd, "test") == 0) {
		parse_opts(
		    argc - i, argv + i, "--user --timeout --pin-stdin", &o);
		return cmd_test(&o);
	} else if (strcmp(cmd, "probe") == 0) {
		parse_opts(argc - i, argv + i, "--timeout", &o);
		return cmd_probe(&o);
	} else if (strcmp(cmd, "authtok") == 0 && i < argc &&
	    strcmp(argv[i], "set") == 0) {
		i++;
		parse_opts(argc - i, argv + i,
		    "--user --label --authtok-stdin --check-with --no-check "
		    "--timeout --pin-stdin",
		    &o);
		return cmd_authtok_set(&o);
	} else if (strcmp(cmd, "authtok") == 0 && i < argc &&
	    strcmp(argv[i], "clear") == 0) {
		i++;
		parse_opts(argc - i, argv + i, "--user --label", &o);
		return cmd_authtok_clear(&o);
	} else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		usage();
	die(EXIT_USAGE,
	    "unknown command \"%s\" (add, list, remove, export, test, "
	    "probe, migrate, authtok set|clear)",
	    cmd);
}
