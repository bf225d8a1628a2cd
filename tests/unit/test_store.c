/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_store.c - the enrollment files: parse, format, edit, save, load.
 */
#include "t.h"
#include "file.h"
#include "store.h"
#include "uid.h"
#include "util.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_TMP_TAG "store"
#include "t_tmp.h"

/* ---- texts -------------------------------------------------------------- */

/* The UID, salt and hash of test_uid.c's known answer (Python hashlib:
 * pbkdf2_hmac('sha256', bytes([7]) + bytes.fromhex('04a1b2c3d4e5f6'),
 * bytes(range(16)), 10000)). */
static const uint8_t UID7[7] = { 0x04, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 };
#define SALT "000102030405060708090a0b0c0d0e0f"
#define HASH "ae94468bb6c82cf4cb483c3ae798dbc1395f4abbfd7034e86de9576bd904b0f1"

#define UIDG(kdf, iter, salt, hash)                                            \
	"uid = { kdf = \"" kdf "\"; iterations = " iter "; salt = \"" salt     \
	"\"; hash = \"" hash "\"; };\n"
#define LBL "label = \"Left hand\";\n"
#define MTH "method = \"uid\";\n"
#define CRT "created = \"2026-11-27T07:00:00Z\";\n"
#define UID UIDG("pbkdf2-sha256", "10000", SALT, HASH)
#define ENTRY(body) "{\n" body "}"
#define STORE(entries) "version = 1;\nimplants = (\n" entries "\n);\n"
#define GOOD ENTRY(LBL MTH CRT UID)

static int
parses(const char *text, struct vivo_store *s)
{
	char err[256] = "";

	if (vivo_store_parse(text, s, err, sizeof(err)) != 0) {
		printf("  refused (%s):\n%s\n", err, text);
		return 0;
	}
	return 1;
}

/* Refused, with a message naming `key`, and the store left empty. */
static int
refused(const char *text, const char *key)
{
	static struct vivo_store s;
	char err[256] = "";

	memset(&s, 0x5a, sizeof(s));
	if (vivo_store_parse(text, &s, err, sizeof(err)) != -1) {
		printf("  accepted:\n%s\n", text);
		return 0;
	}
	if (s.n != 0) {
		printf("  refused but s.n = %zu\n", s.n);
		return 0;
	}
	if (key != NULL && strstr(err, key) == NULL) {
		printf("  message \"%s\" does not name \"%s\"\n", err, key);
		return 0;
	}
	return 1;
}

/* A store text whose single entry has `label` (already libconfig-quoted
 * content) as its label. */
static void
with_label(char *out, size_t outsz, const char *label)
{
	snprintf(
	    out, outsz, STORE(ENTRY("label = \"%s\";\n" MTH CRT UID)), label);
}

/* A store text whose single entry has `created`. */
static void
with_created(char *out, size_t outsz, const char *created)
{
	snprintf(out, outsz, STORE(ENTRY(LBL MTH "created = \"%s\";\n" UID)),
	    created);
}

/* A store text whose uid group has the given values. */
static void
with_uid(char *out, size_t outsz, const char *iter, const char *salt,
    const char *hash)
{
	snprintf(out, outsz,
	    STORE(ENTRY(LBL MTH CRT
		"uid = { kdf = \"pbkdf2-sha256\"; iterations = %s; salt = %s; "
		"hash = %s; };\n")),
	    iter, salt, hash);
}

/* n entries labelled e1..en. */
static char *
many(int n)
{
	size_t cap = 512 + (size_t)n * 512, off;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	off = (size_t)snprintf(t, cap, "version = 1;\nimplants = (\n");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(t + off, cap - off,
		    "%s{ label = \"e%d\";\n" MTH CRT UID "}\n", i ? "," : "",
		    i + 1);
	snprintf(t + off, cap - off, ");\n");
	return t;
}

/* Entries for the edit tests: one real enrollment, copied. */
static struct vivo_uid_data enrolled;
static int have_enrolled;

static int
entry(struct vivo_entry *e, const char *label)
{
	if (!have_enrolled) {
		if (vivo_uid_enroll(
			UID7, sizeof(UID7), VIVO_UID_ITER_MIN, &enrolled) != 0)
			return -1;
		have_enrolled = 1;
	}
	memset(e, 0, sizeof(*e));
	if (vivo_strlcpy(e->label, label, sizeof(e->label)) != 0)
		return -1;
	e->method = VIVO_M_UID;
	vivo_strlcpy(e->created, "2026-11-27T07:00:00Z", sizeof(e->created));
	e->uid = enrolled;
	return 0;
}

