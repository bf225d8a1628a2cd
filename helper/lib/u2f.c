/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * u2f.c - see u2f.h.
 */
#include "u2f.h"
#include "log.h"
#include "util.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRESENCE_TRIES 5

static const uint8_t u2f_aid[] = { 0xa0, 0x00, 0x00, 0x06, 0x47, 0x2f, 0x00,
	0x01 };

int
vivo_u2f_app_param(const char *appid, uint8_t out[VIVO_U2F_PARAM_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(appid, strlen(appid), out, &n, EVP_sha256(), NULL) ==
		    1 &&
		n == VIVO_U2F_PARAM_LEN
	    ? 0
	    : -1;
}

int
vivo_u2f_select(const struct vivo_transport *t)
{
	uint8_t cmd[5 + sizeof(u2f_aid)] = { 0x00, 0xa4, 0x04, 0x00,
		sizeof(u2f_aid) };
	uint8_t data[256];
	size_t dlen = 0;
	uint16_t sw = 0;
	int r;

	/* short APDU, no Le: some applets refuse anything else */
	memcpy(cmd + 5, u2f_aid, sizeof(u2f_aid));
	if ((r = vivo_apdu(
		 t, cmd, sizeof(cmd), data, sizeof(data), &dlen, &sw)))
		return r;
	if (sw != 0x9000) {
		vivo_dbg("%s: no FIDO applet (SW %04x)", __func__, sw);
		return VIVO_ERR_CARD_NOTSUP;
	}
	if (dlen == 6 && memcmp(data, "U2F_V2", 6) == 0)
		return 0;
	if (dlen == 8 && memcmp(data, "FIDO_2_0", 8) == 0)
		return VIVO_ERR_U2F_FIDO2;
	return VIVO_ERR_CARD_NOTSUP;
}

/* A P-256 public key from 04 ‖ X ‖ Y, checked to be on the curve. */
static EVP_PKEY *
p256_key(const uint8_t pub[VIVO_U2F_PUB_LEN])
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pk = NULL;

	if (pub[0] != 0x04)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, VIVO_U2F_PUB_LEN);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto fail;
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_public_check(chk) != 1)
		goto fail;
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	return pk;
fail:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

