/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hmac.c - see hmac.h.
 */
#include "hmac.h"
#include "log.h"
#include "util.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>

#define INFO "pam_vivo hmac v1"
#define AAD_MAX (sizeof(INFO) + 64 + 3)

static const uint8_t aid7[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01 };
static const uint8_t aid8[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01,
	0x01 };

static int
select_aid(const struct vivo_transport *t, const uint8_t *aid, size_t len,
    uint8_t status[VIVO_HMAC_STATUS_LEN], uint16_t *sw)
{
	uint8_t cmd[5 + 8] = { 0x00, 0xa4, 0x04, 0x00, (uint8_t)len };
	uint8_t data[256];
	size_t dlen;
	int r;

	memcpy(cmd + 5, aid, len);
	if ((r = vivo_apdu(t, cmd, 5 + len, data, sizeof(data), &dlen, sw)) !=
	    0)
		return r;
	if (*sw != 0x9000)
		return VIVO_ERR_CARD_NOTSUP;
	if (dlen < VIVO_HMAC_STATUS_LEN)
		return VIVO_ERR_CARD_PROTO;
	memcpy(status, data, VIVO_HMAC_STATUS_LEN);
	return 0;
}

int
vivo_hmac_select(
    const struct vivo_transport *t, uint8_t status[VIVO_HMAC_STATUS_LEN])
{
	uint16_t sw = 0;
	int r = select_aid(t, aid7, sizeof(aid7), status, &sw);

	if (r == VIVO_ERR_CARD_NOTSUP)
		r = select_aid(t, aid8, sizeof(aid8), status, &sw);
	if (r == VIVO_ERR_CARD_NOTSUP)
		vivo_dbg("%s: no HMAC-SHA1 applet (SW %04x)", __func__, sw);
	return r;
}

int
vivo_hmac_slot_programmed(
    const uint8_t status[VIVO_HMAC_STATUS_LEN], unsigned slot)
{
	return (slot == 1 || slot == 2) && (status[4] & (1u << (slot - 1)));
}

int
vivo_hmac_pad(const uint8_t *chal, size_t len, uint8_t out[64])
{
	uint8_t pad;

	if (len == 0 || len > VIVO_HMAC_CHAL_LEN)
		return -1;
	/* HMAC_LT64: the card strips the last byte and every byte before it
	 * equal to it; a pad byte unlike the challenge's last byte strips
	 * exactly the padding. */
	pad = chal[len - 1] == 0x00 ? 0x01 : 0x00;
	memcpy(out, chal, len);
	memset(out + len, pad, 64 - len);
	return 0;
}

int
vivo_hmac_challenge(const struct vivo_transport *t, unsigned slot,
    const uint8_t *chal, size_t len, uint8_t resp[VIVO_HMAC_RESP_LEN])
{
	uint8_t cmd[5 + 64] = { 0x00, 0x01, 0x00, 0x00, 0x40 };
	uint8_t data[256];
	size_t dlen = 0;
	uint16_t sw = 0;
	int r;

	if (slot != 1 && slot != 2)
		return VIVO_ERR_CARD_PROTO;
	cmd[2] = slot == 1 ? 0x30 : 0x38;
	if (vivo_hmac_pad(chal, len, cmd + 5) != 0)
		return VIVO_ERR_CARD_PROTO;
	r = vivo_apdu(t, cmd, sizeof(cmd), data, sizeof(data), &dlen, &sw);
	if (r != 0)
		goto out;
	if (sw != 0x9000) {
		vivo_dbg("%s: challenge refused, SW %04x", __func__, sw);
		r = VIVO_ERR_CARD_NOTSUP;
	} else if (dlen != VIVO_HMAC_RESP_LEN) {
		vivo_dbg("%s: %zu-byte response: slot %u not configured",
		    __func__, dlen, slot);
		r = VIVO_ERR_CARD_NOTSUP;
	} else
		memcpy(resp, data, VIVO_HMAC_RESP_LEN);
out:
	VIVO_WIPE_ARRAY(data);
	VIVO_WIPE_ARRAY(cmd);
	return r;
}