static int
same_entry(const struct vivo_entry *a, const struct vivo_entry *b)
{
	return strcmp(a->label, b->label) == 0 && a->method == b->method &&
	    strcmp(a->created, b->created) == 0 &&
	    a->uid.iterations == b->uid.iterations &&
	    memcmp(a->uid.salt, b->uid.salt, sizeof(a->uid.salt)) == 0 &&
	    memcmp(a->uid.hash, b->uid.hash, sizeof(a->uid.hash)) == 0;
}

/* ---- parse -------------------------------------------------------------- */

static void
parse_valid_entry(void)
{
	static struct vivo_store s;
	static const uint8_t hash0[4] = { 0xae, 0x94, 0x46, 0x8b };

	T_CHECK(parses(STORE(GOOD), &s));
	T_CHECK(s.n == 1);
	T_CHECK(strcmp(s.e[0].label, "Left hand") == 0);
	T_CHECK(s.e[0].method == VIVO_M_UID);
	T_CHECK(strcmp(s.e[0].created, "2026-11-27T07:00:00Z") == 0);
	T_CHECK(s.e[0].uid.iterations == 10000);
	T_CHECK(s.e[0].uid.salt[0] == 0x00 && s.e[0].uid.salt[15] == 0x0f);
	T_CHECK(memcmp(s.e[0].uid.hash, hash0, 4) == 0);
	T_CHECK(s.e[0].uid.hash[31] == 0xf1);
	/* the stored hash is the one the chip's UID produces */
	T_CHECK(vivo_uid_match(UID7, sizeof(UID7), &s.e[0].uid) == 1);
	/* an empty store is a valid store */
	T_CHECK(parses("version = 1;\nimplants = ();\n", &s));
	T_CHECK(s.n == 0);
	/* upper-case hex is hex */
	T_CHECK(parses(STORE(ENTRY(LBL MTH CRT UIDG("pbkdf2-sha256", "10000",
			   "000102030405060708090A0B0C0D0E0F", HASH))),
	    &s));
	T_CHECK(s.n == 1 && s.e[0].uid.salt[10] == 0x0a);
}

static void
parse_rejects_version(void)
{
	T_CHECK(refused("implants = (" GOOD ");", "version"));
	T_CHECK(refused("version = 2;\nimplants = (" GOOD ");", "version"));
	T_CHECK(refused("version = 0;\nimplants = ();", "version"));
	T_CHECK(refused("version = \"1\";\nimplants = (" GOOD ");", "version"));
}

static void
parse_rejects_implants_not_a_list(void)
{
	T_CHECK(refused("version = 1;", "implants"));
	T_CHECK(refused("version = 1;\nimplants = 5;", "implants"));
	T_CHECK(refused("version = 1;\nimplants = [];", "implants"));
	T_CHECK(refused("version = 1;\nimplants = " GOOD ";", "implants"));
	/* the list's elements must be groups */
	T_CHECK(refused("version = 1;\nimplants = ( 5 );", NULL));
	T_CHECK(refused("version = 1;\nimplants = ( \"Left hand\" );", NULL));
}

static void
parse_entry_count(void)
{
	static struct vivo_store s;
	char *t;

	t = many(VIVO_ENTRIES_MAX);
	T_CHECK(t != NULL && parses(t, &s));
	T_CHECK(s.n == VIVO_ENTRIES_MAX);
	T_CHECK(strcmp(s.e[VIVO_ENTRIES_MAX - 1].label, "e32") == 0);
	free(t);
	t = many(VIVO_ENTRIES_MAX + 1);
	T_CHECK(t != NULL && refused(t, "implants"));
	free(t);
}

static void
parse_rejects_incomplete_entry(void)
{
	T_CHECK(refused(STORE(ENTRY(MTH CRT UID)), "label"));
	T_CHECK(refused(STORE(ENTRY(LBL CRT UID)), "method"));
	T_CHECK(refused(STORE(ENTRY(LBL MTH UID)), "created"));
	T_CHECK(refused(STORE(ENTRY(LBL MTH CRT)), "uid"));
	T_CHECK(refused(STORE(ENTRY(LBL MTH CRT "uid = 5;\n")), "uid"));
	T_CHECK(refused(STORE(ENTRY(LBL MTH CRT "uid = ( 1 );\n")), "uid"));
	/* a bad second entry spoils the file */
	T_CHECK(refused(
	    STORE(GOOD ",\n" ENTRY("label = \"Right\";\n" MTH CRT)), "uid"));
}

