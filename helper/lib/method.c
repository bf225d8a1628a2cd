/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * method.c - see method.h: the fido2, u2f, hmac and uid rows. The bytes
 * each sends come from its own unit (fido2.c, u2f.c, hmac.c, uid.c);
 * docs/apdu.md.
 */
#include "method.h"
#include "log.h"
#include "u2f.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <string.h>

const struct vivo_sealed *
vivo_sealed_find(
    const struct vivo_sealed_set *set, const char *label, unsigned method)
{
	if (set == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->s[i].label, label) == 0 &&
		    set->s[i].method == method)
			return &set->s[i];
	return NULL;
}

/* ---- fido2 ----------------------------------------------------------- */

/* Does this entry's login need the PIN? */
static int
fido2_wants_pin(const struct vivo_config *c, const struct vivo_entry *e)
{
	return e->fido2.require_pin || c->fido2_require_pin;
}

int
vivo_fido2_pin_needed(
    const struct vivo_config *c, const struct vivo_enrollments *en)
{
	if (!(c->methods & VIVO_M_FIDO2))
		return 0;
	for (int s = 0; s < VIVO_ST_N; s++)
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method == VIVO_M_FIDO2 &&
			    strcmp(e->fido2.rpid, c->rpid) == 0 &&
			    fido2_wants_pin(c, e))
				return 1;
		}
	return 0;
}

struct fido2_bump_arg {
	const struct vivo_fido2_data *used;
	uint32_t counter;
};

/* Store the new counter, if the entry is still the one used and the
 * counter still grows (compare-and-swap against a concurrent login). */
static int
fido2_bump_fn(struct vivo_entry *e, void *arg, char *reason, size_t reasonsz)
{
	const struct fido2_bump_arg *b = arg;

	if (e->method != VIVO_M_FIDO2 || e->fido2.credlen != b->used->credlen ||
	    memcmp(e->fido2.cred, b->used->cred, e->fido2.credlen) != 0) {
		vivo_setf(reason, reasonsz, "implant \"%s\" changed meanwhile",
		    e->label);
		return VIVO_R_AUTH_FAILED;
	}
	if (b->counter <= e->fido2.counter && b->counter != 0) {
		vivo_setf(reason, reasonsz,
		    "implant \"%s\": counter %u is not above "
		    "the stored %u (used concurrently, or cloned)",
		    e->label, b->counter, e->fido2.counter);
		return VIVO_R_AUTH_FAILED;
	}
	e->fido2.counter = b->counter;
	return VIVO_R_OK;
}

/* A verified assertion by entry e (store s): the counter rule, then make
 * the new counter durable. */
static void
fido2_accept(
    struct vivo_try *x, const struct vivo_entry *e, int s, uint32_t counter)
{
	x->e = e;
	x->store = s;
	if (x->cfg->fido2_check_counter &&
	    !(counter == 0 && e->fido2.counter == 0) &&
	    counter <= e->fido2.counter) {
		/* a chip without a counter always says 0 (WebAuthn: then
		 * there is nothing to compare); any other value must grow */
		vivo_setf(x->reason, sizeof(x->reason),
		    "implant \"%s\": counter %u is not above the stored %u: "
		    "the implant may have been cloned (or a reply replayed)",
		    e->label, counter, e->fido2.counter);
		vivo_warn("%s", x->reason);
		vivo_setf(x->text, sizeof(x->text),
		    "This implant's signature counter went backwards: it may "
		    "have been cloned. Refused.");
		x->clone = 1;
		x->result = VIVO_R_AUTH_FAILED;
	} else if (!x->cfg->fido2_check_counter || counter == 0)
		x->result = VIVO_R_OK;
	else if (!x->writable[s]) {
		vivo_info("implant \"%s\": counter %u checked, but this caller "
			  "cannot write %s to advance it; the next "
			  "authentication as root will",
		    e->label, counter, x->en->path[s]);
		x->result = VIVO_R_OK;
	} else {
		struct fido2_bump_arg b = { &e->fido2, counter };
		x->result = (uint32_t)x->commit(x->commit_ctx, x, fido2_bump_fn,
		    &b, x->reason, sizeof(x->reason));
	}
}

/*
 * The entry just proved (x->e) carries a sealed login secret: one more
 * getAssertion for its credential alone, with the hmac-secret extension
 * for that seal's salt (and the PIN when the proof used one: the chip's
 * secret differs with and without user verification), gives the seal key.
 * Only VIVO_ERR_CARD_COMM is an error: without a key, nothing is released
 * and the login stands.
 */
