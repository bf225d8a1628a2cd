/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fake_card.h - a card whose replies come from the fuzz input, for the
 * targets that fuzz what the product reads from a chip.
 *
 * The input is a sequence of records, one per R-APDU:
 *     u16 length (big-endian), then `length` bytes (data ‖ SW1 SW2)
 * A record cut short by the end of the input gives what is left. Length
 * FFFF makes that exchange a transport failure (VIVO_ERR_CARD_COMM), as does
 * an exchange after the input is used up (the chip was lifted).
 *
 * Every C-APDU the product sends is checked to be a well-formed short
 * APDU (ISO 7816-3 cases 1 to 4; no extended lengths): an invariant.
 */
#ifndef VIVO_FUZZ_FAKE_CARD_H
#define VIVO_FUZZ_FAKE_CARD_H

#include "card.h"

#include <stddef.h>
#include <stdint.h>

#define FAKE_CARD_FAIL 0xffffu
#define FAKE_CARD_CMD_MAX (5 + 255 + 1)

struct fake_card {
	const uint8_t *p; /* the records not yet served */
	size_t left;
	unsigned ncmds; /* C-APDUs received */
	/* Optional: called with every C-APDU (after the generic checks), and
	 * with every R-APDU served (not for a transport failure). */
	void (*check)(void *arg, const uint8_t *c, size_t clen);
	void (*served)(void *arg, const uint8_t *r, size_t rlen);
	void *arg;
};

/* Serve the records in data[0..size) over the transport t. */
void fake_card_init(struct fake_card *f, const uint8_t *data, size_t size,
    struct vivo_transport *t);

#endif
