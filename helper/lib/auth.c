/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth.c - one authentication, as the helper and `vivo-enroll test` run it:
 * load the user's enrollments, wait for a tap that is this request's alone
 * (tap.h), let the decision unit (decide.h) judge the chip, make its state
 * changes durable, and say what the log and the person are told.
 */
#include "auth.h"

#include "directory.h"
#include "decide.h"
#include "fido2.h"
#include "identify.h"
#include "uid.h"
#include "log.h"
#include "priv.h"
#include "tap.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Entries usable under the config's methods. */
static size_t
count_usable(const struct vivo_store *s, unsigned methods)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].method & methods)
			n++;
	return n;
}

/* The product's commit (method.h): update the entry that just matched in
 * the store it came from, under that store's lock, as the user when that
 * is the user store. */
static int
commit(void *ctx, const struct vivo_try *x, vivo_entry_update_fn fn, void *arg,
    char *reason, size_t reasonsz)
{
	struct vivo_auth *a = ctx;
	const struct vivo_enrollments *en = x->en;
	struct vivo_priv priv = { 0 };
	struct passwd pw;
	char pwbuf[4096];
	int r;

	if (x->store == VIVO_ST_DIRECTORY)
		return vivo_dir_commit(
		    x->cfg, x->user, x->e, fn, arg, reason, reasonsz);
	if (x->store != VIVO_ST_USER)
		return vivo_store_update(en->path[x->store], geteuid(),
		    x->store == VIVO_ST_PUBLIC ? 0644 : 0600, x->e->label, fn,
		    arg, reason, reasonsz);
	if (vivo_getpw(a->user, &pw, pwbuf, sizeof(pwbuf)) != 0 ||
	    vivo_priv_drop(&priv, &pw) != 0) {
		vivo_setf(reason, reasonsz,
		    "cannot switch to %s to write "
		    "%s",
		    a->user, en->path[VIVO_ST_USER]);
		return VIVO_R_INTERNAL;
	}
	r = vivo_store_update(en->path[VIVO_ST_USER], pw.pw_uid, 0600,
	    x->e->label, fn, arg, reason, reasonsz);
	vivo_priv_regain(&priv);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	return r;
}

/*
 * OpenSSL reads its configuration and sets up its providers on first use,
 * about 1 ms here. Have that happen while the person reaches for the
 * reader (after the cue went out), not between the tap and the answer.
 * Nothing depends on it: every later call checks its own result.
 */
static void
warm_crypto(void)
{
	static const char *const mds[] = { "SHA256", "SHA1" };
	uint8_t b;

	/* fetched and freed at once: OpenSSL keeps them in its method cache;
	 * the *_free functions accept NULL */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++)
		EVP_MD_free(EVP_MD_fetch(NULL, mds[i], NULL));
	EVP_CIPHER_free(EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL));
	EVP_KDF_free(EVP_KDF_fetch(NULL, "HKDF", NULL));
	EVP_PKEY_CTX_free(EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL));
	(void)RAND_bytes(&b, 1); /* seeds the DRBG */
	/* the first ECDSA verify in a process is ~0.07 ms slower than the
	 * next (code paged in, EC tables built): sign and verify once with
	 * a throw-away key, so that the u2f check after the tap is warm */
	{
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		uint8_t sig[80], m[69] = { 0 };
		size_t sl = sizeof(sig);

		if (k != NULL && md != NULL &&
		    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
		    EVP_DigestSign(md, sig, &sl, m, sizeof(m)) == 1 &&
		    EVP_MD_CTX_reset(md) == 1 &&
		    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1)
			(void)EVP_DigestVerify(md, sig, sl, m, sizeof(m));
		EVP_MD_CTX_free(md);
		EVP_PKEY_free(k);
	}
}

/* Can this caller write the store an entry came from? A screen locker
 * (not root) reading the root-owned system store cannot, by design. */