static int
fido2_seal_key(struct vivo_try *x, struct vivo_fido2 *f, const char *pin)
{
	const struct vivo_sealed *s;
	const struct vivo_fido2_data *cand;
	struct vivo_fido2_assert_res res;
	uint8_t salt[32];
	char why[256];
	int r;

	if (x->result != VIVO_R_OK || x->e == NULL ||
	    (s = vivo_sealed_find(x->seals, x->e->label, VIVO_M_FIDO2)) == NULL)
		return VIVO_OK;
	cand = &x->e->fido2;
	vivo_authtok_fido2_salt(s->salt, salt);
	{
		struct vivo_fido2_assert_req ar = { x->cfg->rpid, &cand, 1, pin,
			0, pin != NULL, salt };
		r = vivo_fido2_assert(f, &ar, &res, why, sizeof(why));
	}
	if (r == VIVO_OK && res.have_hmac_secret &&
	    vivo_authtok_key(
		VIVO_M_FIDO2, res.hmac_secret, 32, s->salt, x->seal_key) == 0)
		x->have_seal_key = 1;
	else if (r != VIVO_ERR_CARD_COMM)
		vivo_notice("implant \"%s\": no hmac-secret for its sealed "
			    "login secret (%s)",
		    x->e->label, r == VIVO_OK ? "no output" : why);
	OPENSSL_cleanse(&res, sizeof(res));
	OPENSSL_cleanse(salt, sizeof(salt));
	return r == VIVO_ERR_CARD_COMM ? r : VIVO_OK;
}

/* End the request with this result and these words. */
static void
fido2_final(struct vivo_try *x, uint32_t result, const char *text)
{
	x->final = 1;
	x->result = result;
	vivo_setf(x->text, sizeof(x->text), "%s", text);
}

/* The PIN went wrong: say what it cost and what is left. */
static void
fido2_pin_failed(
    struct vivo_try *x, struct vivo_fido2 *f, int r, const char *label)
{
	int left = -1;

	if (r == VIVO_ERR_FIDO2_PIN_INVALID &&
	    vivo_fido2_pin_retries(f, &left) != VIVO_OK)
		left = -1;
	vivo_setf(x->reason, sizeof(x->reason), "implant \"%s\": %s%s", label,
	    vivo_strerr(r),
	    r == VIVO_ERR_FIDO2_PIN_INVALID && left >= 0 ? " (attempts left: "
							 : "");
	if (r == VIVO_ERR_FIDO2_PIN_INVALID && left >= 0) {
		size_t n = strlen(x->reason);
		snprintf(x->reason + n, sizeof(x->reason) - n, "%d)", left);
	}
	x->final = 1;
	x->result = VIVO_R_AUTH_FAILED;
	if (r == VIVO_ERR_FIDO2_PIN_INVALID && left >= 0)
		vivo_setf(x->text, sizeof(x->text),
		    "Wrong PIN. The implant allows %d more attempt%s before "
		    "its PIN is blocked for good.",
		    left, left == 1 ? "" : "s");
	else if (r == VIVO_ERR_FIDO2_PIN_INVALID)
		vivo_setf(x->text, sizeof(x->text), "Wrong PIN.");
	else if (r == VIVO_ERR_FIDO2_PIN_AUTH_BLOCKED)
		vivo_setf(x->text, sizeof(x->text),
		    "Three wrong PINs in a row: the implant takes no PIN "
		    "until it has been lifted from the reader and presented "
		    "again.");
	else
		vivo_setf(x->text, sizeof(x->text),
		    "The implant's PIN is blocked for good. Only a reset of "
		    "its FIDO applet (with the applet's own tools; it erases "
		    "every credential on it) makes it usable again.");
}

/*
 * CTAP2 against every usable fido2 entry for this host's rp id. Entries
 * that need no PIN are asked for in one getAssertion. Those that need
 * it are first asked for silently (up = false, no PIN): only a chip that
 * proves it holds one of them gets the PIN, so a PIN is never spent on
 * (or shown to) another chip; then the retries left are read, and the
 * PIN is sent once, never again by itself.
 */
