/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dirval.c - a directory value (dirval.h: the "vivo1 ..." one-line
 * form and FreeIPA's "passkey:..." form), and the user name in the
 * directory's filter. The input is text cut at its first NUL. Invariants:
 * a refused value says why; an accepted one is a method a directory may
 * hold, formats to one line of printable ASCII, and that line reads back
 * as the same entry, with its counter 0; the filter built for the input
 * as a user name holds no unescaped '*', '(', ')' or '\', and unescapes
 * back to the name.
 */
#include "fuzz.h"

#include "directory.h"
#include "dirval.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_syslog();
	return 0;
}

static int
same(const struct vivo_entry *a, const struct vivo_entry *b)
{
	if (strcmp(a->label, b->label) != 0 || a->method != b->method ||
	    strcmp(a->created, b->created) != 0)
		return 0;
	switch (a->method) {
	case VIVO_M_FIDO2:
		return a->fido2.credlen == b->fido2.credlen &&
		    memcmp(a->fido2.cred, b->fido2.cred, a->fido2.credlen) ==
		    0 &&
		    a->fido2.publen == b->fido2.publen &&
		    memcmp(a->fido2.pub, b->fido2.pub, a->fido2.publen) == 0 &&
		    strcmp(a->fido2.rpid, b->fido2.rpid) == 0 &&
		    a->fido2.require_pin == b->fido2.require_pin &&
		    a->fido2.alg == b->fido2.alg;
	case VIVO_M_U2F:
		return a->u2f.khlen == b->u2f.khlen &&
		    memcmp(a->u2f.kh, b->u2f.kh, a->u2f.khlen) == 0 &&
		    memcmp(a->u2f.pub, b->u2f.pub, sizeof(a->u2f.pub)) == 0 &&
		    strcmp(a->u2f.appid, b->u2f.appid) == 0;
	case VIVO_M_UID: return memcmp(&a->uid, &b->uid, sizeof(a->uid)) == 0;
	default: return 0;
	}
}

static void
filter_check(const char *user)
{
	char f[4096], back[1024];
	size_t o = 0;
	const char *p;

	if (vivo_dir_filter("(uid=%u)", user, f, sizeof(f)) != 0)
		return; /* too long: refused, never cut */
	FUZZ_CHECK(strncmp(f, "(uid=", 5) == 0 && f[strlen(f) - 1] == ')');
	/* the value between "(uid=" and the last ")" */
	for (p = f + 5; p < f + strlen(f) - 1; p++) {
		FUZZ_CHECK(*p != '*' && *p != '(' && *p != ')');
		if (*p == '\\') {
			unsigned v;
			FUZZ_CHECK(sscanf(p + 1, "%2x", &v) == 1);
			back[o++] = (char)v;
			p += 2;
		} else
			back[o++] = *p;
		FUZZ_CHECK(o < sizeof(back));
	}
	back[o] = '\0';
	FUZZ_CHECK(strcmp(back, user) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vivo_config c;
	static struct vivo_entry e, back;
	char why[256], *text, *line = NULL;
	int r;

	if ((text = fuzz_text(data, size)) == NULL)
		return 0;
	if (strlen(text) < 512)
		filter_check(text);
	vivo_config_defaults(&c);
	c.methods = VIVO_M_UID | VIVO_M_HMAC | VIVO_M_U2F | VIVO_M_FIDO2;
	c.dir.allow_uid = 1;
	why[0] = '\0';
	r = vivo_dirval_parse(&c, text, &e, why, sizeof(why));
	fuzz_note("dirval: %d (%s)", r, r ? why : "ok");
	FUZZ_CHECK(r == 0 || r == -1);
	if (r != 0) {
		FUZZ_CHECK(
		    why[0] != '\0' && strnlen(why, sizeof(why)) < sizeof(why));
		goto out;
	}
	FUZZ_CHECK(e.method == VIVO_M_FIDO2 || e.method == VIVO_M_U2F ||
	    e.method == VIVO_M_UID);
	FUZZ_CHECK(e.u2f.counter == 0 && e.fido2.counter == 0);
	FUZZ_CHECK(vivo_dirval_format(&e, &line) == 0);
	for (const char *p = line; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	FUZZ_CHECK(vivo_dirval_parse(&c, line, &back, why, sizeof(why)) == 0);
	FUZZ_CHECK(same(&e, &back));
	free(line);
out:
	free(text);
	return 0;
}
