/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * readerio.h - the reader layer: everything the tap loop needs from readers,
 * as one table of functions, the way libfido2 puts hid, nfc and pcsc
 * behind fido_dev_io_t. pcsc.c fills it for pcsc-lite (vivo_pcsc_io); the
 * unit tests fill it with a fake reader and fake chips. Talking to a
 * connected chip is card.h's vivo_transport, which connect() fills.
 */
#ifndef VIVO_READERIO_H
#define VIVO_READERIO_H

#include "card.h"
#include "config.h"

#include <stddef.h>
#include <stdint.h>

/* Called once, after the readers were first looked at: how many match. */
typedef void (*vivo_ready_fn)(void *arg, size_t nreaders);

struct vivo_reader_io {
	/* Connect to the reader service; `c`'s reader name filters apply.
	 * 0, or VIVO_ERR_READER_*. */
	int (*open)(void **h, const struct vivo_config *c);
	/* Release everything (a connected chip too). Accepts NULL. */
	void (*close)(void *h);
	/*
	 * Wait until a chip arrives on a matching reader, before `deadline`
	 * (vivo_now_ms() based). A chip already present when a reader is
	 * first seen is stale: it counts only after it was removed and
	 * presented again. 0 with the reader's name, or VIVO_ERR_READER_*
	 * (VIVO_ERR_READER_TIMEOUT, or _NONE when no reader ever matched).
	 */
	int (*wait_tap)(void *h, int64_t deadline, vivo_ready_fn ready,
	    void *arg, char *reader, size_t readersz);
	/* Connect to the chip on `reader` (shared mode); t is valid until
	 * disconnect. 0 with the ATR, or VIVO_ERR_CARD_COMM. */
	int (*connect)(void *h, const char *reader, struct vivo_transport *t,
	    uint8_t *atr, size_t *atrlen);
	void (*disconnect)(void *h);
	/* The matching readers and whether a chip is on each (probe). names[i]
	 * stay valid until the next call. 0 / VIVO_ERR_READER_*. */
	int (*list)(
	    void *h, const char **names, int *present, size_t cap, size_t *n);
};

/*
 * A fresh tap, told apart from a chip that was lying on the reader: what a
 * reader layer keeps per reader (pcsc.c does; presence.c is pure, so the
 * unit tests check the rule itself). `count` is the reader's event counter
 * (it moves at every insertion and removal, even between two looks).
 */
struct vivo_presence {
	int seen;             /* the reader was looked at before */
	int stale;            /* a chip was on it at the first look (or when
	                          the reader came back) and was not lifted */
	unsigned first_count; /* the event counter at that look */
};

enum vivo_chip_state {
	VIVO_CHIP_ABSENT = 0,
	VIVO_CHIP_PRESENT = 1,
	VIVO_CHIP_MUTE = 2, /* present, but not answering (yet) */
};

/* A new state of the reader. 1 if it is a fresh tap, 0 otherwise. */
int vivo_presence_update(
    struct vivo_presence *p, enum vivo_chip_state chip, unsigned count);

/* The reader went away: whatever is on it when it returns was not lifted
 * in front of us, so it counts as stale again. */
void vivo_presence_lost(struct vivo_presence *p);

/* pcsc-lite (pcsc.c). */
extern const struct vivo_reader_io vivo_pcsc_io;

#endif