static int
fido2_try(struct vivo_try *x, const struct vivo_transport *t)
{
	const struct vivo_enrollments *en = x->en;
	const struct vivo_fido2_data *plain[VIVO_ST_N * VIVO_ENTRIES_MAX];
	const struct vivo_fido2_data *pinned[VIVO_ST_N * VIVO_ENTRIES_MAX];
	const struct vivo_entry *pe[VIVO_ST_N * VIVO_ENTRIES_MAX];
	const struct vivo_entry *qe[VIVO_ST_N * VIVO_ENTRIES_MAX];
	int ps[VIVO_ST_N * VIVO_ENTRIES_MAX], qs[VIVO_ST_N * VIVO_ENTRIES_MAX];
	size_t np = 0, nq = 0;
	struct vivo_fido2 *f = NULL;
	struct vivo_fido2_info info;
	struct vivo_fido2_assert_res res;
	char why[256];
	int r, left = -1, blind = 0;

	for (int s = 0; s < VIVO_ST_N; s++)
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method != VIVO_M_FIDO2)
				continue;
			if (strcmp(e->fido2.rpid, x->cfg->rpid) != 0) {
				vivo_setf(x->reason, sizeof(x->reason),
				    "implant \"%s\" is enrolled for rp id %s, "
				    "this host uses %s",
				    e->label, e->fido2.rpid, x->cfg->rpid);
				continue;
			}
			if (fido2_wants_pin(x->cfg, e)) {
				pinned[nq] = &e->fido2;
				qe[nq] = e;
				qs[nq++] = s;
			} else {
				plain[np] = &e->fido2;
				pe[np] = e;
				ps[np++] = s;
			}
		}
	if (np + nq == 0)
		return VIVO_OK;
	r = vivo_fido2_open(t, &f, &info, why, sizeof(why));
	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != VIVO_OK) {
		vivo_setf(x->reason, sizeof(x->reason), "%s", why);
		return VIVO_OK;
	}
	if (np > 0) {
		struct vivo_fido2_assert_req ar = { x->cfg->rpid, plain, np,
			NULL, 0, 0, NULL };
		r = vivo_fido2_assert(f, &ar, &res, why, sizeof(why));
		if (r == VIVO_OK) {
			fido2_accept(
			    x, pe[res.which], ps[res.which], res.counter);
			r = fido2_seal_key(x, f, NULL);
			goto out;
		}
		if (r == VIVO_ERR_CARD_COMM)
			goto out;
		if (r == VIVO_ERR_FIDO2_UV_REQUIRED && x->pin != NULL &&
		    x->pin[0] != '\0') {
			/* the chip wants its PIN for everything (alwaysUv):
			 * these go with the PIN too */
			for (size_t i = 0; i < np; i++) {
				pinned[nq] = plain[i];
				qe[nq] = pe[i];
				qs[nq++] = ps[i];
			}
		} else if (r != VIVO_ERR_FIDO2_NOCRED) {
			vivo_setf(
			    x->reason, sizeof(x->reason), "fido2: %s", why);
			if (r == VIVO_ERR_FIDO2_UV_REQUIRED) {
				fido2_final(x, VIVO_R_AUTH_FAILED,
				    "This implant asks for its PIN at every "
				    "use (alwaysUv), and no PIN was given.");
				goto out;
			}
		}
	}
	r = VIVO_OK;
	if (nq == 0)
		goto out;
	if (x->pin == NULL || x->pin[0] == '\0') {
		vivo_setf(x->reason, sizeof(x->reason),
		    "fido2: an enrollment needs the PIN, and none was given");
		goto out; /* the others (hmac, uid) may still match */
	}
	/* 1. is it the enrolled chip? (a silent, verified assertion) */
	{
		struct vivo_fido2_assert_req ar = { x->cfg->rpid, pinned, nq,
			NULL, 1, 0, NULL };
		r = vivo_fido2_assert(f, &ar, &res, why, sizeof(why));
		if (r == VIVO_ERR_CARD_COMM)
			goto out;
		if (r == VIVO_ERR_FIDO2_NOCRED) {
			r = VIVO_OK;
			goto out; /* another chip: no PIN for it */
		}
		if (r == VIVO_ERR_FIDO2_UV_REQUIRED)
			blind = 1; /* alwaysUv: it cannot prove itself first */
		else if (r != VIVO_OK) {
			vivo_setf(x->reason, sizeof(x->reason),
			    "fido2: %s; no PIN was sent", why);
			fido2_final(x, VIVO_R_AUTH_FAILED,
			    "The implant's answer did not verify: refused "
			    "(no PIN was sent to it).");
			r = VIVO_OK;
			goto out;
		}
	}
	/* 2. enough attempts left? */
	if (info.client_pin != 1) {
		vivo_setf(x->reason, sizeof(x->reason),
		    "fido2: the enrollment needs the PIN, and the chip has no "
		    "PIN set");
		fido2_final(x, VIVO_R_AUTH_FAILED,
		    "This implant has no FIDO PIN set, but its enrollment "
		    "needs one.");
		r = VIVO_OK;
		goto out;
	}
	r = vivo_fido2_pin_retries(f, &left);
	if (r == VIVO_ERR_CARD_COMM)
		goto out;
	if (r != VIVO_OK || left < (int)x->cfg->fido2_min_pin_retries) {
		if (r != VIVO_OK)
			vivo_setf(x->reason, sizeof(x->reason),
			    "fido2: cannot read the PIN retries; no PIN "
			    "was sent");
		else {
			vivo_setf(x->reason, sizeof(x->reason),
			    "fido2: %d PIN attempts left, below the floor of "
			    "%u; no PIN was sent",
			    left, x->cfg->fido2_min_pin_retries);
			vivo_warn("%s", x->reason);
		}
		x->final = 1;
		x->result = VIVO_R_UNAVAILABLE;
		if (r == VIVO_OK)
			vivo_setf(x->text, sizeof(x->text),
			    "Your implant has %d PIN attempt%s left; pam_vivo "
			    "sends no PIN while fewer than %u remain. Use your "
			    "password, then enter the right PIN once with "
			    "your own FIDO tools (that restores all 8).",
			    left, left == 1 ? "" : "s",
			    x->cfg->fido2_min_pin_retries);
		else
			vivo_setf(x->text, sizeof(x->text),
			    "The implant did not say how many PIN attempts "
			    "it has left: no PIN was sent.");
		r = VIVO_OK;
		goto out;
	}
	/* 3. the PIN, once */
	{
		struct vivo_fido2_assert_req ar = { x->cfg->rpid, pinned, nq,
			x->pin, 0, 1, NULL };
		r = vivo_fido2_assert(f, &ar, &res, why, sizeof(why));
		if (r == VIVO_OK) {
			if (blind)
				vivo_info("fido2: the chip could not prove "
					  "itself before the PIN (alwaysUv)");
			fido2_accept(
			    x, qe[res.which], qs[res.which], res.counter);
			r = fido2_seal_key(x, f, x->pin);
			goto out;
		}
		if (r == VIVO_ERR_CARD_COMM)
			goto out;
		if (r == VIVO_ERR_FIDO2_PIN_INVALID ||
		    r == VIVO_ERR_FIDO2_PIN_AUTH_BLOCKED ||
		    r == VIVO_ERR_FIDO2_PIN_BLOCKED)
			fido2_pin_failed(
			    x, f, r, nq == 1 ? qe[0]->label : "(fido2)");
		else if (r != VIVO_ERR_FIDO2_NOCRED || !blind) {
			vivo_setf(
			    x->reason, sizeof(x->reason), "fido2: %s", why);
			fido2_final(x, VIVO_R_AUTH_FAILED,
			    "The implant's answer did not verify: refused.");
		}
		r = VIVO_OK;
	}