static int
store_writable(const struct vivo_enrollments *en, int store)
{
	struct stat st;

	if (store == VIVO_ST_USER || geteuid() == 0)
		return 1;
	if (store == VIVO_ST_DIRECTORY)
		return 0;
	return stat(en->path[store], &st) == 0 && st.st_uid == geteuid();
}

static void
ready_bridge(void *arg, size_t nreaders)
{
	struct vivo_auth *a = arg;

	if (a->on_wait != NULL)
		a->on_wait(a->arg, a->timeout, nreaders);
	warm_crypto();
}

static int
chip_fn(const struct vivo_transport *t, const uint8_t *atr, size_t atrlen,
    void *arg)
{
	(void)atr;
	(void)atrlen;
	return vivo_decide(arg, t);
}

static void
tap_failed(struct vivo_auth *a, const struct vivo_tap *tp, int r)
{
	switch (r) {
	case VIVO_ERR_TAP_CONTESTED:
		a->result = VIVO_R_UNAVAILABLE;
		vivo_warn(
		    "tap on reader \"%s\" refused for \"%s\" (user %s, %s): "
		    "another request waits for a tap there too: %s",
		    tp->reader, a->id.service, a->user,
		    a->id.tty[0] ? a->id.tty : "no terminal", tp->why);
		vivo_setf(a->reason, sizeof(a->reason),
		    "tap refused: another request "
		    "waits for a tap on the same reader: %s",
		    tp->why);
		vivo_setf(a->text, sizeof(a->text),
		    "Not accepted: another request is "
		    "waiting for a tap on this reader too: %s. If you did not "
		    "start "
		    "it, someone may be trying to use your implant. Use your "
		    "password, or tap again when only one request waits.",
		    tp->why);
		break;
	case VIVO_ERR_TAP_REGISTRY:
		a->result = VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason), "%s", tp->why);
		vivo_setf(a->text, sizeof(a->text),
		    "Implant login unavailable: this "
		    "request cannot be registered (see the system log).");
		break;
	case VIVO_ERR_READER_TIMEOUT:
		a->result = VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason), "%s", vivo_strerr(r));
		vivo_setf(a->text, sizeof(a->text),
		    "No implant was presented within "
		    "%u s.",
		    a->timeout);
		break;
	default:
		a->result = r == VIVO_ERR_READER_FAIL || r == VIVO_ERR_NOMEM ||
			r == VIVO_ERR_INTERNAL
		    ? VIVO_R_INTERNAL
		    : VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason), "%s", vivo_strerr(r));
		vivo_setf(a->text, sizeof(a->text),
		    "Implant login unavailable: %s.", vivo_strerr(r));
		break;
	}
}

/*
 * After a proof: keep the seal key (vivo-enroll authtok set), and with
 * `release` open the entry's sealed login secret into a->authtok, unless
 * the password changed since it was sealed.
 */
static void
take_seal(struct vivo_auth *a, const struct vivo_try *x, const char *user)
{
	const struct vivo_sealed *s;
	uint8_t now[32];
	int sh;

	if (!x->have_seal_key || x->e == NULL)
		return;
	memcpy(a->seal_key, x->seal_key, sizeof(a->seal_key));
	a->have_seal_key = 1;
	if (!a->release ||
	    (s = vivo_sealed_find(a->seals, x->e->label, x->e->method)) == NULL)
		return;
	sh = vivo_authtok_shadow(user, now);
	if (sh < 0 || (sh == 1) != (s->has_shadow != 0) ||
	    (sh == 1 && CRYPTO_memcmp(now, s->shadow, sizeof(now)) != 0)) {
		vivo_setf(a->authtok_note, sizeof(a->authtok_note),
		    "the password of %s changed since it was sealed for "
		    "implant \"%s\" on %s: nothing handed over; reseal with "
		    "vivo-enroll authtok set",
		    user, s->label, s->created);
		vivo_warn("%s", a->authtok_note);
		a->authtok_changed = 1;
		return;
	}
	if (vivo_authtok_open(
		s, user, a->seal_key, a->authtok, sizeof(a->authtok)) != 0) {
		vivo_setf(a->authtok_note, sizeof(a->authtok_note),
		    "the sealed login secret of implant \"%s\" does not open "
		    "(changed, or sealed by another implant): nothing handed "
		    "over",
		    s->label);
		vivo_warn("%s", a->authtok_note);
		return;
	}
	a->have_authtok = 1;
}

