/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proto.c - the module <-> helper messages: encoding, decoding and the
 * rejection of everything malformed, and whole-message I/O on a socketpair.
 */
#include "t.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- building raw bodies by hand ---------------------------------------- */

struct body {
	uint8_t b[8192];
	size_t n;
};

static void
b_start(struct body *b, uint8_t version, uint8_t type)
{
	b->n = 0;
	b->b[b->n++] = version;
	b->b[b->n++] = type;
}

static void
b_raw(struct body *b, const void *p, size_t len)
{
	memcpy(b->b + b->n, p, len);
	b->n += len;
}

static void
b_field(struct body *b, uint8_t tag, const void *p, size_t len)
{
	b->b[b->n++] = tag;
	b->b[b->n++] = (uint8_t)(len >> 8);
	b->b[b->n++] = (uint8_t)len;
	b_raw(b, p, len);
}

static void
b_str(struct body *b, uint8_t tag, const char *s)
{
	b_field(b, tag, s, strlen(s));
}

static void
b_u32(struct body *b, uint8_t tag, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };
	b_field(b, tag, x, 4);
}

/* A valid AUTH body: user, config, timeout, flags. */
static void
b_auth(struct body *b)
{
	b_start(b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
	b_str(b, VIVO_TAG_USER, "alice");
	b_str(b, VIVO_TAG_CONFIG, "");
	b_u32(b, VIVO_TAG_TIMEOUT, 0);
	b_u32(b, VIVO_TAG_FLAGS, VIVO_FLAG_REMOTE);
}

/* A valid RESULT body with only the required fields. */
static void
b_result(struct body *b, uint32_t result)
{
	b_start(b, VIVO_PROTO_VERSION, VIVO_MSG_RESULT);
	b_u32(b, VIVO_TAG_RESULT, result);
	b_str(b, VIVO_TAG_REASON, "why");
}

/*
 * Decode b with its last byte at the end of a page followed by an
 * inaccessible page: a decoder reading past the body crashes the test.
 */
static int
decode(const struct body *b, struct vivo_msg *m, const char **err)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (b->n + pg - 1) / pg * pg + pg;
	uint8_t *p, *start;
	int r;

	*err = NULL;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + span - pg, pg, PROT_NONE) != 0) {
		printf("  mmap/mprotect failed\n");
		return -99;
	}
	start = p + span - pg - b->n;
	memcpy(start, b->b, b->n);
	r = vivo_msg_decode(start, b->n, m, err);
	munmap(p, span);
	return r;
}

/* Decoding must fail with an error message. */
static int
rejected(const struct body *b)
{
	struct vivo_msg m;
	const char *err = NULL;
	int r = decode(b, &m, &err);

	return r == -1 && err != NULL && err[0] != '\0';
}

static int
accepted(const struct body *b)
{
	struct vivo_msg m;
	const char *err = NULL;

	return decode(b, &m, &err) == 0;
}

/* Encode m, check the length word, decode the body into out. */
static int
round_trip(const struct vivo_msg *m, struct vivo_msg *out)
{
	uint8_t buf[4 + VIVO_MSG_MAX];
	size_t len = 0;
	const char *err = NULL;
	uint32_t word;

	if (vivo_msg_encode(m, buf, sizeof(buf), &len) != 0 || len < 6)
		return -1;
	word = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	if (word != len - 4)
		return -1;
	return vivo_msg_decode(buf + 4, len - 4, out, &err);
}

/* ---- round trips -------------------------------------------------------- */

static void
auth_round_trip(void)
{
	struct vivo_msg m, d;

	vivo_msg_init(&m, VIVO_MSG_AUTH);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_USER, "alice") == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_CONFIG, "/etc/x.conf") == 0);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 600);
	vivo_msg_set_u32(
	    &m, VIVO_TAG_FLAGS, VIVO_FLAG_DEBUG | VIVO_FLAG_REMOTE);
	memset(&d, 0x5a, sizeof(d));
	T_CHECK(round_trip(&m, &d) == 0);
	T_CHECK(d.type == VIVO_MSG_AUTH);
	T_CHECK(strcmp(d.user, "alice") == 0);
	T_CHECK(strcmp(d.config, "/etc/x.conf") == 0);
	T_CHECK(d.timeout == 600);
	T_CHECK(d.flags == (VIVO_FLAG_DEBUG | VIVO_FLAG_REMOTE));
	T_CHECK(d.present == m.present);
	T_CHECK(!vivo_msg_has(&d, VIVO_TAG_TEXT));
}

static void
auth_empty_config_is_present(void)
{
	struct vivo_msg m, d;

	vivo_msg_init(&m, VIVO_MSG_AUTH);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_USER, "bob") == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_CONFIG, "") == 0);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 0);
	vivo_msg_set_u32(&m, VIVO_TAG_FLAGS, 0);
	T_CHECK(round_trip(&m, &d) == 0);
	T_CHECK(vivo_msg_has(&d, VIVO_TAG_CONFIG));
	T_CHECK(d.config[0] == '\0');
	T_CHECK(d.flags == 0 && d.timeout == 0);
}

