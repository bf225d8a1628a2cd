/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_store.c - vivo_store_parse on arbitrary text (cut at the first
 * NUL). Invariants: a refused text leaves a message and an empty store; an
 * accepted one has valid, uniquely labelled entries, and formatting it
 * (vivo_store_format) then parsing that again gives an identical struct,
 * which formats to identical text.
 */
#include "fuzz.h"

#include "store.h"

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

static void
check_entry(const struct vivo_store *s, size_t i)
{
	const struct vivo_entry *e = &s->e[i];

	FUZZ_CHECK(vivo_label_valid(e->label));
	FUZZ_CHECK(vivo_store_find(s, e->label) == (int)i);
	FUZZ_CHECK(strnlen(e->created, sizeof(e->created)) == 20);
	switch (e->method) {
	case VIVO_M_UID:
		FUZZ_CHECK(e->uid.iterations >= VIVO_UID_ITER_MIN &&
		    e->uid.iterations <= VIVO_UID_ITER_MAX);
		break;
	case VIVO_M_HMAC:
		FUZZ_CHECK(e->hmac.slot == 1 || e->hmac.slot == 2);
		break;
	case VIVO_M_U2F:
		FUZZ_CHECK(
		    e->u2f.khlen >= 1 && e->u2f.khlen <= VIVO_U2F_KH_MAX);
		FUZZ_CHECK(e->u2f.pub[0] == 0x04);
		FUZZ_CHECK(e->u2f.appid[0] != '\0' &&
		    strnlen(e->u2f.appid, sizeof(e->u2f.appid)) <
			sizeof(e->u2f.appid));
		break;
	default: fuzz_fail(__FILE__, __LINE__, "entry with an unknown method");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vivo_store s, s2, zero;
	char err[256], *text, *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	int r;

	if ((text = fuzz_text(data, size)) == NULL)
		return 0;
	err[0] = '\0';
	memset(&s, 0x5a, sizeof(s));
	r = vivo_store_parse(text, &s, err, sizeof(err));
	fuzz_note("store: %d (%s), %zu entries", r, r ? err : "ok", s.n);
	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(strnlen(err, sizeof(err)) < sizeof(err));
	if (r != 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(memcmp(&s, &zero, sizeof(s)) == 0);
		goto out;
	}
	FUZZ_CHECK(s.n <= VIVO_ENTRIES_MAX);
	for (size_t i = 0; i < s.n; i++)
		check_entry(&s, i);
	FUZZ_CHECK(!vivo_text_has_include(text));

	/* round trip: what vivo-enroll would write back reads the same */
	FUZZ_CHECK(vivo_store_format(&s, &out, &len) == 0);
	FUZZ_CHECK(out != NULL && strlen(out) == len);
	r = vivo_store_parse(out, &s2, err, sizeof(err));
	if (r != 0)
		fuzz_fail(__FILE__, __LINE__, err);
	FUZZ_CHECK(s2.n == s.n);
	FUZZ_CHECK(memcmp(s2.e, s.e, s.n * sizeof(s.e[0])) == 0);
	FUZZ_CHECK(memcmp(&s2, &s, sizeof(s)) == 0);
	FUZZ_CHECK(vivo_store_format(&s2, &out2, &len2) == 0);
	FUZZ_CHECK(len2 == len && memcmp(out2, out, len) == 0);
out:
	free(out);
	free(out2);
	free(text);
	return 0;
}
