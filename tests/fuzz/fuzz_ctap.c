/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ctap.c - the fido2 method's chip side: the CTAP-over-ISO-7816
 * framing (ctapnfc.c) and everything our libfido2 transport and checks do
 * with chip bytes (fido2.c). The first input byte picks (byte % 4):
 *
 *   0  vivo_ctap_msg over a fake card: u16 request length (% 1200, so
 *      short, extended and chained requests are reached), u8 flags (bit 0:
 *      the chip is known to refuse extended APDUs), u16 reply capacity
 *      (% 5000), then records (fake_card.h)
 *   1  vivo_ctap_apdu (a raw CTAP1 APDU) over a fake card: records
 *   2  vivo_fido2_open, then vivo_fido2_assert for one ES256 candidate
 *      (and, with the second input byte's bit 0, the PIN "1234"): records
 *   3  vivo_fido2_open, then vivo_fido2_make: records
 *
 * Invariants: every C-APDU is well-formed (the fake card checks);
 * ctapnfc sends exactly the request, as one short APDU, one extended APDU
 * (not to a chip known to refuse them) or ISO chaining (CLA 90 on every
 * piece but the last, 255 bytes each), polls only after 91 00 and fetches
 * only after 61 xx with xx, and returns either an answer within the
 * capacity or nothing; no assertion is ever accepted (the candidate's key
 * is fixed and the fuzzer cannot sign for it), and no credential is made
 * (its test assertion would have to verify).
 *
 * The keep-alive polls sleep 5 ms each (ctapnfc.c); this executable's
 * nanosleep() returns at once, or one input could take 3 s.
 */
#include "fake_card.h"
#include "fuzz.h"

#include "ctapnfc.h"
#include "fido2.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An ES256 public key (any valid point): the fuzzer has no private key */
#define CAND_PUB                                                               \
	"04d368f1b665bade3c33a20f1e429c7750d5033660c019119d29aa4ba7abc04aa7c8" \
	"0a46bbe11ca8cb5674d74f31f8a903f6bad105fb6ab74aefef4db8b0025e1d"

static uint8_t req_data[1200];
static struct vivo_fido2_data cand;

int
nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)req;
	(void)rem;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_syslog();
	for (size_t i = 0; i < sizeof(req_data); i++)
		req_data[i] = (uint8_t)(i * 13 + (i >> 8));
	memset(&cand, 0, sizeof(cand));
	strcpy(cand.rpid, "pam://fuzz");
	cand.credlen = 52;
	for (size_t i = 0; i < cand.credlen; i++)
		cand.cred[i] = (uint8_t)(0x40 + i);
	cand.alg = VIVO_COSE_ES256;
	fuzz_unhex(CAND_PUB, cand.pub, 65);
	cand.publen = 65;
	return 0;
}

/* ---- 0: vivo_ctap_msg ------------------------------------------------- */

struct msg_obs {
	size_t reqlen;
	int short_only;
	uint8_t sent[sizeof(req_data)]; /* request bytes seen so far */
	size_t sentlen;
	int done_sending; /* the last piece (or the one extended APDU) went */
	int extended;     /* an extended APDU was sent */
	uint16_t sw;      /* of the last reply served */
	size_t rlen;
};

static void
msg_cmd(void *arg, const uint8_t *c, size_t clen)
{
	struct msg_obs *x = arg;

	if (c[0] == 0x00 && c[1] == 0xc0) { /* GET RESPONSE */
		FUZZ_CHECK(clen == 5 && c[2] == 0 && c[3] == 0);
		FUZZ_CHECK(x->done_sending && (x->sw & 0xff00) == 0x6100 &&
		    c[4] == (uint8_t)x->sw);
		return;
	}
	if (c[0] == 0x80 && c[1] == 0x11) { /* NFCCTAP_GETRESPONSE */
		FUZZ_CHECK(clen == 5 && c[2] == 0 && c[3] == 0 && c[4] == 0);
		FUZZ_CHECK(x->done_sending && x->sw == 0x9100);
		return;
	}
	FUZZ_CHECK(c[1] == 0x10 && c[2] == 0x80 && c[3] == 0x00);
	FUZZ_CHECK(c[0] == 0x80 || c[0] == 0x90);
	if (clen > 5 && c[4] == 0x00) { /* extended */
		size_t lc = (size_t)c[5] << 8 | c[6];
		FUZZ_CHECK(!x->short_only && !x->extended && x->sentlen == 0);
		FUZZ_CHECK(c[0] == 0x80 && lc == x->reqlen && lc > 255);
		FUZZ_CHECK(clen == 7 + lc + 2);
		FUZZ_CHECK(memcmp(c + 7, req_data, lc) == 0);
		x->extended = 1;
		x->done_sending = 1;
		return;
	}
	/* a short piece: after an extended APDU only when it was refused
	 * with 67 00, and then the whole request again from the start */
	if (x->extended) {
		FUZZ_CHECK(x->done_sending && x->sw == 0x6700);
		x->extended = 0;
		x->done_sending = 0;
		x->sentlen = 0;
		x->short_only = 1;
	}
	FUZZ_CHECK(!x->done_sending);
	FUZZ_CHECK(clen >= 6 && c[4] != 0);
	FUZZ_CHECK(x->sentlen + c[4] <= x->reqlen);
	FUZZ_CHECK(memcmp(c + 5, req_data + x->sentlen, c[4]) == 0);
	x->sentlen += c[4];
	if (c[0] == 0x90) {
		FUZZ_CHECK(c[4] == 255 && clen == 5 + 255);
	} else {
		FUZZ_CHECK(x->sentlen == x->reqlen && clen == 5 + c[4] + 1);
		x->done_sending = 1;
	}
}

