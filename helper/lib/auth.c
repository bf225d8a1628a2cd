/*
 * auth.c - see auth.h. The only place that decides VIVO_R_OK.
 */
#include "auth.h"
#include "file.h"
#include "log.h"
#include "pcsc.h"
#include "uid.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
vivo_getpw(const char *user, struct passwd *pw, char *buf, size_t bufsz)
{
	struct passwd *res = NULL;

	if (getpwnam_r(user, pw, buf, bufsz, &res) != 0 || res == NULL)
		return -1;
	return 0;
}

void
vivo_priv_regain(struct vivo_priv *p)
{
	if (!p->dropped)
		return;
	if (seteuid(p->euid) != 0 || setegid(p->egid) != 0 ||
	    setgroups((size_t)p->ngroups, p->groups) != 0) {
		vivo_err("%s: cannot regain privileges: %s", __func__,
		    strerror(errno));
		abort(); /* never carry on with the wrong identity */
	}
	p->dropped = 0;
}

int
vivo_priv_drop(struct vivo_priv *p, const struct passwd *pw)
{
	memset(p, 0, sizeof(*p));
	if (geteuid() != 0 || pw->pw_uid == 0)
		return 0;
	p->euid = geteuid();
	p->egid = getegid();
	if ((p->ngroups = getgroups((int)VIVO_NELEM(p->groups), p->groups)) < 0)
		return -1;
	p->dropped = 1; /* from here on, a failure restores (or aborts) */
	if (setgroups(1, &pw->pw_gid) != 0 || setegid(pw->pw_gid) != 0 ||
	    seteuid(pw->pw_uid) != 0) {
		vivo_priv_regain(p);
		return -1;
	}
	return 0;
}

