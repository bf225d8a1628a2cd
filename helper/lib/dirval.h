/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dirval.h - one enrollment as one line of text: what `vivo-enroll export`
 * prints and what the directory holds, one attribute value per enrollment
 * (docs/enrollment-format.md, "The one-line form"). Two forms are read:
 *
 *   vivo1 label=... method=fido2 created=... fido2.rpid=... ...
 *       the fields of an enrollment file's entry, one `key=value` each,
 *       the method's own as `method.key`; values percent-encoded (every
 *       byte but A-Z a-z 0-9 and "-._~:/+" is %XX); no counter (counters
 *       are each machine's own);
 *   passkey:<credential id>,<public key>[,<user handle>]
 *       the mapping FreeIPA and SSSD keep in ipaPassKey: standard base64
 *       of the credential id and of the public key's DER SubjectPublicKey
 *       Info (P-256 or Ed25519); read as a fido2 entry for the config's rp
 *       id and require_pin, labelled "passkey-" and 8 hex digits of the
 *       credential id's SHA-256.
 */
#ifndef VIVO_DIRVAL_H
#define VIVO_DIRVAL_H

#include "config.h"
#include "store.h"

#include <stddef.h>

#define VIVO_DIRVAL_MAX 4096 /* longest value read, bytes */
#define VIVO_DIRVAL_PREFIX "vivo1 "
#define VIVO_PASSKEY_PREFIX "passkey:"

/* The entry as one line (no newline); *line is malloc'd. 0 / -1. */
int vivo_dirval_format(const struct vivo_entry *e, char **line);

/*
 * Parse one value into e (counter 0). `c` gives a passkey its rp id and
 * require_pin, and says which methods may come from a directory: fido2
 * and u2f; uid only with directory.allow_uid; hmac never. 0, or -1 with
 * why (a value to refuse, with the reason to log).
 */
int vivo_dirval_parse(const struct vivo_config *c, const char *value,
    struct vivo_entry *e, char *why, size_t whysz);

/* A short key for a directory entry's local state (its counter): hex of
 * SHA-256(method name ‖ 0 ‖ credential id or key handle), first 32 digits
 * (out[33]). 0 / -1. */
int vivo_dirval_key(const struct vivo_entry *e, char out[33]);

#endif
