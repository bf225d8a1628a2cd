/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.c - encode/decode the module <-> helper messages (see proto.h).
 */
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Which tags each type may carry, and which it must. */
static const struct {
	uint8_t type;
	uint32_t allowed, required;
} rules[] = {
	{ VIVO_MSG_AUTH,
	    1u << VIVO_TAG_USER | 1u << VIVO_TAG_CONFIG |
		1u << VIVO_TAG_TIMEOUT | 1u << VIVO_TAG_FLAGS |
		1u << VIVO_TAG_SERVICE | 1u << VIVO_TAG_TTY |
		1u << VIVO_TAG_RUSER,
	    1u << VIVO_TAG_USER | 1u << VIVO_TAG_CONFIG |
		1u << VIVO_TAG_TIMEOUT | 1u << VIVO_TAG_FLAGS },
	{ VIVO_MSG_WAIT, 1u << VIVO_TAG_TIMEOUT | 1u << VIVO_TAG_TEXT,
	    1u << VIVO_TAG_TIMEOUT | 1u << VIVO_TAG_TEXT },
	{ VIVO_MSG_RESULT,
	    1u << VIVO_TAG_RESULT | 1u << VIVO_TAG_TEXT |
		1u << VIVO_TAG_REASON | 1u << VIVO_TAG_LABEL |
		1u << VIVO_TAG_METHOD | 1u << VIVO_TAG_USER |
		1u << VIVO_TAG_AUTHTOK,
	    1u << VIVO_TAG_RESULT | 1u << VIVO_TAG_REASON },
	{ VIVO_MSG_PIN_ASK, 1u << VIVO_TAG_TEXT, 1u << VIVO_TAG_TEXT },
	{ VIVO_MSG_PIN, 1u << VIVO_TAG_PIN, 1u << VIVO_TAG_PIN },
};

static int
rule_for(uint8_t type, uint32_t *allowed, uint32_t *required)
{
	for (size_t i = 0; i < VIVO_NELEM(rules); i++) {
		if (rules[i].type == type) {
			*allowed = rules[i].allowed;
			*required = rules[i].required;
			return 0;
		}
	}
	return -1;
}

/* Where a string tag lives in the struct, and how big it is. */
static char *
str_field(struct vivo_msg *m, unsigned tag, size_t *cap)
{
	switch (tag) {
	case VIVO_TAG_USER: *cap = sizeof(m->user); return m->user;
	case VIVO_TAG_CONFIG: *cap = sizeof(m->config); return m->config;
	case VIVO_TAG_TEXT: *cap = sizeof(m->text); return m->text;
	case VIVO_TAG_REASON: *cap = sizeof(m->reason); return m->reason;
	case VIVO_TAG_LABEL: *cap = sizeof(m->label); return m->label;
	case VIVO_TAG_METHOD: *cap = sizeof(m->method); return m->method;
	case VIVO_TAG_SERVICE: *cap = sizeof(m->service); return m->service;
	case VIVO_TAG_TTY: *cap = sizeof(m->tty); return m->tty;
	case VIVO_TAG_RUSER: *cap = sizeof(m->ruser); return m->ruser;
	case VIVO_TAG_PIN: *cap = sizeof(m->pin); return m->pin;
	case VIVO_TAG_AUTHTOK: *cap = sizeof(m->authtok); return m->authtok;
	default: return NULL;
	}
}

static uint32_t *
u32_field(struct vivo_msg *m, unsigned tag)
{
	switch (tag) {
	case VIVO_TAG_TIMEOUT: return &m->timeout;
	case VIVO_TAG_FLAGS: return &m->flags;
	case VIVO_TAG_RESULT: return &m->result;
	default: return NULL;
	}
}

void
vivo_msg_init(struct vivo_msg *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
}

int
vivo_msg_set_str(struct vivo_msg *m, enum vivo_tag tag, const char *s)
{
	size_t cap;
	char *f = str_field(m, tag, &cap);

	if (f == NULL || vivo_strlcpy(f, s, cap) != 0)
		return -1;
	m->present |= 1u << tag;
	return 0;
}

void
vivo_msg_set_u32(struct vivo_msg *m, enum vivo_tag tag, uint32_t v)
{
	uint32_t *f = u32_field(m, tag);

	if (f != NULL) {
		*f = v;
		m->present |= 1u << tag;
	}
}