static void
auth_wire_bytes(void)
{
	/* The exact encoding of proto.h: length word, version, type, then
	 * tag/len16/bytes fields; integers big-endian. */
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x1b,                    /* length 27 */
		0x01, 0x01,                                /* version 1, AUTH */
		0x01, 0x00, 0x05, 'a', 'l', 'i', 'c', 'e', /* user */
		0x02, 0x00, 0x00,                          /* config "" */
		0x03, 0x00, 0x04, 0x00, 0x00, 0x01, 0x2c,  /* timeout 300 */
		0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,  /* flags REMOTE */
	};
	struct vivo_msg m;
	uint8_t buf[128];
	size_t len = 0;

	vivo_msg_init(&m, VIVO_MSG_AUTH);
	vivo_msg_set_str(&m, VIVO_TAG_USER, "alice");
	vivo_msg_set_str(&m, VIVO_TAG_CONFIG, "");
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 300);
	vivo_msg_set_u32(&m, VIVO_TAG_FLAGS, VIVO_FLAG_REMOTE);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == 0);
	T_CHECK(len == sizeof(want));
	T_CHECK(len == sizeof(want) && memcmp(buf, want, len) == 0);
}

static void
wait_round_trip(void)
{
	struct vivo_msg m, d;

	vivo_msg_init(&m, VIVO_MSG_WAIT);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 15);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_TEXT,
		    "Tap your implant (15 s) \xe2\x9c\x8b") == 0);
	T_CHECK(round_trip(&m, &d) == 0);
	T_CHECK(d.type == VIVO_MSG_WAIT);
	T_CHECK(d.timeout == 15);
	T_CHECK(strcmp(d.text, "Tap your implant (15 s) \xe2\x9c\x8b") == 0);
}

static void
result_round_trip_full(void)
{
	struct vivo_msg m, d;

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_OK);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_TEXT, "Welcome") == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_REASON, "uid matched") == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_LABEL, "Left hand") == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_METHOD, "uid") == 0);
	T_CHECK(round_trip(&m, &d) == 0);
	T_CHECK(d.type == VIVO_MSG_RESULT);
	T_CHECK(d.result == VIVO_R_OK);
	T_CHECK(vivo_msg_has(&d, VIVO_TAG_RESULT));
	T_CHECK(strcmp(d.text, "Welcome") == 0);
	T_CHECK(strcmp(d.reason, "uid matched") == 0);
	T_CHECK(strcmp(d.label, "Left hand") == 0);
	T_CHECK(strcmp(d.method, "uid") == 0);
}

static void
result_round_trip_minimal(void)
{
	struct vivo_msg m, d;

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_MAX);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_REASON, "boom") == 0);
	T_CHECK(round_trip(&m, &d) == 0);
	T_CHECK(d.result == VIVO_R_MAX);
	T_CHECK(strcmp(d.reason, "boom") == 0);
	T_CHECK(!vivo_msg_has(&d, VIVO_TAG_LABEL));
	T_CHECK(!vivo_msg_has(&d, VIVO_TAG_METHOD));
	T_CHECK(!vivo_msg_has(&d, VIVO_TAG_TEXT));
}

static void
longest_strings_round_trip(void)
{
	struct vivo_msg m, d;
	char user[VIVO_PATH_MAX], text[VIVO_TEXT_MAX], meth[32];

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	memset(text, 't', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memset(meth, 'm', sizeof(meth) - 1);
	meth[sizeof(meth) - 1] = '\0';

	vivo_msg_init(&m, VIVO_MSG_AUTH);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_USER, user) == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_CONFIG, user) == 0);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 0xffffffffu);
	vivo_msg_set_u32(&m, VIVO_TAG_FLAGS, 0);
	T_CHECK(round_trip(&m, &d) == 0);
	T_CHECK(strcmp(d.user, user) == 0 && strcmp(d.config, user) == 0);
	T_CHECK(d.timeout == 0xffffffffu);

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_AUTH_FAILED);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_TEXT, text) == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_REASON, text) == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_LABEL, text) == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_METHOD, meth) == 0);
	T_CHECK(round_trip(&m, &d) == 0);
	T_CHECK(strcmp(d.text, text) == 0 && strcmp(d.reason, text) == 0 &&
	    strcmp(d.label, text) == 0 && strcmp(d.method, meth) == 0);
}

