/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ctapnfc.c - the CTAP-over-ISO-7816 framing (ctapnfc.c) against a
 * scripted card: the exact C-APDUs of CTAP 2.1 section 11.3 (NFCCTAP_MSG,
 * extended length, chaining after a 67 00, GET RESPONSE, the keep-alive
 * poll), the bounds, and what libfido2's open makes of a chip without
 * CTAP2 (fido2.c).
 */
#include "ctapnfc.h"
#include "fake_card.h"
#include "fido2.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

static struct fake_card *
card(struct vivo_transport *t)
{
	struct fake_card *f = calloc(1, sizeof(*f));

	if (f == NULL)
		abort();
	fake_card_script(f, t);
	return f;
}

static void
test_short_message(void)
{
	struct vivo_transport t;
	struct fake_card *f = card(&t);
	struct vivo_ctapnfc c = { &t, 0, 0, 0 };
	const uint8_t req[] = { 0x04 }; /* getInfo */
	const uint8_t want[] = { 0x80, 0x10, 0x80, 0x00, 0x01, 0x04, 0x00 };
	const uint8_t ans[] = { 0x00, 0xa1, 0x01, 0x80 };
	uint8_t resp[64];
	size_t n = 0;

	fake_card_reply(f, ans, sizeof(ans), 0x9000);
	T_CHECK(vivo_ctap_msg(&c, req, sizeof(req), resp, sizeof(resp), &n) ==
	    VIVO_OK);
	T_CHECK(n == sizeof(ans) && memcmp(resp, ans, n) == 0);
	T_CHECK(fake_card_sent_is(f, 0, want, sizeof(want)));
	T_CHECK(f->ncmds == 1);
	free(f);
}

static void
test_extended_then_chained(void)
{
	struct vivo_transport t;
	struct fake_card *f = card(&t);
	struct vivo_ctapnfc c = { &t, 0, 0, 0 };
	uint8_t req[300], resp[64];
	const uint8_t ok[] = { 0x00 };
	size_t n = 0;

	for (size_t i = 0; i < sizeof(req); i++)
		req[i] = (uint8_t)i;
	/* the extended APDU is refused as a wrong length, then the two
	 * chained pieces are accepted */
	fake_card_reply(f, NULL, 0, 0x6700);
	fake_card_reply(f, NULL, 0, 0x9000);
	fake_card_reply(f, ok, sizeof(ok), 0x9000);
	T_CHECK(vivo_ctap_msg(&c, req, sizeof(req), resp, sizeof(resp), &n) ==
	    VIVO_OK);
	T_CHECK(n == 1 && resp[0] == 0x00);
	T_CHECK(c.short_only == 1);
	T_CHECK(f->ncmds == 3);
	/* extended: 80 10 80 00 00 01 2C data 00 00 */
	T_CHECK(f->sentlen[0] == 7 + 300 + 2 && f->sent[0][0] == 0x80 &&
	    f->sent[0][4] == 0x00 && f->sent[0][5] == 0x01 &&
	    f->sent[0][6] == 0x2c && f->sent[0][7] == 0x00);
	/* chained: 90 10 80 00 FF data[0..255), then 80 10 80 00 2D ... 00 */
	T_CHECK(f->sentlen[1] == 5 + 255 && f->sent[1][0] == 0x90 &&
	    f->sent[1][1] == 0x10 && f->sent[1][4] == 0xff &&
	    f->sent[1][5] == 0x00 && f->sent[1][5 + 254] == 254);
	T_CHECK(f->sentlen[2] == 5 + 45 + 1 && f->sent[2][0] == 0x80 &&
	    f->sent[2][4] == 45 && f->sent[2][5] == 255 &&
	    f->sent[2][5 + 45] == 0x00);
	/* the next long message goes chained at once */
	fake_card_reply(f, NULL, 0, 0x9000);
	fake_card_reply(f, ok, sizeof(ok), 0x9000);
	T_CHECK(vivo_ctap_msg(&c, req, sizeof(req), resp, sizeof(resp), &n) ==
	    VIVO_OK);
	T_CHECK(f->ncmds == 5 && f->sent[3][0] == 0x90);
	free(f);
}

