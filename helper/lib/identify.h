/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identify.h - hand-scan login: from what a tapped chip shows (its fixed
 * UID, the credential id of a discoverable fido2 credential) to the user
 * it was enrolled for, in constant time whatever the number of users.
 *
 * The index lives in the system store, root's alone:
 *     <store>/.identify/            0700
 *     <store>/.identify/.key        32 random bytes, 0600
 *     <store>/.identify/<name>      0600, one line "user<TAB>label" per
 *                                   enrollment that shows this hint
 * where <name> = hex(HMAC-SHA256(key, kind ‖ hint)): without the key a
 * file name says nothing about the UID or credential behind it. Finding
 * the user is one HMAC and one open(); the user is then proved exactly as
 * a named login proves it (auth.c). vivo-enroll add (as root) writes the
 * index, remove cleans it. Format: docs/enrollment-format.md.
 */
#ifndef VIVO_IDENTIFY_H
#define VIVO_IDENTIFY_H

#include "config.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_IDENTIFY_DIR ".identify"
#define VIVO_IDENTIFY_KEY_LEN 32
#define VIVO_IDENTIFY_FILE_MAX (16 * 1024) /* one hint's file */
#define VIVO_IDENTIFY_USERS_MAX 8          /* users one lookup reports */

enum vivo_hint_kind {
	VIVO_HINT_UID = 1,   /* a UID that is not random */
	VIVO_HINT_FIDO2 = 2, /* a discoverable credential's id */
};

/* The users a hint was enrolled for (distinct, at most `cap`; *n may
 * exceed cap: then there are more). 0 (with *n = 0 when there is no index
 * or no entry), or VIVO_ERR_FILE_* with why (unsafe index: never read as
 * "nobody"). */
int vivo_identify_lookup(const struct vivo_config *c, int kind,
    const uint8_t *hint, size_t len, char (*users)[VIVO_USER_MAX + 1],
    size_t cap, size_t *n, char *why, size_t whysz);

/* Record that `user`'s enrollment `label` shows this hint (root; creates
 * the directory and key on first use; under the index's lock; written
 * atomically). 0 / -1 with why. */
int
vivo_identify_add(const struct vivo_config *c, int kind, const uint8_t *hint,
    size_t len, const char *user, const char *label, char *why, size_t whysz);

/* Forget every hint of `user`'s enrollment `label` (root). 0 / -1. */
int vivo_identify_remove(const struct vivo_config *c, const char *user,
    const char *label, char *why, size_t whysz);

#endif
