/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_util.c - user names, labels, hex, decimal parsing, strlcpy,
 * log escaping.
 */
#include "t.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

static void
user_valid_accepts_ordinary_names(void)
{
	char max[VIVO_USER_MAX + 1];

	memset(max, 'a', VIVO_USER_MAX);
	max[VIVO_USER_MAX] = '\0';
	T_CHECK(vivo_user_valid("alice") == 1);
	T_CHECK(vivo_user_valid("a.b") == 1);
	T_CHECK(vivo_user_valid("user-1") == 1);
	T_CHECK(vivo_user_valid("a_b") == 1);
	T_CHECK(vivo_user_valid("a") == 1);
	T_CHECK(strlen(max) == 64);
	T_CHECK(vivo_user_valid(max) == 1);
}

static void
user_valid_rejects_path_tricks(void)
{
	T_CHECK(vivo_user_valid(NULL) == 0);
	T_CHECK(vivo_user_valid("") == 0);
	T_CHECK(vivo_user_valid("/") == 0);
	T_CHECK(vivo_user_valid("a/b") == 0);
	T_CHECK(vivo_user_valid("alice/") == 0);
	T_CHECK(vivo_user_valid("..") == 0);
	T_CHECK(vivo_user_valid(".") == 0);
	T_CHECK(vivo_user_valid(".hidden") == 0);
	T_CHECK(vivo_user_valid("../root") == 0);
}

static void
user_valid_rejects_option_and_nis_prefixes(void)
{
	T_CHECK(vivo_user_valid("-x") == 0);
	T_CHECK(vivo_user_valid("+x") == 0);
	T_CHECK(vivo_user_valid("-") == 0);
	T_CHECK(vivo_user_valid("a:b") == 0);
	T_CHECK(vivo_user_valid(":") == 0);
}

static void
user_valid_rejects_control_chars(void)
{
	T_CHECK(vivo_user_valid("a\nb") == 0);
	T_CHECK(vivo_user_valid("a\tb") == 0);
	T_CHECK(vivo_user_valid("\x01") == 0);
	T_CHECK(vivo_user_valid("alice\x1f") == 0);
	T_CHECK(vivo_user_valid("alice\x7f") == 0);
	T_CHECK(vivo_user_valid("al\rice") == 0);
}