static void
test_get_response_and_keepalive(void)
{
	struct vivo_transport t;
	struct fake_card *f = card(&t);
	struct vivo_ctapnfc c = { &t, 0, 0, 0 };
	const uint8_t req[] = { 0x02, 0xa0 };
	const uint8_t poll[] = { 0x80, 0x11, 0x00, 0x00, 0x00 };
	const uint8_t gr[] = { 0x00, 0xc0, 0x00, 0x00, 0x03 };
	const uint8_t st[] = { 0x01 }, a[] = { 0x00, 0x11 },
		      b[] = { 0x22, 0x33, 0x44 };
	uint8_t resp[64];
	size_t n = 0;

	fake_card_reply(f, st, sizeof(st), 0x9100); /* processing */
	fake_card_reply(f, st, sizeof(st), 0x9100);
	fake_card_reply(f, a, sizeof(a), 0x6103); /* 3 more bytes */
	fake_card_reply(f, b, sizeof(b), 0x9000);
	T_CHECK(vivo_ctap_msg(&c, req, sizeof(req), resp, sizeof(resp), &n) ==
	    VIVO_OK);
	T_CHECK(
	    n == 5 && resp[0] == 0x00 && resp[1] == 0x11 && resp[4] == 0x44);
	T_CHECK(c.keepalives == 2);
	T_CHECK(fake_card_sent_is(f, 1, poll, sizeof(poll)));
	T_CHECK(fake_card_sent_is(f, 2, poll, sizeof(poll)));
	T_CHECK(fake_card_sent_is(f, 3, gr, sizeof(gr)));
	free(f);
}

static void
test_bounds_and_errors(void)
{
	struct vivo_transport t;
	struct fake_card *f = card(&t);
	struct vivo_ctapnfc c = { &t, 0, 0, 0 };
	const uint8_t req[] = { 0x04 }, st[] = { 0x01 }, big[40] = { 0 };
	uint8_t resp[32];
	size_t n = 0;

	/* a status word other than 90 00 */
	fake_card_reply(f, NULL, 0, 0x6d00);
	T_CHECK(vivo_ctap_msg(&c, req, 1, resp, sizeof(resp), &n) ==
	    VIVO_ERR_CARD_NOTSUP);
	T_CHECK(c.last_sw == 0x6d00 && n == 0);
	/* 90 00 without even a status byte */
	fake_card_reply(f, NULL, 0, 0x9000);
	T_CHECK(vivo_ctap_msg(&c, req, 1, resp, sizeof(resp), &n) ==
	    VIVO_ERR_CARD_PROTO);
	/* more than the caller can take */
	fake_card_reply(f, big, sizeof(big), 0x9000);
	T_CHECK(vivo_ctap_msg(&c, req, 1, resp, sizeof(resp), &n) ==
	    VIVO_ERR_CARD_PROTO);
	/* the chip lifted mid-exchange */
	fake_card_fail(f);
	T_CHECK(vivo_ctap_msg(&c, req, 1, resp, sizeof(resp), &n) ==
	    VIVO_ERR_CARD_COMM);
	/* a chip that says "processing" for ever is given up on */
	for (int i = 0; i <= VIVO_CTAP_KEEPALIVE_MAX; i++)
		fake_card_reply(f, st, sizeof(st), 0x9100);
	T_CHECK(vivo_ctap_msg(&c, req, 1, resp, sizeof(resp), &n) ==
	    VIVO_ERR_CARD_PROTO);
	T_CHECK(c.keepalives == VIVO_CTAP_KEEPALIVE_MAX + 1);
	/* a chained piece answered early (even 61 xx): the command never
	 * arrived whole, and nothing is fetched */
	{
		uint8_t longreq[300] = { 0 };
		unsigned before;
		c.short_only = 1;
		fake_card_reply(f, NULL, 0, 0x616c);
		before = f->ncmds;
		T_CHECK(vivo_ctap_msg(&c, longreq, sizeof(longreq), resp,
			    sizeof(resp), &n) == VIVO_ERR_CARD_NOTSUP);
		T_CHECK(
		    c.last_sw == 0x616c && f->ncmds == before + 1 && n == 0);
	}
	/* nothing to send, or too much */
	T_CHECK(vivo_ctap_msg(&c, req, 0, resp, sizeof(resp), &n) ==
	    VIVO_ERR_INTERNAL);
	free(f);
}

static void
test_select(void)
{
	struct vivo_transport t;
	struct fake_card *f = card(&t);
	const uint8_t want[] = { 0x00, 0xa4, 0x04, 0x00, 0x08, 0xa0, 0x00, 0x00,
		0x06, 0x47, 0x2f, 0x00, 0x01, 0x00 };
	int kind = -1;

	fake_card_reply(f, (const uint8_t *)"FIDO_2_0", 8, 0x9000);
	fake_card_reply(f, (const uint8_t *)"U2F_V2", 6, 0x9000);
	fake_card_reply(f, NULL, 0, 0x6a82);
	fake_card_reply(f, (const uint8_t *)"U2F_V3", 6, 0x9000);
	T_CHECK(
	    vivo_ctap_select(&t, &kind) == VIVO_OK && kind == VIVO_CTAP_FIDO2);
	T_CHECK(fake_card_sent_is(f, 0, want, sizeof(want)));
	T_CHECK(
	    vivo_ctap_select(&t, &kind) == VIVO_OK && kind == VIVO_CTAP_U2F);
	T_CHECK(
	    vivo_ctap_select(&t, &kind) == VIVO_OK && kind == VIVO_CTAP_NONE);
	T_CHECK(
	    vivo_ctap_select(&t, &kind) == VIVO_OK && kind == VIVO_CTAP_NONE);
	free(f);
}