static void
set_str_refuses_too_long_and_wrong_tag(void)
{
	struct vivo_msg m;
	char meth[33];

	memset(meth, 'm', 32);
	meth[32] = '\0';
	vivo_msg_init(&m, VIVO_MSG_RESULT);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_METHOD, meth) == -1);
	T_CHECK(!vivo_msg_has(&m, VIVO_TAG_METHOD));
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_RESULT, "0") == -1);
	T_CHECK(!vivo_msg_has(&m, VIVO_TAG_RESULT));
}

/* ---- the decoder rejects ------------------------------------------------ */

static void
decode_accepts_the_valid_bases(void)
{
	struct body b;
	struct vivo_msg m;
	const char *err;

	/* the bases the rejection tests mutate are themselves valid */
	b_auth(&b);
	T_CHECK(decode(&b, &m, &err) == 0);
	T_CHECK(strcmp(m.user, "alice") == 0 && m.flags == VIVO_FLAG_REMOTE);
	b_result(&b, VIVO_R_NO_ENROLLMENT);
	T_CHECK(decode(&b, &m, &err) == 0);
	T_CHECK(m.result == VIVO_R_NO_ENROLLMENT);
	/* fields in another order are fine */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_WAIT);
	b_str(&b, VIVO_TAG_TEXT, "tap");
	b_u32(&b, VIVO_TAG_TIMEOUT, 9);
	T_CHECK(decode(&b, &m, &err) == 0);
	T_CHECK(m.timeout == 9 && strcmp(m.text, "tap") == 0);
}

static void
decode_rejects_wrong_version(void)
{
	struct body b;

	b_auth(&b);
	b.b[0] = 0;
	T_CHECK(rejected(&b));
	b.b[0] = VIVO_PROTO_VERSION + 1;
	T_CHECK(rejected(&b));
	b.b[0] = 0xff;
	T_CHECK(rejected(&b));
}

static void
decode_rejects_unknown_type(void)
{
	struct body b;

	b_auth(&b);
	b.b[1] = 0;
	T_CHECK(rejected(&b));
	b.b[1] = 4;
	T_CHECK(rejected(&b));
	b.b[1] = 0xff;
	T_CHECK(rejected(&b));
	/* a type alone, no fields */
	b_start(&b, VIVO_PROTO_VERSION, 42);
	T_CHECK(rejected(&b));
}

static void
decode_rejects_unknown_tag(void)
{
	static const uint8_t tags[] = { 0, 10, 31, 32, 33, 200, 255 };

	for (size_t i = 0; i < VIVO_NELEM(tags); i++) {
		struct body b;
		b_result(&b, VIVO_R_OK);
		b_str(&b, tags[i], "x");
		T_CHECK(rejected(&b));
		/* an unknown integer-sized field as well */
		b_result(&b, VIVO_R_OK);
		b_u32(&b, tags[i], 1);
		T_CHECK(rejected(&b));
	}
}

static void
decode_rejects_tag_not_allowed_for_type(void)
{
	struct body b;

	/* AUTH must not carry a RESULT */
	b_auth(&b);
	b_u32(&b, VIVO_TAG_RESULT, VIVO_R_OK);
	T_CHECK(rejected(&b));
	/* WAIT must not carry a USER */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_WAIT);
	b_u32(&b, VIVO_TAG_TIMEOUT, 15);
	b_str(&b, VIVO_TAG_TEXT, "tap");
	b_str(&b, VIVO_TAG_USER, "root");
	T_CHECK(rejected(&b));
	/* RESULT must not carry FLAGS or a PIN (a USER it may: the user a
	 * hand-scan login found) */
	b_result(&b, VIVO_R_OK);
	b_u32(&b, VIVO_TAG_FLAGS, 0);
	T_CHECK(rejected(&b));
	b_result(&b, VIVO_R_OK);
	b_str(&b, VIVO_TAG_PIN, "1234");
	T_CHECK(rejected(&b));
	/* a login secret only with success */
	b_result(&b, VIVO_R_AUTH_FAILED);
	b_str(&b, VIVO_TAG_AUTHTOK, "secret");
	T_CHECK(rejected(&b));
	b_result(&b, VIVO_R_OK);
	b_str(&b, VIVO_TAG_AUTHTOK, "secret");
	T_CHECK(accepted(&b));
	/* AUTH must not carry an AUTHTOK, nor PIN_ASK a PIN */
	b_auth(&b);
	b_str(&b, VIVO_TAG_AUTHTOK, "secret");
	T_CHECK(rejected(&b));
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_PIN_ASK);
	b_str(&b, VIVO_TAG_TEXT, "PIN: ");
	b_str(&b, VIVO_TAG_PIN, "1234");
	T_CHECK(rejected(&b));
	/* AUTH must not carry a LABEL */
	b_auth(&b);
	b_str(&b, VIVO_TAG_LABEL, "x");
	T_CHECK(rejected(&b));
}