out:
	vivo_fido2_close(f);
	return r == VIVO_ERR_CARD_COMM ? r : VIVO_OK;
}

/* makeCredential for this host's rp id, then one verified assertion. */
static int
fido2_enroll(const struct vivo_transport *t, struct vivo_enroll_req *req,
    struct vivo_entry *e, char *why, size_t whysz)
{
	struct vivo_fido2 *f = NULL;
	struct vivo_fido2_info info;
	struct vivo_fido2_make_req mr;
	char pin[VIVO_FIDO2_PIN_MAX + 2];
	int r, need_pin, left = -1;

	pin[0] = '\0';
	r = vivo_fido2_open(t, &f, &info, why, whysz);
	if (r != VIVO_OK)
		return r;
	if (req->require_pin && info.client_pin != 1) {
		vivo_setf(why, whysz,
		    "--require-pin: this implant has no FIDO PIN set. Set one "
		    "with the FIDO applet's own tools first");
		r = VIVO_ERR_FIDO2_PIN_NOT_SET;
		goto out;
	}
	if (info.always_uv && info.client_pin == 1 && !req->require_pin) {
		/* every use needs the PIN (alwaysUv): so will every login */
		req->require_pin = 1;
		vivo_setf(req->note, sizeof(req->note),
		    "this implant asks for its PIN at every use (alwaysUv): "
		    "the enrollment needs the PIN at every login");
	}
	need_pin = info.client_pin == 1 &&
	    (req->require_pin || req->resident || info.always_uv ||
		!info.make_cred_uv_not_rqd);
	if (need_pin) {
		r = vivo_fido2_pin_retries(f, &left);
		if (r != VIVO_OK)
			goto out;
		if (left < (int)req->min_pin_retries) {
			vivo_setf(why, whysz,
			    "the implant has %d PIN attempt%s left, fewer "
			    "than %u: no PIN is sent. Enter the right PIN "
			    "once with your own FIDO tools first",
			    left, left == 1 ? "" : "s", req->min_pin_retries);
			r = VIVO_ERR_FIDO2_PIN_BLOCKED;
			goto out;
		}
		if (req->get_pin == NULL ||
		    req->get_pin(req->pin_arg, pin, sizeof(pin)) != 0) {
			vivo_setf(why, whysz,
			    "this implant needs its FIDO PIN, and none was "
			    "given");
			r = VIVO_ERR_FIDO2_UV_REQUIRED;
			goto out;
		}
	}
	memset(&mr, 0, sizeof(mr));
	mr.rpid = req->rpid;
	mr.user = req->user;
	mr.pin = need_pin ? pin : NULL;
	mr.require_pin = req->require_pin;
	mr.resident = req->resident;
	r = vivo_fido2_make(f, &mr, &e->fido2, why, whysz);
	if (r == VIVO_ERR_FIDO2_PIN_INVALID) {
		if (vivo_fido2_pin_retries(f, &left) != VIVO_OK)
			left = -1;
		vivo_setf(why, whysz,
		    "wrong PIN (attempts left: %d); nothing was written", left);
	} else if (r == VIVO_ERR_FIDO2_PIN_AUTH_BLOCKED ||
	    r == VIVO_ERR_FIDO2_PIN_BLOCKED)
		vivo_setf(
		    why, whysz, "%s; nothing was written", vivo_strerr(r));
	if (r == VIVO_OK && e->fido2.counter == 0 && req->note[0] == '\0')
		vivo_setf(req->note, sizeof(req->note),
		    "this implant's signature counter stays at 0: it has no "
		    "counter, so a clone of it could not be detected");
out:
	explicit_bzero(pin, sizeof(pin));
	vivo_fido2_close(f);
	return r;
}

