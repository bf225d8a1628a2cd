/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reader.h - the reader layer: everything the tap loop needs from readers,
 * as one table of functions, the way libfido2 puts hid, nfc and pcsc
 * behind fido_dev_io_t. pcsc.c fills it for pcsc-lite (vivo_pcsc_io); the
 * unit tests fill it with a fake reader and fake chips. Talking to a
 * connected chip is card.h's vivo_transport, which connect() fills.
 */
#ifndef VIVO_READER_H
#define VIVO_READER_H

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

/* pcsc-lite (pcsc.c). */
extern const struct vivo_reader_io vivo_pcsc_io;

#endif