static void
decode_rejects_duplicate_tag(void)
{
	struct body b;

	b_auth(&b);
	b_str(&b, VIVO_TAG_USER, "root");
	T_CHECK(rejected(&b));
	b_result(&b, VIVO_R_AUTH_FAILED);
	b_u32(&b, VIVO_TAG_RESULT, VIVO_R_OK);
	T_CHECK(rejected(&b));
	/* the same value twice is still a duplicate */
	b_result(&b, VIVO_R_OK);
	b_str(&b, VIVO_TAG_REASON, "why");
	T_CHECK(rejected(&b));
}

static void
decode_rejects_missing_required_tag(void)
{
	struct body b;

	/* AUTH without FLAGS */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
	b_str(&b, VIVO_TAG_USER, "alice");
	b_str(&b, VIVO_TAG_CONFIG, "");
	b_u32(&b, VIVO_TAG_TIMEOUT, 0);
	T_CHECK(rejected(&b));
	/* AUTH without USER */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
	b_str(&b, VIVO_TAG_CONFIG, "");
	b_u32(&b, VIVO_TAG_TIMEOUT, 0);
	b_u32(&b, VIVO_TAG_FLAGS, 0);
	T_CHECK(rejected(&b));
	/* RESULT without REASON, and without RESULT */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_RESULT);
	b_u32(&b, VIVO_TAG_RESULT, VIVO_R_OK);
	T_CHECK(rejected(&b));
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_RESULT);
	b_str(&b, VIVO_TAG_REASON, "why");
	b_str(&b, VIVO_TAG_LABEL, "Left hand");
	b_str(&b, VIVO_TAG_METHOD, "uid");
	T_CHECK(rejected(&b));
	/* WAIT without TEXT */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_WAIT);
	b_u32(&b, VIVO_TAG_TIMEOUT, 15);
	T_CHECK(rejected(&b));
	/* a bare header */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_RESULT);
	T_CHECK(rejected(&b));
}

static void
decode_rejects_truncated_field_header(void)
{
	struct body b;

	b_result(&b, VIVO_R_OK);
	b.b[b.n++] = VIVO_TAG_TEXT; /* tag only */
	T_CHECK(rejected(&b));
	b_result(&b, VIVO_R_OK);
	b.b[b.n++] = VIVO_TAG_TEXT; /* tag + one length byte */
	b.b[b.n++] = 0;
	T_CHECK(rejected(&b));
}

static void
decode_rejects_truncated_field(void)
{
	struct body b;

	/* REASON claims 10 bytes, 3 follow */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_RESULT);
	b_u32(&b, VIVO_TAG_RESULT, VIVO_R_OK);
	b.b[b.n++] = VIVO_TAG_REASON;
	b.b[b.n++] = 0;
	b.b[b.n++] = 10;
	b_raw(&b, "why", 3);
	T_CHECK(rejected(&b));
	/* an integer cut short at the end */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_RESULT);
	b_str(&b, VIVO_TAG_REASON, "why");
	b.b[b.n++] = VIVO_TAG_RESULT;
	b.b[b.n++] = 0;
	b.b[b.n++] = 4;
	b_raw(&b, "\0\0", 2);
	T_CHECK(rejected(&b));
	/* a length of 0xffff */
	b_result(&b, VIVO_R_OK);
	b.b[b.n++] = VIVO_TAG_TEXT;
	b.b[b.n++] = 0xff;
	b.b[b.n++] = 0xff;
	b_raw(&b, "abc", 3);
	T_CHECK(rejected(&b));
}

static void
decode_rejects_field_longer_than_buffer(void)
{
	struct body b;
	char s[VIVO_PATH_MAX + 1];

	/* METHOD: 31 bytes fit (NUL makes 32), 32 do not */
	memset(s, 'm', 31);
	s[31] = '\0';
	b_result(&b, VIVO_R_OK);
	b_str(&b, VIVO_TAG_METHOD, s);
	T_CHECK(accepted(&b));
	s[31] = 'm';
	s[32] = '\0';
	b_result(&b, VIVO_R_OK);
	b_str(&b, VIVO_TAG_METHOD, s);
	T_CHECK(rejected(&b));
	/* USER: 1023 fit, 1024 do not */
	memset(s, 'u', VIVO_PATH_MAX - 1);
	s[VIVO_PATH_MAX - 1] = '\0';
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
	b_str(&b, VIVO_TAG_USER, s);
	b_str(&b, VIVO_TAG_CONFIG, "");
	b_u32(&b, VIVO_TAG_TIMEOUT, 0);
	b_u32(&b, VIVO_TAG_FLAGS, 0);
	T_CHECK(accepted(&b));
	s[VIVO_PATH_MAX - 1] = 'u';
	s[VIVO_PATH_MAX] = '\0';
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
	b_str(&b, VIVO_TAG_USER, s);
	b_str(&b, VIVO_TAG_CONFIG, "");
	b_u32(&b, VIVO_TAG_TIMEOUT, 0);
	b_u32(&b, VIVO_TAG_FLAGS, 0);
	T_CHECK(rejected(&b));
	/* TEXT: 512 bytes do not fit */
	memset(s, 't', VIVO_TEXT_MAX);
	s[VIVO_TEXT_MAX] = '\0';
	b_result(&b, VIVO_R_OK);
	b_str(&b, VIVO_TAG_TEXT, s);
	T_CHECK(rejected(&b));
}