int
vivo_msg_has(const struct vivo_msg *m, enum vivo_tag tag)
{
	return (m->present & (1u << tag)) != 0;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
vivo_msg_encode(const struct vivo_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	struct vivo_msg *mm = (struct vivo_msg *)m; /* str_field is shared */
	uint32_t allowed, required;
	size_t off = 6;

	if (cap < 6 || rule_for(m->type, &allowed, &required) != 0 ||
	    (m->present & ~allowed) != 0 || (m->present & required) != required)
		return -1;
	/* never send what the reader would refuse */
	if ((vivo_msg_has(m, VIVO_TAG_AUTHTOK) &&
		(!vivo_msg_has(m, VIVO_TAG_RESULT) ||
		    m->result != VIVO_R_OK)) ||
	    (vivo_msg_has(m, VIVO_TAG_RESULT) && m->result > VIVO_R_MAX) ||
	    (vivo_msg_has(m, VIVO_TAG_FLAGS) && (m->flags & ~VIVO_FLAGS_KNOWN)))
		return -1;
	for (unsigned tag = 1; tag < 32; tag++) {
		const uint8_t *data;
		uint8_t num[4];
		size_t flen, scap;

		if ((m->present & (1u << tag)) == 0)
			continue;
		if ((data = (const uint8_t *)str_field(mm, tag, &scap)) != NULL)
			flen = strnlen((const char *)data, scap);
		else {
			put_u32(num, *u32_field(mm, tag));
			data = num;
			flen = 4;
		}
		if (flen > 0xffff || cap - off < 3 + flen)
			return -1;
		buf[off] = (uint8_t)tag;
		buf[off + 1] = (uint8_t)(flen >> 8);
		buf[off + 2] = (uint8_t)flen;
		memcpy(buf + off + 3, data, flen);
		off += 3 + flen;
	}
	if (off - 4 > VIVO_MSG_MAX)
		return -1;
	put_u32(buf, (uint32_t)(off - 4));
	buf[4] = VIVO_PROTO_VERSION;
	buf[5] = m->type;
	*len = off;
	return 0;
}

int
vivo_msg_decode(
    const uint8_t *body, size_t len, struct vivo_msg *m, const char **err)
{
	uint32_t allowed, required;
	size_t off = 2;

	*err = NULL;
	if (len < 2 || len > VIVO_MSG_MAX) {
		*err = "bad message length";
		return -1;
	}
	if (body[0] != VIVO_PROTO_VERSION) {
		*err = "unsupported protocol version";
		return -1;
	}
	vivo_msg_init(m, body[1]);
	if (rule_for(m->type, &allowed, &required) != 0) {
		*err = "unknown message type";
		return -1;
	}
	while (off < len) {
		unsigned tag;
		size_t flen, cap;
		char *s;
		uint32_t *u;

		if (len - off < 3) {
			*err = "truncated field header";
			return -1;
		}
		tag = body[off];
		flen = (size_t)body[off + 1] << 8 | body[off + 2];
		off += 3;
		if (flen > len - off) {
			*err = "truncated field";
			return -1;
		}
		if (tag >= 32 || (allowed & (1u << tag)) == 0) {
			*err = "field not allowed in this message";
			return -1;
		}
		if (m->present & (1u << tag)) {
			*err = "duplicate field";
			return -1;
		}
		if ((s = str_field(m, tag, &cap)) != NULL) {
			if (flen >= cap || memchr(body + off, '\0', flen)) {
				*err = "bad string field";
				return -1;
			}
			memcpy(s, body + off, flen);
			s[flen] = '\0';
		} else if ((u = u32_field(m, tag)) != NULL && flen == 4)
			*u = get_u32(body + off);
		else {
			*err = "bad integer field";
			return -1;
		}
		m->present |= 1u << tag;
		off += flen;
	}
	if ((m->present & required) != required) {
		*err = "missing field";
		return -1;
	}
	if (vivo_msg_has(m, VIVO_TAG_RESULT) && m->result > VIVO_R_MAX) {
		*err = "unknown result";
		return -1;
	}
	if (vivo_msg_has(m, VIVO_TAG_AUTHTOK) && m->result != VIVO_R_OK) {
		*err = "a login secret without success";
		return -1;
	}
	if (vivo_msg_has(m, VIVO_TAG_FLAGS) && (m->flags & ~VIVO_FLAGS_KNOWN)) {
		*err = "unknown flags";
		return -1;
	}
	return 0;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int ms = -1, r;
		if (deadline >= 0) {
			int64_t left = deadline - vivo_now_ms();
			if (left <= 0)
				return VIVO_ERR_MSG_DEADLINE;
			ms = left > 60000 ? 60000 : (int)left;
		}
		r = poll(&p, 1, ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return VIVO_ERR_MSG_IO;
	}
}

int
vivo_msg_write(int fd, const struct vivo_msg *m, int64_t deadline)
{
	uint8_t buf[4 + VIVO_MSG_MAX];
	size_t len, off = 0;
	int ok = VIVO_ERR_MSG_IO;

	if (vivo_msg_encode(m, buf, sizeof(buf), &len) != 0)
		goto out;
	while (off < len) {
		ssize_t w;
		int r = wait_fd(fd, POLLOUT, deadline);
		if (r != 0) {
			ok = r;
			goto out;
		}
		/* MSG_NOSIGNAL: a dead peer must not SIGPIPE the caller */
		w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, buf + off, len - off);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	ok = 0;
out:
	VIVO_WIPE_ARRAY(buf);
	return ok;
}

static int
read_full(int fd, uint8_t *p, size_t n, int64_t deadline)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r;
		int w = wait_fd(fd, POLLIN, deadline);
		if (w != 0)
			return w;
		r = read(fd, p + off, n - off);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return VIVO_ERR_MSG_IO;
		off += (size_t)r;
	}
	return 0;
}

int
vivo_msg_read(int fd, struct vivo_msg *m, int64_t deadline, const char **err)
{
	uint8_t hdr[4], body[VIVO_MSG_MAX];
	uint32_t len;
	int r;

	*err = NULL;
	if ((r = read_full(fd, hdr, sizeof(hdr), deadline)) != 0) {
		*err = r == VIVO_ERR_MSG_DEADLINE ? "timed out"
						  : "closed or failed";
		return r;
	}
	len = get_u32(hdr);
	if (len < 2 || len > VIVO_MSG_MAX) {
		*err = "bad message length";
		return VIVO_ERR_MSG_IO;
	}
	if ((r = read_full(fd, body, len, deadline)) != 0) {
		*err = r == VIVO_ERR_MSG_DEADLINE ? "timed out"
						  : "truncated message";
		goto out;
	}
	r = vivo_msg_decode(body, len, m, err) == 0 ? VIVO_OK : VIVO_ERR_MSG_IO;
out:
	VIVO_WIPE_ARRAY(body);
	return r;
}

const char *
vivo_result_str(uint32_t r)
{
	static const char *names[] = { "ok", "no enrollment", "unavailable",
		"authentication failed", "enrollment unsafe", "config error",
		"internal error", "identify off" };

	return r <= VIVO_R_MAX ? names[r] : "unknown";
}
