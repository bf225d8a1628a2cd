/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hmac.h - the `hmac` method: YubiKey-compatible HMAC-SHA1
 * challenge-response (the open "ykhmac" applet on VivoKey Apex / DT
 * flexSecure, YubiKey slots 1 and 2), with a rolling state that a recorded
 * exchange can never replay. Bytes: docs/apdu.md; state: docs/enrollment-format.md.
 *
 * State per implant: a random challenge C (63 bytes) and the slot secret K
 * sealed with AES-256-GCM under HKDF-SHA256(R = HMAC-SHA1(K, C)). To
 * authenticate: send C, get R, open the seal (a wrong chip fails the tag).
 * Then pick C', compute R' = HMAC-SHA1(K, C') on the host, seal K under R'
 * and make that durable before answering success. R' never crosses the air.
 */
#ifndef VIVO_HMAC_H
#define VIVO_HMAC_H

#include "card.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_HMAC_KEY_LEN 20
#define VIVO_HMAC_RESP_LEN 20
#define VIVO_HMAC_CHAL_LEN 63 /* < 64: see the padding rule in hmac.c */
#define VIVO_HMAC_NONCE_LEN 12
#define VIVO_HMAC_TAG_LEN 16
#define VIVO_HMAC_SEALED_LEN                                                   \
	(VIVO_HMAC_NONCE_LEN + VIVO_HMAC_KEY_LEN + VIVO_HMAC_TAG_LEN)
#define VIVO_HMAC_STATUS_LEN 6

struct vivo_hmac_data {
	uint8_t slot; /* 1 or 2 */
	uint8_t challenge[VIVO_HMAC_CHAL_LEN];
	uint8_t sealed[VIVO_HMAC_SEALED_LEN]; /* nonce ‖ ciphertext ‖ tag */
};

/* Card side. All return 0 or VIVO_ERR_CARD_*. */

/* SELECT the applet (7-byte AID, then the 8-byte instance AID); the 6
 * status bytes: version[3], pgmSeq, touchLevel (little-endian, 2). */
int vivo_hmac_select(
    const struct vivo_transport *t, uint8_t status[VIVO_HMAC_STATUS_LEN]);

/* 1 if the status says `slot` is programmed. */
int vivo_hmac_slot_programmed(
    const uint8_t status[VIVO_HMAC_STATUS_LEN], unsigned slot);

/* Challenge-response on slot 1 or 2; chal: 1..63 bytes. A reply that is
 * not 20 bytes means the slot is not configured: VIVO_ERR_CARD_NOTSUP. */
int vivo_hmac_challenge(const struct vivo_transport *t, unsigned slot,
    const uint8_t *chal, size_t len, uint8_t resp[VIVO_HMAC_RESP_LEN]);

/* Program slot 1 or 2 for HMAC-SHA1 challenge-response (HMAC_LT64) with
 * `key`, current access code `acc` (6 bytes, zeros if none), new access
 * code zeros. The status after programming goes to status (may be NULL). */
int vivo_hmac_program(const struct vivo_transport *t, unsigned slot,
    const uint8_t key[VIVO_HMAC_KEY_LEN], const uint8_t acc[6],
    uint8_t status[VIVO_HMAC_STATUS_LEN]);

/* Host side. */

/* Pad a 1..63-byte challenge to the 64 bytes sent (pad byte differs from
 * the last challenge byte). 0 / -1. */
int vivo_hmac_pad(const uint8_t *chal, size_t len, uint8_t out[64]);

/* The slot-programming CRC: ~CRC-16/X.25 over `len` bytes. */
uint16_t vivo_hmac_crc(const uint8_t *p, size_t len);

/* HMAC-SHA1(key, msg). 0 / -1. */
int vivo_hmac_sha1(const uint8_t key[VIVO_HMAC_KEY_LEN], const uint8_t *msg,
    size_t len, uint8_t out[VIVO_HMAC_RESP_LEN]);

/* New state for key K: fresh C, R = HMAC(K, C) on the host, K sealed under
 * R (bound to user and slot). 0 / -1. */
int vivo_hmac_seal(const uint8_t key[VIVO_HMAC_KEY_LEN], const char *user,
    unsigned slot, struct vivo_hmac_data *d);

/* Open the seal with the card's response to d->challenge: 0 with K, -1 if
 * the response is not the one the state expects. */
int vivo_hmac_open(const struct vivo_hmac_data *d, const char *user,
    const uint8_t resp[VIVO_HMAC_RESP_LEN], uint8_t key[VIVO_HMAC_KEY_LEN]);

#endif