static void
decode_rejects_nul_in_string(void)
{
	struct body b;

	/* "alice\0root": a C string would read as "alice" */
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
	b_field(&b, VIVO_TAG_USER, "alice\0root", 10);
	b_str(&b, VIVO_TAG_CONFIG, "");
	b_u32(&b, VIVO_TAG_TIMEOUT, 0);
	b_u32(&b, VIVO_TAG_FLAGS, 0);
	T_CHECK(rejected(&b));
	b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
	b_field(&b, VIVO_TAG_USER, "alice\0", 6);
	b_str(&b, VIVO_TAG_CONFIG, "");
	b_u32(&b, VIVO_TAG_TIMEOUT, 0);
	b_u32(&b, VIVO_TAG_FLAGS, 0);
	T_CHECK(rejected(&b));
	b_result(&b, VIVO_R_OK);
	b_field(&b, VIVO_TAG_LABEL, "\0", 1);
	T_CHECK(rejected(&b));
}

static void
decode_rejects_integer_not_4_bytes(void)
{
	static const size_t lens[] = { 0, 1, 3, 5, 8 };

	for (size_t i = 0; i < VIVO_NELEM(lens); i++) {
		struct body b;
		static const uint8_t zeros[8];
		b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_RESULT);
		b_field(&b, VIVO_TAG_RESULT, zeros, lens[i]);
		b_str(&b, VIVO_TAG_REASON, "why");
		T_CHECK(rejected(&b));
	}
}

static void
decode_rejects_unknown_result(void)
{
	struct body b;

	b_result(&b, VIVO_R_MAX);
	T_CHECK(accepted(&b));
	b_result(&b, VIVO_R_MAX + 1);
	T_CHECK(rejected(&b));
	b_result(&b, 0x80000000u);
	T_CHECK(rejected(&b));
	b_result(&b, 0xffffffffu);
	T_CHECK(rejected(&b));
}

static void
decode_rejects_unknown_flags(void)
{
	static const uint32_t bad[] = { 0x8, 0x10, 0x80000000u, 0xffffffffu,
		VIVO_FLAGS_KNOWN | 0x100 };

	for (size_t i = 0; i < VIVO_NELEM(bad); i++) {
		struct body b;
		b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
		b_str(&b, VIVO_TAG_USER, "alice");
		b_str(&b, VIVO_TAG_CONFIG, "");
		b_u32(&b, VIVO_TAG_TIMEOUT, 0);
		b_u32(&b, VIVO_TAG_FLAGS, bad[i]);
		T_CHECK(rejected(&b));
	}
	{
		struct body b;
		b_start(&b, VIVO_PROTO_VERSION, VIVO_MSG_AUTH);
		b_str(&b, VIVO_TAG_USER, "alice");
		b_str(&b, VIVO_TAG_CONFIG, "");
		b_u32(&b, VIVO_TAG_TIMEOUT, 0);
		b_u32(&b, VIVO_TAG_FLAGS, VIVO_FLAGS_KNOWN);
		T_CHECK(accepted(&b));
	}
}

static void
decode_rejects_bad_body_length(void)
{
	static uint8_t big[VIVO_MSG_MAX + 1];
	struct vivo_msg m;
	const char *err;

	big[0] = VIVO_PROTO_VERSION;
	big[1] = VIVO_MSG_RESULT;
	err = NULL;
	T_CHECK(vivo_msg_decode(big, 0, &m, &err) == -1 && err != NULL);
	err = NULL;
	T_CHECK(vivo_msg_decode(big, 1, &m, &err) == -1 && err != NULL);
	/* over VIVO_MSG_MAX: refused for its length, before looking inside */
	err = NULL;
	T_CHECK(vivo_msg_decode(big, VIVO_MSG_MAX + 1, &m, &err) == -1);
	T_CHECK(err != NULL && strstr(err, "length") != NULL);
}

static void
decode_rejects_trailing_garbage(void)
{
	struct body b;

	b_auth(&b);
	b.b[b.n++] = 0x00;
	T_CHECK(rejected(&b));
	b_auth(&b);
	b_raw(&b, "\x06\x00", 2);
	T_CHECK(rejected(&b));
	b_result(&b, VIVO_R_OK);
	b_raw(&b, "\xff\xff\xff\xff", 4);
	T_CHECK(rejected(&b));
}

/* ---- the encoder refuses ------------------------------------------------ */