static int
fido2_describe(const struct vivo_transport *t, char *line, size_t linesz)
{
	struct vivo_fido2 *f = NULL;
	struct vivo_fido2_info in;
	char why[256];
	int r = vivo_fido2_open(t, &f, &in, why, sizeof(why)), left = -1;

	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != VIVO_OK) {
		vivo_setf(line, linesz, "FIDO2 (CTAP2): none (%s)", why);
		return 0;
	}
	if (in.client_pin == 1 &&
	    (r = vivo_fido2_pin_retries(f, &left)) == VIVO_ERR_CARD_COMM) {
		vivo_fido2_close(f);
		return r;
	}
	vivo_setf(line, linesz,
	    "FIDO2 (CTAP2): versions %s; extensions %s; options clientPin=%s "
	    "rk=%s uv=%s alwaysUv=%s; PIN retries %s%d; AAGUID %s; max "
	    "message %llu bytes (fido2 possible)",
	    in.versions, in.extensions[0] ? in.extensions : "none",
	    in.client_pin == 1       ? "set"
		: in.client_pin == 0 ? "not set"
				     : "unsupported",
	    in.rk ? "yes" : "no", in.uv ? "yes" : "no",
	    in.always_uv ? "yes" : "no", left < 0 ? "n/a " : "", left,
	    in.aaguid[0] ? in.aaguid : "none",
	    (unsigned long long)in.maxmsgsiz);
	vivo_fido2_close(f);
	return 1;
}

/* ---- u2f ------------------------------------------------------------- */

struct u2f_bump_arg {
	const struct vivo_u2f_data *used;
	uint32_t counter;
};

/* Store the new counter, if the entry is still the one used and the
 * counter still grows (compare-and-swap against a concurrent login). */
static int
u2f_bump_fn(struct vivo_entry *e, void *arg, char *reason, size_t reasonsz)
{
	const struct u2f_bump_arg *b = arg;

	if (e->method != VIVO_M_U2F || e->u2f.khlen != b->used->khlen ||
	    memcmp(e->u2f.kh, b->used->kh, e->u2f.khlen) != 0) {
		vivo_setf(reason, reasonsz, "implant \"%s\" changed meanwhile",
		    e->label);
		return VIVO_R_AUTH_FAILED;
	}
	if (b->counter <= e->u2f.counter) {
		vivo_setf(reason, reasonsz,
		    "implant \"%s\": counter %u is not above "
		    "the stored %u (used concurrently, or cloned)",
		    e->label, b->counter, e->u2f.counter);
		return VIVO_R_AUTH_FAILED;
	}
	e->u2f.counter = b->counter;
	return VIVO_R_OK;
}

/* FIDO U2F against every usable u2f entry registered for this host's
 * appid. */
static int
u2f_try(struct vivo_try *x, const struct vivo_transport *t)
{
	const struct vivo_enrollments *en = x->en;
	uint8_t app[VIVO_U2F_PARAM_LEN], chal[VIVO_U2F_PARAM_LEN];
	struct vivo_u2f_auth resp;
	int r, selected = 0;

	if (vivo_u2f_app_param(x->cfg->appid, app) != 0)
		return VIVO_OK;
	for (int s = 0; s < VIVO_ST_N; s++) {
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method != VIVO_M_U2F)
				continue;
			if (strcmp(e->u2f.appid, x->cfg->appid) != 0) {
				vivo_setf(x->reason, sizeof(x->reason),
				    "implant \"%s\" is "
				    "enrolled for appid %s, this host uses %s",
				    e->label, e->u2f.appid, x->cfg->appid);
				continue;
			}
			if (!selected) {
				r = vivo_u2f_select(t);
				if (r == VIVO_ERR_CARD_COMM)
					return r;
				if (r == VIVO_ERR_U2F_FIDO2)
					vivo_setf(x->reason, sizeof(x->reason),
					    "the chip's FIDO "
					    "applet speaks FIDO2 (CTAP2) only, "
					    "not U2F");
				if (r != VIVO_OK)
					return VIVO_OK;
				selected = 1;
			}
			if (RAND_bytes(chal, sizeof(chal)) != 1)
				return VIVO_OK;
			r = vivo_u2f_authenticate(
			    t, chal, app, e->u2f.kh, e->u2f.khlen, &resp);
			if (r == VIVO_ERR_CARD_COMM)
				return r;
			if (r == VIVO_ERR_U2F_WRONG_KH) {
				vivo_dbg("%s: not implant \"%s\"", __func__,
				    e->label);
				continue;
			}
			if (r != VIVO_OK) {
				vivo_setf(x->reason, sizeof(x->reason),
				    "the chip's FIDO applet "
				    "did not sign for implant \"%s\"",
				    e->label);
				continue;
			}
			if (vivo_u2f_verify(e->u2f.pub, app, chal, &resp) !=
			    0) {
				vivo_setf(x->reason, sizeof(x->reason),
				    "implant \"%s\": %s", e->label,
				    (resp.up & 1)
					? "the signature does not "
					  "verify"
					: "user presence not asserted");
				continue;
			}
			x->e = e;
			x->store = s;
			if (x->cfg->check_counter &&
			    resp.counter <= e->u2f.counter) {
				/* the signature is the implant's own: a second chip
				 * with its key, or a recorded answer. End the request
				 * here, whatever else this tap could prove. */
				vivo_setf(x->reason, sizeof(x->reason),
				    "implant \"%s\": "
				    "counter %u is not above the stored %u: "
				    "the implant "
				    "may have been cloned (or a reply "
				    "replayed)",
				    e->label, resp.counter, e->u2f.counter);
				vivo_warn("%s", x->reason);
				vivo_setf(x->text, sizeof(x->text),
				    "This implant's signature "
				    "counter went backwards: it may have been "
				    "cloned. "
				    "Refused.");
				x->clone = 1;
				x->result = VIVO_R_AUTH_FAILED;
			} else if (!x->cfg->check_counter)
				x->result = VIVO_R_OK;
			else if (!x->writable[s]) {
				vivo_info("implant \"%s\": counter %u checked, "
					  "but this "
					  "caller cannot write %s to advance "
					  "it; the next "
					  "authentication as root will",
				    e->label, resp.counter, en->path[s]);
				x->result = VIVO_R_OK;
			} else {
				struct u2f_bump_arg b = { &e->u2f,
					resp.counter };
				x->result = (uint32_t)x->commit(x->commit_ctx,
				    x, u2f_bump_fn, &b, x->reason,
				    sizeof(x->reason));
			}
			return VIVO_OK;
		}
	}
	return VIVO_OK;
}