void
vivo_authenticate(struct vivo_auth *a)
{
	const struct vivo_config *c = a->cfg;
	struct vivo_enrollments *en = NULL;
	struct vivo_try *x = NULL;
	struct vivo_tap tp;
	size_t usable = 0, total = 0;
	char pin[VIVO_FIDO2_PIN_MAX + 2];
	int r;

	pin[0] = '\0';
	a->result = VIVO_R_INTERNAL;
	a->reason[0] = a->text[0] = a->label[0] = '\0';
	a->authtok_note[0] = '\0';
	a->have_authtok = a->have_seal_key = a->authtok_changed = 0;
	a->method = NULL;

	if (a->remote && !c->allow_remote) {
		a->result = VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason),
		    "remote request (PAM_RHOST set) "
		    "declined: allow_remote is false");
		goto out;
	}
	if (!vivo_user_valid(a->user)) {
		a->result = VIVO_R_NO_ENROLLMENT;
		vivo_setf(a->reason, sizeof(a->reason), "invalid user name");
		goto out;
	}
	if ((en = calloc(1, sizeof(*en))) == NULL ||
	    (x = calloc(1, sizeof(*x))) == NULL) {
		vivo_setf(a->reason, sizeof(a->reason), "out of memory");
		goto out;
	}
	r = vivo_enrollments_load(
	    c, a->user, VIVO_EN_REQUEST, en, a->reason, sizeof(a->reason));
	if (r != VIVO_R_OK) {
		a->result = (uint32_t)r;
		goto out;
	}
	for (int s = 0; s < VIVO_ST_N; s++) {
		usable += count_usable(&en->st[s], c->methods);
		total += en->st[s].n;
	}
	if (usable == 0 && en->protected_unreadable) {
		/* not "not enrolled": this caller may not look */
		a->result = VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason),
		    "the enrollments of %s that "
		    "this caller (uid %u) may use allow no method of the "
		    "config; "
		    "%s is root's alone (a screen locker uses public u2f "
		    "entries "
		    "and the user store)",
		    a->user, (unsigned)geteuid(), en->path[VIVO_ST_SYSTEM]);
		goto out;
	}
	if (usable == 0 && en->dir_state == VIVO_DIR_UNAVAILABLE) {
		/* "unreachable" is not "not enrolled": the password (or the
		 * next module) must say */
		a->result = VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason),
		    "no local enrollment of %s, and the directory gave "
		    "nothing: %s",
		    a->user, en->dir_why);
		goto out;
	}
	if (usable == 0) {
		a->result = VIVO_R_NO_ENROLLMENT;
		if (total > 0)
			vivo_setf(a->reason, sizeof(a->reason),
			    "user %s has %zu "
			    "enrollment(s), none with a method the config "
			    "allows",
			    a->user, total);
		else
			vivo_setf(a->reason, sizeof(a->reason),
			    "user %s has no enrollment", a->user);
		goto out;
	}

	if (vivo_fido2_pin_needed(c, en)) {
		if (a->get_pin == NULL ||
		    a->get_pin(a->arg, "Implant PIN (Enter to skip): ", pin,
			sizeof(pin)) != 0) {
			a->result = VIVO_R_UNAVAILABLE;
			vivo_setf(a->reason, sizeof(a->reason),
			    "an enrollment of %s needs the implant's PIN, and "
			    "it could not be asked for",
			    a->user);
			goto out;
		}
		if (pin[0] != '\0' &&
		    (strlen(pin) < VIVO_FIDO2_PIN_MIN ||
			strlen(pin) > VIVO_FIDO2_PIN_MAX)) {
			a->result = VIVO_R_AUTH_FAILED;
			vivo_setf(a->reason, sizeof(a->reason),
			    "the PIN given is not %d..%d bytes long: not sent",
			    VIVO_FIDO2_PIN_MIN, VIVO_FIDO2_PIN_MAX);
			vivo_setf(a->text, sizeof(a->text),
			    "A FIDO PIN is %d to %d characters long.",
			    VIVO_FIDO2_PIN_MIN, VIVO_FIDO2_PIN_MAX);
			goto out;
		}
	}
	x->pin = pin;
	x->seals = a->seals;
	x->cfg = c;
	x->user = a->user;
	x->en = en;
	for (int s = 0; s < VIVO_ST_N; s++)
		x->writable[s] = store_writable(en, s);
	x->commit = commit;
	x->commit_ctx = a;
	x->result = VIVO_R_INTERNAL; /* only the decision may say otherwise */
	memset(&tp, 0, sizeof(tp));
	tp.io = a->io != NULL ? a->io : &vivo_pcsc_io;
	tp.regdir = a->regdir != NULL ? a->regdir : VIVO_TAPREG_DIR;
	tp.cfg = c;
	tp.who = &a->id;
	tp.timeout = a->timeout;
	tp.ready = ready_bridge;
	tp.ready_arg = a;
	r = vivo_tap_run(&tp, chip_fn, x);
	switch (r) {
	case VIVO_OK:
		a->result = x->result;
		(void)vivo_strlcpy(a->reason, x->reason, sizeof(a->reason));
		(void)vivo_strlcpy(a->text, x->text, sizeof(a->text));
		if (a->result == VIVO_R_OK) {
			a->method = vivo_method_name(x->e->method);
			(void)vivo_strlcpy(
			    a->label, x->e->label, sizeof(a->label));
			take_seal(a, x, a->user);
		}
		break;
	default: tap_failed(a, &tp, r); break;
	}