static void
encode_refuses_field_not_allowed(void)
{
	struct vivo_msg m;
	uint8_t buf[4 + VIVO_MSG_MAX];
	size_t len = 0;

	vivo_msg_init(&m, VIVO_MSG_WAIT);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 15);
	vivo_msg_set_str(&m, VIVO_TAG_TEXT, "tap");
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_USER, "root") == 0);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);

	vivo_msg_init(&m, VIVO_MSG_AUTH);
	vivo_msg_set_str(&m, VIVO_TAG_USER, "alice");
	vivo_msg_set_str(&m, VIVO_TAG_CONFIG, "");
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 0);
	vivo_msg_set_u32(&m, VIVO_TAG_FLAGS, 0);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_OK);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);

	/* a present bit no tag has */
	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_OK);
	vivo_msg_set_str(&m, VIVO_TAG_REASON, "why");
	m.present |= 1u << 20;
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);
}

static void
encode_refuses_missing_required(void)
{
	struct vivo_msg m;
	uint8_t buf[4 + VIVO_MSG_MAX];
	size_t len = 0;

	vivo_msg_init(&m, VIVO_MSG_AUTH);
	vivo_msg_set_str(&m, VIVO_TAG_USER, "alice");
	vivo_msg_set_str(&m, VIVO_TAG_CONFIG, "");
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 0);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_OK);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);

	vivo_msg_init(&m, VIVO_MSG_WAIT);
	vivo_msg_set_str(&m, VIVO_TAG_TEXT, "tap");
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);
}

static void
encode_refuses_unknown_type_and_small_buffer(void)
{
	struct vivo_msg m;
	uint8_t buf[4 + VIVO_MSG_MAX];
	size_t len = 0;

	vivo_msg_init(&m, 9);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_OK);
	vivo_msg_set_str(&m, VIVO_TAG_REASON, "why");
	/* needs 4 + 2 + 7 + 6 = 19 bytes */
	T_CHECK(vivo_msg_encode(&m, buf, 18, &len) == -1);
	T_CHECK(vivo_msg_encode(&m, buf, 5, &len) == -1);
	T_CHECK(vivo_msg_encode(&m, buf, 19, &len) == 0);
	T_CHECK(len == 19);
}

/* ---- I/O on a socketpair ------------------------------------------------ */

static int
pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

static void
write_read_round_trip(void)
{
	int sv[2];
	struct vivo_msg a, w, r;
	const char *err = NULL;

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	vivo_msg_init(&a, VIVO_MSG_AUTH);
	vivo_msg_set_str(&a, VIVO_TAG_USER, "alice");
	vivo_msg_set_str(&a, VIVO_TAG_CONFIG, "");
	vivo_msg_set_u32(&a, VIVO_TAG_TIMEOUT, 7);
	vivo_msg_set_u32(&a, VIVO_TAG_FLAGS, VIVO_FLAG_DEBUG);
	vivo_msg_init(&w, VIVO_MSG_WAIT);
	vivo_msg_set_u32(&w, VIVO_TAG_TIMEOUT, 7);
	vivo_msg_set_str(&w, VIVO_TAG_TEXT, "tap");
	/* two messages back to back: each read takes exactly one */
	T_CHECK(vivo_msg_write(sv[0], &a, vivo_now_ms() + 2000) == 0);
	T_CHECK(vivo_msg_write(sv[0], &w, -1) == 0);
	T_CHECK(vivo_msg_read(sv[1], &r, vivo_now_ms() + 2000, &err) == 0);
	T_CHECK(r.type == VIVO_MSG_AUTH && strcmp(r.user, "alice") == 0 &&
	    r.timeout == 7 && r.flags == VIVO_FLAG_DEBUG);
	T_CHECK(vivo_msg_read(sv[1], &r, -1, &err) == 0);
	T_CHECK(r.type == VIVO_MSG_WAIT && r.timeout == 7 &&
	    strcmp(r.text, "tap") == 0);
	close(sv[0]);
	close(sv[1]);
}

