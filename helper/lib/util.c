/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c - see util.h.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int
vivo_user_valid(const char *user)
{
	size_t n;

	if (user == NULL)
		return 0;
	n = strnlen(user, VIVO_USER_MAX + 1);
	if (n == 0 || n > VIVO_USER_MAX)
		return 0;
	if (user[0] == '-' || user[0] == '+' || user[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)user[i];
		if (c == '/' || c < 0x20 || c == 0x7f || c == ':' || c == '\\')
			return 0;
	}
	return 1;
}

/* Length of the UTF-8 sequence at s (with at most `left` bytes), or 0 if
 * it is not a valid, shortest-form encoding of a non-surrogate; the code
 * point in *out. */
static size_t
utf8_seq(const unsigned char *s, size_t left, uint32_t *out)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80) {
		*out = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*out = cp;
	return n;
}

/* C0, DEL, C1, and the bidi controls that reorder the text around them
 * (a label reaches root's log and terminals). */
static int
label_cp_refused(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

int
vivo_label_valid(const char *label)
{
	const unsigned char *s = (const unsigned char *)label;
	size_t n, i = 0;

	if (label == NULL)
		return 0;
	n = strnlen(label, VIVO_LABEL_MAX + 1);
	if (n == 0 || n > VIVO_LABEL_MAX)
		return 0;
	while (i < n) {
		uint32_t cp;
		size_t k = utf8_seq(s + i, n - i, &cp);
		if (k == 0 || label_cp_refused(cp))
			return 0;
		i += k;
	}
	return 1;
}

static int
log_escape(const char *in, char *out, size_t outsz, int quotes)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(in != NULL ? in : "");
	size_t o = 0;

	if (outsz == 0)
		return -1;
	for (; *s != '\0'; s++) {
		int esc = *s < 0x20 || *s > 0x7e ||
		    (quotes && (*s == '"' || *s == '\\')) ||
		    (quotes > 1 && (*s == ' ' || *s == '='));
		size_t need = esc ? 4 : 1;
		if (outsz - o <= need) {
			out[o] = '\0';
			return -1;
		}
		if (esc) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = digits[*s >> 4];
			out[o++] = digits[*s & 0x0f];
		} else
			out[o++] = (char)*s;
	}
	out[o] = '\0';
	return 0;
}

int
vivo_log_escape(const char *in, char *out, size_t outsz)
{
	return log_escape(in, out, outsz, 1);
}

int
vivo_log_escape_word(const char *in, char *out, size_t outsz)
{
	return log_escape(in, out, outsz, 2);
}

int
vivo_log_escape_ctl(const char *in, char *out, size_t outsz)
{
	return log_escape(in, out, outsz, 0);
}

int
vivo_hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";

	if (outsz < 2 * len + 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return 0;
}

int
vivo_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
vivo_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = vivo_hex_digit(hex[2 * i]),
		    lo = vivo_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			explicit_bzero(out, i);
			return -1;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}

int
vivo_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int64_t
vivo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vivo_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (dstsz == 0)
		return -1;
	if (n >= dstsz) {
		memcpy(dst, src, dstsz - 1);
		dst[dstsz - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

void
vivo_setf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}
