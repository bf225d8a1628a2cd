/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fido2.c - see fido2.h. libfido2 does CTAP2; it reaches the chip through
 * the transport functions below (fido_dev_set_transport_functions), which
 * turn its CTAPHID commands into ISO 7816 frames (ctapnfc.c):
 *   CTAP_CMD_INIT  the SELECT of the FIDO applet; we answer libfido2 the
 *                  17 bytes of a CTAPHID_INIT reply (its nonce echoed,
 *                  capabilities from the SELECT's version string)
 *   CTAP_CMD_CBOR  NFCCTAP_MSG
 *   CTAP_CMD_MSG   a CTAP1 APDU, as it is
 * Each tx runs the exchange and keeps the answer; the rx that libfido2
 * makes next hands it over. No other thread, no other device.
 */
#include "fido2.h"
#include "ctapnfc.h"
#include "log.h"
#include "util.h"

#include "fido2lib.h"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vivo_fido2_lib vivo_fl;

int
vivo_fido2_lib_load(char *why, size_t whysz)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	static char err[256];
	void *h;

	if (state == 0) {
		state = -1;
		if ((h = dlopen(VIVO_LIBFIDO2, RTLD_NOW | RTLD_LOCAL)) ==
		    NULL) {
			const char *e = dlerror();
			vivo_setf(
			    err, sizeof(err), "%s", e ? e : VIVO_LIBFIDO2);
			goto out;
		}
#define X(f)                                                                   \
	if ((*(void **)&vivo_fl.p_##f = dlsym(h, #f)) == NULL) {               \
		vivo_setf(err, sizeof(err), "%s: no %s", VIVO_LIBFIDO2, #f);   \
		goto out;                                                      \
	}
		VIVO_FIDO2_FUNCS
#undef X
		state = 1; /* the handle stays open for the process */
	}
out:
	if (state < 0)
		vivo_setf(why, whysz, "libfido2 cannot be used: %s", err);
	return state > 0 ? 0 : -1;
}

struct vivo_fido2 {
	struct vivo_ctapnfc nfc;
	fido_dev_t *dev;
	int applet;       /* enum vivo_ctap_applet of our SELECT */
	int selected;     /* libfido2's INIT may reuse our SELECT */
	uint8_t nonce[8]; /* of the INIT, echoed */
	uint8_t rbuf[FIDO_MAXMSG + 2]; /* the answer the next rx hands over */
	size_t rlen;
	int rerr; /* the last tx failed: rx fails too */
	int lost; /* the chip was lost (VIVO_ERR_CARD_COMM) */
	int fido_open;
};

/* libfido2 opens the "device" through io.open(path); ours is the session
 * being opened (one at a time: the helper has one thread). */
static struct vivo_fido2 *opening;

static void *
io_open(const char *path)
{
	(void)path;
	return opening;
}

static void
io_close(void *h)
{
	(void)h; /* the tap loop owns the connection */
}

static int
io_read(void *h, unsigned char *buf, size_t len, int ms)
{
	(void)h;
	(void)buf;
	(void)len;
	(void)ms;
	return -1; /* never used: the transport functions do the I/O */
}

static int
io_write(void *h, const unsigned char *buf, size_t len)
{
	(void)h;
	(void)buf;
	(void)len;
	return -1;
}

static int
tr_tx(fido_dev_t *d, uint8_t cmd, const unsigned char *buf, size_t count)
{
	struct vivo_fido2 *f = fido_dev_io_handle(d);
	int r;

	if (f == NULL)
		return -1;
	explicit_bzero(f->rbuf, sizeof(f->rbuf));
	f->rlen = 0;
	f->rerr = 1;
	switch (cmd) {
	case CTAP_CMD_INIT:
		if (count != sizeof(f->nonce))
			return -1;
		memcpy(f->nonce, buf, sizeof(f->nonce));
		if (!f->selected) {
			r = vivo_ctap_select(f->nfc.t, &f->applet);
			if (r != VIVO_OK) {
				f->lost = r == VIVO_ERR_CARD_COMM;
				return -1;
			}
		}
		f->selected = 0; /* a second INIT selects again */
		if (f->applet == VIVO_CTAP_NONE)
			return -1;
		break;
	case CTAP_CMD_CBOR:
		r = vivo_ctap_msg(
		    &f->nfc, buf, count, f->rbuf, sizeof(f->rbuf), &f->rlen);
		if (r == VIVO_ERR_CARD_COMM)
			f->lost = 1;
		if (r != VIVO_OK) {
			vivo_dbg("%s: CTAP2 exchange: %s (SW %04X)", __func__,
			    vivo_strerr(r), f->nfc.last_sw);
			return -1;
		}
		/* status ‖ CBOR: libfido2 gets well-formed CBOR only */
		if (!vivo_ctap_cbor_ok(f->rbuf + 1, f->rlen - 1)) {
			vivo_dbg("%s: the chip's CBOR is malformed", __func__);
			explicit_bzero(f->rbuf, sizeof(f->rbuf));
			f->rlen = 0;
			return -1;
		}
		break;
	case CTAP_CMD_MSG:
		r = vivo_ctap_apdu(
		    &f->nfc, buf, count, f->rbuf, sizeof(f->rbuf), &f->rlen);
		if (r == VIVO_ERR_CARD_COMM)
			f->lost = 1;
		if (r != VIVO_OK)
			return -1;
		break;
	default: return -1; /* CANCEL, WINK, ...: nothing over NFC */
	}
	f->rerr = 0;
	return (int)count;
}

static int
tr_rx(fido_dev_t *d, uint8_t cmd, unsigned char *buf, size_t count, int ms)
{
	struct vivo_fido2 *f = fido_dev_io_handle(d);

	(void)ms;
	if (f == NULL || f->rerr)
		return -1;
	if (cmd == CTAP_CMD_INIT) {
		/* CTAPHID_INIT's answer (CTAP 2.1, 11.2.9.1.3): nonce, channel
		 * id, protocol version, device version, capabilities */
		uint8_t init[17] = { 0 };
		if (count != sizeof(init))
			return -1;
		memcpy(init, f->nonce, sizeof(f->nonce));
		init[11] = 1; /* channel id 00 00 00 01 */
		init[12] = 2; /* CTAPHID protocol 2 */
		init[16] = FIDO_CAP_CBOR |
		    (f->applet == VIVO_CTAP_FIDO2 ? FIDO_CAP_NMSG : 0);
		memcpy(buf, init, sizeof(init));
		return (int)sizeof(init);
	}
	if (f->rlen > count)
		return -1;
	memcpy(buf, f->rbuf, f->rlen);
	explicit_bzero(f->rbuf, f->rlen);
	return (int)f->rlen;
}

static const fido_dev_io_t vivo_io = { io_open, io_close, io_read, io_write };
static const fido_dev_transport_t vivo_tr = { tr_rx, tr_tx };

const char *
vivo_fido2_strerr(int e)
{
	return fido_strerr(e);
}

static int
has_str(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
join(char *out, size_t outsz, char *const *v, size_t n)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && off < outsz; i++) {
		int w = snprintf(
		    out + off, outsz - off, "%s%s", i ? " " : "", v[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static void
read_info(fido_cbor_info_t *ci, struct vivo_fido2_info *in)
{
	char *const *names = fido_cbor_info_options_name_ptr(ci);
	const bool *vals = fido_cbor_info_options_value_ptr(ci);
	const unsigned char *ag = fido_cbor_info_aaguid_ptr(ci);
	size_t n = fido_cbor_info_options_len(ci);

	join(in->versions, sizeof(in->versions),
	    fido_cbor_info_versions_ptr(ci), fido_cbor_info_versions_len(ci));
	join(in->extensions, sizeof(in->extensions),
	    fido_cbor_info_extensions_ptr(ci),
	    fido_cbor_info_extensions_len(ci));
	in->cred_protect_ext = has_str(fido_cbor_info_extensions_ptr(ci),
	    fido_cbor_info_extensions_len(ci), "credProtect");
	in->hmac_secret_ext = has_str(fido_cbor_info_extensions_ptr(ci),
	    fido_cbor_info_extensions_len(ci), "hmac-secret");
	in->client_pin = -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], "clientPin") == 0)
			in->client_pin = vals[i] ? 1 : 0;
		else if (strcmp(names[i], "rk") == 0)
			in->rk = vals[i];
		else if (strcmp(names[i], "uv") == 0)
			in->uv = vals[i];
		else if (strcmp(names[i], "alwaysUv") == 0)
			in->always_uv = vals[i];
		else if (strcmp(names[i], "makeCredUvNotRqd") == 0)
			in->make_cred_uv_not_rqd = vals[i];
	}
	for (size_t i = 0; i < fido_cbor_info_algorithm_count(ci); i++)
		if (fido_cbor_info_algorithm_cose(ci, i) == COSE_EDDSA)
			in->eddsa = 1;
	in->maxmsgsiz = fido_cbor_info_maxmsgsiz(ci);
	if (fido_cbor_info_aaguid_len(ci) == 16)
		snprintf(in->aaguid, sizeof(in->aaguid),
		    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x",
		    ag[0], ag[1], ag[2], ag[3], ag[4], ag[5], ag[6], ag[7],
		    ag[8], ag[9], ag[10], ag[11], ag[12], ag[13], ag[14],
		    ag[15]);
	in->pin_retries = -1;
}

int
vivo_fido2_open(const struct vivo_transport *t, struct vivo_fido2 **out,
    struct vivo_fido2_info *info, char *why, size_t whysz)
{
	struct vivo_fido2 *f;
	fido_cbor_info_t *ci = NULL;
	int r, fr;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	if (vivo_fido2_lib_load(why, whysz) != 0) {
		vivo_err("%s", why);
		return VIVO_ERR_INTERNAL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return VIVO_ERR_NOMEM;
	f->nfc.t = t;
	if ((r = vivo_ctap_select(t, &f->applet)) != VIVO_OK)
		goto fail;
	if (f->applet == VIVO_CTAP_NONE) {
		vivo_setf(why, whysz, "this chip has no FIDO applet");
		r = VIVO_ERR_CARD_NOTSUP;
		goto fail;
	}
	f->selected = 1;
	if ((f->dev = fido_dev_new()) == NULL ||
	    fido_dev_set_io_functions(f->dev, &vivo_io) != FIDO_OK ||
	    fido_dev_set_transport_functions(f->dev, &vivo_tr) != FIDO_OK) {
		r = VIVO_ERR_NOMEM;
		goto fail;
	}
	opening = f;
	fr = fido_dev_open(f->dev, "vivo:pcsc");
	opening = NULL;
	if (fr != FIDO_OK) {
		r = f->lost ? VIVO_ERR_CARD_COMM : VIVO_ERR_CARD_PROTO;
		vivo_setf(why, whysz, "the FIDO applet did not open: %s",
		    fido_strerr(fr));
		goto fail;
	}
	f->fido_open = 1;
	/* libfido2 asked getInfo already; a U2F-only applet fails it and is
	 * "forced to U2F" */
	if (!fido_dev_is_fido2(f->dev)) {
		r = f->lost ? VIVO_ERR_CARD_COMM : VIVO_ERR_CARD_NOTSUP;
		vivo_setf(why, whysz,
		    "the chip's FIDO applet speaks U2F only, not FIDO2 "
		    "(CTAP2)");
		goto fail;
	}
	if ((ci = fido_cbor_info_new()) == NULL) {
		r = VIVO_ERR_NOMEM;
		goto fail;
	}
	if ((fr = fido_dev_get_cbor_info(f->dev, ci)) != FIDO_OK) {
		r = f->lost ? VIVO_ERR_CARD_COMM : VIVO_ERR_CARD_PROTO;
		vivo_setf(why, whysz, "getInfo failed: %s", fido_strerr(fr));
		goto fail;
	}
	read_info(ci, info);
	fido_cbor_info_free(&ci);
	*out = f;
	return VIVO_OK;
fail:
	fido_cbor_info_free(&ci);
	vivo_fido2_close(f);
	return r;
}

void
vivo_fido2_close(struct vivo_fido2 *f)
{
	if (f == NULL)
		return;
	if (f->dev != NULL) {
		if (f->fido_open)
			(void)fido_dev_close(f->dev);
		fido_dev_free(&f->dev);
	}
	explicit_bzero(f, sizeof(*f));
	free(f);
}

int
vivo_fido2_pin_retries(struct vivo_fido2 *f, int *retries)
{
	int fr = fido_dev_get_retry_count(f->dev, retries);

	if (fr == FIDO_OK)
		return VIVO_OK;
	return f->lost ? VIVO_ERR_CARD_COMM : VIVO_ERR_CARD_PROTO;
}

/* A libfido2 error after an exchange, in our error space. */
static int
map_err(const struct vivo_fido2 *f, int fr)
{
	if (f->lost)
		return VIVO_ERR_CARD_COMM;
	switch (fr) {
	case FIDO_ERR_NO_CREDENTIALS: return VIVO_ERR_FIDO2_NOCRED;
	case FIDO_ERR_PIN_INVALID: return VIVO_ERR_FIDO2_PIN_INVALID;
	case FIDO_ERR_PIN_BLOCKED: return VIVO_ERR_FIDO2_PIN_BLOCKED;
	case FIDO_ERR_PIN_AUTH_BLOCKED: return VIVO_ERR_FIDO2_PIN_AUTH_BLOCKED;
	case FIDO_ERR_PIN_REQUIRED:
	case FIDO_ERR_UV_INVALID:
	case FIDO_ERR_UNSUPPORTED_OPTION:
	case FIDO_ERR_INVALID_OPTION:
		/* FIDO_ERR_PIN_REQUIRED is CTAP 2.1's PUAT_REQUIRED (0x36) */
		return VIVO_ERR_FIDO2_UV_REQUIRED;
	case FIDO_ERR_PIN_NOT_SET: return VIVO_ERR_FIDO2_PIN_NOT_SET;
	default: return VIVO_ERR_CARD_PROTO;
	}
}

/* Verify statement 0 of `a` with the candidate's public key. */
static int
verify(fido_assert_t *a, const struct vivo_fido2_data *d)
{
	int fr = FIDO_ERR_INVALID_ARGUMENT;

	if (d->alg == VIVO_COSE_ES256) {
		es256_pk_t *pk = es256_pk_new();
		if (pk != NULL &&
		    es256_pk_from_ptr(pk, d->pub, d->publen) == FIDO_OK)
			fr = fido_assert_verify(a, 0, COSE_ES256, pk);
		es256_pk_free(&pk);
	} else if (d->alg == VIVO_COSE_EDDSA) {
		eddsa_pk_t *pk = eddsa_pk_new();
		if (pk != NULL &&
		    eddsa_pk_from_ptr(pk, d->pub, d->publen) == FIDO_OK)
			fr = fido_assert_verify(a, 0, COSE_EDDSA, pk);
		eddsa_pk_free(&pk);
	}
	return fr;
}

int
vivo_fido2_assert(struct vivo_fido2 *f, const struct vivo_fido2_assert_req *req,
    struct vivo_fido2_assert_res *res, char *why, size_t whysz)
{
	fido_assert_t *a = NULL;
	uint8_t cdh[32];
	const unsigned char *id;
	size_t idlen, which = SIZE_MAX;
	int fr, r = VIVO_ERR_CARD_PROTO;

	memset(res, 0, sizeof(*res));
	if (req->ncands == 0)
		return VIVO_ERR_FIDO2_NOCRED;
	if ((a = fido_assert_new()) == NULL)
		return VIVO_ERR_NOMEM;
	if (RAND_bytes(cdh, sizeof(cdh)) != 1 ||
	    fido_assert_set_rp(a, req->rpid) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_up(
		a, req->silent ? FIDO_OPT_FALSE : FIDO_OPT_OMIT) != FIDO_OK) {
		r = VIVO_ERR_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < req->ncands; i++)
		if (fido_assert_allow_cred(a, req->cands[i]->cred,
			req->cands[i]->credlen) != FIDO_OK) {
			r = VIVO_ERR_INTERNAL;
			goto out;
		}
	if (req->hmac_salt != NULL &&
	    (fido_assert_set_extensions(a, FIDO_EXT_HMAC_SECRET) != FIDO_OK ||
		fido_assert_set_hmac_salt(a, req->hmac_salt, 32) != FIDO_OK)) {
		r = VIVO_ERR_INTERNAL;
		goto out;
	}
	fr = fido_dev_get_assert(f->dev, a, req->pin);
	res->fido_err = fr;
	if (fr != FIDO_OK) {
		r = map_err(f, fr);
		vivo_setf(why, whysz, "getAssertion: %s", fido_strerr(fr));
		goto out;
	}
	if (fido_assert_count(a) != 1) {
		vivo_setf(why, whysz, "getAssertion: %zu statements, not 1",
		    fido_assert_count(a));
		goto out;
	}
	/* which credential signed: the id it names (it may leave it out
	 * when the allow list had one) */
	id = fido_assert_id_ptr(a, 0);
	idlen = fido_assert_id_len(a, 0);
	for (size_t i = 0; i < req->ncands; i++) {
		const struct vivo_fido2_data *d = req->cands[i];
		if ((idlen == 0 && req->ncands == 1) ||
		    (idlen == d->credlen && id != NULL &&
			memcmp(id, d->cred, idlen) == 0)) {
			which = i;
			break;
		}
	}
	if (which == SIZE_MAX) {
		vivo_setf(why, whysz,
		    "the chip signed with a credential that was "
		    "not asked for");
		goto out;
	}
	/* what must be in the signed data: presence (a tap) unless silent,
	 * user verification when asked; then the signature, rp id hash */
	if (fido_assert_set_up(
		a, req->silent ? FIDO_OPT_OMIT : FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(
		a, req->want_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK) {
		r = VIVO_ERR_INTERNAL;
		goto out;
	}
	fr = verify(a, req->cands[which]);
	if (fr != FIDO_OK) {
		uint8_t flags = fido_assert_flags(a, 0);
		if (req->want_uv && !(flags & 0x04))
			vivo_setf(why, whysz,
			    "the signed data says the PIN was not "
			    "verified (UV flag missing)");
		else if (!req->silent && !(flags & 0x01))
			vivo_setf(why, whysz,
			    "user presence not asserted (UP flag missing)");
		else
			vivo_setf(why, whysz,
			    "the assertion does not verify (%s): "
			    "wrong signature or rp id",
			    fido_strerr(fr));
		res->fido_err = fr;
		goto out;
	}
	res->which = which;
	res->counter = fido_assert_sigcount(a, 0);
	res->uv = (fido_assert_flags(a, 0) & 0x04) != 0;
	if (req->hmac_salt != NULL) {
		if (fido_assert_hmac_secret_len(a, 0) != 32) {
			vivo_setf(why, whysz, "no hmac-secret output");
			goto out;
		}
		memcpy(res->hmac_secret, fido_assert_hmac_secret_ptr(a, 0), 32);
		res->have_hmac_secret = 1;
	}
	r = VIVO_OK;
out:
	OPENSSL_cleanse(cdh, sizeof(cdh));
	fido_assert_free(&a);
	return r;
}

int
vivo_fido2_discover(struct vivo_fido2 *f, const char *rpid,
    uint8_t (*ids)[VIVO_FIDO2_CRED_MAX], size_t *idlens, size_t cap, size_t *n,
    char *why, size_t whysz)
{
	fido_assert_t *a = NULL;
	uint8_t cdh[32];
	int fr, r = VIVO_OK;

	*n = 0;
	if ((a = fido_assert_new()) == NULL)
		return VIVO_ERR_NOMEM;
	if (RAND_bytes(cdh, sizeof(cdh)) != 1 ||
	    fido_assert_set_rp(a, rpid) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_FALSE) != FIDO_OK) {
		r = VIVO_ERR_INTERNAL;
		goto out;
	}
	fr = fido_dev_get_assert(f->dev, a, NULL);
	if (fr != FIDO_OK) {
		r = map_err(f, fr);
		vivo_setf(why, whysz, "getAssertion (discoverable): %s",
		    fido_strerr(fr));
		goto out;
	}
	for (size_t i = 0; i < fido_assert_count(a) && *n < cap; i++) {
		size_t len = fido_assert_id_len(a, i);
		if (len == 0 || len > VIVO_FIDO2_CRED_MAX)
			continue;
		memcpy(ids[*n], fido_assert_id_ptr(a, i), len);
		idlens[(*n)++] = len;
	}
	if (*n == 0)
		r = VIVO_ERR_FIDO2_NOCRED;
out:
	OPENSSL_cleanse(cdh, sizeof(cdh));
	fido_assert_free(&a);
	return r;
}

int
vivo_fido2_make(struct vivo_fido2 *f, const struct vivo_fido2_make_req *req,
    struct vivo_fido2_data *e, char *why, size_t whysz)
{
	struct vivo_fido2_info in;
	fido_cbor_info_t *ci = NULL;
	fido_cred_t *c = NULL;
	uint8_t cdh[32];
	int fr, r = VIVO_ERR_CARD_PROTO, ext = 0, alg = COSE_ES256;
	size_t n;

	memset(e, 0, sizeof(*e));
	memset(&in, 0, sizeof(in));
	if ((ci = fido_cbor_info_new()) == NULL)
		return VIVO_ERR_NOMEM;
	if ((fr = fido_dev_get_cbor_info(f->dev, ci)) != FIDO_OK) {
		r = map_err(f, fr);
		vivo_setf(why, whysz, "getInfo: %s", fido_strerr(fr));
		goto out;
	}
	read_info(ci, &in);
	/* ES256 unless the chip lists algorithms without it */
	if (fido_cbor_info_algorithm_count(ci) > 0) {
		int es = 0;
		for (size_t i = 0; i < fido_cbor_info_algorithm_count(ci); i++)
			if (fido_cbor_info_algorithm_cose(ci, i) == COSE_ES256)
				es = 1;
		if (!es && in.eddsa)
			alg = COSE_EDDSA;
		else if (!es) {
			vivo_setf(why, whysz,
			    "the chip offers neither ES256 nor EdDSA");
			r = VIVO_ERR_CARD_NOTSUP;
			goto out;
		}
	}
	if ((c = fido_cred_new()) == NULL) {
		r = VIVO_ERR_NOMEM;
		goto out;
	}
	if (RAND_bytes(cdh, sizeof(cdh)) != 1 ||
	    RAND_bytes(e->user_id, sizeof(e->user_id)) != 1 ||
	    fido_cred_set_type(c, alg) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_cred_set_rp(c, req->rpid, "pam_vivo") != FIDO_OK ||
	    fido_cred_set_user(c, e->user_id, sizeof(e->user_id), req->user,
		req->user, NULL) != FIDO_OK ||
	    fido_cred_set_rk(
		c, req->resident ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK) {
		r = VIVO_ERR_INTERNAL;
		goto out;
	}
	if (in.hmac_secret_ext)
		ext |= FIDO_EXT_HMAC_SECRET;
	if (in.cred_protect_ext) {
		/* a discoverable credential without PIN must be found
		 * without one (hand-scan login): level 1; else 2, which
		 * keeps it from being listed without the PIN */
		int level = req->resident && !req->require_pin
		    ? FIDO_CRED_PROT_UV_OPTIONAL
		    : FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID;
		ext |= FIDO_EXT_CRED_PROTECT;
		if (fido_cred_set_prot(c, level) != FIDO_OK) {
			r = VIVO_ERR_INTERNAL;
			goto out;
		}
	}
	if (ext != 0 && fido_cred_set_extensions(c, ext) != FIDO_OK) {
		r = VIVO_ERR_INTERNAL;
		goto out;
	}
	fr = fido_dev_make_cred(f->dev, c, req->pin);
	if (fr != FIDO_OK) {
		r = map_err(f, fr);
		vivo_setf(why, whysz, "makeCredential: %s", fido_strerr(fr));
		goto out;
	}
	/* the attestation: by its certificate when it has one, else self */
	fr = fido_cred_x5c_len(c) > 0 ? fido_cred_verify(c)
				      : fido_cred_verify_self(c);
	if (fr != FIDO_OK) {
		vivo_setf(why, whysz,
		    "the new credential's attestation does not verify "
		    "(%s); nothing was written",
		    fido_strerr(fr));
		goto out;
	}
	n = fido_cred_id_len(c);
	if (n == 0 || n > sizeof(e->cred)) {
		vivo_setf(why, whysz,
		    "the credential id is %zu bytes (1..%zu supported)", n,
		    sizeof(e->cred));
		r = VIVO_ERR_CARD_NOTSUP;
		goto out;
	}
	memcpy(e->cred, fido_cred_id_ptr(c), n);
	e->credlen = n;
	e->alg = alg;
	n = fido_cred_pubkey_len(c);
	if (alg == COSE_ES256 && n == 64) {
		/* libfido2 gives X ‖ Y */
		e->pub[0] = 0x04;
		memcpy(e->pub + 1, fido_cred_pubkey_ptr(c), 64);
		e->publen = 65;
	} else if (alg == COSE_EDDSA && n == 32) {
		memcpy(e->pub, fido_cred_pubkey_ptr(c), 32);
		e->publen = 32;
	} else {
		vivo_setf(why, whysz, "unexpected public key (%zu bytes)", n);
		goto out;
	}
	(void)vivo_strlcpy(e->rpid, req->rpid, sizeof(e->rpid));
	e->require_pin = req->require_pin;
	e->resident = req->resident;
	e->cred_protect = in.cred_protect_ext ? fido_cred_prot(c) : 0;
	e->hmac_secret = (ext & FIDO_EXT_HMAC_SECRET) != 0;
	/* prove the credential works (with the PIN, as logins will) */
	{
		const struct vivo_fido2_data *cand = e;
		struct vivo_fido2_assert_req ar = { req->rpid, &cand, 1,
			req->require_pin ? req->pin : NULL, 0, req->require_pin,
			NULL };
		struct vivo_fido2_assert_res res;
		char sub[256];

		r = vivo_fido2_assert(f, &ar, &res, sub, sizeof(sub));
		if (r != VIVO_OK) {
			if (r != VIVO_ERR_CARD_COMM)
				vivo_setf(why, whysz,
				    "the new credential does not sign "
				    "as it should (%s); nothing was written",
				    sub);
			goto out;
		}
		e->counter = res.counter;
	}
	r = VIVO_OK;
out:
	OPENSSL_cleanse(cdh, sizeof(cdh));
	fido_cred_free(&c);
	fido_cbor_info_free(&ci);
	return r;
}