static void
user_valid_rejects_65_bytes(void)
{
	char s[VIVO_USER_MAX + 2];

	memset(s, 'a', VIVO_USER_MAX + 1);
	s[VIVO_USER_MAX + 1] = '\0';
	T_CHECK(strlen(s) == 65);
	T_CHECK(vivo_user_valid(s) == 0);
	/* a very long name must not be accepted because of a short scan */
	{
		char big[4096];
		memset(big, 'b', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		T_CHECK(vivo_user_valid(big) == 0);
	}
}

static void
label_valid_accepts_printable_utf8(void)
{
	char max[VIVO_LABEL_MAX + 1];

	T_CHECK(vivo_label_valid("Left hand") == 1);
	T_CHECK(vivo_label_valid("Hand \xe2\x9c\x8b links") == 1); /* U+270B */
	T_CHECK(vivo_label_valid("\xf0\x9f\xa6\xbe") == 1);        /* U+1F9BE */
	T_CHECK(vivo_label_valid("caf\xc3\xa9") == 1);             /* U+00E9 */
	T_CHECK(vivo_label_valid("a\xc2\xa0"
				 "b") == 1);                /* U+00A0 */
	T_CHECK(vivo_label_valid("\xf4\x8f\xbf\xbf") == 1); /* U+10FFFF */
	T_CHECK(vivo_label_valid("a/b:c\"d\\e") == 1);
	memset(max, 'x', VIVO_LABEL_MAX);
	max[VIVO_LABEL_MAX] = '\0';
	T_CHECK(vivo_label_valid(max) == 1);
	/* 61 bytes + a 3-byte character = exactly 64 bytes */
	memset(max, 'x', 61);
	memcpy(max + 61, "\xe2\x9c\x8b", 4);
	T_CHECK(strlen(max) == 64);
	T_CHECK(vivo_label_valid(max) == 1);
}

static void
label_valid_rejects_length(void)
{
	char s[VIVO_LABEL_MAX + 8];

	T_CHECK(vivo_label_valid(NULL) == 0);
	T_CHECK(vivo_label_valid("") == 0);
	memset(s, 'x', 65);
	s[65] = '\0';
	T_CHECK(vivo_label_valid(s) == 0);
	/* 62 bytes + a 3-byte character = 65 bytes */
	memset(s, 'x', 62);
	memcpy(s + 62, "\xe2\x9c\x8b", 4);
	T_CHECK(strlen(s) == 65);
	T_CHECK(vivo_label_valid(s) == 0);
}

static void
label_valid_rejects_controls(void)
{
	T_CHECK(vivo_label_valid("a\x01"
				 "b") == 0);
	T_CHECK(vivo_label_valid("a\tb") == 0);
	T_CHECK(vivo_label_valid("a\nb") == 0);
	T_CHECK(vivo_label_valid("a\x1b[31m") == 0);
	T_CHECK(vivo_label_valid("a\x7f") == 0);
	T_CHECK(vivo_label_valid("a\xc2\x85") == 0); /* U+0085 NEL (C1) */
	T_CHECK(vivo_label_valid("\xc2\x80") == 0);  /* U+0080 */
	T_CHECK(vivo_label_valid("\xc2\x9f") == 0);  /* U+009F */
	T_CHECK(vivo_label_valid("\xc2\x9b"
				 "31m") == 0); /* CSI */
}

static void
label_valid_rejects_bad_utf8(void)
{
	T_CHECK(vivo_label_valid("\xff") == 0);
	T_CHECK(vivo_label_valid("a\xfe"
				 "b") == 0);
	T_CHECK(vivo_label_valid("\x80") == 0);         /* lone continuation */
	T_CHECK(vivo_label_valid("\xc0\xaf") == 0);     /* overlong '/' */
	T_CHECK(vivo_label_valid("\xc1\xbf") == 0);     /* overlong */
	T_CHECK(vivo_label_valid("\xe0\x80\xaf") == 0); /* overlong, 3 bytes */
	T_CHECK(
	    vivo_label_valid("\xf0\x80\x80\xaf") == 0); /* overlong, 4 bytes */
	T_CHECK(vivo_label_valid("\xed\xa0\x80") == 0); /* U+D800 surrogate */
	T_CHECK(vivo_label_valid("\xed\xbf\xbf") == 0); /* U+DFFF surrogate */
	T_CHECK(vivo_label_valid("\xf4\x90\x80\x80") == 0); /* > U+10FFFF */
	T_CHECK(vivo_label_valid("\xf5\x80\x80\x80") == 0);
	T_CHECK(vivo_label_valid("\xf8\x88\x80\x80\x80") == 0);
	T_CHECK(vivo_label_valid("ab\xe2\x9c") == 0); /* truncated */
	T_CHECK(vivo_label_valid("\xe2\x9c"
				 "a") == 0); /* bad continuation */
	T_CHECK(vivo_label_valid("\xc3") == 0);
}

static void
hex_encode_lowercase(void)
{
	static const uint8_t in[] = { 0x00, 0x9f, 0xff, 0x10, 0xa5 };
	char out[11];

	memset(out, '#', sizeof(out));
	T_CHECK(vivo_hex_encode(in, sizeof(in), out, sizeof(out)) == 0);
	T_CHECK(strcmp(out, "009fff10a5") == 0);
	T_CHECK(vivo_hex_encode(in, 0, out, 1) == 0);
	T_CHECK(out[0] == '\0');
}

static void
hex_encode_refuses_small_buffer(void)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03 };
	char out[8];

	memset(out, '#', sizeof(out));
	T_CHECK(vivo_hex_encode(in, sizeof(in), out, 6) == -1);
	T_CHECK(out[6] == '#'); /* nothing written past the given size */
	T_CHECK(vivo_hex_encode(in, sizeof(in), out, 7) == 0);
	T_CHECK(strcmp(out, "010203") == 0);
}