static void
write_refuses_invalid_message(void)
{
	int sv[2];
	struct vivo_msg m;
	char c;

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_OK); /* no REASON */
	T_CHECK(
	    vivo_msg_write(sv[0], &m, vivo_now_ms() + 1000) == VIVO_ERR_MSG_IO);
	/* nothing at all was sent */
	T_CHECK(recv(sv[1], &c, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

static void
read_rejects_oversized_length_word(void)
{
	static const uint32_t words[] = { VIVO_MSG_MAX + 1, 0x00100000u,
		0xffffffffu };

	for (size_t i = 0; i < VIVO_NELEM(words); i++) {
		int sv[2];
		struct vivo_msg m;
		const char *err = NULL;
		uint8_t hdr[4] = { (uint8_t)(words[i] >> 24),
			(uint8_t)(words[i] >> 16), (uint8_t)(words[i] >> 8),
			(uint8_t)words[i] };
		char rest[8] = { 0 };
		int64_t t0;

		if (pair(sv) != 0) {
			T_CHECK(!"socketpair");
			return;
		}
		T_CHECK(write(sv[0], hdr, 4) == 4);
		T_CHECK(write(sv[0], "\x01\x03XYZ", 5) == 5);
		t0 = vivo_now_ms();
		T_CHECK(vivo_msg_read(sv[1], &m, vivo_now_ms() + 3000, &err) ==
		    VIVO_ERR_MSG_IO);
		T_CHECK(err != NULL);
		T_CHECK(
		    vivo_now_ms() - t0 < 2000); /* did not wait for a body */
		/* the bytes after the length word were left unread */
		T_CHECK(recv(sv[1], rest, sizeof(rest), MSG_DONTWAIT) == 5);
		T_CHECK(memcmp(rest, "\x01\x03XYZ", 5) == 0);
		close(sv[0]);
		close(sv[1]);
	}
}

static void
read_rejects_short_length_word(void)
{
	for (uint8_t w = 0; w < 2; w++) {
		int sv[2];
		struct vivo_msg m;
		const char *err = NULL;
		uint8_t hdr[6] = { 0, 0, 0, w, VIVO_PROTO_VERSION,
			VIVO_MSG_WAIT };

		if (pair(sv) != 0) {
			T_CHECK(!"socketpair");
			return;
		}
		T_CHECK(write(sv[0], hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
		T_CHECK(vivo_msg_read(sv[1], &m, vivo_now_ms() + 1000, &err) ==
		    VIVO_ERR_MSG_IO);
		T_CHECK(err != NULL);
		close(sv[0]);
		close(sv[1]);
	}
}

static void
read_peer_closes_mid_message(void)
{
	int sv[2];
	struct vivo_msg m;
	const char *err = NULL;
	/* says 26 bytes follow, sends 6, then hangs up */
	static const uint8_t part[] = { 0, 0, 0, 26, 1, 1, 1, 0, 5, 'a' };
	int64_t t0;

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	T_CHECK(write(sv[0], part, sizeof(part)) == (ssize_t)sizeof(part));
	close(sv[0]);
	t0 = vivo_now_ms();
	T_CHECK(vivo_msg_read(sv[1], &m, t0 + 5000, &err) == VIVO_ERR_MSG_IO);
	T_CHECK(err != NULL);
	T_CHECK(vivo_now_ms() - t0 < 2000);
	close(sv[1]);
}

static void
read_peer_closes_mid_length_word(void)
{
	int sv[2];
	struct vivo_msg m;
	const char *err = NULL;
	int64_t t0;

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	T_CHECK(write(sv[0], "\0\0", 2) == 2);
	close(sv[0]);
	t0 = vivo_now_ms();
	T_CHECK(vivo_msg_read(sv[1], &m, -1, &err) ==
	    VIVO_ERR_MSG_IO); /* no deadline */
	T_CHECK(vivo_now_ms() - t0 < 2000);
	close(sv[1]);

	/* and a peer that closes before sending anything */
	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	close(sv[0]);
	T_CHECK(vivo_msg_read(sv[1], &m, -1, &err) == VIVO_ERR_MSG_IO);
	close(sv[1]);
}

static void
read_deadline_passes(void)
{
	int sv[2];
	struct vivo_msg m;
	const char *err = NULL;
	int64_t t0, dt;

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	t0 = vivo_now_ms();
	T_CHECK(
	    vivo_msg_read(sv[1], &m, t0 + 100, &err) == VIVO_ERR_MSG_DEADLINE);
	dt = vivo_now_ms() - t0;
	T_CHECK(dt >= 100);
	T_CHECK(dt < 2000);
	T_CHECK(err != NULL);

	/* a peer that stalls after half a message: also the deadline */
	T_CHECK(write(sv[0], "\0\0\0\x1a\x01\x01", 6) == 6);
	t0 = vivo_now_ms();
	T_CHECK(
	    vivo_msg_read(sv[1], &m, t0 + 100, &err) == VIVO_ERR_MSG_DEADLINE);
	T_CHECK(vivo_now_ms() - t0 < 2000);

	/* a deadline already in the past */
	T_CHECK(vivo_msg_read(sv[1], &m, vivo_now_ms() - 1, &err) ==
	    VIVO_ERR_MSG_DEADLINE);
	close(sv[0]);
	close(sv[1]);
}

static void
write_deadline_passes_when_peer_does_not_read(void)
{
	int sv[2], sz = 4096;
	struct vivo_msg m;
	char junk[4096];
	int64_t t0;
	int fl;

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	/* fill the pipe until a write would block */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fl = fcntl(sv[0], F_GETFL);
	fcntl(sv[0], F_SETFL, fl | O_NONBLOCK);
	memset(junk, 'j', sizeof(junk));
	while (write(sv[0], junk, sizeof(junk)) > 0)
		;
	while (write(sv[0], junk, 1) > 0)
		;
	fcntl(sv[0], F_SETFL, fl);

	vivo_msg_init(&m, VIVO_MSG_WAIT);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 15);
	vivo_msg_set_str(&m, VIVO_TAG_TEXT, "tap");
	t0 = vivo_now_ms();
	T_CHECK(vivo_msg_write(sv[0], &m, t0 + 100) == VIVO_ERR_MSG_DEADLINE);
	T_CHECK(vivo_now_ms() - t0 < 2000);
	close(sv[0]);
	close(sv[1]);
}

static void
write_to_closed_peer_fails_without_sigpipe(void)
{
	int sv[2];
	struct vivo_msg m;

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	close(sv[1]);
	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_OK);
	vivo_msg_set_str(&m, VIVO_TAG_REASON, "why");
	/* SIGPIPE is not ignored here: a plain write would kill the test */
	T_CHECK(
	    vivo_msg_write(sv[0], &m, vivo_now_ms() + 1000) == VIVO_ERR_MSG_IO);
	close(sv[0]);
}

static void
read_rejects_garbage_body(void)
{
	int sv[2];
	struct vivo_msg m;
	const char *err = NULL;
	/* a well-framed body with protocol version 2 */
	static const uint8_t msg[] = { 0, 0, 0, 9, 2, 3, 5, 0, 4, 0, 0, 0, 0 };

	if (pair(sv) != 0) {
		T_CHECK(!"socketpair");
		return;
	}
	T_CHECK(write(sv[0], msg, sizeof(msg)) == (ssize_t)sizeof(msg));
	T_CHECK(vivo_msg_read(sv[1], &m, vivo_now_ms() + 1000, &err) ==
	    VIVO_ERR_MSG_IO);
	T_CHECK(err != NULL);
	close(sv[0]);
	close(sv[1]);
}

/* The encoder never produces what the decoder refuses. */
static void
encode_refuses_unknown_result_and_flags(void)
{
	struct vivo_msg m;
	uint8_t buf[4 + VIVO_MSG_MAX];
	size_t len;

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_MAX + 1);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_REASON, "x") == 0);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);
	vivo_msg_init(&m, VIVO_MSG_AUTH);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_USER, "alice") == 0);
	T_CHECK(vivo_msg_set_str(&m, VIVO_TAG_CONFIG, "") == 0);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, 1);
	vivo_msg_set_u32(&m, VIVO_TAG_FLAGS, 0x80);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == -1);
	vivo_msg_set_u32(&m, VIVO_TAG_FLAGS, VIVO_FLAG_DEBUG);
	T_CHECK(vivo_msg_encode(&m, buf, sizeof(buf), &len) == 0);
}

