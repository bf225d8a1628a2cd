/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap.h - the one tap loop: wait for a fresh tap, make sure it answers
 * this request alone (tapreg.h), connect, let `fn` work on the chip, and
 * wait for another tap when the chip was lost mid-exchange. Used by the
 * helper (auth.c), vivo-enroll add/test and probe alike.
 */
#ifndef VIVO_TAP_H
#define VIVO_TAP_H

#include "readerio.h"
#include "tapreg.h"

struct vivo_tap {
	/* in */
	const struct vivo_reader_io *io; /* &vivo_pcsc_io, or a fake */
	const struct vivo_config *cfg;
	const struct vivo_waiter *who; /* for the registry */
	const char *regdir;            /* VIVO_TAPREG_DIR, or a test's */
	unsigned timeout;              /* seconds to wait for a tap */
	vivo_ready_fn ready;           /* once, when the readers were seen */
	void *ready_arg;
	/* out */
	char reader[128]; /* where the chip was */
	char why[1024];   /* VIVO_ERR_TAP_*: the other request, or why */
};

/*
 * Work on the connected chip. VIVO_OK: done; VIVO_ERR_CARD_COMM: the chip
 * was lost before anything was decided, wait for another tap; anything
 * else: done, with that error. `fn` must not exit: the loop releases the
 * reader and the registry entry on every path.
 */
typedef int (*vivo_chip_fn)(const struct vivo_transport *t, const uint8_t *atr,
    size_t atrlen, void *arg);

/*
 * Register, open the readers, and run `fn` on the first fresh tap that is
 * this request's alone (checked at the tap, and again after `fn` returned
 * VIVO_OK). Returns fn's VIVO_OK or error, VIVO_ERR_READER_* (no tap, no
 * reader, no service), VIVO_ERR_TAP_CONTESTED (another request waits on
 * that reader: `why` names it; fn's work, if it ran, must not count) or
 * VIVO_ERR_TAP_REGISTRY (`why` says why).
 */
int vivo_tap_run(struct vivo_tap *tp, vivo_chip_fn fn, void *arg);

#endif