static void
hex_decode_valid(void)
{
	uint8_t out[8];
	size_t n = 99;

	T_CHECK(vivo_hex_decode("009FfF10", out, sizeof(out), &n) == 0);
	T_CHECK(n == 4);
	T_CHECK(out[0] == 0x00 && out[1] == 0x9f && out[2] == 0xff &&
	    out[3] == 0x10);
	/* exactly the capacity */
	T_CHECK(vivo_hex_decode("0102030405060708", out, 8, &n) == 0);
	T_CHECK(n == 8 && out[7] == 0x08);
	T_CHECK(vivo_hex_decode("", out, sizeof(out), &n) == 0);
	T_CHECK(n == 0);
}

static void
hex_decode_rejects(void)
{
	uint8_t out[4];
	size_t n = 77;

	T_CHECK(vivo_hex_decode("abc", out, sizeof(out), &n) == -1); /* odd */
	T_CHECK(vivo_hex_decode("0", out, sizeof(out), &n) == -1);
	T_CHECK(vivo_hex_decode("0g", out, sizeof(out), &n) == -1);
	T_CHECK(vivo_hex_decode("g0", out, sizeof(out), &n) == -1);
	T_CHECK(vivo_hex_decode("00zz", out, sizeof(out), &n) == -1);
	T_CHECK(vivo_hex_decode(" 0", out, sizeof(out), &n) == -1);
	T_CHECK(vivo_hex_decode("0x10", out, sizeof(out), &n) == -1);
	T_CHECK(vivo_hex_decode("-1", out, sizeof(out), &n) == -1);
	/* 5 bytes into 4: overflow */
	T_CHECK(vivo_hex_decode("0011223344", out, sizeof(out), &n) == -1);
	T_CHECK(n == 77); /* outlen untouched on failure */
}

static void
hex_round_trip(void)
{
	uint8_t in[256], back[256];
	char hex[513];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	T_CHECK(vivo_hex_encode(in, sizeof(in), hex, sizeof(hex)) == 0);
	T_CHECK(strlen(hex) == 512);
	T_CHECK(vivo_hex_decode(hex, back, sizeof(back), &n) == 0);
	T_CHECK(n == sizeof(in));
	T_CHECK(memcmp(in, back, sizeof(in)) == 0);
}

static void
parse_uint_bounds(void)
{
	unsigned v = 12345;

	T_CHECK(vivo_parse_uint("15", 1, 600, &v) == 0 && v == 15);
	T_CHECK(vivo_parse_uint("1", 1, 600, &v) == 0 && v == 1);
	T_CHECK(vivo_parse_uint("600", 1, 600, &v) == 0 && v == 600);
	T_CHECK(vivo_parse_uint("0", 0, 10, &v) == 0 && v == 0);
	T_CHECK(vivo_parse_uint("4294967295", 0, UINT_MAX, &v) == 0 &&
	    v == UINT_MAX);
	v = 12345;
	T_CHECK(vivo_parse_uint("0", 1, 600, &v) == -1);
	T_CHECK(vivo_parse_uint("601", 1, 600, &v) == -1);
	T_CHECK(v == 12345);
}

static void
parse_uint_rejects_junk(void)
{
	unsigned v = 7;

	T_CHECK(vivo_parse_uint(NULL, 0, 100, &v) == -1);
	T_CHECK(vivo_parse_uint("", 0, 100, &v) == -1);
	T_CHECK(vivo_parse_uint("12a", 0, 100, &v) == -1);
	T_CHECK(vivo_parse_uint("-1", 0, UINT_MAX, &v) == -1);
	T_CHECK(vivo_parse_uint("+1", 0, 100, &v) == -1);
	T_CHECK(vivo_parse_uint(" 1", 0, 100, &v) == -1);
	T_CHECK(vivo_parse_uint("1 ", 0, 100, &v) == -1);
	T_CHECK(vivo_parse_uint("0x10", 0, 100, &v) == -1);
	T_CHECK(vivo_parse_uint("1.5", 0, 100, &v) == -1);
	T_CHECK(v == 7);
}

