/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.h - small helpers shared by the module, the helper and the tool:
 * wiping, hex, username and label validation, log escaping.  libc only (the
 * module links it).
 */
#ifndef VIVO_UTIL_H
#define VIVO_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Wipe an array (not a pointer): refuses to compile when given a pointer. */
#define VIVO_WIPE_ARRAY(a)                                                     \
	do {                                                                   \
		_Static_assert(!__builtin_types_compatible_p(                  \
				   __typeof__(a), __typeof__(&(a)[0])),        \
		    "VIVO_WIPE_ARRAY needs an array");                         \
		explicit_bzero((a), sizeof(a));                                \
	} while (0)

#define VIVO_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define VIVO_USER_MAX 64  /* longest accepted user name, bytes */
#define VIVO_LABEL_MAX 64 /* longest accepted implant label, bytes */

/* 1 if `user` is safe to become a path component: 1..VIVO_USER_MAX bytes,
 * no '/', no control bytes, no leading '-', '+' or '.'. */
int vivo_user_valid(const char *user);

/* 1 if `label` is 1..VIVO_LABEL_MAX bytes of valid UTF-8 without control
 * characters (C0, DEL, C1) and without the Unicode bidi controls (U+061C,
 * U+200E, U+200F, U+202A..U+202E, U+2066..U+2069). */
int vivo_label_valid(const char *label);

/* Lower-case hex of `len` bytes into `out` (needs 2*len+1). 0 / -1. */
int vivo_hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz);

/* The value of one hex digit (either case), or -1. */
int vivo_hex_digit(char c);

/* Decode exactly strlen(hex)/2 bytes; -1 on odd length, bad digit or
 * overflow of `cap`. */
int vivo_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *outlen);

/* Parse a decimal unsigned int in [min, max]; 0 / -1. */
int vivo_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

/* Monotonic milliseconds. */
int64_t vivo_now_ms(void);

/* snprintf into a message buffer (a reason, a text), truncating. */
void vivo_setf(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copy with truncation check: 0 if it fit, -1 otherwise (dst still
 * NUL-terminated). */
int vivo_strlcpy(char *dst, const char *src, size_t dstsz);

/* For a log field: copy `in` with every byte outside 0x20..0x7e, and `"`
 * and `\`, written as \xHH, so that a value (a label, a reason) cannot
 * end its field, add fields, break the line or carry bidi text. Always
 * NUL-terminated when outsz > 0; cut at a whole character or escape.
 * NULL is "". 0 if everything fit, -1 if cut (or outsz is 0). */
int vivo_log_escape(const char *in, char *out, size_t outsz);

/* The same, for an unquoted `key=value` field (the user name): space and
 * `=` are escaped too, so "alice" stays alice and "a result=X" cannot add
 * a field. */
int vivo_log_escape_word(const char *in, char *out, size_t outsz);

/* The same for a whole formatted line whose fields were escaped already:
 * `"` and `\` are kept as they are. */
int vivo_log_escape_ctl(const char *in, char *out, size_t outsz);

#endif