out:
	explicit_bzero(pin, sizeof(pin));
	if (en != NULL) {
		explicit_bzero(en, sizeof(*en));
		free(en);
	}
	if (x != NULL) {
		explicit_bzero(x, sizeof(*x));
		free(x);
	}
}

/* ---- hand-scan login ------------------------------------------------- */

struct ident {
	struct vivo_auth *a;
	struct vivo_enrollments *en;
	struct vivo_try *x;
	char user[VIVO_USER_MAX + 1];
	int decided; /* x holds the decision of a named proof */
	struct vivo_sealed_set *seals; /* with a->release: the user's */
};

/* Add the users of one hint to cand (distinct). 0, or -1 when the index
 * is unsafe or a hint names more users than we keep. */
static int
add_candidates(struct ident *ic, int kind, const uint8_t *hint, size_t len,
    char (*cand)[VIVO_USER_MAX + 1], size_t *ncand)
{
	char users[VIVO_IDENTIFY_USERS_MAX][VIVO_USER_MAX + 1];
	size_t n = 0;
	int r;

	r = vivo_identify_lookup(ic->a->cfg, kind, hint, len, users,
	    VIVO_IDENTIFY_USERS_MAX, &n, ic->a->reason, sizeof(ic->a->reason));
	if (r != VIVO_OK)
		return -1;
	for (size_t i = 0; i < n && i < VIVO_IDENTIFY_USERS_MAX; i++) {
		size_t j;
		for (j = 0; j < *ncand; j++)
			if (strcmp(cand[j], users[i]) == 0)
				break;
		if (j == *ncand && *ncand < VIVO_IDENTIFY_USERS_MAX)
			(void)vivo_strlcpy(
			    cand[(*ncand)++], users[i], VIVO_USER_MAX + 1);
		else if (j == *ncand)
			(*ncand)++;
	}
	if (n > VIVO_IDENTIFY_USERS_MAX)
		*ncand += n - VIVO_IDENTIFY_USERS_MAX;
	return 0;
}