/* SELECT, REGISTER with a fresh challenge, verify the attestation. */
static int
u2f_enroll(const struct vivo_transport *t, struct vivo_enroll_req *req,
    struct vivo_entry *e, char *why, size_t whysz)
{
	uint8_t chal[VIVO_U2F_PARAM_LEN], app[VIVO_U2F_PARAM_LEN];
	struct vivo_u2f_reg reg;
	int r;

	if ((r = vivo_u2f_select(t)) != VIVO_OK) {
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		vivo_setf(why, whysz,
		    r == VIVO_ERR_U2F_FIDO2
			? "this chip's FIDO applet "
			  "speaks FIDO2 (CTAP2) only; u2f needs a U2F (CTAP1) "
			  "applet"
			: "this chip has no FIDO U2F applet");
		return VIVO_ERR_CARD_NOTSUP;
	}
	if (RAND_bytes(chal, sizeof(chal)) != 1 ||
	    vivo_u2f_app_param(req->appid, app) != 0) {
		vivo_setf(why, whysz, "OpenSSL error");
		return VIVO_ERR_INTERNAL;
	}
	r = vivo_u2f_register(t, chal, app, &reg);
	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r == VIVO_ERR_CARD_PROTO) {
		vivo_setf(why, whysz,
		    "the registration reply is malformed, or its "
		    "attestation signature does not verify; nothing was "
		    "written");
		return r;
	}
	if (r != VIVO_OK) {
		vivo_setf(why, whysz,
		    "the FIDO applet refused to register (is an "
		    "attestation certificate installed?)");
		return r;
	}
	(void)vivo_strlcpy(e->u2f.appid, req->appid, sizeof(e->u2f.appid));
	memcpy(e->u2f.kh, reg.kh, reg.khlen);
	e->u2f.khlen = reg.khlen;
	memcpy(e->u2f.pub, reg.pub, sizeof(e->u2f.pub));
	e->u2f.counter = 0;
	(void)vivo_strlcpy(
	    req->attestation, reg.subject, sizeof(req->attestation));
	return VIVO_OK;
}

static int
u2f_describe(const struct vivo_transport *t, char *line, size_t linesz)
{
	int r = vivo_u2f_select(t);

	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r == VIVO_OK) {
		vivo_setf(line, linesz, "FIDO applet: U2F_V2 (u2f possible)");
		return 1;
	}
	vivo_setf(line, linesz,
	    r == VIVO_ERR_U2F_FIDO2 ? "FIDO applet: FIDO_2_0 "
				      "only (CTAP2; U2F not available)"
				    : "FIDO applet: none");
	return 0;
}

/* ---- hmac ------------------------------------------------------------ */

struct hmac_roll_arg {
	const char *user;
	const struct vivo_hmac_data *used;
	const uint8_t *key;
};

/* Seal the next state, if the entry still holds the one used
 * (compare-and-swap against a concurrent login). */
