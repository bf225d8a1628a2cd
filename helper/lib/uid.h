/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uid.h - the `uid` method: read a chip's UID (PC/SC part 3 GET DATA) and
 * check it against salted PBKDF2-HMAC-SHA256 hashes. A UID identifies a
 * chip; it proves nothing cryptographically and can be cloned.
 */
#ifndef VIVO_UID_H
#define VIVO_UID_H

#include "card.h"
#include "store.h"

#define VIVO_UID_MAX 10
#define VIVO_UID_ITER_DEFAULT 100000

/* Send FF CA 00 00 00 (retrying with the length a 6C xx names). 0 with
 * 4..10 bytes, or VIVO_ERR_CARD_*. */
int vivo_uid_read(
    const struct vivo_transport *t, uint8_t uid[VIVO_UID_MAX], size_t *len);

/* 4 bytes starting 08: a random ID, new at every power-up. */
int vivo_uid_is_random(const uint8_t *uid, size_t len);

/* Fill d with a fresh salt, `iterations` and the hash of uid. 0 / -1. */
int vivo_uid_enroll(const uint8_t *uid, size_t len, uint32_t iterations,
    struct vivo_uid_data *d);

/* 1 if uid matches d (constant-time compare), 0 if not, -1 on error. */
int
vivo_uid_match(const uint8_t *uid, size_t len, const struct vivo_uid_data *d);

#endif