static void
setf(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
setf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* Keep only the entries whose data is public (what a caller that is not
 * root may use from the system store); 1 if any was dropped. */
static int
keep_public(struct vivo_store *s)
{
	size_t i = 0;
	int dropped = 0;

	while (i < s->n) {
		if (vivo_method_is_public(s->e[i].method))
			i++;
		else {
			(void)vivo_store_remove(s, s->e[i].label);
			dropped = 1;
		}
	}
	return dropped;
}

int
vivo_enrollments_load(const struct vivo_config *c, const char *user, int mode,
    struct vivo_enrollments *en, char *reason, size_t reasonsz)
{
	struct passwd pw;
	char pwbuf[4096];
	struct vivo_priv priv;
	uid_t me = geteuid();
	int r;

	memset(en, 0, sizeof(*en));
	if (vivo_store_system_path(c, user, en->path[VIVO_ST_SYSTEM],
	    sizeof(en->path[0])) != 0 || vivo_store_public_path(c, user,
	    en->path[VIVO_ST_PUBLIC], sizeof(en->path[0])) != 0) {
		setf(reason, reasonsz, "cannot build the store path");
		return VIVO_R_INTERNAL;
	}
	if (me == 0 && (r = vivo_store_migrate(c, user, reason, reasonsz)) != 0) {
		if (r < 0)
			vivo_warn("cannot protect the enrollments of %s: %s", user,
			    reason);
		else
			vivo_info("enrollments of %s moved to the protected layout "
			    "(%s 0600, public entries in %s)", user,
			    en->path[VIVO_ST_SYSTEM], en->path[VIVO_ST_PUBLIC]);
		reason[0] = '\0';
	}
	r = vivo_store_load(en->path[VIVO_ST_SYSTEM], me, &en->st[VIVO_ST_SYSTEM],
	    reason, reasonsz);
	if (r == VIVO_ERR_FILE_ACCES && me != 0) {
		en->protected_unreadable = 1; /* root's alone, by design */
		reason[0] = '\0';
	} else if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		return VIVO_R_UNSAFE;
	if (me != 0 && keep_public(&en->st[VIVO_ST_SYSTEM]))
		vivo_notice("%s is readable by others and holds secret "
		    "entries: not used; root's next use of it (or vivo-enroll "
		    "migrate) protects it", en->path[VIVO_ST_SYSTEM]);
	r = vivo_store_load(en->path[VIVO_ST_PUBLIC], me, &en->st[VIVO_ST_PUBLIC],
	    reason, reasonsz);
	if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		return VIVO_R_UNSAFE;
	if (keep_public(&en->st[VIVO_ST_PUBLIC]))
		vivo_warn("%s holds entries that are not public: ignored",
		    en->path[VIVO_ST_PUBLIC]);
	vivo_store_drop_duplicates(&en->st[VIVO_ST_SYSTEM],
	    &en->st[VIVO_ST_PUBLIC]);
	if (!c->user_store)
		return VIVO_R_OK;
	if (vivo_getpw(user, &pw, pwbuf, sizeof(pwbuf)) != 0)
		return VIVO_R_OK; /* no such account: nothing in a home */
	if (mode == VIVO_EN_REQUEST && me != pw.pw_uid) {
		/* whatever runs as the user can write that file: it must not
		 * open doors that run as root (sudo, su, login) */
		vivo_dbg("user store of %s ignored: this request runs as uid %u, "
		    "not as %s", user, (unsigned)me, user);
		explicit_bzero(pwbuf, sizeof(pwbuf));
		return VIVO_R_OK;
	}
	if (vivo_store_user_path(pw.pw_dir, en->path[VIVO_ST_USER],
	    sizeof(en->path[0])) != 0) {
		setf(reason, reasonsz, "cannot build the user store path");
		return VIVO_R_INTERNAL;
	}
	if (vivo_priv_drop(&priv, &pw) != 0) {
		setf(reason, reasonsz, "cannot switch to %s to read %s", user,
		    en->path[VIVO_ST_USER]);
		return VIVO_R_INTERNAL;
	}
	r = vivo_store_load(en->path[VIVO_ST_USER], pw.pw_uid,
	    &en->st[VIVO_ST_USER], reason, reasonsz);
	vivo_priv_regain(&priv);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		return VIVO_R_UNSAFE;
	return VIVO_R_OK;
}

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

#define RETRY 100 /* the chip was lost: wait for another tap */

/* Where an entry lives, to write its new state back. */
struct found {
	const struct vivo_entry *e;
	int store; /* enum vivo_store_kind it came from */
	int clone;      /* a u2f counter went backwards: end the request */
};

/* Check the chip's UID against every usable uid entry (all of them, so
 * the time taken does not say which one matched). */
static int
try_uid(struct vivo_auth *a, const struct vivo_enrollments *en,
    const struct vivo_transport *t, struct found *f)
{
	uint8_t uid[VIVO_UID_MAX];
	size_t uidlen = 0;
	int r;

	if (!(a->cfg->methods & VIVO_M_UID))
		return 0;
	r = vivo_uid_read(t, uid, &uidlen);
	if (r == VIVO_ERR_CARD_COMM)
		return RETRY;
	if (r != 0) {
		setf(a->reason, sizeof(a->reason), "the chip presented did not "
		    "report a usable UID");
		return 0;
	}
	for (int s = 0; s < VIVO_ST_N; s++) {
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method != VIVO_M_UID)
				continue;
			if (vivo_uid_match(uid, uidlen, &e->uid) == 1 && f->e == NULL) {
				f->e = e;
				f->store = s;
			}
		}
	}
	VIVO_WIPE_ARRAY(uid);
	return 0;
}