static int
hmac_roll_fn(struct vivo_entry *e, void *arg, char *reason, size_t reasonsz)
{
	const struct hmac_roll_arg *h = arg;

	if (e->method != VIVO_M_HMAC ||
	    memcmp(&e->hmac, h->used, sizeof(*h->used)) != 0) {
		vivo_setf(reason, reasonsz,
		    "the state of implant \"%s\" was used by a "
		    "concurrent authentication",
		    e->label);
		return VIVO_R_AUTH_FAILED;
	}
	if (vivo_hmac_seal(h->key, h->user, h->used->slot, &e->hmac) != 0) {
		vivo_setf(reason, reasonsz, "cannot seal the next state");
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

	return vivo_store_update(
	    path, owner, mode, label, hmac_roll_fn, &h, reason, reasonsz);
}

/* HMAC-SHA1 challenge-response against every usable hmac entry. */
static int
hmac_try(struct vivo_try *x, const struct vivo_transport *t)
{
	const struct vivo_enrollments *en = x->en;
	uint8_t status[VIVO_HMAC_STATUS_LEN], resp[VIVO_HMAC_RESP_LEN];
	uint8_t key[VIVO_HMAC_KEY_LEN];
	int r, selected = 0;

	for (int s = 0; s < VIVO_ST_N; s++) {
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method != VIVO_M_HMAC)
				continue;
			if (!selected) {
				r = vivo_hmac_select(t, status);
				if (r == VIVO_ERR_CARD_COMM)
					return r;
				if (r != VIVO_OK)
					return VIVO_OK; /* no HMAC applet on this chip */
				selected = 1;
			}
			if (!vivo_hmac_slot_programmed(status, e->hmac.slot)) {
				vivo_setf(x->reason, sizeof(x->reason),
				    "slot %u of the "
				    "chip presented is not programmed",
				    e->hmac.slot);
				continue;
			}
			r = vivo_hmac_challenge(t, e->hmac.slot,
			    e->hmac.challenge, sizeof(e->hmac.challenge), resp);
			if (r == VIVO_ERR_CARD_COMM)
				return r;
			if (r != VIVO_OK) {
				vivo_setf(x->reason, sizeof(x->reason),
				    "slot %u of the "
				    "chip presented did not answer the "
				    "challenge",
				    e->hmac.slot);
				continue;
			}
			r = vivo_hmac_open(&e->hmac, x->user, resp, key);
			OPENSSL_cleanse(resp, sizeof(resp));
			if (r != 0) {
				vivo_dbg("%s: not implant \"%s\"", __func__,
				    e->label);
				continue;
			}
			{
				struct hmac_roll_arg h = { x->user, &e->hmac,
					key };
				const struct vivo_sealed *sl = vivo_sealed_find(
				    x->seals, e->label, VIVO_M_HMAC);
				x->e = e;
				x->store = s;
				x->result = (uint32_t)x->commit(x->commit_ctx,
				    x, hmac_roll_fn, &h, x->reason,
				    sizeof(x->reason));
				/* the slot secret outlives the state roll: a
				 * seal made from it stays good */
				if (x->result == VIVO_R_OK && sl != NULL &&
				    vivo_authtok_key(VIVO_M_HMAC, key,
					sizeof(key), sl->salt,
					x->seal_key) == 0)
					x->have_seal_key = 1;
			}
			OPENSSL_cleanse(key, sizeof(key));
			return VIVO_OK;
		}
	}
	return VIVO_OK;
}

/* SELECT, program the slot if asked, then check that the chip computes
 * HMAC-SHA1 with exactly req->key: nothing is stored before that. */
static int
hmac_enroll(const struct vivo_transport *t, struct vivo_enroll_req *req,
    struct vivo_entry *e, char *why, size_t whysz)
{
	uint8_t status[VIVO_HMAC_STATUS_LEN], chal[VIVO_HMAC_CHAL_LEN];
	uint8_t resp[VIVO_HMAC_RESP_LEN], want[VIVO_HMAC_RESP_LEN];
	static const uint8_t noacc[6] = { 0 };
	int r, ok = VIVO_ERR_CARD_NOTSUP;

	if ((r = vivo_hmac_select(t, status)) != VIVO_OK) {
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		vivo_setf(why, whysz,
		    "this chip has no HMAC-SHA1 challenge-response "
		    "applet");
		return VIVO_ERR_CARD_NOTSUP;
	}
	if (req->program) {
		r = vivo_hmac_program(t, req->slot, req->key, noacc, status);
		if (r == VIVO_ERR_CARD_COMM)
			return r;
		if (r != VIVO_OK) {
			vivo_setf(why, whysz,
			    "the chip refused to program slot %u (is it "
			    "protected by an access code?); nothing was "
			    "written",
			    req->slot);
			return r;
		}
	}
	if (!vivo_hmac_slot_programmed(status, req->slot)) {
		vivo_setf(why, whysz,
		    "slot %u of this implant is not programmed: use "
		    "--program, or program it with YubiKey tools first",
		    req->slot);
		return VIVO_ERR_CARD_NOTSUP;
	}
	if (RAND_bytes(chal, sizeof(chal)) != 1 ||
	    vivo_hmac_sha1(req->key, chal, sizeof(chal), want) != 0) {
		vivo_setf(why, whysz, "OpenSSL error");
		ok = VIVO_ERR_INTERNAL;
		goto out;
	}
	r = vivo_hmac_challenge(t, req->slot, chal, sizeof(chal), resp);
	if (r != VIVO_OK) {
		if (r != VIVO_ERR_CARD_COMM)
			vivo_setf(why, whysz,
			    "slot %u did not answer the challenge (not "
			    "configured for HMAC-SHA1 challenge-response?)",
			    req->slot);
		ok = r;
		goto out;
	}
	if (CRYPTO_memcmp(resp, want, sizeof(resp)) != 0) {
		vivo_setf(why, whysz,
		    "the secret does not match slot %u of this "
		    "implant; nothing was written",
		    req->slot);
		goto out;
	}
	if (vivo_hmac_seal(req->key, req->user, req->slot, &e->hmac) != 0) {
		vivo_setf(why, whysz, "cannot seal the state (OpenSSL error)");
		ok = VIVO_ERR_INTERNAL;
		goto out;
	}
	ok = VIVO_OK;
out:
	OPENSSL_cleanse(resp, sizeof(resp));
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

static int
hmac_describe(const struct vivo_transport *t, char *line, size_t linesz)
{
	uint8_t st[VIVO_HMAC_STATUS_LEN];
	int r = vivo_hmac_select(t, st);

	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != VIVO_OK) {
		vivo_setf(line, linesz, "HMAC-SHA1 applet: none");
		return 0;
	}
	vivo_setf(line, linesz,
	    "HMAC-SHA1 (YubiKey OTP) applet: version %u.%u.%u, "
	    "slot 1 %s, slot 2 %s",
	    st[0], st[1], st[2],
	    vivo_hmac_slot_programmed(st, 1) ? "programmed" : "empty",
	    vivo_hmac_slot_programmed(st, 2) ? "programmed" : "empty");
	return 1;
}