static void
parse_uint_rejects_overflow(void)
{
	unsigned v = 7;

	/* past unsigned long: strtoul saturates with ERANGE */
	T_CHECK(
	    vivo_parse_uint("99999999999999999999999", 0, UINT_MAX, &v) == -1);
	/* fits unsigned long but not unsigned: must not wrap to 0 */
	T_CHECK(vivo_parse_uint("4294967296", 0, UINT_MAX, &v) == -1);
	T_CHECK(vivo_parse_uint("18446744073709551616", 0, UINT_MAX, &v) == -1);
	T_CHECK(v == 7);
}

static void
strlcpy_fits(void)
{
	char d[4];

	T_CHECK(vivo_strlcpy(d, "abc", sizeof(d)) == 0);
	T_CHECK(strcmp(d, "abc") == 0);
	T_CHECK(vivo_strlcpy(d, "", sizeof(d)) == 0);
	T_CHECK(d[0] == '\0');
}

static void
strlcpy_truncates(void)
{
	char d[6];

	memset(d, '#', sizeof(d));
	T_CHECK(vivo_strlcpy(d, "abcd", 4) == -1);
	T_CHECK(strcmp(d, "abc") == 0);
	T_CHECK(d[4] == '#'); /* did not write past dstsz */
	T_CHECK(vivo_strlcpy(d, "abcd", 1) == -1);
	T_CHECK(d[0] == '\0');
	memset(d, '#', sizeof(d));
	T_CHECK(vivo_strlcpy(d, "abcd", 0) == -1);
	T_CHECK(d[0] == '#'); /* dstsz 0: nothing written at all */
}

static void
label_valid_rejects_bidi_controls(void)
{
	static const char *const bidi[] = {
		"\xd8\x9c",     /* U+061C ARABIC LETTER MARK */
		"\xe2\x80\x8e", /* U+200E LEFT-TO-RIGHT MARK */
		"\xe2\x80\x8f", /* U+200F RIGHT-TO-LEFT MARK */
		"\xe2\x80\xaa", /* U+202A LRE */
		"\xe2\x80\xab", /* U+202B RLE */
		"\xe2\x80\xac", /* U+202C PDF */
		"\xe2\x80\xad", /* U+202D LRO */
		"\xe2\x80\xae", /* U+202E RLO */
		"\xe2\x81\xa6", /* U+2066 LRI */
		"\xe2\x81\xa7", /* U+2067 RLI */
		"\xe2\x81\xa8", /* U+2068 FSI */
		"\xe2\x81\xa9", /* U+2069 PDI */
	};
	char s[32];

	for (size_t i = 0; i < VIVO_NELEM(bidi); i++) {
		T_CHECK(vivo_label_valid(bidi[i]) == 0);
		snprintf(s, sizeof(s), "left%shand", bidi[i]);
		T_CHECK(vivo_label_valid(s) == 0);
		snprintf(s, sizeof(s), "hand%s", bidi[i]);
		T_CHECK(vivo_label_valid(s) == 0);
	}
	/* their neighbours are ordinary characters */
	T_CHECK(vivo_label_valid("a\xd8\x9b"
				 "b") == 1); /* U+061B */
	T_CHECK(vivo_label_valid("a\xd8\x9d"
				 "b") == 1); /* U+061D */
	T_CHECK(vivo_label_valid("a\xe2\x80\x8d"
				 "b") == 1); /* U+200D ZWJ */
	T_CHECK(vivo_label_valid("a\xe2\x80\x90"
				 "b") == 1); /* U+2010 */
	T_CHECK(vivo_label_valid("a\xe2\x80\xa9"
				 "b") == 1); /* U+2029 */
	T_CHECK(vivo_label_valid("a\xe2\x80\xaf"
				 "b") == 1); /* U+202F */
	T_CHECK(vivo_label_valid("a\xe2\x81\xa5"
				 "b") == 1); /* U+2065 */
	T_CHECK(vivo_label_valid("a\xe2\x81\xaa"
				 "b") == 1); /* U+206A */
}

