/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * authtok.h - the login secret (the user's password) sealed under a key
 * only the enrolled implant can give back, so that a login without a
 * password can still hand the password to the modules after ours (keyring,
 * encrypted home). Two methods can carry one: `hmac` (the key is derived
 * from the slot secret the chip's answer unseals at every login) and
 * `fido2` (the hmac-secret extension's output for a salt of this
 * enrollment's own). Format: docs/enrollment-format.md; threat model:
 * docs/security.md.
 *
 *   <store>/.authtok/         0700, root's
 *   <store>/.authtok/<user>   0600: one sealed secret per enrollment label
 *
 * seal key = HKDF-SHA256(IKM = the chip's secret (hmac: the 20-byte slot
 *            secret; fido2: the 32-byte hmac-secret output for
 *            SHA-256("pam_vivo authtok v1" ‖ salt)), salt = salt,
 *            info = "pam_vivo authtok v1 hmac" / "... fido2")
 * blob     = AES-256-GCM(seal key, nonce, password), AAD = "pam_vivo
 *            authtok v1" ‖ 00 ‖ user ‖ 00 ‖ label
 * shadow   = SHA-256 of the user's /etc/shadow password field when sealed:
 *            a password changed since is detected, and nothing is handed
 *            over (empty when the account has no shadow entry).
 */
#ifndef VIVO_AUTHTOK_H
#define VIVO_AUTHTOK_H

#include "config.h"
#include "proto.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_AUTHTOK_DIR ".authtok"
#define VIVO_AUTHTOK_MAX 511 /* password bytes (a message field) */
#define VIVO_AUTHTOK_SALT_LEN 16
#define VIVO_AUTHTOK_NONCE_LEN 12
#define VIVO_AUTHTOK_TAG_LEN 16
#define VIVO_AUTHTOK_KEY_LEN 32
#define VIVO_AUTHTOK_ITEMS_MAX 32

struct vivo_sealed {
	char label[VIVO_LABEL_MAX + 1];
	unsigned method; /* VIVO_M_HMAC or VIVO_M_FIDO2 */
	uint8_t salt[VIVO_AUTHTOK_SALT_LEN];
	uint8_t nonce[VIVO_AUTHTOK_NONCE_LEN];
	uint8_t blob[VIVO_AUTHTOK_MAX + VIVO_AUTHTOK_TAG_LEN];
	size_t bloblen;
	uint8_t shadow[32];
	int has_shadow;
	char created[32];
};

struct vivo_sealed_set {
	size_t n;
	struct vivo_sealed s[VIVO_AUTHTOK_ITEMS_MAX];
};

/* The hmac-secret salt a fido2 enrollment's seal uses. */
void vivo_authtok_fido2_salt(
    const uint8_t salt[VIVO_AUTHTOK_SALT_LEN], uint8_t out[32]);

/* The seal key from the chip's secret (ikm). 0 / -1. */
int vivo_authtok_key(unsigned method, const uint8_t *ikm, size_t ikmlen,
    const uint8_t salt[VIVO_AUTHTOK_SALT_LEN],
    uint8_t key[VIVO_AUTHTOK_KEY_LEN]);

/* Seal `pw` for user/label into s (fresh nonce; s->salt, method and label
 * set by the caller). 0 / -1. */
int vivo_authtok_seal(struct vivo_sealed *s, const char *user,
    const uint8_t key[VIVO_AUTHTOK_KEY_LEN], const char *pw);

/* Open s into pw (NUL-terminated, pwsz > VIVO_AUTHTOK_MAX). 0, or -1
 * (wrong key, or the blob was changed). */
int vivo_authtok_open(const struct vivo_sealed *s, const char *user,
    const uint8_t key[VIVO_AUTHTOK_KEY_LEN], char *pw, size_t pwsz);

/* SHA-256 of the user's shadow password field. 1 with out, 0 when the
 * account has no shadow entry (NSS beyond files), -1 on error. */
int vivo_authtok_shadow(const char *user, uint8_t out[32]);

/* <store>/.authtok/<user>. 0 / -1. */
int vivo_authtok_path(
    const struct vivo_config *c, const char *user, char *out, size_t outsz);

/* Load the user's sealed secrets (root's file; missing = none). 0, or a
 * VIVO_ERR_FILE_* / VIVO_ERR_STORE_CORRUPT with why. */
int vivo_authtok_load(const struct vivo_config *c, const char *user,
    struct vivo_sealed_set *set, char *why, size_t whysz);

/*
 * Replace (s != NULL) or remove (s == NULL, by label) one sealed secret,
 * under the directory lock, written atomically (0600 in a 0700 directory
 * created when missing). `label` NULL with s NULL removes them all.
 * 1 changed, 0 nothing to remove, -1 with why.
 */
int vivo_authtok_update(const struct vivo_config *c, const char *user,
    const char *label, const struct vivo_sealed *s, char *why, size_t whysz);

#endif