T_MAIN("proto", T_CASE(auth_round_trip), T_CASE(auth_empty_config_is_present),
    T_CASE(auth_wire_bytes), T_CASE(wait_round_trip),
    T_CASE(result_round_trip_full), T_CASE(result_round_trip_minimal),
    T_CASE(longest_strings_round_trip),
    T_CASE(set_str_refuses_too_long_and_wrong_tag),
    T_CASE(decode_accepts_the_valid_bases),
    T_CASE(decode_rejects_wrong_version), T_CASE(decode_rejects_unknown_type),
    T_CASE(decode_rejects_unknown_tag),
    T_CASE(decode_rejects_tag_not_allowed_for_type),
    T_CASE(decode_rejects_duplicate_tag),
    T_CASE(decode_rejects_missing_required_tag),
    T_CASE(decode_rejects_truncated_field_header),
    T_CASE(decode_rejects_truncated_field),
    T_CASE(decode_rejects_field_longer_than_buffer),
    T_CASE(decode_rejects_nul_in_string),
    T_CASE(decode_rejects_integer_not_4_bytes),
    T_CASE(decode_rejects_unknown_result), T_CASE(decode_rejects_unknown_flags),
    T_CASE(decode_rejects_bad_body_length),
    T_CASE(decode_rejects_trailing_garbage),
    T_CASE(encode_refuses_field_not_allowed),
    T_CASE(encode_refuses_missing_required),
    T_CASE(encode_refuses_unknown_type_and_small_buffer),
    T_CASE(write_read_round_trip), T_CASE(write_refuses_invalid_message),
    T_CASE(read_rejects_oversized_length_word),
    T_CASE(read_rejects_short_length_word),
    T_CASE(read_peer_closes_mid_message),
    T_CASE(read_peer_closes_mid_length_word), T_CASE(read_deadline_passes),
    T_CASE(write_deadline_passes_when_peer_does_not_read),
    T_CASE(write_to_closed_peer_fails_without_sigpipe),
    T_CASE(read_rejects_garbage_body),
    T_CASE(encode_refuses_unknown_result_and_flags))