/* 1 if sig is exactly one strict-DER ECDSA-Sig-Value. */
static int
strict_der_sig(const uint8_t *sig, size_t len)
{
	const unsigned char *p = sig;
	unsigned char *re = NULL;
	ECDSA_SIG *s;
	int n, ok = 0;

	if (len == 0 || len > VIVO_U2F_SIG_MAX)
		return 0;
	if ((s = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return 0;
	if (p == sig + len && (n = i2d_ECDSA_SIG(s, &re)) == (int)len &&
	    memcmp(re, sig, len) == 0)
		ok = 1;
	OPENSSL_free(re);
	ECDSA_SIG_free(s);
	return ok;
}

static int
verify_sig(EVP_PKEY *pk, const uint8_t *msg, size_t mlen, const uint8_t *sig,
    size_t slen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = -1;

	if (md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, slen, msg, mlen) == 1)
		ok = 0;
	EVP_MD_CTX_free(md);
	return ok;
}

int
vivo_u2f_register_parse(const uint8_t *resp, size_t len,
    const uint8_t chal[VIVO_U2F_PARAM_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN], struct vivo_u2f_reg *reg)
{
	const unsigned char *p, *certp;
	uint8_t msg[1 + 32 + 32 + VIVO_U2F_KH_MAX + VIVO_U2F_PUB_LEN];
	size_t off, mlen, siglen;
	X509 *cert = NULL;
	EVP_PKEY *user = NULL;
	int ok = VIVO_ERR_CARD_PROTO;

	memset(reg, 0, sizeof(*reg));
	/* 05 ‖ pub (65) ‖ L ‖ kh (L) ‖ cert ‖ sig */
	if (len < 1 + VIVO_U2F_PUB_LEN + 1 || resp[0] != 0x05)
		goto out;
	memcpy(reg->pub, resp + 1, VIVO_U2F_PUB_LEN);
	reg->khlen = resp[1 + VIVO_U2F_PUB_LEN];
	off = 2 + VIVO_U2F_PUB_LEN;
	if (reg->khlen == 0 || reg->khlen > len - off)
		goto out;
	memcpy(reg->kh, resp + off, reg->khlen);
	off += reg->khlen;
	certp = p = resp + off;
	if ((cert = d2i_X509(NULL, &p, (long)(len - off))) == NULL)
		goto out;
	off += (size_t)(p - certp);
	siglen = len - off;
	if (!strict_der_sig(resp + off, siglen))
		goto out;
	if ((user = p256_key(reg->pub)) == NULL)
		goto out;
	mlen = 0;
	msg[mlen++] = 0x00;
	memcpy(msg + mlen, app, 32);
	mlen += 32;
	memcpy(msg + mlen, chal, 32);
	mlen += 32;
	memcpy(msg + mlen, reg->kh, reg->khlen);
	mlen += reg->khlen;
	memcpy(msg + mlen, reg->pub, VIVO_U2F_PUB_LEN);
	mlen += VIVO_U2F_PUB_LEN;
	if (X509_get0_pubkey(cert) == NULL ||
	    verify_sig(X509_get0_pubkey(cert), msg, mlen, resp + off, siglen)) {
		vivo_dbg("%s: attestation signature does not verify", __func__);
		goto out;
	}
	X509_NAME_oneline(
	    X509_get_subject_name(cert), reg->subject, sizeof(reg->subject));
	ok = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(user);
	if (ok != 0)
		memset(reg, 0, sizeof(*reg));
	return ok;
}

/* One U2F command, retrying while the card asks for presence (69 85):
 * over NFC the tap is the presence. */
static int
u2f_cmd(const struct vivo_transport *t, uint8_t ins, uint8_t p1,
    const uint8_t *data, size_t dlen, uint8_t *out, size_t cap, size_t *olen,
    uint16_t *sw)
{
	int r = 0;

	for (int i = 0; i < PRESENCE_TRIES; i++) {
		r = vivo_apdu_xfer(
		    t, 0x00, ins, p1, 0x00, data, dlen, out, cap, olen, sw);
		if (r != 0 || *sw != 0x6985)
			return r;
		usleep(100000);
	}
	return VIVO_ERR_U2F_PRESENCE;
}

int
vivo_u2f_register(const struct vivo_transport *t,
    const uint8_t chal[VIVO_U2F_PARAM_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN], struct vivo_u2f_reg *reg)
{
	uint8_t data[64], *out;
	size_t olen = 0;
	uint16_t sw = 0;
	int r;

	if ((out = malloc(VIVO_XFER_MAX)) == NULL)
		return VIVO_ERR_CARD_COMM;
	memcpy(data, chal, 32);
	memcpy(data + 32, app, 32);
	r = u2f_cmd(
	    t, 0x01, 0x00, data, sizeof(data), out, VIVO_XFER_MAX, &olen, &sw);
	if (r == 0 && sw != 0x9000) {
		vivo_dbg("%s: REGISTER refused, SW %04x", __func__, sw);
		r = VIVO_ERR_CARD_NOTSUP;
	}
	if (r == 0)
		r = vivo_u2f_register_parse(out, olen, chal, app, reg);
	free(out);
	return r;
}

int
vivo_u2f_auth_parse(const uint8_t *resp, size_t len, struct vivo_u2f_auth *a)
{
	memset(a, 0, sizeof(*a));
	if (len < 5 + 8 || len - 5 > VIVO_U2F_SIG_MAX ||
	    !strict_der_sig(resp + 5, len - 5))
		return VIVO_ERR_CARD_PROTO;
	a->up = resp[0];
	a->counter = (uint32_t)resp[1] << 24 | (uint32_t)resp[2] << 16 |
	    (uint32_t)resp[3] << 8 | resp[4];
	memcpy(a->sig, resp + 5, len - 5);
	a->siglen = len - 5;
	return 0;
}

int
vivo_u2f_authenticate(const struct vivo_transport *t,
    const uint8_t chal[VIVO_U2F_PARAM_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN], const uint8_t *kh, size_t khlen,
    struct vivo_u2f_auth *out)
{
	uint8_t data[64 + 1 + VIVO_U2F_KH_MAX], resp[512];
	size_t rlen = 0;
	uint16_t sw = 0;
	int r;

	if (khlen == 0 || khlen > VIVO_U2F_KH_MAX)
		return VIVO_ERR_CARD_PROTO;
	memcpy(data, chal, 32);
	memcpy(data + 32, app, 32);
	data[64] = (uint8_t)khlen;
	memcpy(data + 65, kh, khlen);
	r = u2f_cmd(
	    t, 0x02, 0x03, data, 65 + khlen, resp, sizeof(resp), &rlen, &sw);
	if (r != 0)
		return r;
	if (sw == 0x6a80 || sw == 0x6700)
		return VIVO_ERR_U2F_WRONG_KH;
	if (sw != 0x9000) {
		vivo_dbg("%s: AUTHENTICATE refused, SW %04x", __func__, sw);
		return VIVO_ERR_CARD_NOTSUP;
	}
	return vivo_u2f_auth_parse(resp, rlen, out);
}

int
vivo_u2f_verify(const uint8_t pub[VIVO_U2F_PUB_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN],
    const uint8_t chal[VIVO_U2F_PARAM_LEN], const struct vivo_u2f_auth *a)
{
	uint8_t msg[32 + 1 + 4 + 32];
	EVP_PKEY *pk;
	int ok = -1;

	if (!(a->up & 0x01)) {
		vivo_dbg("%s: user-presence bit clear", __func__);
		return -1;
	}
	if ((pk = p256_key(pub)) == NULL)
		return -1;
	memcpy(msg, app, 32);
	msg[32] = a->up;
	msg[33] = (uint8_t)(a->counter >> 24);
	msg[34] = (uint8_t)(a->counter >> 16);
	msg[35] = (uint8_t)(a->counter >> 8);
	msg[36] = (uint8_t)a->counter;
	memcpy(msg + 37, chal, 32);
	if (strict_der_sig(a->sig, a->siglen) &&
	    verify_sig(pk, msg, sizeof(msg), a->sig, a->siglen) == 0)
		ok = 0;
	EVP_PKEY_free(pk);
	return ok;
}