int
vivo_store_update(const char *path, uid_t owner, mode_t mode,
    const char *label, vivo_entry_update_fn fn, void *arg, char *reason,
    size_t reasonsz)
{
	struct vivo_store *s = NULL;
	char err[512];
	int lock = -1, idx, r, result = VIVO_R_INTERNAL;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	if ((lock = vivo_file_lock_dir(path)) < 0) {
		setf(reason, reasonsz, "cannot lock the directory of %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (vivo_store_load(path, owner, s, err, sizeof(err)) != 0) {
		setf(reason, reasonsz, "cannot re-read %s", err);
		goto out;
	}
	if ((idx = vivo_store_find(s, label)) < 0) {
		result = VIVO_R_AUTH_FAILED;
		setf(reason, reasonsz, "implant \"%s\" was removed meanwhile", label);
		goto out;
	}
	if ((result = fn(&s->e[idx], arg, reason, reasonsz)) != VIVO_R_OK)
		goto out;
	result = VIVO_R_INTERNAL;
	vivo_file_clean_stale(path);
	if ((r = vivo_store_save(path, s, mode)) != 0) {
		setf(reason, reasonsz, "cannot store the new state in %s: %s; "
		    "refusing (%s)", path, strerror(errno),
		    r == VIVO_ERR_FILE_NOTSYNCED ? "the directory could not be synced" :
		    "the old state is intact");
		goto out;
	}
	result = VIVO_R_OK;
out:
	vivo_file_unlock(lock);
	if (s != NULL) {
		explicit_bzero(s, sizeof(*s));
		free(s);
	}
	return result;
}

struct hmac_roll_arg {
	const char *user;
	const struct vivo_hmac_data *used;
	const uint8_t *key;
};

static int
hmac_roll_fn(struct vivo_entry *e, void *arg, char *reason, size_t reasonsz)
{
	const struct hmac_roll_arg *h = arg;

	if (e->method != VIVO_M_HMAC ||
	    memcmp(&e->hmac, h->used, sizeof(*h->used)) != 0) {
		setf(reason, reasonsz, "the state of implant \"%s\" was used by a "
		    "concurrent authentication", e->label);
		return VIVO_R_AUTH_FAILED;
	}
	if (vivo_hmac_seal(h->key, h->user, h->used->slot, &e->hmac) != 0) {
		setf(reason, reasonsz, "cannot seal the next state");
		return VIVO_R_INTERNAL;
	}
	return VIVO_R_OK;
}

int
vivo_hmac_roll(const char *path, uid_t owner, mode_t mode, const char *user,
    const char *label, const struct vivo_hmac_data *used,
    const uint8_t key[VIVO_HMAC_KEY_LEN], char *reason, size_t reasonsz)
{
	struct hmac_roll_arg h = { user, used, key };

	return vivo_store_update(path, owner, mode, label, hmac_roll_fn, &h,
	    reason, reasonsz);
}

/* Update the entry that just matched in the store it came from, as the
 * user when that is the user store. */
static int
commit(struct vivo_auth *a, const struct vivo_enrollments *en,
    const struct found *f, vivo_entry_update_fn fn, void *arg)
{
	struct vivo_priv priv = { 0 };
	struct passwd pw;
	char pwbuf[4096];
	int r;

	if (f->store != VIVO_ST_USER)
		return vivo_store_update(en->path[f->store], geteuid(),
		    f->store == VIVO_ST_PUBLIC ? 0644 : 0600, f->e->label, fn, arg,
		    a->reason, sizeof(a->reason));
	if (vivo_getpw(a->user, &pw, pwbuf, sizeof(pwbuf)) != 0 ||
	    vivo_priv_drop(&priv, &pw) != 0) {
		setf(a->reason, sizeof(a->reason), "cannot switch to %s to write "
		    "%s", a->user, en->path[VIVO_ST_USER]);
		return VIVO_R_INTERNAL;
	}
	r = vivo_store_update(en->path[VIVO_ST_USER], pw.pw_uid, 0600,
	    f->e->label, fn,
	    arg, a->reason, sizeof(a->reason));
	vivo_priv_regain(&priv);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	return r;
}

struct u2f_bump_arg {
	const struct vivo_u2f_data *used;
	uint32_t counter;
};

static int
u2f_bump_fn(struct vivo_entry *e, void *arg, char *reason, size_t reasonsz)
{
	const struct u2f_bump_arg *b = arg;

	if (e->method != VIVO_M_U2F || e->u2f.khlen != b->used->khlen ||
	    memcmp(e->u2f.kh, b->used->kh, e->u2f.khlen) != 0) {
		setf(reason, reasonsz, "implant \"%s\" changed meanwhile", e->label);
		return VIVO_R_AUTH_FAILED;
	}
	if (b->counter <= e->u2f.counter) {
		setf(reason, reasonsz, "implant \"%s\": counter %u is not above "
		    "the stored %u (used concurrently, or cloned)", e->label,
		    b->counter, e->u2f.counter);
		return VIVO_R_AUTH_FAILED;
	}
	e->u2f.counter = b->counter;
	return VIVO_R_OK;
}

/* Can this caller write the store an entry came from? A screen locker
 * (not root) reading the root-owned system store cannot, by design. */
static int
store_writable(const struct vivo_enrollments *en, const struct found *f)
{
	struct stat st;

	if (f->store == VIVO_ST_USER || geteuid() == 0)
		return 1;
	return stat(en->path[f->store], &st) == 0 && st.st_uid == geteuid();
}

/* FIDO U2F against every usable u2f entry registered for this host's
 * appid. 0 (no match, or VIVO_R_* in *result when one matched), RETRY. */
static int
try_u2f(struct vivo_auth *a, const struct vivo_enrollments *en,
    const struct vivo_transport *t, struct found *f, uint32_t *result)
{
	uint8_t app[VIVO_U2F_PARAM_LEN], chal[VIVO_U2F_PARAM_LEN];
	struct vivo_u2f_auth resp;
	int r, selected = 0;

	if (!(a->cfg->methods & VIVO_M_U2F) ||
	    vivo_u2f_app_param(a->cfg->appid, app) != 0)
		return 0;
	for (int s = 0; s < VIVO_ST_N; s++) {
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method != VIVO_M_U2F)
				continue;
			if (strcmp(e->u2f.appid, a->cfg->appid) != 0) {
				setf(a->reason, sizeof(a->reason), "implant \"%s\" is "
				    "enrolled for appid %s, this host uses %s",
				    e->label, e->u2f.appid, a->cfg->appid);
				continue;
			}
			if (!selected) {
				r = vivo_u2f_select(t);
				if (r == VIVO_ERR_CARD_COMM)
					return RETRY;
				if (r == VIVO_ERR_U2F_FIDO2)
					setf(a->reason, sizeof(a->reason), "the chip's FIDO "
					    "applet speaks FIDO2 (CTAP2) only, not U2F");
				if (r != 0)
					return 0;
				selected = 1;
			}
			if (RAND_bytes(chal, sizeof(chal)) != 1)
				return 0;
			r = vivo_u2f_authenticate(t, chal, app, e->u2f.kh,
			    e->u2f.khlen, &resp);
			if (r == VIVO_ERR_CARD_COMM)
				return RETRY;
			if (r == VIVO_ERR_U2F_WRONG_KH) {
				vivo_dbg("%s: not implant \"%s\"", __func__, e->label);
				continue;
			}
			if (r != 0) {
				setf(a->reason, sizeof(a->reason), "the chip's FIDO applet "
				    "did not sign for implant \"%s\"", e->label);
				continue;
			}
			if (vivo_u2f_verify(e->u2f.pub, app, chal, &resp) != 0) {
				setf(a->reason, sizeof(a->reason), "implant \"%s\": %s",
				    e->label, (resp.up & 1) ? "the signature does not "
				    "verify" : "user presence not asserted");
				continue;
			}
			if (a->cfg->check_counter && resp.counter <= e->u2f.counter) {
				/* the signature is the implant's own: a second chip
				 * with its key, or a recorded answer. End the request
				 * here, whatever else this tap could prove. */
				setf(a->reason, sizeof(a->reason), "implant \"%s\": "
				    "counter %u is not above the stored %u: the implant "
				    "may have been cloned (or a reply replayed)", e->label,
				    resp.counter, e->u2f.counter);
				vivo_warn("%s", a->reason);
				setf(a->text, sizeof(a->text), "This implant's signature "
				    "counter went backwards: it may have been cloned. "
				    "Refused.");
				f->e = e;
				f->store = s;
				f->clone = 1;
				*result = VIVO_R_AUTH_FAILED;
				return 0;
			}
			f->e = e;
			f->store = s;
			if (!a->cfg->check_counter)
				*result = VIVO_R_OK;
			else if (!store_writable(en, f)) {
				vivo_info("implant \"%s\": counter %u checked, but this "
				    "caller cannot write %s to advance it; the next "
				    "authentication as root will", e->label, resp.counter,
				    en->path[f->store]);
				*result = VIVO_R_OK;
			} else {
				struct u2f_bump_arg b = { &e->u2f, resp.counter };
				*result = (uint32_t)commit(a, en, f, u2f_bump_fn, &b);
			}
			return 0;
		}
	}
	return 0;
}

