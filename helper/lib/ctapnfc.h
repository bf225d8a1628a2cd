/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctapnfc.h - CTAP over ISO 7816-4, as CTAP 2.1 ("NFC") frames it: the
 * SELECT of the FIDO applet, NFCCTAP_MSG with extended length or command
 * chaining, `61 xx` GET RESPONSE and the NFCCTAP_GETRESPONSE keep-alive.
 * Pure framing over card.h's transport (no libfido2), so the fuzzers and
 * unit tests reach it directly. Every frame: docs/apdu.md, "fido2".
 */
#ifndef VIVO_CTAPNFC_H
#define VIVO_CTAPNFC_H

#include "card.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_CTAP_MSG_MAX 4096      /* a CTAP message either way, bytes */
#define VIVO_CTAP_RESP_ROUNDS 64    /* GET RESPONSE rounds per answer */
#define VIVO_CTAP_KEEPALIVE_MAX 600 /* 91 00 polls per answer */
#define VIVO_CTAP_KEEPALIVE_MS 5    /* between two polls */

/* What the FIDO applet's SELECT answered. */
enum vivo_ctap_applet {
	VIVO_CTAP_NONE = 0,  /* no FIDO applet (6A 82, or anything else) */
	VIVO_CTAP_U2F = 1,   /* "U2F_V2": U2F, and perhaps CTAP2 (ask) */
	VIVO_CTAP_FIDO2 = 2, /* "FIDO_2_0": CTAP2 only */
};

/* SELECT A0 00 00 06 47 2F 00 01. VIVO_OK with *kind (VIVO_CTAP_NONE
 * included), or VIVO_ERR_CARD_COMM. */
int vivo_ctap_select(const struct vivo_transport *t, int *kind);

struct vivo_ctapnfc {
	const struct vivo_transport *t;
	int short_only;      /* the chip refused an extended APDU: chain */
	uint16_t last_sw;    /* the status word that ended the last exchange */
	unsigned keepalives; /* 91 00 polls in the last exchange */
};

/*
 * One CTAP2 message: req = command byte ‖ CBOR (1..VIVO_CTAP_MSG_MAX
 * bytes), resp = status byte ‖ CBOR. NFCCTAP_MSG (80 10 80 00, P1 80: we
 * poll keep-alives), extended length when it does not fit a short APDU
 * unless the chip refused one before (then, and after a 67 00, ISO
 * chaining with CLA 90), `61 xx` answers collected with GET RESPONSE,
 * `91 00` polled with NFCCTAP_GETRESPONSE (80 11 00 00) every
 * VIVO_CTAP_KEEPALIVE_MS. VIVO_OK; VIVO_ERR_CARD_COMM; VIVO_ERR_CARD_NOTSUP
 * when a status word other than 90 00 ends it (c->last_sw);
 * VIVO_ERR_CARD_PROTO for an empty or oversized answer, or too many rounds.
 */
int vivo_ctap_msg(struct vivo_ctapnfc *c, const uint8_t *req, size_t reqlen,
    uint8_t *resp, size_t cap, size_t *resplen);

/*
 * Is p[0..n) exactly one well-formed CBOR data item, as CTAP2 answers
 * carry (after the status byte)? Definite lengths only, no reserved
 * additional information, at most VIVO_CTAP_CBOR_DEPTH levels deep, and no
 * array or map that declares more elements than bytes are left: libcbor
 * allocates a declared array before it reads one element, so a chip could
 * otherwise make the helper ask for gigabytes with 9 bytes. fido2.c hands
 * libfido2 only answers that pass. 1 / 0 (an empty item list is 1).
 */
#define VIVO_CTAP_CBOR_DEPTH 16
int vivo_ctap_cbor_ok(const uint8_t *p, size_t n);

/*
 * A raw APDU (CTAP1/U2F through libfido2), with `61 xx` collected:
 * resp = data ‖ SW1 SW2. VIVO_OK, VIVO_ERR_CARD_COMM or _PROTO.
 */
int vivo_ctap_apdu(struct vivo_ctapnfc *c, const uint8_t *apdu, size_t len,
    uint8_t *resp, size_t cap, size_t *resplen);

#endif
