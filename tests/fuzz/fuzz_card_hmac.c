/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_card_hmac.c - the hmac method's card side over a fake card whose
 * replies come from the input: vivo_hmac_select, vivo_hmac_challenge,
 * vivo_hmac_program, in that order, each served by the next records.
 *
 * Input: one option byte, then records (fake_card.h).
 *   bit 0     slot 1 (0) or 2 (1)
 *   bit 1     program with a status buffer (1) or NULL (0)
 *   bits 2-7  challenge length 0..63: a prefix of the fixed state's
 *             challenge (63 = all of it; 0 must be refused unsent)
 *
 * Invariants: every command is one of the three, well formed (the
 * programming block's CRC residual is F0B8, the key and access code are
 * where the YubiKey layout puts them, the challenge is padded so the card
 * strips exactly the padding); a 20-byte response is the reply's data;
 * and a response opens the fixed sealed state (user "alice", key K) if and
 * only if it is HMAC-SHA1(K, C), giving K.
 */
#include "fake_card.h"
#include "fuzz.h"

#include "hmac.h"

#include <stdlib.h>
#include <string.h>

/* K: the ykchalresp(1) test key; the state: K sealed for "alice", slot 1,
 * under R = HMAC-SHA1(K, C) (tests/fuzz/make-seeds.py derives the same). */
#define KEY_HEX "303132333435363738393a3b3c3d3e3f40414243"
#define CHAL_HEX                                                               \
	"0718293a4b5c6d7e8fa0b1c2d3e4f5061728394a5b6c7d8e9fb0c1d2e3f405162738" \
	"495a6b7c8d9eafc0d1e2f30415263748596a7b8c9daebfd0e1f2031425"
#define RESP_HEX "0ca4c412849e8ef0b73813be30cbfc3f5bcf2779"
#define SEALED_HEX                                                             \
	"a0a1a2a3a4a5a6a7a8a9aaab52df7704d28d743136f7cf70b18cba1ef4d486122026" \
	"7b2c0970a59c789e1bc8dbbfa122"
#define USER "alice"

static uint8_t key[VIVO_HMAC_KEY_LEN], good_resp[VIVO_HMAC_RESP_LEN];
static const uint8_t acc[6] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6 };
static struct vivo_hmac_data state;

static const uint8_t aid7[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01 };
static const uint8_t aid8[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01,
	0x01 };

struct expect {
	unsigned slot;
	size_t chal_len;
	unsigned selects, challenges, programs;
};

static void
check_challenge(const struct expect *x, const uint8_t *c, size_t clen)
{
	const uint8_t *pad = c + 5;

	FUZZ_CHECK(clen == 5 + 64 && c[3] == 0x00 && c[4] == 0x40);
	FUZZ_CHECK(c[2] == (x->slot == 1 ? 0x30 : 0x38));
	FUZZ_CHECK(x->chal_len >= 1 && x->chal_len <= VIVO_HMAC_CHAL_LEN);
	FUZZ_CHECK(memcmp(pad, state.challenge, x->chal_len) == 0);
	/* HMAC_LT64: the card strips the last byte and every equal byte
	 * before it; that must remove exactly the padding */
	for (size_t i = x->chal_len; i < 64; i++)
		FUZZ_CHECK(pad[i] == pad[63]);
	FUZZ_CHECK(pad[x->chal_len - 1] != pad[63]);
}

static void
check_program(const struct expect *x, const uint8_t *c, size_t clen)
{
	const uint8_t *cfg = c + 5;

	FUZZ_CHECK(clen == 5 + 52 + 6 && c[3] == 0x00 && c[4] == 52 + 6);
	FUZZ_CHECK(c[2] == (x->slot == 1 ? 0x01 : 0x03));
	FUZZ_CHECK(vivo_hmac_crc(cfg, 52) == 0xf0b8);
	FUZZ_CHECK(memcmp(cfg + 22, key, 16) == 0);     /* key[0..15] */
	FUZZ_CHECK(memcmp(cfg + 16, key + 16, 4) == 0); /* uid[0..3] */
	FUZZ_CHECK(memcmp(c + 5 + 52, acc, 6) == 0);
}