/* HMAC-SHA1 challenge-response against every usable hmac entry. Returns
 * 0 (no match, or VIVO_R_* in *result when an entry matched), RETRY. */
static int
try_hmac(struct vivo_auth *a, const struct vivo_enrollments *en,
    const struct vivo_transport *t, struct found *f, uint32_t *result)
{
	uint8_t status[VIVO_HMAC_STATUS_LEN], resp[VIVO_HMAC_RESP_LEN];
	uint8_t key[VIVO_HMAC_KEY_LEN];
	int r, selected = 0;

	if (!(a->cfg->methods & VIVO_M_HMAC))
		return 0;
	for (int s = 0; s < VIVO_ST_N; s++) {
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method != VIVO_M_HMAC)
				continue;
			if (!selected) {
				r = vivo_hmac_select(t, status);
				if (r == VIVO_ERR_CARD_COMM)
					return RETRY;
				if (r != 0)
					return 0; /* no HMAC applet on this chip */
				selected = 1;
			}
			if (!vivo_hmac_slot_programmed(status, e->hmac.slot)) {
				setf(a->reason, sizeof(a->reason), "slot %u of the "
				    "chip presented is not programmed", e->hmac.slot);
				continue;
			}
			r = vivo_hmac_challenge(t, e->hmac.slot, e->hmac.challenge,
			    sizeof(e->hmac.challenge), resp);
			if (r == VIVO_ERR_CARD_COMM)
				return RETRY;
			if (r != 0) {
				setf(a->reason, sizeof(a->reason), "slot %u of the "
				    "chip presented did not answer the challenge",
				    e->hmac.slot);
				continue;
			}
			r = vivo_hmac_open(&e->hmac, a->user, resp, key);
			OPENSSL_cleanse(resp, sizeof(resp));
			if (r != 0) {
				vivo_dbg("%s: not implant \"%s\"", __func__, e->label);
				continue;
			}
			{
				struct hmac_roll_arg h = { a->user, &e->hmac, key };
				f->e = e;
				f->store = s;
				*result = (uint32_t)commit(a, en, f, hmac_roll_fn, &h);
			}
			OPENSSL_cleanse(key, sizeof(key));
			return 0;
		}
	}
	return 0;
}