static void
parse_rejects_methods(void)
{
	T_CHECK(refused(
	    STORE(ENTRY(LBL "method = \"fido\";\n" CRT UID)), "method"));
	T_CHECK(
	    refused(STORE(ENTRY(LBL "method = \"UID\";\n" CRT UID)), "method"));
	T_CHECK(refused(STORE(ENTRY(LBL "method = 1;\n" CRT UID)), "method"));
	/* a u2f or hmac entry cannot carry uid data instead of its own group
	 * (the uid data would otherwise be ignored, or read as theirs) */
	T_CHECK(
	    refused(STORE(ENTRY(LBL "method = \"u2f\";\n" CRT UID)), "u2f"));
	T_CHECK(
	    refused(STORE(ENTRY(LBL "method = \"hmac\";\n" CRT UID)), "hmac"));
	/* a uid entry with a second method's group is not a uid entry */
	T_CHECK(refused(STORE(ENTRY(LBL MTH CRT UID "u2f = { };\n")), "u2f"));
}

static void
parse_rejects_unknown_keys(void)
{
	T_CHECK(
	    refused(STORE(ENTRY(LBL MTH CRT UID "note = \"x\";\n")), "note"));
	T_CHECK(refused(
	    "version = 1;\nowner = \"alice\";\nimplants = ();", "owner"));
	T_CHECK(refused(
	    STORE(ENTRY(LBL MTH CRT
		"uid = { kdf = \"pbkdf2-sha256\"; iterations = 10000; salt = "
		"\"" SALT "\"; hash = \"" HASH "\"; pepper = \"00\"; };\n")),
	    "pepper"));
}

static void
parse_rejects_kdf(void)
{
	T_CHECK(refused(
	    STORE(ENTRY(LBL MTH CRT UIDG("pbkdf2-sha1", "10000", SALT, HASH))),
	    "kdf"));
	T_CHECK(refused(
	    STORE(ENTRY(LBL MTH CRT UIDG("", "10000", SALT, HASH))), "kdf"));
	T_CHECK(refused(
	    STORE(ENTRY(LBL MTH CRT "uid = { iterations = 10000; salt = \"" SALT
				    "\"; hash = \"" HASH "\"; };\n")),
	    "kdf"));
}

static void
parse_label_control_chars(void)
{
	char t[2048];

	with_label(t, sizeof(t), "Left\x01hand");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "Left\\x01hand"); /* libconfig escape */
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "Left\\nhand");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "Left\\thand");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "Left\x7f");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "\x1b[2J");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "a\xc2\x85");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "");
	T_CHECK(refused(t, "label"));
	T_CHECK(refused(STORE(ENTRY("label = 5;\n" MTH CRT UID)), "label"));
}

static void
parse_label_bad_utf8(void)
{
	char t[2048];

	with_label(t, sizeof(t), "\xff");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "\xc0\xaf");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "\xed\xa0\x80");
	T_CHECK(refused(t, "label"));
	with_label(t, sizeof(t), "Left\\xff"); /* the same, escaped */
	T_CHECK(refused(t, "label"));
}

static void
parse_label_length(void)
{
	static struct vivo_store s;
	char t[2048], label[80];

	memset(label, 'x', 64);
	label[64] = '\0';
	with_label(t, sizeof(t), label);
	T_CHECK(parses(t, &s) && strcmp(s.e[0].label, label) == 0);
	label[64] = 'x';
	label[65] = '\0';
	with_label(t, sizeof(t), label);
	T_CHECK(refused(t, "label"));
}

static void
parse_rejects_duplicate_labels(void)
{
	T_CHECK(refused(STORE(GOOD ",\n" GOOD), "duplicate"));
	T_CHECK(refused(STORE(GOOD ",\n" ENTRY(
			    "label = \"Right\";\n" MTH CRT UID) ",\n" GOOD),
	    "duplicate"));
}