/* vivo_log_escape of `in` into a large buffer: 0 and `want`. */
static int
esc_is(const char *in, const char *want)
{
	char out[256];

	memset(out, '#', sizeof(out));
	return vivo_log_escape(in, out, sizeof(out)) == 0 &&
	    strcmp(out, want) == 0;
}

static void
log_escape_keeps_printable_ascii(void)
{
	T_CHECK(esc_is("", ""));
	T_CHECK(esc_is("left hand", "left hand"));
	T_CHECK(esc_is(" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~",
	    " !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~"));
	T_CHECK(esc_is("result=PAM_SUCCESS", "result=PAM_SUCCESS"));
}

static void
log_escape_quotes_and_backslash(void)
{
	T_CHECK(esc_is("\"", "\\x22"));
	T_CHECK(esc_is("\\", "\\x5c"));
	T_CHECK(esc_is("a\" result=PAM_SUCCESS x=\"b",
	    "a\\x22 result=PAM_SUCCESS x=\\x22b"));
	/* an escape already in the input cannot pass for one of ours */
	T_CHECK(esc_is("\\x0a", "\\x5cx0a"));
}

static void
log_escape_control_bytes(void)
{
	char all[33], want[33 * 4 + 1];

	T_CHECK(esc_is("a\nb", "a\\x0ab"));
	T_CHECK(esc_is("\r\t\x1b[31m", "\\x0d\\x09\\x1b[31m"));
	T_CHECK(esc_is("\x7f", "\\x7f"));
	T_CHECK(esc_is("\x01\x1f", "\\x01\\x1f"));
	/* every C0 byte and DEL */
	for (int c = 1; c < 0x20; c++)
		all[c - 1] = (char)c;
	all[31] = 0x7f;
	all[32] = '\0';
	for (int i = 0; i < 32; i++)
		snprintf(want + 4 * i, 5, "\\x%02x",
		    (unsigned)(unsigned char)all[i]);
	T_CHECK(esc_is(all, want));
}

static void
log_escape_utf8_and_bidi_bytes(void)
{
	T_CHECK(esc_is("caf\xc3\xa9", "caf\\xc3\\xa9"));
	T_CHECK(esc_is("\xe2\x80\xae"
		       "evil",
	    "\\xe2\\x80\\xaeevil"));               /* RLO */
	T_CHECK(esc_is("\xc2\x85", "\\xc2\\x85")); /* NEL */
	T_CHECK(esc_is("\xff\x80", "\\xff\\x80")); /* not UTF-8 */
	T_CHECK(esc_is("\xf0\x9f\xa6\xbe", "\\xf0\\x9f\\xa6\\xbe"));
}

static void
log_escape_null_and_zero_size(void)
{
	char out[4] = "###";

	T_CHECK(vivo_log_escape(NULL, out, sizeof(out)) == 0);
	T_CHECK(out[0] == '\0');
	memcpy(out, "###", 4);
	T_CHECK(vivo_log_escape("a", out, 0) == -1);
	T_CHECK(out[0] == '#'); /* outsz 0: nothing written at all */
	T_CHECK(vivo_log_escape_ctl("a", out, 0) == -1);
	T_CHECK(out[0] == '#');
}

/* At every output size: NUL-terminated inside it, nothing written past
 * it, a prefix of the full result made of whole units (never half an
 * escape), -1 exactly when something was cut. */