/* Run the enrolled methods, strongest first, against the chip on t.
 * VIVO_R_* or RETRY. */
static int
check_chip(struct vivo_auth *a, const struct vivo_enrollments *en,
    const struct vivo_transport *t)
{
	struct found f = { NULL, 0, 0 };
	uint32_t result = VIVO_R_AUTH_FAILED;

	if (try_u2f(a, en, t, &f, &result) == RETRY)
		return RETRY;
	if (f.e == NULL && try_hmac(a, en, t, &f, &result) == RETRY)
		return RETRY;
	if (f.e == NULL && try_uid(a, en, t, &f) == RETRY)
		return RETRY;
	if (f.e == NULL) {
		if (a->reason[0] == '\0')
			setf(a->reason, sizeof(a->reason), "the chip presented is not "
			    "enrolled for %s", a->user);
		setf(a->text, sizeof(a->text), "This implant is not enrolled for "
		    "%s.", a->user);
		return VIVO_R_AUTH_FAILED;
	}
	if (f.clone)
		return VIVO_R_AUTH_FAILED; /* reason and text are set */
	if (f.e->method == VIVO_M_UID)
		result = VIVO_R_OK; /* the UID hash just matched */
	if (result == VIVO_R_OK) {
		a->method = vivo_method_name(f.e->method);
		(void)vivo_strlcpy(a->label, f.e->label, sizeof(a->label));
		setf(a->reason, sizeof(a->reason), "implant \"%s\" accepted (%s)",
		    f.e->label, a->method);
	} else if (result == VIVO_R_AUTH_FAILED)
		setf(a->text, sizeof(a->text), "This implant's state was just used "
		    "by another login; try again.");
	else
		setf(a->text, sizeof(a->text), "Implant recognised, but its new "
		    "state could not be saved: refused.");
	return (int)result;
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
}