static void
check_cmd(void *arg, const uint8_t *c, size_t clen)
{
	struct expect *x = arg;

	FUZZ_CHECK(c[0] == 0x00);
	if (c[1] == 0xa4) {
		FUZZ_CHECK(c[2] == 0x04 && c[3] == 0x00);
		FUZZ_CHECK((clen == 5 + sizeof(aid7) && c[4] == sizeof(aid7) &&
			       memcmp(c + 5, aid7, sizeof(aid7)) == 0) ||
		    (clen == 5 + sizeof(aid8) && c[4] == sizeof(aid8) &&
			memcmp(c + 5, aid8, sizeof(aid8)) == 0));
		FUZZ_CHECK(x->challenges == 0 && x->programs == 0);
		FUZZ_CHECK(++x->selects <= 2);
	} else if (c[1] == 0x01 && (c[2] == 0x30 || c[2] == 0x38)) {
		check_challenge(x, c, clen);
		FUZZ_CHECK(++x->challenges == 1 && x->programs == 0);
	} else if (c[1] == 0x01 && (c[2] == 0x01 || c[2] == 0x03)) {
		check_program(x, c, clen);
		FUZZ_CHECK(++x->programs == 1);
	} else
		fuzz_fail(__FILE__, __LINE__, "unexpected command");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t k[VIVO_HMAC_KEY_LEN];

	(void)argc;
	(void)argv;
	fuzz_quiet_syslog();
	fuzz_unhex(KEY_HEX, key, sizeof(key));
	fuzz_unhex(RESP_HEX, good_resp, sizeof(good_resp));
	state.slot = 1;
	fuzz_unhex(CHAL_HEX, state.challenge, sizeof(state.challenge));
	fuzz_unhex(SEALED_HEX, state.sealed, sizeof(state.sealed));
	/* the constants agree with the library */
	FUZZ_CHECK(vivo_hmac_sha1(
		       key, state.challenge, sizeof(state.challenge), k) == 0 &&
	    memcmp(k, good_resp, sizeof(k)) == 0);
	FUZZ_CHECK(vivo_hmac_open(&state, USER, good_resp, k) == 0 &&
	    memcmp(k, key, sizeof(k)) == 0);
	return 0;
}

static int
card_error(int r)
{
	return r == VIVO_ERR_CARD_COMM || r == VIVO_ERR_CARD_PROTO ||
	    r == VIVO_ERR_CARD_NOTSUP;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_card f;
	struct vivo_transport t;
	struct expect x = { 0 };
	uint8_t status[VIVO_HMAC_STATUS_LEN], status2[VIVO_HMAC_STATUS_LEN];
	uint8_t resp[VIVO_HMAC_RESP_LEN], k[VIVO_HMAC_KEY_LEN];
	int r, with_status;

	if (size < 1)
		return 0;
	x.slot = (data[0] & 1) ? 2 : 1;
	with_status = (data[0] & 2) != 0;
	x.chal_len = data[0] >> 2;
	fake_card_init(&f, data + 1, size - 1, &t);
	f.check = check_cmd;
	f.arg = &x;

	r = vivo_hmac_select(&t, status);
	fuzz_note("select: %d", r);
	FUZZ_CHECK(r == 0 || card_error(r));
	FUZZ_CHECK(x.selects >= 1);
	if (r == 0) {
		int p = vivo_hmac_slot_programmed(status, x.slot);
		FUZZ_CHECK(p == 0 || p == 1);
	}

	r = vivo_hmac_challenge(&t, x.slot, state.challenge, x.chal_len, resp);
	fuzz_note("challenge (slot %u, %zu bytes): %d", x.slot, x.chal_len, r);
	FUZZ_CHECK(r == 0 || card_error(r));
	if (x.chal_len == 0)
		FUZZ_CHECK(r == VIVO_ERR_CARD_PROTO && x.challenges == 0);
	if (r == 0) {
		/* the response is the data of the reply just served */
		FUZZ_CHECK((size_t)(f.p - (data + 1)) >= sizeof(resp) + 2);
		FUZZ_CHECK(
		    memcmp(resp, f.p - 2 - sizeof(resp), sizeof(resp)) == 0);
		if (x.chal_len == VIVO_HMAC_CHAL_LEN) {
			int opened = vivo_hmac_open(&state, USER, resp, k) == 0;
			int right = memcmp(resp, good_resp, sizeof(resp)) == 0;
			fuzz_note("open: %s", opened ? "yes" : "no");
			FUZZ_CHECK(opened == right);
			if (opened)
				FUZZ_CHECK(memcmp(k, key, sizeof(k)) == 0);
		}
	}

	memset(status2, 0, sizeof(status2));
	r = vivo_hmac_program(
	    &t, x.slot, key, acc, with_status ? status2 : NULL);
	fuzz_note("program: %d", r);
	FUZZ_CHECK(r == 0 || card_error(r));
	FUZZ_CHECK(x.programs == 1);
	return 0;
}