static void
parse_created_form(void)
{
	static const char *const bad[] = {
		"2026-11-27 07:00:00Z",
		"2026-11-27T07:00:00",
		"2026-11-27T07:00:00+00:00",
		"26-11-27T07:00:00Z",
		"2026-11-27T07:00:00.000Z",
		"2026-11-27",
		"",
		"2026-1-27T07:00:00Z",
		"2026-11-27T07:00:00z",
		"2026-11-27t07:00:00Z",
		"20261127T070000Z",
		"yesterday",
		"2026-11-27T07:00:00ZZ",
		" 2026-11-27T07:00:00Z",
	};
	static struct vivo_store s;
	char t[2048], now[32];

	for (size_t i = 0; i < VIVO_NELEM(bad); i++) {
		with_created(t, sizeof(t), bad[i]);
		T_CHECK(refused(t, "created"));
	}
	T_CHECK(refused(
	    STORE(ENTRY(LBL MTH "created = 20261127;\n" UID)), "created"));
	/* what vivo_store_now writes is accepted */
	vivo_store_now(now);
	with_created(t, sizeof(t), now);
	T_CHECK(parses(t, &s) && strcmp(s.e[0].created, now) == 0);
}

static void
parse_salt_and_hash(void)
{
	char t[2048];

	/* 15 and 17 bytes of salt, odd length, not hex */
	with_uid(t, sizeof(t), "10000", "\"000102030405060708090a0b0c0d0e\"",
	    "\"" HASH "\"");
	T_CHECK(refused(t, "salt"));
	with_uid(t, sizeof(t), "10000", "\"" SALT "10\"", "\"" HASH "\"");
	T_CHECK(refused(t, "salt"));
	with_uid(t, sizeof(t), "10000", "\"" SALT "1\"", "\"" HASH "\"");
	T_CHECK(refused(t, "salt"));
	with_uid(t, sizeof(t), "10000", "\"000102030405060708090a0b0c0d0e0g\"",
	    "\"" HASH "\"");
	T_CHECK(refused(t, "salt"));
	with_uid(t, sizeof(t), "10000", "\"\"", "\"" HASH "\"");
	T_CHECK(refused(t, "salt"));
	with_uid(t, sizeof(t), "10000", "16", "\"" HASH "\"");
	T_CHECK(refused(t, "salt"));
	/* 31 and 33 bytes of hash, not hex */
	with_uid(t, sizeof(t), "10000", "\"" SALT "\"",
	    "\"ae94468bb6c82cf4cb483c3ae798dbc1395f4abbfd7034e86de9576bd904b0"
	    "\"");
	T_CHECK(refused(t, "hash"));
	with_uid(t, sizeof(t), "10000", "\"" SALT "\"", "\"" HASH "00\"");
	T_CHECK(refused(t, "hash"));
	with_uid(t, sizeof(t), "10000", "\"" SALT "\"",
	    "\"ae94468bb6c82cf4cb483c3ae798dbc1395f4abbfd7034e86de9576bd904b0f "
	    "\"");
	T_CHECK(refused(t, "hash"));
}

