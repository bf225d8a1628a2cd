/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_msg.c - see fuzz_msg.h.
 */
#include "fuzz_msg.h"

#include "fuzz.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* vivo_msg_read over a pipe holding length word ‖ body: its answer, or
 * NOT_TRIED when the frame does not fit. */
#define NOT_TRIED 1
static int
read_framed(const uint8_t *body, size_t len, struct vivo_msg *m)
{
	static uint8_t frame[4 + VIVO_MSG_MAX + 64];
	const char *err = NULL;
	int fds[2], r;

	if (len > sizeof(frame) - 4)
		return NOT_TRIED;
	frame[0] = (uint8_t)(len >> 24);
	frame[1] = (uint8_t)(len >> 16);
	frame[2] = (uint8_t)(len >> 8);
	frame[3] = (uint8_t)len;
	if (len > 0)
		memcpy(frame + 4, body, len);
	/* a pipe holds 64 KiB: the write cannot block */
	FUZZ_CHECK(pipe2(fds, O_CLOEXEC) == 0);
	FUZZ_CHECK(write(fds[1], frame, 4 + len) == (ssize_t)(4 + len));
	close(fds[1]);
	r = vivo_msg_read(fds[0], m, -1, &err);
	close(fds[0]);
	FUZZ_CHECK((r == 0) == (err == NULL));
	return r;
}

int
fuzz_msg_check(const uint8_t *body, size_t len, struct vivo_msg *m)
{
	static uint8_t enc[4 + VIVO_MSG_MAX], enc2[4 + VIVO_MSG_MAX];
	static struct vivo_msg framed, again;
	const char *err = (const char *)1;
	size_t elen = 0, elen2 = 0;
	int r, rf;

	r = vivo_msg_decode(body, len, m, &err);
	fuzz_note("decode: %d (%s), type %u", r, err ? err : "ok", m->type);
	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(r == 0 ? err == NULL : err != NULL && err[0] != '\0');

	rf = read_framed(body, len, &framed);
	if (rf != NOT_TRIED) {
		FUZZ_CHECK(rf == (r == 0 ? VIVO_OK : VIVO_ERR_MSG_IO));
		if (r == 0)
			FUZZ_CHECK(memcmp(&framed, m, sizeof(*m)) == 0);
	}
	if (r != 0)
		return r;

	/* what was read can be said again, identically */
	FUZZ_CHECK(vivo_msg_encode(m, enc, sizeof(enc), &elen) == 0);
	FUZZ_CHECK(elen >= 6 && elen <= sizeof(enc));
	FUZZ_CHECK(be32(enc) == elen - 4);
	FUZZ_CHECK(elen - 4 == len); /* same fields, same sizes */
	FUZZ_CHECK(enc[4] == VIVO_PROTO_VERSION && enc[5] == m->type);
	FUZZ_CHECK(vivo_msg_decode(enc + 4, elen - 4, &again, &err) == 0);
	FUZZ_CHECK(memcmp(&again, m, sizeof(*m)) == 0);
	FUZZ_CHECK(vivo_msg_encode(&again, enc2, sizeof(enc2), &elen2) == 0);
	FUZZ_CHECK(elen2 == elen && memcmp(enc2, enc, elen) == 0);
	return r;
}
