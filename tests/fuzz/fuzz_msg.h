/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_msg.h - the checks both helper-message targets make.
 */
#ifndef VIVO_FUZZ_MSG_H
#define VIVO_FUZZ_MSG_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Decode body[0..len) into m, and check the invariants:
 *  - err is set exactly when decoding fails;
 *  - vivo_msg_read of the same body framed by its length word, through a
 *    pipe, gives the same verdict and the same message;
 *  - a decoded message encodes (vivo_msg_encode), to a body of the same
 *    length, which decodes to an identical struct and encodes again to
 *    identical bytes.
 * Returns what vivo_msg_decode returned.
 */
int fuzz_msg_check(const uint8_t *body, size_t len, struct vivo_msg *m);

#endif