/* ---- uid ------------------------------------------------------------- */

/* Check the chip's UID against every usable uid entry (all of them, so
 * the time taken does not say which one matched). */
static int
uid_try(struct vivo_try *x, const struct vivo_transport *t)
{
	const struct vivo_enrollments *en = x->en;
	uint8_t uid[VIVO_UID_MAX];
	size_t uidlen = 0;
	int r;

	r = vivo_uid_read(t, uid, &uidlen);
	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != VIVO_OK) {
		vivo_setf(x->reason, sizeof(x->reason),
		    "the chip presented did not "
		    "report a usable UID");
		return VIVO_OK;
	}
	for (int s = 0; s < VIVO_ST_N; s++) {
		for (size_t i = 0; i < en->st[s].n; i++) {
			const struct vivo_entry *e = &en->st[s].e[i];
			if (e->method != VIVO_M_UID)
				continue;
			if (vivo_uid_match(uid, uidlen, &e->uid) == 1 &&
			    x->e == NULL) {
				x->e = e;
				x->store = s;
				x->result =
				    VIVO_R_OK; /* the UID hash just matched */
			}
		}
	}
	VIVO_WIPE_ARRAY(uid);
	return VIVO_OK;
}

static int
uid_enroll(const struct vivo_transport *t, struct vivo_enroll_req *req,
    struct vivo_entry *e, char *why, size_t whysz)
{
	int r = vivo_uid_read(t, req->uid, &req->uidlen);

	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != VIVO_OK) {
		vivo_setf(why, whysz,
		    "this chip did not report a UID (it answered GET "
		    "DATA with an error)");
		return r;
	}
	if (vivo_uid_is_random(req->uid, req->uidlen)) {
		vivo_setf(why, whysz,
		    "this chip shows a random ID (4 bytes starting "
		    "08), new at every power-up: it cannot be enrolled by UID");
		return VIVO_ERR_CARD_NOTSUP;
	}
	if (vivo_uid_enroll(
		req->uid, req->uidlen, VIVO_UID_ITER_DEFAULT, &e->uid) != 0) {
		vivo_setf(why, whysz, "cannot hash the UID (OpenSSL error)");
		return VIVO_ERR_INTERNAL;
	}
	return VIVO_OK;
}

static int
uid_describe(const struct vivo_transport *t, char *line, size_t linesz)
{
	uint8_t uid[VIVO_UID_MAX];
	char hex[3 * VIVO_UID_MAX + 1];
	size_t len = 0;
	int r = vivo_uid_read(t, uid, &len), usable = 0;

	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != VIVO_OK)
		vivo_setf(line, linesz, "UID: not reported (GET DATA refused)");
	else {
		size_t off = 0;
		hex[0] = '\0';
		for (size_t i = 0; i < len && off < sizeof(hex); i++)
			off += (size_t)snprintf(hex + off, sizeof(hex) - off,
			    "%s%02X", i ? " " : "", uid[i]);
		usable = !vivo_uid_is_random(uid, len);
		vivo_setf(line, linesz, "UID: %s (%zu bytes, %s)", hex, len,
		    !usable ? "random: new at every power-up, cannot be "
			      "enrolled by UID"
			: len == 4
			? "looks fixed; a 4-byte NUID is often writable on "
			  "magic cards"
			: "looks fixed");
	}
	VIVO_WIPE_ARRAY(uid);
	VIVO_WIPE_ARRAY(hex);
	return usable;
}

/* ---- the table ------------------------------------------------------- */

const struct vivo_method_ops vivo_methods[] = {
	{ VIVO_M_FIDO2, "fido2", fido2_try, fido2_enroll, fido2_describe },
	{ VIVO_M_U2F, "u2f", u2f_try, u2f_enroll, u2f_describe },
	{ VIVO_M_HMAC, "hmac", hmac_try, hmac_enroll, hmac_describe },
	{ VIVO_M_UID, "uid", uid_try, uid_enroll, uid_describe },
};
const size_t vivo_nmethods = VIVO_NELEM(vivo_methods);

const struct vivo_method_ops *
vivo_method_find(unsigned m)
{
	for (size_t i = 0; i < vivo_nmethods; i++)
		if (vivo_methods[i].bit == m)
			return &vivo_methods[i];
	return NULL;
}
