/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * u2f.h - the `u2f` method: FIDO U2F (CTAP1) over ISO 7816 to the implant's
 * FIDO applet, verified with OpenSSL. Nothing secret is stored: the
 * enrollment holds a key handle, a P-256 public key and the last counter.
 * Bytes: docs/apdu.md; enrollment data: docs/enrollment-format.md.
 */
#ifndef VIVO_U2F_H
#define VIVO_U2F_H

#include "card.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_U2F_PUB_LEN 65 /* 04 ‖ X ‖ Y */
#define VIVO_U2F_KH_MAX 255
#define VIVO_U2F_PARAM_LEN 32 /* challenge and application parameters */
#define VIVO_U2F_SIG_MAX 80   /* DER ECDSA P-256 is at most 72 */
#define VIVO_U2F_APPID_MAX 255

/* Errors beyond VIVO_ERR_CARD_*: VIVO_ERR_U2F_* (err.h). */
#define VIVO_ERR_U2F_FIDO2 (-31)    /* the applet speaks CTAP2 only */
#define VIVO_ERR_U2F_PRESENCE (-32) /* 69 85 after retries */

struct vivo_u2f_data {
	char appid[VIVO_U2F_APPID_MAX + 1];
	uint8_t kh[VIVO_U2F_KH_MAX];
	size_t khlen;
	uint8_t pub[VIVO_U2F_PUB_LEN];
	uint32_t counter;
};

struct vivo_u2f_reg {
	uint8_t pub[VIVO_U2F_PUB_LEN];
	uint8_t kh[VIVO_U2F_KH_MAX];
	size_t khlen;
	char subject[256]; /* attestation certificate's subject */
};

struct vivo_u2f_auth {
	uint8_t up; /* flags byte: bit 0 = user present */
	uint32_t counter;
	uint8_t sig[VIVO_U2F_SIG_MAX];
	size_t siglen;
};

/* SHA-256 of the appid: the application parameter. 0 / -1. */
int vivo_u2f_app_param(const char *appid, uint8_t out[VIVO_U2F_PARAM_LEN]);

/* SELECT the FIDO applet; 0 for "U2F_V2", VIVO_ERR_U2F_FIDO2 for "FIDO_2_0",
 * VIVO_ERR_CARD_NOTSUP if there is none. */
int vivo_u2f_select(const struct vivo_transport *t);

/*
 * Parse a REGISTER reply and verify its attestation signature (over
 * 00 ‖ app ‖ chal ‖ kh ‖ pub, by the attestation certificate's key). The
 * public key must be a valid P-256 point, the signature strict DER.
 * 0 / VIVO_ERR_CARD_PROTO.
 */
int vivo_u2f_register_parse(const uint8_t *resp, size_t len,
    const uint8_t chal[VIVO_U2F_PARAM_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN], struct vivo_u2f_reg *reg);

/* REGISTER on the card (retrying 69 85), then vivo_u2f_register_parse. */
int vivo_u2f_register(const struct vivo_transport *t,
    const uint8_t chal[VIVO_U2F_PARAM_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN], struct vivo_u2f_reg *reg);

/* Parse an AUTHENTICATE reply: UP ‖ counter ‖ DER signature.
 * 0 / VIVO_ERR_CARD_PROTO. */
int
vivo_u2f_auth_parse(const uint8_t *resp, size_t len, struct vivo_u2f_auth *out);

/* AUTHENTICATE (P1 03, enforce presence and sign), retrying 69 85.
 * VIVO_ERR_U2F_WRONG_KH when the card says the handle is not its own. */
int vivo_u2f_authenticate(const struct vivo_transport *t,
    const uint8_t chal[VIVO_U2F_PARAM_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN], const uint8_t *kh, size_t khlen,
    struct vivo_u2f_auth *out);

/* Verify the signature of `a` by `pub` over app ‖ UP ‖ counter ‖ chal,
 * and that UP has the user-presence bit. 0 / -1. */
int vivo_u2f_verify(const uint8_t pub[VIVO_U2F_PUB_LEN],
    const uint8_t app[VIVO_U2F_PARAM_LEN],
    const uint8_t chal[VIVO_U2F_PARAM_LEN], const struct vivo_u2f_auth *a);

#endif