uint16_t
vivo_hmac_crc(const uint8_t *p, size_t len)
{
	uint16_t crc = 0xffff;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408)
					: (uint16_t)(crc >> 1);
	}
	return crc;
}

int
vivo_hmac_program(const struct vivo_transport *t, unsigned slot,
    const uint8_t key[VIVO_HMAC_KEY_LEN], const uint8_t acc[6],
    uint8_t status[VIVO_HMAC_STATUS_LEN])
{
	/* 00 01 P1 00 3A ‖ config (52) ‖ current access code (6) */
	uint8_t cmd[5 + 52 + 6] = { 0x00, 0x01, 0x01, 0x00, 0x3a };
	uint8_t *cfg = cmd + 5, data[256];
	size_t dlen = 0;
	uint16_t sw = 0, crc;
	int r;

	if (slot != 1 && slot != 2)
		return VIVO_ERR_CARD_PROTO;
	cmd[2] = slot == 1 ? 0x01 : 0x03;
	/* fixed[16] = 0; uid[6] = key[16..19], 0, 0; key[16] = key[0..15] */
	memcpy(cfg + 16, key + 16, 4);
	memcpy(cfg + 22, key, 16);
	/* accCode[6] (new) = 0; fixedSize = 0 */
	cfg[45] = 0x24; /* extFlags: SERIAL_API_VISIBLE | ALLOW_UPDATE */
	cfg[46] = 0x40; /* tktFlags: CHAL_RESP */
	cfg[47] = 0x26; /* cfgFlags: CHAL_HMAC (0x22) | HMAC_LT64 (0x04) */
	crc = (uint16_t)~vivo_hmac_crc(cfg, 50);
	cfg[50] = (uint8_t)crc;
	cfg[51] = (uint8_t)(crc >> 8);
	memcpy(cmd + 5 + 52, acc, 6);
	r = vivo_apdu(t, cmd, sizeof(cmd), data, sizeof(data), &dlen, &sw);
	VIVO_WIPE_ARRAY(cmd);
	if (r != 0)
		goto out;
	if (sw != 0x9000) {
		vivo_dbg("%s: programming refused, SW %04x", __func__, sw);
		r = VIVO_ERR_CARD_NOTSUP;
		goto out;
	}
	if (status != NULL) {
		if (dlen < VIVO_HMAC_STATUS_LEN) {
			r = VIVO_ERR_CARD_PROTO;
			goto out;
		}
		memcpy(status, data, VIVO_HMAC_STATUS_LEN);
	}
out:
	VIVO_WIPE_ARRAY(data);
	return r;
}

int
vivo_hmac_sha1(const uint8_t key[VIVO_HMAC_KEY_LEN], const uint8_t *msg,
    size_t len, uint8_t out[VIVO_HMAC_RESP_LEN])
{
	unsigned int olen = 0;

	if (HMAC(EVP_sha1(), key, VIVO_HMAC_KEY_LEN, msg, len, out, &olen) ==
		NULL ||
	    olen != VIVO_HMAC_RESP_LEN)
		return -1;
	return 0;
}

/* AES key = HKDF-SHA256(IKM = R, salt = C, info = INFO). */
static int
derive(const uint8_t resp[VIVO_HMAC_RESP_LEN],
    const uint8_t chal[VIVO_HMAC_CHAL_LEN], uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];
	int ok = -1;

	if (ctx == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)resp, VIVO_HMAC_RESP_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SALT, (void *)chal, VIVO_HMAC_CHAL_LEN);
	params[3] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_INFO, (void *)INFO, strlen(INFO));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, 32, params) == 1)
		ok = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

/* AAD = INFO ‖ 00 ‖ user ‖ 00 ‖ slot: a state only opens for its user
 * and slot. */
static size_t
make_aad(const char *user, unsigned slot, uint8_t *aad, size_t cap)
{
	size_t il = strlen(INFO), ul = strlen(user);

	if (il + 1 + ul + 2 > cap)
		return 0;
	memcpy(aad, INFO, il);
	aad[il] = 0;
	memcpy(aad + il + 1, user, ul);
	aad[il + 1 + ul] = 0;
	aad[il + 2 + ul] = (uint8_t)slot;
	return il + ul + 3;
}

