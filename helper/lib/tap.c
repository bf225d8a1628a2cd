/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tap.c - see tap.h.
 */
#include "tap.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* The one-request rule at a tap seen at tap_ms: 0, or the error. */
static int
alone(struct vivo_tap *tp, vivo_tapreg_t *reg, int64_t tap_ms)
{
	int st = vivo_tapreg_check(
	    reg, tp->reader, tap_ms, tp->why, sizeof(tp->why));

	if (st == VIVO_TAPREG_FREE)
		return VIVO_OK;
	if (st == VIVO_TAPREG_CONTESTED)
		return VIVO_ERR_TAP_CONTESTED;
	snprintf(tp->why, sizeof(tp->why),
	    "cannot tell whether another "
	    "request waits for this tap");
	return VIVO_ERR_TAP_REGISTRY;
}

int
vivo_tap_run(struct vivo_tap *tp, vivo_chip_fn fn, void *arg)
{
	vivo_tapreg_t *reg = NULL;
	void *h = NULL;
	int64_t deadline = vivo_now_ms() + (int64_t)tp->timeout * 1000;
	int r, told = 0;

	tp->reader[0] = tp->why[0] = '\0';
	/* registered before the first look at the readers: a chip there now
	 * is stale for us, and any other request sees us from here on */
	if (vivo_tapreg_join(&reg, tp->regdir, tp->who, tp->cfg, tp->why,
		sizeof(tp->why)) != 0)
		return VIVO_ERR_TAP_REGISTRY;
	if ((r = tp->io->open(&h, tp->cfg)) != VIVO_OK)
		goto out;
	for (;;) {
		uint8_t atr[64];
		size_t atrlen = sizeof(atr);
		struct vivo_transport t;
		int64_t tap_ms;

		r = tp->io->wait_tap(h, deadline, told ? NULL : tp->ready,
		    tp->ready_arg, tp->reader, sizeof(tp->reader));
		told = 1;
		if (r != VIVO_OK)
			goto out;
		tap_ms = vivo_tapreg_now();
		if ((r = alone(tp, reg, tap_ms)) != VIVO_OK)
			goto out;
		if (tp->io->connect(h, tp->reader, &t, atr, &atrlen) !=
		    VIVO_OK) {
			vivo_dbg(
			    "%s: could not connect to the chip; waiting for "
			    "another tap",
			    __func__);
			continue;
		}
		r = fn(&t, atr, atrlen, arg);
		tp->io->disconnect(h);
		if (r == VIVO_ERR_CARD_COMM) {
			vivo_dbg(
			    "%s: chip lost during the exchange; waiting for "
			    "another tap",
			    __func__);
			continue;
		}
		/* once more: a request that saw the same tap after us may have
		 * found it contested meanwhile */
		if (r == VIVO_OK)
			r = alone(tp, reg, tap_ms);
		goto out;
	}
out:
	if (h != NULL)
		tp->io->close(h);
	vivo_tapreg_leave(&reg);
	return r;
}
