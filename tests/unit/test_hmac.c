/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hmac.c - the hmac method's card side and host side, without a card:
 * a fake transport replays scripted replies and records what was sent.
 */
#include "card.h"
#include "fake_card.h"
#include "hmac.h"
#include "t.h"
#include "util.h"

#include <stdlib.h>

/* The fake transport: tests/common/fake_card.h. */

static void
hexin(const char *hex, uint8_t *out, size_t n)
{
	size_t got;
	if (vivo_hex_decode(hex, out, n, &got) != 0 || got != n)
		abort();
}

/* ykchalresp(1): key 303132...43, "Sample #2" -> 0922d340... */
static void
known_answer_ykchalresp(void)
{
	uint8_t key[20], want[20], resp[20], padded[64];
	uint8_t reply[22];
	static struct fake_card f;
	struct vivo_transport t;
	const char *chal = "Sample #2";

	fake_card_script(&f, &t);
	hexin("303132333435363738393a3b3c3d3e3f40414243", key, 20);
	hexin("0922d3405faa3d194f82a45830737d5cc6c75d24", want, 20);
	/* the host computation */
	T_CHECK(vivo_hmac_sha1(key, (const uint8_t *)chal, 9, resp) == 0);
	T_CHECK(memcmp(resp, want, 20) == 0);
	/* the padding: 9 bytes + 55 x 00 (last byte '2' is not 00) */
	T_CHECK(vivo_hmac_pad((const uint8_t *)chal, 9, padded) == 0);
	T_CHECK(memcmp(padded, chal, 9) == 0);
	for (int i = 9; i < 64; i++)
		T_CHECK(padded[i] == 0x00);
	/* the APDU: 00 01 38 00 40 <64>, reply 20 bytes 90 00 */
	memcpy(reply, want, 20);
	reply[20] = 0x90;
	reply[21] = 0x00;
	fake_card_raw(&f, reply, 22);
	memset(resp, 0, sizeof(resp));
	T_CHECK(
	    vivo_hmac_challenge(&t, 2, (const uint8_t *)chal, 9, resp) == 0);
	T_CHECK(f.ncmds == 1 && f.sentlen[0] == 69);
	T_CHECK(memcmp(f.sent[0], "\x00\x01\x38\x00\x40", 5) == 0);
	T_CHECK(memcmp(f.sent[0] + 5, padded, 64) == 0);
	T_CHECK(memcmp(resp, want, 20) == 0);
}

static void
padding_differs_from_last_byte(void)
{
	uint8_t chal[63], out[64];

	memset(chal, 0xab, sizeof(chal));
	chal[62] = 0x00;
	T_CHECK(vivo_hmac_pad(chal, 63, out) == 0 && out[63] == 0x01);
	chal[62] = 0x01;
	T_CHECK(vivo_hmac_pad(chal, 63, out) == 0 && out[63] == 0x00);
	T_CHECK(vivo_hmac_pad(chal, 64, out) == -1);
	T_CHECK(vivo_hmac_pad(chal, 0, out) == -1);
}

static void
slot1_uses_p1_30(void)
{
	uint8_t reply[22] = { 0 }, resp[20], chal[63] = { 1 };
	static struct fake_card f;
	struct vivo_transport t;

	fake_card_script(&f, &t);
	reply[20] = 0x90;
	fake_card_raw(&f, reply, 22);
	T_CHECK(vivo_hmac_challenge(&t, 1, chal, 63, resp) == 0);
	T_CHECK(f.sent[0][2] == 0x30);
	T_CHECK(vivo_hmac_challenge(&t, 3, chal, 63, resp) != 0);
}

static void
unconfigured_slot_and_errors(void)
{
	static const uint8_t ok_empty[] = { 0x90, 0x00 };
	static const uint8_t refused[] = { 0x69, 0x84 };
	static const uint8_t short_resp[] = { 1, 2, 3, 0x90, 0x00 };
	uint8_t resp[20], chal[63] = { 7 };
	static struct fake_card f;
	struct vivo_transport t;

	fake_card_script(&f, &t);
	fake_card_raw(&f, ok_empty, 2);
	fake_card_raw(&f, refused, 2);
	fake_card_raw(&f, short_resp, 5);
	T_CHECK(
	    vivo_hmac_challenge(&t, 2, chal, 63, resp) == VIVO_ERR_CARD_NOTSUP);
	T_CHECK(
	    vivo_hmac_challenge(&t, 2, chal, 63, resp) == VIVO_ERR_CARD_NOTSUP);
	T_CHECK(
	    vivo_hmac_challenge(&t, 2, chal, 63, resp) == VIVO_ERR_CARD_NOTSUP);
	fake_card_fail(&f);
	T_CHECK(
	    vivo_hmac_challenge(&t, 2, chal, 63, resp) == VIVO_ERR_CARD_COMM);
}