static int
gcm(int enc, const uint8_t k[32], const uint8_t *aad, size_t aadlen,
    uint8_t sealed[VIVO_HMAC_SEALED_LEN], uint8_t key[VIVO_HMAC_KEY_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t *nonce = sealed, *ct = sealed + VIVO_HMAC_NONCE_LEN;
	uint8_t *tag = ct + VIVO_HMAC_KEY_LEN;
	int n = 0, ok = -1;

	if (c == NULL)
		return -1;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) !=
		1 ||
	    EVP_CIPHER_CTX_ctrl(
		c, EVP_CTRL_GCM_SET_IVLEN, VIVO_HMAC_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, k, nonce, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen) != 1)
		goto out;
	if (enc) {
		if (EVP_CipherUpdate(c, ct, &n, key, VIVO_HMAC_KEY_LEN) != 1 ||
		    EVP_CipherFinal_ex(c, ct + n, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(
			c, EVP_CTRL_GCM_GET_TAG, VIVO_HMAC_TAG_LEN, tag) != 1)
			goto out;
	} else {
		if (EVP_CipherUpdate(c, key, &n, ct, VIVO_HMAC_KEY_LEN) != 1 ||
		    EVP_CIPHER_CTX_ctrl(
			c, EVP_CTRL_GCM_SET_TAG, VIVO_HMAC_TAG_LEN, tag) != 1 ||
		    EVP_CipherFinal_ex(c, key + n, &n) != 1) {
			OPENSSL_cleanse(key, VIVO_HMAC_KEY_LEN);
			goto out;
		}
	}
	ok = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return ok;
}

int
vivo_hmac_seal(const uint8_t key[VIVO_HMAC_KEY_LEN], const char *user,
    unsigned slot, struct vivo_hmac_data *d)
{
	uint8_t resp[VIVO_HMAC_RESP_LEN], k[32], aad[AAD_MAX];
	size_t aadlen;
	int ok = -1;

	memset(d, 0, sizeof(*d));
	d->slot = (uint8_t)slot;
	if ((aadlen = make_aad(user, slot, aad, sizeof(aad))) == 0 ||
	    RAND_bytes(d->challenge, sizeof(d->challenge)) != 1 ||
	    RAND_bytes(d->sealed, VIVO_HMAC_NONCE_LEN) != 1 ||
	    vivo_hmac_sha1(key, d->challenge, sizeof(d->challenge), resp) !=
		0 ||
	    derive(resp, d->challenge, k) != 0 ||
	    gcm(1, k, aad, aadlen, d->sealed, (uint8_t *)key) != 0)
		goto out;
	ok = 0;
out:
	OPENSSL_cleanse(resp, sizeof(resp));
	OPENSSL_cleanse(k, sizeof(k));
	return ok;
}

int
vivo_hmac_open(const struct vivo_hmac_data *d, const char *user,
    const uint8_t resp[VIVO_HMAC_RESP_LEN], uint8_t key[VIVO_HMAC_KEY_LEN])
{
	uint8_t k[32], aad[AAD_MAX], sealed[VIVO_HMAC_SEALED_LEN];
	uint8_t check[VIVO_HMAC_RESP_LEN];
	size_t aadlen;
	int ok = -1;

	memcpy(sealed, d->sealed, sizeof(sealed));
	if ((aadlen = make_aad(user, d->slot, aad, sizeof(aad))) == 0 ||
	    derive(resp, d->challenge, k) != 0 ||
	    gcm(0, k, aad, aadlen, sealed, key) != 0)
		goto out;
	/* belt and braces: the opened key must give the response we got */
	if (vivo_hmac_sha1(key, d->challenge, sizeof(d->challenge), check) !=
		0 ||
	    CRYPTO_memcmp(check, resp, sizeof(check)) != 0) {
		OPENSSL_cleanse(key, VIVO_HMAC_KEY_LEN);
		goto out;
	}
	ok = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(check, sizeof(check));
	return ok;
}
