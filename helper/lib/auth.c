/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth.c - one authentication, as the helper and `vivo-enroll test` run it:
 * load the user's enrollments, wait for a tap that is this request's alone
 * (tap.h), let the decision unit (decide.h) judge the chip, make its state
 * changes durable, and say what the log and the person are told.
 */
#include "auth.h"
#include "decide.h"
#include "fido2.h"
#include "log.h"
#include "priv.h"
#include "tap.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sys/stat.h>

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
		}
		break;
	case VIVO_ERR_TAP_CONTESTED:
		a->result = VIVO_R_UNAVAILABLE;
		vivo_warn(
		    "tap on reader \"%s\" refused for \"%s\" (user %s, %s): "
		    "another request waits for a tap there too: %s",
		    tp.reader, a->id.service, a->user,
		    a->id.tty[0] ? a->id.tty : "no terminal", tp.why);
		vivo_setf(a->reason, sizeof(a->reason),
		    "tap refused: another request "
		    "waits for a tap on the same reader: %s",
		    tp.why);
		vivo_setf(a->text, sizeof(a->text),
		    "Not accepted: another request is "
		    "waiting for a tap on this reader too: %s. If you did not "
		    "start "
		    "it, someone may be trying to use your implant. Use your "
		    "password, or tap again when only one request waits.",
		    tp.why);
		break;
	case VIVO_ERR_TAP_REGISTRY:
		a->result = VIVO_R_UNAVAILABLE;
		vivo_setf(a->reason, sizeof(a->reason), "%s", tp.why);
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
