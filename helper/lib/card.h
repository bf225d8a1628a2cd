/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * card.h - talking to a connected chip through a small table of functions,
 * so that the method code runs over PC/SC in the product and over a fake
 * transport in unit tests (the way libfido2 puts its transports behind
 * fido_dev_io_t).
 */
#ifndef VIVO_CARD_H
#define VIVO_CARD_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

/* Errors of card operations: VIVO_ERR_CARD_* (err.h). */

#define VIVO_RAPDU_MAX (65536 + 2) /* longest R-APDU we accept */

struct vivo_transport {
	/* Send one C-APDU, receive one R-APDU (data ‖ SW1 SW2) into r (cap
	 * *rlen, set to the length received). 0 or VIVO_ERR_CARD_COMM. */
	int (*transmit)(
	    void *h, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen);
	void *h;
};

/*
 * Exchange one APDU: data (at most `cap` bytes) and the status word.
 * A reply shorter than 2 bytes or with more data than `cap` is
 * VIVO_ERR_CARD_PROTO. 0 / error.
 */
int vivo_apdu(const struct vivo_transport *t, const uint8_t *c, size_t clen,
    uint8_t *data, size_t cap, size_t *dlen, uint16_t *sw);

/* Limits of vivo_apdu_xfer: total reply bytes, and `61 xx` rounds. */
#define VIVO_XFER_MAX 8192
#define VIVO_XFER_ROUNDS 40

/*
 * Exchange a command of any length and collect a reply of any length:
 * data over 255 bytes goes in ISO 7816 command chaining (CLA | 0x10 on every
 * piece but the last, pieces of 240 bytes); a `61 xx` reply is followed by
 * GET RESPONSE (00 C0 00 00 xx) until the card is done, at most
 * VIVO_XFER_ROUNDS times and VIVO_XFER_MAX bytes (VIVO_ERR_CARD_PROTO past
 * either); `6C xx` resends once with Le = xx. Le is 00 (up to 256).
 */
int vivo_apdu_xfer(const struct vivo_transport *t, uint8_t cla, uint8_t ins,
    uint8_t p1, uint8_t p2, const uint8_t *data, size_t dlen, uint8_t *out,
    size_t cap, size_t *outlen, uint16_t *sw);

#endif