static void
select_falls_back_to_8_byte_aid(void)
{
	static const uint8_t notfound[] = { 0x6a, 0x82 };
	static const uint8_t status[] = { 3, 4, 0, 7, 0x02, 0x00, 0x90, 0x00 };
	uint8_t st[6];
	static struct fake_card f;
	struct vivo_transport t;

	fake_card_script(&f, &t);
	fake_card_raw(&f, notfound, 2);
	fake_card_raw(&f, status, 8);
	T_CHECK(vivo_hmac_select(&t, st) == 0);
	T_CHECK(f.ncmds == 2);
	T_CHECK(f.sentlen[0] == 12 &&
	    memcmp(f.sent[0],
		"\x00\xa4\x04\x00\x07\xa0\x00\x00\x05\x27\x20\x01", 12) == 0);
	T_CHECK(f.sentlen[1] == 13 &&
	    memcmp(f.sent[1],
		"\x00\xa4\x04\x00\x08\xa0\x00\x00\x05\x27\x20\x01\x01",
		13) == 0);
	T_CHECK(!vivo_hmac_slot_programmed(st, 1));
	T_CHECK(vivo_hmac_slot_programmed(st, 2));
}

/* The CRC residual over config ‖ crc is F0B8 (protocols.md). */
static void
program_apdu_layout_and_crc(void)
{
	static const uint8_t status[] = { 3, 4, 0, 8, 0x03, 0x00, 0x90, 0x00 };
	uint8_t key[20], acc[6] = { 0 }, st[6];
	static struct fake_card f;
	struct vivo_transport t;
	const uint8_t *cfg;

	fake_card_script(&f, &t);
	for (int i = 0; i < 20; i++)
		key[i] = (uint8_t)(0x10 + i);
	fake_card_raw(&f, status, 8);
	T_CHECK(vivo_hmac_program(&t, 2, key, acc, st) == 0);
	T_CHECK(f.sentlen[0] == 5 + 52 + 6);
	T_CHECK(memcmp(f.sent[0], "\x00\x01\x03\x00\x3a", 5) == 0);
	cfg = f.sent[0] + 5;
	T_CHECK(memcmp(cfg + 22, key, 16) == 0);     /* key[16] */
	T_CHECK(memcmp(cfg + 16, key + 16, 4) == 0); /* uid[0..3] */
	T_CHECK(
	    cfg[46] == 0x40 && (cfg[47] & 0x04) && (cfg[47] & 0x22) == 0x22);
	T_CHECK(vivo_hmac_crc(cfg, 52) == 0xf0b8);
	T_CHECK(st[3] == 8);
}

static void
seal_and_open(void)
{
	uint8_t key[20], other[20], resp[20], out[20];
	struct vivo_hmac_data d, d2;

	memset(key, 0x42, sizeof(key));
	memset(other, 0x43, sizeof(other));
	T_CHECK(vivo_hmac_seal(key, "alice", 2, &d) == 0);
	T_CHECK(d.slot == 2);
	T_CHECK(
	    vivo_hmac_sha1(key, d.challenge, sizeof(d.challenge), resp) == 0);
	T_CHECK(vivo_hmac_open(&d, "alice", resp, out) == 0);
	T_CHECK(memcmp(out, key, 20) == 0);
	/* bound to the user */
	T_CHECK(vivo_hmac_open(&d, "bob", resp, out) == -1);
	/* bound to the slot */
	d2 = d;
	d2.slot = 1;
	T_CHECK(vivo_hmac_open(&d2, "alice", resp, out) == -1);
	/* another key's response does not open it */
	T_CHECK(
	    vivo_hmac_sha1(other, d.challenge, sizeof(d.challenge), resp) == 0);
	T_CHECK(vivo_hmac_open(&d, "alice", resp, out) == -1);
	/* a tampered seal does not open */
	T_CHECK(
	    vivo_hmac_sha1(key, d.challenge, sizeof(d.challenge), resp) == 0);
	d2 = d;
	d2.sealed[20] ^= 1;
	T_CHECK(vivo_hmac_open(&d2, "alice", resp, out) == -1);
	/* every seal is fresh */
	T_CHECK(vivo_hmac_seal(key, "alice", 2, &d2) == 0);
	T_CHECK(memcmp(d.challenge, d2.challenge, sizeof(d.challenge)) != 0);
	T_CHECK(memcmp(d.sealed, d2.sealed, sizeof(d.sealed)) != 0);
}

T_MAIN("hmac", T_CASE(known_answer_ykchalresp),
    T_CASE(padding_differs_from_last_byte), T_CASE(slot1_uses_p1_30),
    T_CASE(unconfigured_slot_and_errors),
    T_CASE(select_falls_back_to_8_byte_aid),
    T_CASE(program_apdu_layout_and_crc), T_CASE(seal_and_open))
