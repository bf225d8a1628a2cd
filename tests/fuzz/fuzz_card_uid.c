/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_card_uid.c - vivo_uid_read over a fake card whose replies are the
 * input (records: fake_card.h). Invariants: only GET DATA (FF CA 00 00 Le)
 * is sent, at most twice; a success gives 4..10 bytes that are the data
 * of the last reply; a failure is one of VIVO_ERR_CARD_*.
 */
#include "fake_card.h"
#include "fuzz.h"

#include "uid.h"

#include <string.h>

struct seen {
	unsigned n;
	uint8_t le[2];
};

static void
check_cmd(void *arg, const uint8_t *c, size_t clen)
{
	struct seen *s = arg;

	FUZZ_CHECK(clen == 5 && c[0] == 0xff && c[1] == 0xca && c[2] == 0x00 &&
	    c[3] == 0x00);
	FUZZ_CHECK(s->n < 2);
	s->le[s->n++] = c[4];
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_syslog();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_card f;
	struct vivo_transport t;
	struct seen seen = { 0 };
	uint8_t uid[VIVO_UID_MAX];
	size_t len = 12345;
	int r;

	fake_card_init(&f, data, size, &t);
	f.check = check_cmd;
	f.arg = &seen;
	memset(uid, 0xee, sizeof(uid));
	r = vivo_uid_read(&t, uid, &len);
	fuzz_note("uid_read: %d, %zu bytes, %u commands", r, len, f.ncmds);
	FUZZ_CHECK(seen.n >= 1 && seen.le[0] == 0x00);
	if (r != 0) {
		FUZZ_CHECK(r == VIVO_ERR_CARD_COMM ||
		    r == VIVO_ERR_CARD_PROTO || r == VIVO_ERR_CARD_NOTSUP);
		FUZZ_CHECK(len == 0);
		return 0;
	}
	FUZZ_CHECK(len >= 4 && len <= VIVO_UID_MAX);
	/* the UID is the data of the last reply served: it ends, before its
	 * status word, where the fake card's cursor is now */
	FUZZ_CHECK((size_t)(f.p - data) >= len + 2);
	FUZZ_CHECK(memcmp(uid, f.p - 2 - len, len) == 0);
	(void)vivo_uid_is_random(uid, len);
	return 0;
}