static void
log_escape_truncates_at_every_size(void)
{
	static const char in[] = "a\"b\\\x01"
				 "c\xc3\xa9"
				 "d";
	static const char full[] = "a\\x22b\\x5c\\x01c\\xc3\\xa9d";
	static const size_t cuts[] = { 0, 1, 5, 6, 10, 14, 15, 19, 23, 24 };
	char out[sizeof(full) + 8];

	for (size_t sz = 1; sz <= sizeof(full) + 2; sz++) {
		int r;
		size_t n, want = 0;

		memset(out, '#', sizeof(out));
		r = vivo_log_escape(in, out, sz);
		n = strnlen(out, sz);
		T_CHECK(n < sz); /* NUL inside */
		for (size_t i = sz; i < sizeof(out); i++)
			T_CHECK(out[i] == '#');     /* nothing past it */
		T_CHECK(memcmp(out, full, n) == 0); /* a prefix */
		for (size_t i = 0; i < VIVO_NELEM(cuts); i++)
			if (cuts[i] < sz)
				want = cuts[i]; /* longest whole cut */
		T_CHECK(n == want);
		T_CHECK(r == (n == strlen(full) ? 0 : -1));
	}
}

static void
log_escape_ctl_leaves_quotes(void)
{
	char out[64];

	T_CHECK(vivo_log_escape_ctl("reason=\"a\\b\"", out, sizeof(out)) == 0);
	T_CHECK(strcmp(out, "reason=\"a\\b\"") == 0);
	T_CHECK(
	    vivo_log_escape_ctl("a\nb\x1b\x7f\xc3\xa9", out, sizeof(out)) == 0);
	T_CHECK(strcmp(out, "a\\x0ab\\x1b\\x7f\\xc3\\xa9") == 0);
	T_CHECK(vivo_log_escape_ctl("ab\ncd", out, 6) == -1);
	T_CHECK(strcmp(out, "ab") == 0);
}

static void
log_escape_word_keeps_one_field(void)
{
	char out[256];

	T_CHECK(vivo_log_escape_word("alice", out, sizeof(out)) == 0 &&
	    strcmp(out, "alice") == 0);
	T_CHECK(vivo_log_escape_word(
		    "a result=PAM_SUCCESS", out, sizeof(out)) == 0 &&
	    strcmp(out, "a\\x20result\\x3dPAM_SUCCESS") == 0);
	T_CHECK(vivo_log_escape_word("\"x\"", out, sizeof(out)) == 0 &&
	    strcmp(out, "\\x22x\\x22") == 0);
}

T_MAIN("util", T_CASE(log_escape_word_keeps_one_field),
    T_CASE(user_valid_accepts_ordinary_names),
    T_CASE(user_valid_rejects_path_tricks),
    T_CASE(user_valid_rejects_option_and_nis_prefixes),
    T_CASE(user_valid_rejects_control_chars),
    T_CASE(user_valid_rejects_65_bytes),
    T_CASE(label_valid_accepts_printable_utf8),
    T_CASE(label_valid_rejects_length), T_CASE(label_valid_rejects_controls),
    T_CASE(label_valid_rejects_bad_utf8),
    T_CASE(label_valid_rejects_bidi_controls), T_CASE(hex_encode_lowercase),
    T_CASE(hex_encode_refuses_small_buffer), T_CASE(hex_decode_valid),
    T_CASE(hex_decode_rejects), T_CASE(hex_round_trip),
    T_CASE(parse_uint_bounds), T_CASE(parse_uint_rejects_junk),
    T_CASE(parse_uint_rejects_overflow), T_CASE(strlcpy_fits),
    T_CASE(strlcpy_truncates), T_CASE(log_escape_keeps_printable_ascii),
    T_CASE(log_escape_quotes_and_backslash), T_CASE(log_escape_control_bytes),
    T_CASE(log_escape_utf8_and_bidi_bytes),
    T_CASE(log_escape_null_and_zero_size),
    T_CASE(log_escape_truncates_at_every_size),
    T_CASE(log_escape_ctl_leaves_quotes))