static int
identify_chip(const struct vivo_transport *t, const uint8_t *atr, size_t atrlen,
    void *arg)
{
	struct ident *ic = arg;
	struct vivo_auth *a = ic->a;
	const struct vivo_config *c = a->cfg;
	char cand[VIVO_IDENTIFY_USERS_MAX][VIVO_USER_MAX + 1];
	size_t ncand = 0;
	struct passwd pw;
	char pwbuf[4096];
	int r;

	(void)atr;
	(void)atrlen;
	ic->decided = 0;
	a->result = VIVO_R_AUTH_FAILED;
	a->reason[0] = a->text[0] = '\0';
	/* 1. the chip's discoverable fido2 credentials for this rp id */
	if (c->methods & VIVO_M_FIDO2) {
		struct vivo_fido2 *f = NULL;
		struct vivo_fido2_info in;
		static uint8_t ids[VIVO_FIDO2_DISCOVER_MAX]
				  [VIVO_FIDO2_CRED_MAX];
		size_t lens[VIVO_FIDO2_DISCOVER_MAX], n = 0;
		char why[256];

		r = vivo_fido2_open(t, &f, &in, why, sizeof(why));
		if (r == VIVO_OK)
			r = vivo_fido2_discover(f, c->rpid, ids, lens,
			    VIVO_FIDO2_DISCOVER_MAX, &n, why, sizeof(why));
		vivo_fido2_close(f);
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		for (size_t i = 0; i < n; i++)
			if (add_candidates(ic, VIVO_HINT_FIDO2, ids[i], lens[i],
				cand, &ncand) != 0) {
				a->result = VIVO_R_UNSAFE;
				return VIVO_OK;
			}
		explicit_bzero(ids, sizeof(ids));
	}
	/* 2. its UID, when it is not new at every power-up */
	{
		uint8_t uid[VIVO_UID_MAX];
		size_t len = 0;
		r = vivo_uid_read(t, uid, &len);
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		if (r == VIVO_OK && !vivo_uid_is_random(uid, len) &&
		    add_candidates(ic, VIVO_HINT_UID, uid, len, cand, &ncand) !=
			0) {
			VIVO_WIPE_ARRAY(uid);
			a->result = VIVO_R_UNSAFE;
			return VIVO_OK;
		}
		VIVO_WIPE_ARRAY(uid);
	}
	if (ncand == 0) {
		vivo_setf(a->reason, sizeof(a->reason),
		    "the chip presented is not enrolled for hand-scan login");
		vivo_setf(a->text, sizeof(a->text),
		    "This implant is not enrolled for hand-scan login here.");
		return VIVO_OK;
	}
	if (ncand > 1) {
		vivo_setf(a->reason, sizeof(a->reason),
		    "the chip presented is enrolled for %zu users (%s, %s%s): "
		    "refused, never picked",
		    ncand, cand[0], cand[1], ncand > 2 ? ", ..." : "");
		vivo_warn("hand-scan login refused: %s", a->reason);
		vivo_setf(a->text, sizeof(a->text),
		    "This implant is enrolled for more than one user: type "
		    "your user name instead.");
		return VIVO_OK;
	}
	/* 3. one user: a real account, then proved as a named login */
	if (vivo_getpw(cand[0], &pw, pwbuf, sizeof(pwbuf)) != 0) {
		vivo_setf(a->reason, sizeof(a->reason),
		    "the index names %s, who has no account", cand[0]);
		explicit_bzero(pwbuf, sizeof(pwbuf));
		return VIVO_OK;
	}
	explicit_bzero(pwbuf, sizeof(pwbuf));
	(void)vivo_strlcpy(ic->user, cand[0], sizeof(ic->user));
	a->user = ic->user;
	memset(ic->en, 0, sizeof(*ic->en));
	r = vivo_enrollments_load(
	    c, ic->user, VIVO_EN_REQUEST, ic->en, a->reason, sizeof(a->reason));
	if (r != VIVO_R_OK) {
		a->result = (uint32_t)r;
		return VIVO_OK;
	}
	memset(ic->x, 0, sizeof(*ic->x));
	ic->x->cfg = c;
	ic->x->user = ic->user;
	ic->x->en = ic->en;
	for (int s = 0; s < VIVO_ST_N; s++)
		ic->x->writable[s] = store_writable(ic->en, s);
	ic->x->commit = commit;
	ic->x->commit_ctx = a;
	ic->x->pin = NULL; /* no PIN without a name (auth.h) */
	if (ic->seals != NULL) {
		char why[VIVO_TEXT_MAX];
		if (vivo_authtok_load(
			c, ic->user, ic->seals, why, sizeof(why)) != VIVO_OK) {
			vivo_warn("sealed login secrets of %s not used: %s",
			    ic->user, why);
			memset(ic->seals, 0, sizeof(*ic->seals));
		}
		ic->x->seals = ic->seals;
		a->seals = ic->seals;
	}
	ic->x->result = VIVO_R_INTERNAL;
	r = vivo_decide(ic->x, t);
	if (r == VIVO_OK)
		ic->decided = 1;
	return r;
}

