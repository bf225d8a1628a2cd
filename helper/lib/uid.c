/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uid.c - see uid.h. Bytes: docs/apdu.md, "UID".
 */
#include "uid.h"
#include "log.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

int
vivo_uid_read(
    const struct vivo_transport *t, uint8_t uid[VIVO_UID_MAX], size_t *len)
{
	uint8_t cmd[5] = { 0xff, 0xca, 0x00, 0x00, 0x00 };
	uint8_t data[256];
	size_t dlen = 0;
	uint16_t sw = 0;
	int r, ok = VIVO_ERR_CARD_PROTO;

	*len = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		r = vivo_apdu(
		    t, cmd, sizeof(cmd), data, sizeof(data), &dlen, &sw);
		if (r != 0) {
			ok = r;
			goto out;
		}
		if ((sw & 0xff00) == 0x6c00 && attempt == 0 && dlen == 0) {
			cmd[4] = (uint8_t)sw; /* "retry with Le = xx" */
			continue;
		}
		break;
	}
	if (sw != 0x9000 && sw != 0x6282) {
		vivo_dbg("%s: GET DATA refused, SW %04x", __func__, sw);
		ok = VIVO_ERR_CARD_NOTSUP;
		goto out;
	}
	if (dlen < 4 || dlen > VIVO_UID_MAX) {
		vivo_dbg("%s: UID of %zu bytes", __func__, dlen);
		goto out;
	}
	memcpy(uid, data, dlen);
	*len = dlen;
	ok = 0;
out:
	VIVO_WIPE_ARRAY(data);
	return ok;
}

int
vivo_uid_is_random(const uint8_t *uid, size_t len)
{
	return len == 4 && uid[0] == 0x08;
}

/*
 * PBKDF2-HMAC-SHA256 over (length byte ‖ UID). The length byte matters:
 * HMAC pads short keys with zeros, so without it a UID and the same UID
 * followed by 00 bytes would hash alike.
 */
static int
uid_hash(const uint8_t *uid, size_t len, const uint8_t *salt, uint32_t iter,
    uint8_t out[VIVO_UID_HASH_LEN])
{
	uint8_t pw[1 + VIVO_UID_MAX];
	int r;

	if (len == 0 || len > VIVO_UID_MAX || iter < VIVO_UID_ITER_MIN ||
	    iter > VIVO_UID_ITER_MAX)
		return -1;
	pw[0] = (uint8_t)len;
	memcpy(pw + 1, uid, len);
	r = PKCS5_PBKDF2_HMAC((const char *)pw, (int)(1 + len), salt,
		VIVO_UID_SALT_LEN, (int)iter, EVP_sha256(), VIVO_UID_HASH_LEN,
		out) == 1
	    ? 0
	    : -1;
	OPENSSL_cleanse(pw, sizeof(pw));
	return r;
}

int
vivo_uid_enroll(const uint8_t *uid, size_t len, uint32_t iterations,
    struct vivo_uid_data *d)
{
	memset(d, 0, sizeof(*d));
	d->iterations = iterations;
	if (RAND_bytes(d->salt, sizeof(d->salt)) != 1)
		return -1;
	return uid_hash(uid, len, d->salt, iterations, d->hash);
}

int
vivo_uid_match(const uint8_t *uid, size_t len, const struct vivo_uid_data *d)
{
	uint8_t h[VIVO_UID_HASH_LEN];
	int r = -1;

	if (uid_hash(uid, len, d->salt, d->iterations, h) == 0)
		r = CRYPTO_memcmp(h, d->hash, sizeof(h)) == 0;
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}