/* The CBOR gate in front of libfido2 (and libcbor, which allocates a
 * declared array before it reads an element). */
static void
test_cbor_gate(void)
{
	/* {1: ["FIDO_2_0"], 5: 1024} */
	static const uint8_t info[] = { 0xa2, 0x01, 0x81, 0x68, 'F', 'I', 'D',
		'O', '_', '2', '_', '0', 0x05, 0x19, 0x04, 0x00 };
	static const uint8_t huge_array[] = { 0x9b, 0x00, 0x00, 0x00, 0x03,
		0x1b, 0x8c, 0x4d, 0x20, 0x00 };
	static const uint8_t long_string[] = { 0x59, 0x01, 0x00, 'a' };
	static const uint8_t indefinite[] = { 0x9f, 0x01, 0xff };
	static const uint8_t reserved[] = { 0x1c };
	static const uint8_t two_items[] = { 0x01, 0x02 };
	static const uint8_t map_short[] = { 0xa2, 0x01, 0x02, 0x03 };
	uint8_t deep[40];

	T_CHECK(vivo_ctap_cbor_ok(info, sizeof(info)));
	T_CHECK(vivo_ctap_cbor_ok(info, 0)); /* status byte only */
	T_CHECK(!vivo_ctap_cbor_ok(info, sizeof(info) - 1));
	T_CHECK(!vivo_ctap_cbor_ok(huge_array, sizeof(huge_array)));
	T_CHECK(!vivo_ctap_cbor_ok(long_string, sizeof(long_string)));
	T_CHECK(!vivo_ctap_cbor_ok(indefinite, sizeof(indefinite)));
	T_CHECK(!vivo_ctap_cbor_ok(reserved, sizeof(reserved)));
	T_CHECK(!vivo_ctap_cbor_ok(two_items, sizeof(two_items)));
	T_CHECK(!vivo_ctap_cbor_ok(map_short, sizeof(map_short)));
	/* [[[ ... 0 ... ]]]: 16 levels pass, 17 do not */
	memset(deep, 0x81, sizeof(deep));
	deep[VIVO_CTAP_CBOR_DEPTH] = 0x00;
	T_CHECK(vivo_ctap_cbor_ok(deep, VIVO_CTAP_CBOR_DEPTH + 1));
	deep[VIVO_CTAP_CBOR_DEPTH] = 0x81;
	deep[VIVO_CTAP_CBOR_DEPTH + 1] = 0x00;
	T_CHECK(!vivo_ctap_cbor_ok(deep, VIVO_CTAP_CBOR_DEPTH + 2));
}

/* libfido2 over our transport: a chip with no FIDO applet, and one whose
 * applet answers U2F only (getInfo refused), are not CTAP2 chips. */
static void
test_open_without_ctap2(void)
{
	struct vivo_transport t;
	struct fake_card *f = card(&t);
	struct vivo_fido2 *s = NULL;
	struct vivo_fido2_info in;
	char why[256] = "";

	fake_card_reply(f, NULL, 0, 0x6a82);
	T_CHECK(vivo_fido2_open(&t, &s, &in, why, sizeof(why)) ==
	    VIVO_ERR_CARD_NOTSUP);
	T_CHECK(s == NULL && strstr(why, "no FIDO applet") != NULL);
	free(f);

	f = card(&t);
	why[0] = '\0';
	fake_card_reply(f, (const uint8_t *)"U2F_V2", 6, 0x9000);
	fake_card_reply(f, NULL, 0, 0x6d00); /* getInfo: no such INS */
	T_CHECK(vivo_fido2_open(&t, &s, &in, why, sizeof(why)) ==
	    VIVO_ERR_CARD_NOTSUP);
	T_CHECK(s == NULL && strstr(why, "U2F only") != NULL);
	/* one SELECT (ours, reused for libfido2's INIT), one getInfo */
	T_CHECK(f->ncmds == 2 && f->sent[1][0] == 0x80 &&
	    f->sent[1][1] == 0x10 && f->sent[1][5] == 0x04);
	free(f);

	/* the chip lost during getInfo is a lost chip, not a refusal */
	f = card(&t);
	fake_card_reply(f, (const uint8_t *)"FIDO_2_0", 8, 0x9000);
	fake_card_fail(f);
	T_CHECK(vivo_fido2_open(&t, &s, &in, why, sizeof(why)) ==
	    VIVO_ERR_CARD_COMM);
	free(f);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(test_short_message),
		T_CASE(test_extended_then_chained),
		T_CASE(test_get_response_and_keepalive),
		T_CASE(test_bounds_and_errors),
		T_CASE(test_select),
		T_CASE(test_cbor_gate),
		T_CASE(test_open_without_ctap2),
	};

	return t_run("ctapnfc", cases, sizeof(cases) / sizeof(cases[0]));
}
