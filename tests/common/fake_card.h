/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fake_card.h - the one fake transport of the unit tests and the fuzzers:
 * a card whose replies are records, taken from a fuzz input or scripted
 * by a unit test, and which keeps every C-APDU it received.
 *
 * Records, one per R-APDU:
 *     u16 length (big-endian), then `length` bytes (data ‖ SW1 SW2)
 * A record cut short by the end of the input gives what is left. Length
 * FFFF makes that exchange a transport failure (VIVO_ERR_CARD_COMM), as does
 * an exchange after the records are used up (the chip was lifted; the fake
 * notes it in `overrun`).
 *
 * Every C-APDU the product sends is checked to be a well-formed APDU
 * (ISO 7816-3 cases 1 to 4, short, or extended up to FAKE_CARD_EXT_MAX
 * bytes: CTAP2 messages): an invariant whose breach abort()s (a crash for
 * libFuzzer, a failure for a unit test).
 */
#ifndef VIVO_TEST_FAKE_CARD_H
#define VIVO_TEST_FAKE_CARD_H

#include "card.h"

#include <stddef.h>
#include <stdint.h>

#define FAKE_CARD_FAIL 0xffffu
#define FAKE_CARD_CMD_MAX (5 + 255 + 1)  /* bytes of a command kept */
#define FAKE_CARD_EXT_MAX (7 + 4096 + 2) /* longest command accepted */
#define FAKE_CARD_SENT 64      /* C-APDUs kept (ncmds counts them all) */
#define FAKE_CARD_SCRIPT 16384 /* bytes of scripted records */

struct fake_card {
	const uint8_t *p; /* the records not yet served */
	size_t left;
	unsigned ncmds; /* C-APDUs received */
	int overrun;    /* an exchange found no record left */
	uint8_t sent[FAKE_CARD_SENT][FAKE_CARD_CMD_MAX];
	size_t sentlen[FAKE_CARD_SENT];
	/* Optional: called with every C-APDU (after the generic checks), and
	 * with every R-APDU served (not for a transport failure). */
	void (*check)(void *arg, const uint8_t *c, size_t clen);
	void (*served)(void *arg, const uint8_t *r, size_t rlen);
	void *arg;
	/* a unit test's records (fake_card_reply and the like) */
	uint8_t script[FAKE_CARD_SCRIPT];
	size_t scriptlen;
};

/* Serve the records in data[0..size) over the transport t. */
void fake_card_init(struct fake_card *f, const uint8_t *data, size_t size,
    struct vivo_transport *t);

/* Serve the records a unit test adds with the calls below (any time: a
 * record added later is served after the earlier ones). */
void fake_card_script(struct fake_card *f, struct vivo_transport *t);
void fake_card_reply(struct fake_card *f, const uint8_t *data, size_t len,
    uint16_t sw); /* data ‖ SW */
void
fake_card_raw(struct fake_card *f, const uint8_t *r, size_t len); /* as is */
void fake_card_fail(struct fake_card *f); /* a transport failure */

/* The transport serving f (what fake_card_init and fake_card_script fill
 * in when given one; they accept NULL). */
struct vivo_transport fake_card_transport(struct fake_card *f);

/* 1 if the i-th C-APDU received was exactly c. */
int fake_card_sent_is(
    const struct fake_card *f, size_t i, const uint8_t *c, size_t clen);

#endif