static void
msg_served(void *arg, const uint8_t *r, size_t rlen)
{
	struct msg_obs *x = arg;

	x->rlen = rlen;
	x->sw = rlen >= 2 ? (uint16_t)(r[rlen - 2] << 8 | r[rlen - 1]) : 0;
}

static void
do_msg(const uint8_t *p, size_t n)
{
	static struct fake_card fc;
	static struct msg_obs obs;
	static uint8_t resp[5000];
	struct vivo_transport t;
	struct vivo_ctapnfc c;
	size_t reqlen, cap, got = 0;
	int r;

	if (n < 5)
		return;
	reqlen = ((size_t)p[0] << 8 | p[1]) % 1200;
	cap = ((size_t)p[3] << 8 | p[4]) % sizeof(resp);
	memset(&obs, 0, sizeof(obs));
	obs.reqlen = reqlen;
	obs.short_only = p[2] & 1;
	fake_card_init(&fc, p + 5, n - 5, &t);
	fc.check = msg_cmd;
	fc.served = msg_served;
	fc.arg = &obs;
	memset(&c, 0, sizeof(c));
	c.t = &t;
	c.short_only = obs.short_only;
	memset(resp, 0x5a, sizeof(resp));
	r = vivo_ctap_msg(&c, req_data, reqlen, resp, cap, &got);
	fuzz_note("ctap_msg(%zu, cap %zu): %d, %zu bytes", reqlen, cap, r, got);
	if (reqlen == 0) {
		FUZZ_CHECK(r == VIVO_ERR_INTERNAL && fc.ncmds == 0);
		return;
	}
	FUZZ_CHECK(r == VIVO_OK || r == VIVO_ERR_CARD_COMM ||
	    r == VIVO_ERR_CARD_PROTO || r == VIVO_ERR_CARD_NOTSUP ||
	    r == VIVO_ERR_NOMEM);
	if (r == VIVO_OK) {
		FUZZ_CHECK(got >= 1 && got <= cap && c.last_sw == 0x9000);
		FUZZ_CHECK(obs.done_sending);
	} else
		FUZZ_CHECK(got == 0);
	FUZZ_CHECK(c.keepalives <= VIVO_CTAP_KEEPALIVE_MAX + 1);
}

/* ---- 1: vivo_ctap_apdu ------------------------------------------------ */

static void
do_apdu(const uint8_t *p, size_t n)
{
	static struct fake_card fc;
	static uint8_t resp[4096];
	static const uint8_t cmd[] = { 0x00, 0x02, 0x03, 0x00, 0x04, 1, 2, 3,
		4 };
	struct vivo_transport t;
	struct vivo_ctapnfc c;
	size_t got = 0;
	int r;

	fake_card_init(&fc, p, n, &t);
	memset(&c, 0, sizeof(c));
	c.t = &t;
	r = vivo_ctap_apdu(&c, cmd, sizeof(cmd), resp, sizeof(resp), &got);
	fuzz_note("ctap_apdu: %d, %zu bytes", r, got);
	if (r == VIVO_OK)
		FUZZ_CHECK(got >= 2 && got <= sizeof(resp) &&
		    resp[got - 2] == (uint8_t)(c.last_sw >> 8) &&
		    resp[got - 1] == (uint8_t)c.last_sw);
	else
		FUZZ_CHECK(got == 0);
}

/* ---- 2, 3: libfido2 over our transport ----------------------------- */

static void
do_assert(const uint8_t *p, size_t n, int make)
{
	static struct fake_card fc;
	struct vivo_transport t;
	struct vivo_fido2 *f = NULL;
	struct vivo_fido2_info in;
	char why[256];
	int r;

	if (n < 1)
		return;
	fake_card_init(&fc, p + 1, n - 1, &t);
	r = vivo_fido2_open(&t, &f, &in, why, sizeof(why));
	fuzz_note("fido2_open: %d", r);
	if (r != VIVO_OK) {
		FUZZ_CHECK(f == NULL);
		return;
	}
	FUZZ_CHECK(
	    strnlen(in.versions, sizeof(in.versions)) < sizeof(in.versions));
	FUZZ_CHECK(strnlen(in.extensions, sizeof(in.extensions)) <
	    sizeof(in.extensions));
	if (make) {
		static struct vivo_fido2_data e;
		struct vivo_fido2_make_req mr = { "pam://fuzz", "alice",
			(p[0] & 1) ? "1234" : NULL, p[0] & 1, (p[0] >> 1) & 1 };
		r = vivo_fido2_make(f, &mr, &e, why, sizeof(why));
		fuzz_note("fido2_make: %d", r);
		FUZZ_CHECK(r != VIVO_OK);
	} else {
		const struct vivo_fido2_data *cands[1] = { &cand };
		struct vivo_fido2_assert_req ar = { "pam://fuzz", cands, 1,
			(p[0] & 1) ? "1234" : NULL, (p[0] >> 1) & 1, p[0] & 1,
			NULL };
		struct vivo_fido2_assert_res res;
		int left = -1;
		r = vivo_fido2_assert(f, &ar, &res, why, sizeof(why));
		fuzz_note("fido2_assert: %d (%s)", r, why);
		FUZZ_CHECK(r != VIVO_OK);
		(void)vivo_fido2_pin_retries(f, &left);
	}
	vivo_fido2_close(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0: do_msg(data + 1, size - 1); break;
	case 1: do_apdu(data + 1, size - 1); break;
	case 2: do_assert(data + 1, size - 1, 0); break;
	default: do_assert(data + 1, size - 1, 1); break;
	}
	return 0;
}