void
vivo_identify(struct vivo_auth *a)
{
	struct ident ic;
	struct vivo_tap tp;
	int r;

	memset(&ic, 0, sizeof(ic));
	ic.a = a;
	a->result = VIVO_R_INTERNAL;
	a->reason[0] = a->text[0] = a->label[0] = a->found_user[0] = '\0';
	a->method = NULL;
	if (a->remote && !a->cfg->allow_remote) {
		a->result = VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason),
		    "remote request (PAM_RHOST set) "
		    "declined: allow_remote is false");
		return;
	}
	a->authtok_note[0] = '\0';
	a->have_authtok = a->have_seal_key = a->authtok_changed = 0;
	if ((ic.en = calloc(1, sizeof(*ic.en))) == NULL ||
	    (ic.x = calloc(1, sizeof(*ic.x))) == NULL ||
	    (a->release && (ic.seals = calloc(1, sizeof(*ic.seals))) == NULL)) {
		vivo_setf(a->reason, sizeof(a->reason), "out of memory");
		goto out;
	}
	memset(&tp, 0, sizeof(tp));
	tp.io = a->io != NULL ? a->io : &vivo_pcsc_io;
	tp.regdir = a->regdir != NULL ? a->regdir : VIVO_TAPREG_DIR;
	tp.cfg = a->cfg;
	tp.who = &a->id;
	tp.timeout = a->timeout;
	tp.ready = ready_bridge;
	tp.ready_arg = a;
	r = vivo_tap_run(&tp, identify_chip, &ic);
	if (r == VIVO_OK && ic.decided) {
		a->result = ic.x->result;
		(void)vivo_strlcpy(a->reason, ic.x->reason, sizeof(a->reason));
		(void)vivo_strlcpy(a->text, ic.x->text, sizeof(a->text));
		if (a->result == VIVO_R_OK) {
			a->method = vivo_method_name(ic.x->e->method);
			(void)vivo_strlcpy(
			    a->label, ic.x->e->label, sizeof(a->label));
			(void)vivo_strlcpy(
			    a->found_user, ic.user, sizeof(a->found_user));
			take_seal(a, ic.x, ic.user);
		} else if (!ic.x->clone)
			/* the person at the prompt named nobody: the words of
			 * a named login ("not enrolled for alice") would tell
			 * them whose chip this one claims to be. The log keeps
			 * the reason. */
			vivo_setf(a->text, sizeof(a->text),
			    "This implant was not accepted for hand-scan "
			    "login.");
	} else if (r != VIVO_OK)
		tap_failed(a, &tp, r);
	/* else: identify_chip set result, reason and text */
out:
	a->user = "";
	if (ic.en != NULL) {
		explicit_bzero(ic.en, sizeof(*ic.en));
		free(ic.en);
	}
	if (ic.x != NULL) {
		explicit_bzero(ic.x, sizeof(*ic.x));
		free(ic.x);
	}
	if (ic.seals != NULL) {
		explicit_bzero(ic.seals, sizeof(*ic.seals));
		free(ic.seals);
	}
	a->seals = NULL;
	explicit_bzero(ic.user, sizeof(ic.user));
}
