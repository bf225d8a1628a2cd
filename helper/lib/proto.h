/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.h - the module <-> helper messages (libc only; the module links it).
 *
 * On the wire, every message is
 *     u32 length (big-endian, of what follows; 2 .. VIVO_MSG_MAX)
 *     u8  version (VIVO_PROTO_VERSION)
 *     u8  type
 *     field*          field = u8 tag, u16 length (big-endian), bytes
 * Strings carry no NUL; integers are u32 big-endian. A reader rejects an
 * unknown version, type or tag, a duplicated tag, a missing required tag,
 * an oversized field and trailing bytes. See docs/helper-protocol.md.
 */
#ifndef VIVO_PROTO_H
#define VIVO_PROTO_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_PROTO_VERSION 1
#define VIVO_MSG_MAX 4096 /* largest body (after the length word) */

/* The module's bounds on the helper (pam_vivo.c STARTUP_MS and GRACE_MS,
 * which must equal these): from the request to the first WAIT or RESULT,
 * and after the tap timeout. The helper fits its directory lookup inside
 * them (vivo-helper.c). */
#define VIVO_STARTUP_MS 10000
#define VIVO_GRACE_MS 5000

enum vivo_msg_type {
	/* module -> helper: authenticate USER */
	VIVO_MSG_AUTH = 1,
	/* helper -> module: ready, waiting TIMEOUT s for a tap */
	VIVO_MSG_WAIT = 2,
	/* helper -> module: the answer; the helper then exits */
	VIVO_MSG_RESULT = 3,
	/* helper -> module, before WAIT: an enrollment of this user needs
	 * the implant's PIN: ask the person (TEXT is the prompt) */
	VIVO_MSG_PIN_ASK = 4,
	/* module -> helper: the answer to PIN_ASK ("" = none given) */
	VIVO_MSG_PIN = 5,
};

enum vivo_tag {
	VIVO_TAG_USER = 1,    /* string: the PAM user */
	VIVO_TAG_CONFIG = 2,  /* string: config path ("" = the default) */
	VIVO_TAG_TIMEOUT = 3, /* u32: seconds (AUTH: 0 = the config's) */
	VIVO_TAG_FLAGS = 4,   /* u32: VIVO_FLAG_* */
	VIVO_TAG_RESULT = 5,  /* u32: enum vivo_result */
	VIVO_TAG_TEXT = 6,    /* string: for the person at the reader */
	VIVO_TAG_REASON = 7,  /* string: for the log */
	VIVO_TAG_LABEL = 8,   /* string: implant label (RESULT, on success) */
	VIVO_TAG_METHOD = 9,  /* string: method name (RESULT, on success) */
	/* AUTH, optional: who asks, from the PAM items, so that a person
	 * seeing two requests wait for one tap can tell which is which */
	VIVO_TAG_SERVICE = 10, /* string: PAM_SERVICE */
	VIVO_TAG_TTY = 11,     /* string: PAM_TTY */
	VIVO_TAG_RUSER = 12,   /* string: PAM_RUSER */
	VIVO_TAG_PIN = 13,     /* string: the implant's PIN (PIN only);
	                          wiped wherever it was held */
	VIVO_TAG_AUTHTOK = 14, /* string: the released login secret (RESULT
	                          ok, authtok = true); wiped likewise */
};

#define VIVO_FLAG_DEBUG 0x1u  /* log the helper's steps */
#define VIVO_FLAG_REMOTE 0x2u /* the PAM request carries PAM_RHOST */
/* no PAM_USER: find the user from the implant (USER is "") */
#define VIVO_FLAG_IDENTIFY 0x4u
#define VIVO_FLAGS_KNOWN                                                       \
	(VIVO_FLAG_DEBUG | VIVO_FLAG_REMOTE | VIVO_FLAG_IDENTIFY)

/* What the helper concluded; the module maps it to a PAM code (the one
 * table, pam_vivo/pam_vivo.c). */
enum vivo_result {
	VIVO_R_OK = 0,            /* a check just succeeded, state is durable */
	VIVO_R_NO_ENROLLMENT = 1, /* the user has no usable enrollment */
	VIVO_R_UNAVAILABLE = 2,   /* no reader/pcscd/tap, remote declined */
	VIVO_R_AUTH_FAILED = 3, /* a chip was presented and did not prove it */
	VIVO_R_UNSAFE = 4,      /* enrollment unsafe, unreadable or corrupt */
	VIVO_R_CONFIG = 5,      /* configuration invalid or unsafe */
	VIVO_R_INTERNAL = 6,    /* anything else that went wrong */
	/* IDENTIFY asked, and this service may not identify: ask the name */
	VIVO_R_NO_IDENTIFY = 7,
	VIVO_R_MAX = VIVO_R_NO_IDENTIFY
};

#define VIVO_PATH_MAX 1024
#define VIVO_TEXT_MAX 512

/* A decoded message; which fields are meaningful depends on `type`. */
struct vivo_msg {
	uint8_t type;
	uint32_t present;         /* bit (1 << tag) per field seen */
	char user[VIVO_PATH_MAX]; /* longer than any valid user: the
	                                     module validates, the helper too */
	char config[VIVO_PATH_MAX];
	uint32_t timeout;
	uint32_t flags;
	uint32_t result;
	char text[VIVO_TEXT_MAX];
	char reason[VIVO_TEXT_MAX];
	char label[VIVO_TEXT_MAX];
	char method[32];
	char service[64];
	char tty[64];
	char ruser[64];
	char pin[64];      /* VIVO_FIDO2_PIN_MAX + 1 */
	char authtok[512]; /* VIVO_AUTHTOK_MAX + 1 */
};

/* Encode `m` (its `present` bits say which fields) into buf, with the
 * length word. 0 / -1 (does not fit, or a field is not allowed for type). */
int vivo_msg_encode(
    const struct vivo_msg *m, uint8_t *buf, size_t cap, size_t *len);

/* Decode a body (the bytes after the length word). 0 / -1 with `err` set. */
int vivo_msg_decode(
    const uint8_t *body, size_t len, struct vivo_msg *m, const char **err);

/* Helpers to fill a message. */
void vivo_msg_init(struct vivo_msg *m, uint8_t type);
int vivo_msg_set_str(struct vivo_msg *m, enum vivo_tag tag, const char *s);
void vivo_msg_set_u32(struct vivo_msg *m, enum vivo_tag tag, uint32_t v);
int vivo_msg_has(const struct vivo_msg *m, enum vivo_tag tag);

/* Blocking I/O of one whole message on fd, bounded by an absolute
 * monotonic deadline in ms (vivo_now_ms()); -1 deadline = no bound.
 * Return 0, VIVO_ERR_MSG_IO on error/EOF/garbage, VIVO_ERR_MSG_DEADLINE
 * when the deadline passed. */
int vivo_msg_write(int fd, const struct vivo_msg *m, int64_t deadline);
int
vivo_msg_read(int fd, struct vivo_msg *m, int64_t deadline, const char **err);

const char *vivo_result_str(uint32_t r);

#endif