static void
ready_bridge(void *arg, size_t nreaders)
{
	struct vivo_auth *a = arg;

	if (a->on_wait != NULL)
		a->on_wait(a->arg, a->timeout, nreaders);
	warm_crypto();
}

/*
 * The one-request rule (tapreg.h): 1 if this tap on `reader` must not be
 * used, with the result, reason and text set; 0 if it is ours alone.
 */
static int
contested(struct vivo_auth *a, vivo_tapreg_t *reg, const char *reader,
    int64_t tap_ms)
{
	char other[1024];
	int st = vivo_tapreg_check(reg, reader, tap_ms, other, sizeof(other));

	if (st == VIVO_TAPREG_FREE)
		return 0;
	a->result = VIVO_R_UNAVAILABLE;
	if (st != VIVO_TAPREG_CONTESTED) {
		setf(a->reason, sizeof(a->reason), "cannot tell whether another "
		    "request waits for this tap: refused");
		setf(a->text, sizeof(a->text), "Implant login unavailable.");
		return 1;
	}
	vivo_warn("tap on reader \"%s\" refused for \"%s\" (user %s, %s): "
	    "another request waits for a tap there too: %s", reader,
	    a->id.service, a->user, a->id.tty[0] ? a->id.tty : "no terminal",
	    other);
	setf(a->reason, sizeof(a->reason), "tap refused: another request waits "
	    "for a tap on the same reader: %s", other);
	setf(a->text, sizeof(a->text), "Not accepted: another request is "
	    "waiting for a tap on this reader too: %s. If you did not start it, "
	    "someone may be trying to use your implant. Use your password, or "
	    "tap again when only one request waits.", other);
	return 1;
}

