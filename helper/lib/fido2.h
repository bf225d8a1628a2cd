/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fido2.h - the `fido2` method: CTAP 2.1 to the implant's FIDO applet over
 * ISO 7816 (ctapnfc.h frames it), with libfido2 as the CTAP engine (CBOR,
 * PIN protocols, extensions, assertion verification) through our own
 * transport: libfido2 never opens a device itself. The enrollment holds
 * public data only: credential id, public key, rp id, flags, counter.
 * Bytes: docs/apdu.md; enrollment data: docs/enrollment-format.md.
 */
#ifndef VIVO_FIDO2_H
#define VIVO_FIDO2_H

#include "card.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_FIDO2_CRED_MAX 512  /* credential id, bytes */
#define VIVO_FIDO2_PUB_MAX 65    /* ES256 04 ‖ X ‖ Y; EdDSA 32 */
#define VIVO_FIDO2_USERID_LEN 32 /* the user handle we make */
#define VIVO_FIDO2_RPID_MAX 255
#define VIVO_FIDO2_PIN_MAX 63 /* CTAP: 4..63 bytes of UTF-8 */
#define VIVO_FIDO2_PIN_MIN 4
#define VIVO_FIDO2_PIN_TRIES 8 /* a PIN blocked for good after 8 */

/* COSE algorithm numbers (RFC 8152), as libfido2's COSE_* */
#define VIVO_COSE_ES256 (-7)
#define VIVO_COSE_EDDSA (-8)

struct vivo_fido2_data {
	char rpid[VIVO_FIDO2_RPID_MAX + 1];
	uint8_t cred[VIVO_FIDO2_CRED_MAX];
	size_t credlen;
	int alg; /* VIVO_COSE_ES256 or VIVO_COSE_EDDSA */
	uint8_t pub[VIVO_FIDO2_PUB_MAX];
	size_t publen; /* 65 (ES256) or 32 (EdDSA) */
	uint8_t user_id[VIVO_FIDO2_USERID_LEN];
	int require_pin;  /* every login needs the PIN (UV flag signed) */
	int resident;     /* discoverable credential */
	int cred_protect; /* 0 (not asked), 1..3 as the chip confirmed */
	int hmac_secret;  /* the chip confirmed the hmac-secret extension */
	uint32_t counter; /* last signature counter (0: none seen) */
};

/* What the chip says of itself (getInfo, and getPINRetries). */
struct vivo_fido2_info {
	char versions[128];   /* "FIDO_2_0 FIDO_2_1 U2F_V2" */
	char extensions[128]; /* "credProtect hmac-secret" */
	char aaguid[40];      /* 8-4-4-4-12 hex */
	int client_pin;       /* -1 not supported, 0 no PIN set, 1 set */
	int rk, uv, always_uv, make_cred_uv_not_rqd, cred_protect_ext,
	    hmac_secret_ext, eddsa;
	uint64_t maxmsgsiz;
	int pin_retries; /* -1 unknown */
};

/* An open CTAP2 session on a connected chip (fido2.c). */
struct vivo_fido2;

/*
 * SELECT the FIDO applet and open a CTAP2 session through t (libfido2's
 * CTAPHID_INIT becomes the SELECT, then getInfo). VIVO_OK,
 * VIVO_ERR_CARD_COMM (the chip is gone), VIVO_ERR_U2F_FIDO2 is not used
 * here: VIVO_ERR_CARD_NOTSUP when there is no FIDO applet or it speaks no
 * CTAP2 (`why` says which), VIVO_ERR_NOMEM.
 */
int vivo_fido2_open(const struct vivo_transport *t, struct vivo_fido2 **out,
    struct vivo_fido2_info *info, char *why, size_t whysz);
void vivo_fido2_close(struct vivo_fido2 *f);

/* getPINRetries: 0 with the count, or an error. */
int vivo_fido2_pin_retries(struct vivo_fido2 *f, int *retries);

/* What a login asks of the chip. */
struct vivo_fido2_assert_req {
	const char *rpid;
	const struct vivo_fido2_data *const *cands; /* allow list */
	size_t ncands;
	const char *pin; /* NULL: no PIN (no user verification) */
	int silent;      /* up = false: ask without presence (pre-flight) */
	int want_uv;     /* the UV flag must be in the signed data */
	const uint8_t *hmac_salt; /* NULL, or 32 bytes: ask hmac-secret */
};

/* What it got: which candidate signed, and its counter, once verified. */
struct vivo_fido2_assert_res {
	size_t which;     /* index into cands */
	uint32_t counter; /* as signed */
	int uv;           /* UV flag as signed */
	int fido_err;     /* libfido2's error on failure (for messages) */
	uint8_t hmac_secret[32]; /* with hmac_salt: the chip's output */
	int have_hmac_secret;
};

/*
 * One getAssertion over a fresh random client-data hash, verified against
 * the candidate whose credential id came back: signature, rp id hash,
 * flags (UP unless silent, UV when want_uv). VIVO_OK with res; VIVO_ERR_
 * CARD_COMM (chip lost); VIVO_ERR_FIDO2_NOCRED (none of the candidates is
 * on this chip); VIVO_ERR_FIDO2_PIN_INVALID / _PIN_BLOCKED / _PIN_AUTH_
 * BLOCKED / _UV_REQUIRED; VIVO_ERR_CARD_PROTO (the answer does not verify,
 * or is malformed).
 */
int
vivo_fido2_assert(struct vivo_fido2 *f, const struct vivo_fido2_assert_req *req,
    struct vivo_fido2_assert_res *res, char *why, size_t whysz);

/*
 * Which discoverable credentials for `rpid` the chip holds: one
 * getAssertion without an allow list (and getNextAssertion), without
 * presence or PIN. Only a hint for hand-scan login (identify.h): nothing
 * is verified here; the user found is then proved as usual. VIVO_OK with
 * *n ids (at most cap), VIVO_ERR_FIDO2_NOCRED, VIVO_ERR_CARD_COMM, or
 * another error.
 */
#define VIVO_FIDO2_DISCOVER_MAX 8
int vivo_fido2_discover(struct vivo_fido2 *f, const char *rpid,
    uint8_t (*ids)[VIVO_FIDO2_CRED_MAX], size_t *idlens, size_t cap, size_t *n,
    char *why, size_t whysz);

/* What enrolling asks for. */
struct vivo_fido2_make_req {
	const char *rpid;
	const char *user;
	const char *pin; /* NULL: none */
	int require_pin;
	int resident;
};

/*
 * makeCredential (ES256, or EdDSA where the chip offers only that) with
 * credProtect and hmac-secret where the chip offers them, check the
 * attestation, then one getAssertion with the new credential (with the PIN
 * when require_pin) to prove it works and to learn the counter. Fills e.
 * VIVO_OK, VIVO_ERR_CARD_COMM, or an error with why.
 */
int vivo_fido2_make(struct vivo_fido2 *f, const struct vivo_fido2_make_req *req,
    struct vivo_fido2_data *e, char *why, size_t whysz);

/* A short phrase for a libfido2 error code (fido_strerr). */
const char *vivo_fido2_strerr(int fido_err);

#endif