static void
parse_iterations(void)
{
	static struct vivo_store s;
	char t[2048];

	with_uid(t, sizeof(t), "9999", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(refused(t, "iterations"));
	with_uid(t, sizeof(t), "1000001", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(refused(t, "iterations"));
	with_uid(t, sizeof(t), "0", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(refused(t, "iterations"));
	with_uid(t, sizeof(t), "-100000", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(refused(t, "iterations"));
	with_uid(t, sizeof(t), "\"100000\"", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(refused(t, "iterations"));
	with_uid(t, sizeof(t), "100000.0", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(refused(t, "iterations"));
	T_CHECK(refused(STORE(ENTRY(LBL MTH CRT
			    "uid = { kdf = \"pbkdf2-sha256\"; salt = \"" SALT
			    "\"; hash = \"" HASH "\"; };\n")),
	    "iterations"));
	/* 2^32 + 10000: libconfig 1.5 alone would read 10000 */
	with_uid(t, sizeof(t), "4294977296", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(refused(t, "iterations"));
	/* the bounds themselves */
	with_uid(t, sizeof(t), "1000000", "\"" SALT "\"", "\"" HASH "\"");
	T_CHECK(parses(t, &s) && s.e[0].uid.iterations == 1000000);
	/* and big numbers inside a label are just text */
	with_label(t, sizeof(t), "Implant 99999999999999");
	T_CHECK(parses(t, &s) &&
	    strcmp(s.e[0].label, "Implant 99999999999999") == 0);
}

static void
parse_rejects_include(void)
{
	char inc[PATH_MAX], t[PATH_MAX + 256];

	T_CHECK(
	    refused("@include \"/etc/hostname\"\n" STORE(GOOD), "@include"));
	T_CHECK(
	    refused(STORE(GOOD) "@include \"/etc/hostname\"\n", "@include"));
	T_CHECK(refused("version = 1;\n  @include \"/etc/hostname\"\n"
			"implants = ();\n",
	    "@include"));
	T_CHECK(refused("version = 1;\n\t@include \"/etc/hostname\"\n"
			"implants = ();\n",
	    "@include"));

	/* the included file would complete the store: still refused */
	if (put("frag", "implants = (" GOOD ");\n",
		strlen("implants = (" GOOD ");\n"), 0644, inc,
		sizeof(inc)) != 0) {
		T_CHECK(!"cannot write the fragment");
		return;
	}
	snprintf(t, sizeof(t), "version = 1;\n@include \"%s\"\n", inc);
	T_CHECK(refused(t, "@include"));
}

/* ---- format ------------------------------------------------------------- */

static void
format_parse_round_trip(void)
{
	static struct vivo_store s, back;
	static const uint8_t uid4[4] = { 0x01, 0x02, 0x03, 0x04 };
	char *text = NULL, long_label[VIVO_LABEL_MAX + 1];
	size_t len = 0;

	memset(&s, 0, sizeof(s));
	memset(long_label, 'L', VIVO_LABEL_MAX);
	long_label[VIVO_LABEL_MAX] = '\0';
	T_CHECK(entry(&s.e[0], "Left hand") == 0);
	T_CHECK(entry(&s.e[1], "Hand \xe2\x9c\x8b links") == 0);
	T_CHECK(entry(&s.e[2], "say \"hi\" \\ bye # // /* */ ;") == 0);
	T_CHECK(entry(&s.e[3], long_label) == 0);
	/* a second, independent enrollment */
	T_CHECK(vivo_uid_enroll(
		    uid4, sizeof(uid4), VIVO_UID_ITER_MIN, &s.e[3].uid) == 0);
	vivo_store_now(s.e[3].created);
	s.n = 4;

	T_CHECK(vivo_store_format(&s, &text, &len) == 0);
	T_CHECK(text != NULL && strlen(text) == len);
	T_CHECK(text != NULL && parses(text, &back));
	T_CHECK(back.n == s.n);
	for (size_t i = 0; i < s.n && i < back.n; i++)
		T_CHECK(same_entry(&s.e[i], &back.e[i]));
	/* and they still authenticate */
	T_CHECK(vivo_uid_match(UID7, sizeof(UID7), &back.e[1].uid) == 1);
	T_CHECK(vivo_uid_match(uid4, sizeof(uid4), &back.e[3].uid) == 1);
	free(text);
}

/* A fido2 entry: every field survives the file, in both key types, and a
 * malformed one is refused with the key named. */
static void
fido2_round_trip(void)
{
	static struct vivo_store s, back;
	char *text = NULL;
	size_t len = 0;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 2; i++) {
		struct vivo_entry *e = &s.e[i];
		struct vivo_fido2_data *f = &e->fido2;
		snprintf(e->label, sizeof(e->label), "apex-%d", i);
		e->method = VIVO_M_FIDO2;
		vivo_store_now(e->created);
		snprintf(f->rpid, sizeof(f->rpid), "pam://host%d", i);
		f->credlen = i ? VIVO_FIDO2_CRED_MAX : 52;
		for (size_t j = 0; j < f->credlen; j++)
			f->cred[j] = (uint8_t)(j * 7 + (size_t)i);
		f->alg = i ? VIVO_COSE_EDDSA : VIVO_COSE_ES256;
		f->publen = i ? 32 : 65;
		for (size_t j = 0; j < f->publen; j++)
			f->pub[j] = (uint8_t)(j + 1);
		f->pub[0] = i ? 0x11 : 0x04;
		memset(f->user_id, 0xa0 + i, sizeof(f->user_id));
		f->require_pin = i;
		f->resident = !i;
		f->cred_protect = 2 - i;
		f->hmac_secret = 1;
		f->counter = i ? 4294967295u : 7;
	}
	s.n = 2;
	T_CHECK(vivo_store_format(&s, &text, &len) == 0);
	T_CHECK(text != NULL && parses(text, &back));
	T_CHECK(back.n == 2);
	for (size_t i = 0; i < 2 && i < back.n; i++) {
		const struct vivo_fido2_data *a = &s.e[i].fido2,
					     *b = &back.e[i].fido2;
		T_CHECK(back.e[i].method == VIVO_M_FIDO2 &&
		    strcmp(s.e[i].label, back.e[i].label) == 0);
		T_CHECK(strcmp(a->rpid, b->rpid) == 0 &&
		    a->credlen == b->credlen &&
		    memcmp(a->cred, b->cred, a->credlen) == 0);
		T_CHECK(a->alg == b->alg && a->publen == b->publen &&
		    memcmp(a->pub, b->pub, a->publen) == 0);
		T_CHECK(
		    memcmp(a->user_id, b->user_id, sizeof(a->user_id)) == 0);
		T_CHECK(a->require_pin == b->require_pin &&
		    a->resident == b->resident &&
		    a->cred_protect == b->cred_protect &&
		    a->hmac_secret == b->hmac_secret &&
		    a->counter == b->counter);
	}
	T_CHECK(vivo_method_is_public(VIVO_M_FIDO2));
	/* broken copies */
	if (text != NULL) {
		static const char *const bad[][2] = {
			{ "type = \"es256\"", "type = \"rs256\"" },
			{ "cred_protect = 2", "cred_protect = 4" },
			{ "require_pin = true", "require_pin = 1" },
			{ "rpid = \"pam://host0\"", "rpid = \"\"" },
		};
		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			char *t = strdup(text), *p;
			size_t a = strlen(bad[k][0]);
			if (t == NULL)
				break;
			if ((p = strstr(t, bad[k][0])) == NULL) {
				/* require_pin = true is in entry 1 */
				T_CHECK(k == 2 &&
				    (p = strstr(t, "require_pin = false")) !=
					NULL);
				a = strlen("require_pin = false");
			}
			if (p != NULL) {
				char *n = malloc(strlen(t) + 64);
				if (n == NULL)
					abort();
				snprintf(n, strlen(t) + 64, "%.*s%s%s",
				    (int)(p - t), t, bad[k][1], p + a);
				T_CHECK(refused(n, NULL));
				free(n);
			}
			free(t);
		}
	}
	free(text);
}

static void
format_multibyte_label_round_trip(void)
{
	static struct vivo_store s, back;
	char t[2048], *text = NULL;
	size_t len;

	/* parsed from text, formatted, parsed again: byte for byte */
	with_label(t, sizeof(t), "Hand \xe2\x9c\x8b links \xf0\x9f\xa6\xbe");
	T_CHECK(parses(t, &s));
	T_CHECK(strcmp(s.e[0].label,
		    "Hand \xe2\x9c\x8b links \xf0\x9f\xa6\xbe") == 0);
	T_CHECK(vivo_store_format(&s, &text, &len) == 0);
	T_CHECK(text != NULL && parses(text, &back));
	T_CHECK(back.n == 1 && same_entry(&s.e[0], &back.e[0]));
	free(text);
}

static void
format_empty_store(void)
{
	static struct vivo_store s, back;
	char *text = NULL;
	size_t len;

	memset(&s, 0, sizeof(s));
	T_CHECK(vivo_store_format(&s, &text, &len) == 0);
	T_CHECK(text != NULL && parses(text, &back));
	T_CHECK(back.n == 0);
	free(text);
}

/* ---- add / find / remove ------------------------------------------------ */

static void
add_find_remove(void)
{
	static struct vivo_store s;
	struct vivo_entry e;

	memset(&s, 0, sizeof(s));
	T_CHECK(entry(&e, "one") == 0 && vivo_store_add(&s, &e) == 0);
	T_CHECK(entry(&e, "two") == 0 && vivo_store_add(&s, &e) == 0);
	T_CHECK(entry(&e, "three") == 0 && vivo_store_add(&s, &e) == 0);
	T_CHECK(entry(&e, "four") == 0 && vivo_store_add(&s, &e) == 0);
	T_CHECK(s.n == 4);
	T_CHECK(vivo_store_find(&s, "one") == 0);
	T_CHECK(vivo_store_find(&s, "three") == 2);
	T_CHECK(vivo_store_find(&s, "four") == 3);
	T_CHECK(vivo_store_find(&s, "five") == -1);
	T_CHECK(vivo_store_find(&s, "On") == -1);
	T_CHECK(vivo_store_find(&s, "") == -1);

	/* remove keeps the others, in order */
	T_CHECK(vivo_store_remove(&s, "two") == 0);
	T_CHECK(s.n == 3);
	T_CHECK(strcmp(s.e[0].label, "one") == 0);
	T_CHECK(strcmp(s.e[1].label, "three") == 0);
	T_CHECK(strcmp(s.e[2].label, "four") == 0);
	T_CHECK(vivo_store_find(&s, "two") == -1);
	T_CHECK(vivo_store_remove(&s, "two") == -1);
	T_CHECK(s.n == 3);
	T_CHECK(vivo_store_remove(&s, "four") == 0); /* the last */
	T_CHECK(s.n == 2 && strcmp(s.e[1].label, "three") == 0);
	T_CHECK(vivo_store_remove(&s, "one") == 0); /* the first */
	T_CHECK(s.n == 1 && strcmp(s.e[0].label, "three") == 0);
	T_CHECK(vivo_store_remove(&s, "three") == 0);
	T_CHECK(s.n == 0);
	T_CHECK(vivo_store_remove(&s, "three") == -1);
}

static void
add_refuses_duplicate_and_overflow(void)
{
	static struct vivo_store s;
	struct vivo_entry e;
	char label[16];

	memset(&s, 0, sizeof(s));
	T_CHECK(entry(&e, "Left hand") == 0 && vivo_store_add(&s, &e) == 0);
	T_CHECK(vivo_store_add(&s, &e) == -1);
	T_CHECK(s.n == 1);
	for (int i = 1; i < VIVO_ENTRIES_MAX; i++) {
		snprintf(label, sizeof(label), "e%d", i);
		T_CHECK(entry(&e, label) == 0 && vivo_store_add(&s, &e) == 0);
	}
	T_CHECK(s.n == VIVO_ENTRIES_MAX);
	T_CHECK(entry(&e, "one too many") == 0 && vivo_store_add(&s, &e) == -1);
	T_CHECK(s.n == VIVO_ENTRIES_MAX);
	T_CHECK(vivo_store_find(&s, "one too many") == -1);
}

static void
system_path(void)
{
	struct vivo_config c;
	char out[PATH_MAX];

	vivo_config_defaults(&c);
	T_CHECK(vivo_store_system_path(&c, "alice", out, sizeof(out)) == 0);
	T_CHECK(strcmp(out, "/etc/security/pam_vivo/users/alice") == 0);
	T_CHECK(
	    vivo_store_system_path(&c, "../../passwd", out, sizeof(out)) == -1);
	T_CHECK(vivo_store_system_path(&c, "..", out, sizeof(out)) == -1);
	T_CHECK(vivo_store_system_path(&c, "a/b", out, sizeof(out)) == -1);
	T_CHECK(vivo_store_system_path(&c, "", out, sizeof(out)) == -1);
	T_CHECK(vivo_store_system_path(&c, "alice", out, 10) == -1);
	T_CHECK(vivo_store_user_path("/home/alice", out, sizeof(out)) == 0);
	T_CHECK(strcmp(out, "/home/alice/.config/pam_vivo/implants") == 0);
	T_CHECK(vivo_store_user_path("home/alice", out, sizeof(out)) == -1);
	T_CHECK(vivo_store_user_path(NULL, out, sizeof(out)) == -1);
}

/* ---- save / load -------------------------------------------------------- */

static void
save_load_round_trip(void)
{
	static struct vivo_store s, back;
	char path[PATH_MAX], err[512] = "";
	struct stat st;
	const char *d = tmp();

	if (d == NULL) {
		T_CHECK(!"no temp dir");
		return;
	}
	snprintf(path, sizeof(path), "%s/alice", d);
	memset(&s, 0, sizeof(s));
	T_CHECK(entry(&s.e[0], "Left hand") == 0);
	T_CHECK(entry(&s.e[1], "Hand \xe2\x9c\x8b links") == 0);
	s.n = 2;
	T_CHECK(vivo_store_save(path, &s, 0600) == 0);
	T_CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == 0600);
	T_CHECK(vivo_store_load(path, 0, &back, err, sizeof(err)) == 0);
	T_CHECK(back.n == 2);
	T_CHECK(same_entry(&s.e[0], &back.e[0]));
	T_CHECK(same_entry(&s.e[1], &back.e[1]));
	T_CHECK(vivo_uid_match(UID7, sizeof(UID7), &back.e[0].uid) == 1);

	/* saving again replaces: the removed entry is gone on disk */
	T_CHECK(vivo_store_remove(&s, "Left hand") == 0);
	T_CHECK(vivo_store_save(path, &s, 0644) == 0);
	T_CHECK(vivo_store_load(path, 0, &back, err, sizeof(err)) == 0);
	T_CHECK(back.n == 1 && strcmp(back.e[0].label, s.e[0].label) == 0);
	T_CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
}

static void
load_unsafe_file(void)
{
	static struct vivo_store s;
	char path[PATH_MAX], err[512] = "";
	const char *t = STORE(GOOD);

	if (put("gw", t, strlen(t), 0660, path, sizeof(path)) != 0) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_store_load(path, 0, &s, err, sizeof(err)) ==
	    VIVO_ERR_FILE_UNSAFE);
	T_CHECK(s.n == 0);
	T_CHECK(strstr(err, "gw") != NULL);
	T_CHECK(chmod(path, 0646) == 0);
	T_CHECK(vivo_store_load(path, 0, &s, err, sizeof(err)) ==
	    VIVO_ERR_FILE_UNSAFE);
	T_CHECK(chmod(path, 0600) == 0); /* control */
	T_CHECK(
	    vivo_store_load(path, 0, &s, err, sizeof(err)) == 0 && s.n == 1);
	/* owned by someone else */
	T_CHECK(chown(path, 12345, 12345) == 0);
	T_CHECK(vivo_store_load(path, 0, &s, err, sizeof(err)) ==
	    VIVO_ERR_FILE_UNSAFE);
	T_CHECK(vivo_store_load(path, 12345, &s, err, sizeof(err)) == 0);
}

static void
load_missing_file(void)
{
	static struct vivo_store s;
	char path[PATH_MAX], err[512] = "";
	const char *d = tmp();

	if (d == NULL) {
		T_CHECK(!"no temp dir");
		return;
	}
	snprintf(path, sizeof(path), "%s/nobody", d);
	T_CHECK(vivo_store_load(path, 0, &s, err, sizeof(err)) ==
	    VIVO_ERR_FILE_NOENT);
	T_CHECK(s.n == 0);
}

static void
load_corrupt_file(void)
{
	static const char nul[] = "version = 1;\nimplants = ();\n\0garbage";
	static struct vivo_store s;
	char path[PATH_MAX], err[512] = "";
	const char *bad[] = {
		"version = 2;\nimplants = ();\n",
		"}{",
		"",
		STORE(ENTRY(LBL MTH CRT)),
		STORE(GOOD ",\n" GOOD),
	};

	for (size_t i = 0; i < VIVO_NELEM(bad); i++) {
		if (put("bad", bad[i], strlen(bad[i]), 0600, path,
			sizeof(path)) != 0) {
			T_CHECK(!"cannot write");
			return;
		}
		err[0] = '\0';
		T_CHECK(vivo_store_load(path, 0, &s, err, sizeof(err)) ==
		    VIVO_ERR_STORE_CORRUPT);
		T_CHECK(s.n == 0);
		T_CHECK(strstr(err, "bad") != NULL);
	}
	if (put("nul", nul, sizeof(nul) - 1, 0600, path, sizeof(path)) != 0) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_store_load(path, 0, &s, err, sizeof(err)) ==
	    VIVO_ERR_STORE_CORRUPT);
}

T_MAIN("store", T_CASE(parse_valid_entry), T_CASE(parse_rejects_version),
    T_CASE(parse_rejects_implants_not_a_list), T_CASE(parse_entry_count),
    T_CASE(parse_rejects_incomplete_entry), T_CASE(parse_rejects_methods),
    T_CASE(parse_rejects_unknown_keys), T_CASE(parse_rejects_kdf),
    T_CASE(parse_label_control_chars), T_CASE(parse_label_bad_utf8),
    T_CASE(parse_label_length), T_CASE(parse_rejects_duplicate_labels),
    T_CASE(parse_created_form), T_CASE(parse_salt_and_hash),
    T_CASE(parse_iterations), T_CASE(parse_rejects_include),
    T_CASE(format_parse_round_trip), T_CASE(fido2_round_trip),
    T_CASE(format_multibyte_label_round_trip), T_CASE(format_empty_store),
    T_CASE(add_find_remove), T_CASE(add_refuses_duplicate_and_overflow),
    T_CASE(system_path), T_CASE(save_load_round_trip), T_CASE(load_unsafe_file),
    T_CASE(load_missing_file), T_CASE(load_corrupt_file))
