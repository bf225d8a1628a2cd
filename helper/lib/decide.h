/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.h - the decision unit: the one place that concludes VIVO_R_OK.
 * It walks the methods table (method.h) strongest first against one
 * connected chip, stops at the first entry the chip proves (or at a clone
 * signal), and says what the person and the log are told. It knows
 * nothing of readers, taps or files: the tap loop (tap.h) brings the chip,
 * x->commit makes state changes durable, so a unit test drives it all
 * with a fake chip and a fake store.
 */
#ifndef VIVO_DECIDE_H
#define VIVO_DECIDE_H

#include "method.h"

/*
 * VIVO_OK with x->result (enum vivo_result), x->reason, x->text and, on
 * VIVO_R_OK, x->e; or VIVO_ERR_CARD_COMM when the chip was lost before
 * anything was decided (wait for another tap).
 */
int vivo_decide(struct vivo_try *x, const struct vivo_transport *t);

#endif