void
vivo_authenticate(struct vivo_auth *a)
{
	const struct vivo_config *c = a->cfg;
	struct vivo_enrollments *en = NULL;
	vivo_pcsc_t *pcsc = NULL;
	vivo_tapreg_t *reg = NULL;
	size_t usable = 0, total = 0;
	int64_t tap_ms;
	int64_t deadline;
	int r, told = 0;

	a->result = VIVO_R_INTERNAL;
	a->reason[0] = a->text[0] = a->label[0] = '\0';
	a->method = NULL;

	if (a->remote && !c->allow_remote) {
		a->result = VIVO_R_UNAVAILABLE;
		setf(a->reason, sizeof(a->reason), "remote request (PAM_RHOST set) "
		    "declined: allow_remote is false");
		goto out;
	}
	if (!vivo_user_valid(a->user)) {
		a->result = VIVO_R_NO_ENROLLMENT;
		setf(a->reason, sizeof(a->reason), "invalid user name");
		goto out;
	}
	if ((en = calloc(1, sizeof(*en))) == NULL) {
		setf(a->reason, sizeof(a->reason), "out of memory");
		goto out;
	}
	r = vivo_enrollments_load(c, a->user, VIVO_EN_REQUEST, en, a->reason,
	    sizeof(a->reason));
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
		setf(a->reason, sizeof(a->reason), "the enrollments of %s that "
		    "this caller (uid %u) may use allow no method of the config; "
		    "%s is root's alone (a screen locker uses public u2f entries "
		    "and the user store)", a->user, (unsigned)geteuid(),
		    en->path[VIVO_ST_SYSTEM]);
		goto out;
	}
	if (usable == 0) {
		a->result = VIVO_R_NO_ENROLLMENT;
		if (total > 0)
			setf(a->reason, sizeof(a->reason), "user %s has %zu "
			    "enrollment(s), none with a method the config allows",
			    a->user, total);
		else
			setf(a->reason, sizeof(a->reason), "user %s has no enrollment",
			    a->user);
		goto out;
	}

	deadline = vivo_now_ms() + (int64_t)a->timeout * 1000;
	/* registered before the first look at the readers: a chip there now
	 * is stale for us, and any other request sees us from here on */
	if (vivo_tapreg_join(&reg, VIVO_TAPREG_DIR, &a->id, c, a->reason,
	    sizeof(a->reason)) != 0) {
		a->result = VIVO_R_UNAVAILABLE;
		setf(a->text, sizeof(a->text), "Implant login unavailable: this "
		    "request cannot be registered (see the system log).");
		goto out;
	}
	if ((r = vivo_pcsc_new(&pcsc, c)) != 0) {
		a->result = r == VIVO_ERR_READER_NOSERVICE ? VIVO_R_UNAVAILABLE :
		    VIVO_R_INTERNAL;
		setf(a->reason, sizeof(a->reason), "%s", vivo_pcsc_strerr(r));
		setf(a->text, sizeof(a->text), "Implant login unavailable: %s.",
		    vivo_pcsc_strerr(r));
		goto out;
	}
	for (;;) {
		char reader[128];
		uint8_t atr[64];
		size_t atrlen = sizeof(atr);
		struct vivo_transport t;

		r = vivo_pcsc_wait_tap(pcsc, deadline, told ? NULL : ready_bridge,
		    a, reader, sizeof(reader));
		told = 1;
		if (r != 0) {
			a->result = r == VIVO_ERR_READER_FAIL ? VIVO_R_INTERNAL :
			    VIVO_R_UNAVAILABLE;
			setf(a->reason, sizeof(a->reason), "%s", vivo_pcsc_strerr(r));
			if (r == VIVO_ERR_READER_TIMEOUT)
				setf(a->text, sizeof(a->text), "No implant was "
				    "presented within %u s.", a->timeout);
			else
				setf(a->text, sizeof(a->text), "Implant login "
				    "unavailable: %s.", vivo_pcsc_strerr(r));
			goto out;
		}
		tap_ms = vivo_tapreg_now();
		if (contested(a, reg, reader, tap_ms))
			goto out;
		if (vivo_pcsc_connect(pcsc, reader, &t, atr, &atrlen) != 0) {
			vivo_dbg("%s: could not connect to the chip; waiting for "
			    "another tap", __func__);
			continue;
		}
		a->reason[0] = '\0';
		r = check_chip(a, en, &t);
		vivo_pcsc_disconnect(pcsc);
		if (r == RETRY) {
			vivo_dbg("%s: chip lost during the exchange; waiting for "
			    "another tap", __func__);
			continue;
		}
		a->result = (uint32_t)r;
		/* once more before success: a request that saw the same tap
		 * after us may have found it contested meanwhile */
		if (a->result == VIVO_R_OK && contested(a, reg, reader, tap_ms)) {
			a->method = NULL;
			a->label[0] = '\0';
		}
		goto out;
	}
out:
	vivo_pcsc_free(&pcsc);
	vivo_tapreg_leave(&reg);
	if (en != NULL) {
		explicit_bzero(en, sizeof(*en));
		free(en);
	}
}
