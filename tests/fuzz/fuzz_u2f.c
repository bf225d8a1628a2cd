/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_u2f.c - the u2f method's parsers and its card transport. The first
 * input byte picks what the rest is fed to (byte % 5):
 *
 *   0  vivo_u2f_register_parse (the spec's challenge and application)
 *   1  vivo_u2f_auth_parse, then vivo_u2f_verify with the spec example's
 *      public key, application and challenge
 *   2  vivo_apdu_xfer over a fake card: u16 command length (% 600, so
 *      command chaining is reached), u16 reply capacity (% 8500, so the
 *      VIVO_XFER_MAX clamp is too), then records (fake_card.h)
 *   3  vivo_u2f_select then vivo_u2f_authenticate over a fake card
 *      (records), then vivo_u2f_verify as in 1
 *   4  vivo_u2f_register over a fake card (records)
 *
 * Invariants: the parsed fields are the bytes of the input they come
 * from, a refusal leaves the output zeroed; vivo_apdu_xfer sends exactly
 * the command data in well-formed pieces (240 bytes each but the last,
 * CLA | 10 on all but the last), resends a refused Le only once and with
 * the card's value, sends GET RESPONSE only after 61 xx and with xx, and
 * returns exactly the data of the replies it collected, within its cap.
 *
 * The product sleeps 100 ms between retries of 69 85 (u2f.c); this
 * executable's usleep() returns at once, or one input would take 0.5 s.
 */
#include "fake_card.h"
#include "fuzz.h"

#include "u2f.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The FIDO U2F raw-message examples (as in tests/unit/test_u2f.c). */
#define REG_CHAL                                                               \
	"4142d21c00d94ffb9d504ada8f99b721f4b191ae4e37ca0140f696b6983cfacb"
#define REG_APP                                                                \
	"f0e6a6a97042a4f1f1c87f5f7d44315b2d852c2df5c7991cc66241bf7072d1c4"
#define AUTH_CHAL                                                              \
	"ccd6ee2e47baef244d49a222db496bad0ef5b6f93aa7cc4d30c4821b3b9dbc57"
#define AUTH_APP                                                               \
	"4b0be934baebb5d12d26011b69227fa5e86df94e7d94aa2949a89f2d493992ca"
#define AUTH_PUB                                                               \
	"04d368f1b665bade3c33a20f1e429c7750d5033660c019119d29aa4ba7abc04aa7c8" \
	"0a46bbe11ca8cb5674d74f31f8a903f6bad105fb6ab74aefef4db8b0025e1d"
#define REG_KH                                                                 \
	"2a552dfdb7477ed65fd84133f86196010b2215b57da75d315b7b9e8fe2e3925a6019" \
	"551bab61d16591659cbaf00b4950f7abfe6660e2e006f76868b772d70c25"

static uint8_t reg_chal[32], reg_app[32], auth_chal[32], auth_app[32];
static uint8_t auth_pub[VIVO_U2F_PUB_LEN], reg_kh[64];
static uint8_t cmd_data[600];

int
usleep(useconds_t usec)
{
	(void)usec;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_syslog();
	fuzz_unhex(REG_CHAL, reg_chal, sizeof(reg_chal));
	fuzz_unhex(REG_APP, reg_app, sizeof(reg_app));
	fuzz_unhex(AUTH_CHAL, auth_chal, sizeof(auth_chal));
	fuzz_unhex(AUTH_APP, auth_app, sizeof(auth_app));
	fuzz_unhex(AUTH_PUB, auth_pub, sizeof(auth_pub));
	fuzz_unhex(REG_KH, reg_kh, sizeof(reg_kh));
	for (size_t i = 0; i < sizeof(cmd_data); i++)
		cmd_data[i] = (uint8_t)(i * 7 + (i >> 8));
	return 0;
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
card_error(int r)
{
	return r == VIVO_ERR_CARD_COMM || r == VIVO_ERR_CARD_PROTO ||
	    r == VIVO_ERR_CARD_NOTSUP;
}

/* ---- 0, 1: the reply parsers ------------------------------------------ */

static void
register_parse(const uint8_t *p, size_t n)
{
	static struct vivo_u2f_reg reg;
	int r;

	memset(&reg, 0x5a, sizeof(reg));
	r = vivo_u2f_register_parse(p, n, reg_chal, reg_app, &reg);
	fuzz_note("register_parse: %d", r);
	if (r != 0) {
		FUZZ_CHECK(r == VIVO_ERR_CARD_PROTO);
		FUZZ_CHECK(all_zero(&reg, sizeof(reg)));
		return;
	}
	FUZZ_CHECK(n > 2 + VIVO_U2F_PUB_LEN && p[0] == 0x05);
	FUZZ_CHECK(memcmp(reg.pub, p + 1, VIVO_U2F_PUB_LEN) == 0);
	FUZZ_CHECK(reg.khlen == p[1 + VIVO_U2F_PUB_LEN] && reg.khlen >= 1);
	FUZZ_CHECK(n - 2 - VIVO_U2F_PUB_LEN >= reg.khlen);
	FUZZ_CHECK(memcmp(reg.kh, p + 2 + VIVO_U2F_PUB_LEN, reg.khlen) == 0);
	FUZZ_CHECK(
	    strnlen(reg.subject, sizeof(reg.subject)) < sizeof(reg.subject));
}

static void
auth_parse_verify(const uint8_t *p, size_t n)
{
	struct vivo_u2f_auth a;
	int r;

	memset(&a, 0x5a, sizeof(a));
	r = vivo_u2f_auth_parse(p, n, &a);
	fuzz_note("auth_parse: %d", r);
	if (r != 0) {
		FUZZ_CHECK(r == VIVO_ERR_CARD_PROTO);
		FUZZ_CHECK(all_zero(&a, sizeof(a)));
		return;
	}
	FUZZ_CHECK(
	    n >= 5 + 8 && a.siglen == n - 5 && a.siglen <= VIVO_U2F_SIG_MAX);
	FUZZ_CHECK(a.up == p[0]);
	FUZZ_CHECK(a.counter ==
	    ((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
		p[4]));
	FUZZ_CHECK(memcmp(a.sig, p + 5, a.siglen) == 0);
	r = vivo_u2f_verify(auth_pub, auth_app, auth_chal, &a);
	fuzz_note("verify: %d", r);
	FUZZ_CHECK(r == 0 || r == -1);
	if (r == 0)
		FUZZ_CHECK(a.up & 0x01);
}

/* ---- 2: vivo_apdu_xfer ------------------------------------------------ */

#define X_INS 0x02
#define X_P1 0x03
#define X_P2 0x00

struct xfer_obs {
	size_t dlen;                    /* command data (cmd_data) */
	uint8_t sent[sizeof(cmd_data)]; /* data of the pieces sent */
	size_t sentlen;
	uint8_t prev[FAKE_CARD_CMD_MAX]; /* the previous command */
	size_t prevlen;
	int prev_plain; /* it was the last piece (or its resend) */
	int sent_last;  /* the last piece went out */
	int resent;     /* ... and was resent after 6C xx */
	int plain;      /* the command being answered is not a chained piece */
	uint16_t sw;    /* of the last reply served */
	size_t rlen;    /* its length (0: none yet) */
	uint8_t expect[VIVO_XFER_MAX + 512]; /* reply data to be collected */
	size_t explen;
	int overflow;
};

static void
xfer_cmd(void *arg, const uint8_t *c, size_t clen)
{
	struct xfer_obs *x = arg;
	int chained, resend;

	if (c[1] == 0xc0) { /* GET RESPONSE */
		FUZZ_CHECK(
		    clen == 5 && c[0] == 0x00 && c[2] == 0x00 && c[3] == 0x00);
		FUZZ_CHECK(x->sent_last && x->plain && x->rlen >= 2);
		FUZZ_CHECK(
		    (x->sw & 0xff00) == 0x6100 && c[4] == (uint8_t)x->sw);
		goto out;
	}
	FUZZ_CHECK(c[1] == X_INS && c[2] == X_P1 && c[3] == X_P2);
	chained = c[0] == 0x10;
	FUZZ_CHECK(c[0] == 0x00 || chained);
	resend = x->prev_plain && x->rlen == 2 && (x->sw & 0xff00) == 0x6c00 &&
	    clen == x->prevlen && memcmp(c, x->prev, clen - 1) == 0 &&
	    c[clen - 1] == (uint8_t)x->sw;
	if (resend) {
		FUZZ_CHECK(!x->resent);
		x->resent = 1;
		x->plain = 1;
		goto out;
	}
	FUZZ_CHECK(!x->sent_last);
	if (chained) {
		FUZZ_CHECK(x->dlen > 255 && clen == 5 + 240 && c[4] == 240);
		FUZZ_CHECK(x->dlen - x->sentlen > 240);
		memcpy(x->sent + x->sentlen, c + 5, 240);
		x->sentlen += 240;
	} else {
		size_t chunk = x->dlen - x->sentlen;
		FUZZ_CHECK(chunk <= (x->dlen > 255 ? 240 : 255));
		if (chunk == 0)
			FUZZ_CHECK(clen == 5 && c[4] == 0x00);
		else {
			FUZZ_CHECK(clen == 5 + chunk + 1 && c[4] == chunk &&
			    c[clen - 1] == 0x00);
			memcpy(x->sent + x->sentlen, c + 5, chunk);
			x->sentlen += chunk;
		}
		x->sent_last = 1;
	}
	FUZZ_CHECK(memcmp(x->sent, cmd_data, x->sentlen) == 0);
	x->plain = !chained;
	x->prev_plain = !chained;
	memcpy(x->prev, c, clen);
	x->prevlen = clen;
out:
	x->rlen = 0;
}

static void
xfer_reply(void *arg, const uint8_t *r, size_t n)
{
	struct xfer_obs *x = arg;

	x->rlen = n;
	if (n < 2)
		return;
	x->sw = (uint16_t)(r[n - 2] << 8 | r[n - 1]);
	if (!x->plain)
		return;
	if (n - 2 > sizeof(x->expect) - x->explen) {
		x->overflow = 1;
		return;
	}
	memcpy(x->expect + x->explen, r, n - 2);
	x->explen += n - 2;
}

static void
xfer(const uint8_t *p, size_t n)
{
	static struct xfer_obs x;
	struct fake_card f;
	struct vivo_transport t;
	size_t cap, olen = 12345;
	uint16_t sw = 0x1234;
	uint8_t *out;
	int r;

	if (n < 4)
		return;
	memset(&x, 0, sizeof(x));
	x.dlen = ((size_t)p[0] << 8 | p[1]) % sizeof(cmd_data);
	cap = ((size_t)p[2] << 8 | p[3]) % (VIVO_XFER_MAX + 300);
	if ((out = malloc(cap)) == NULL && cap > 0)
		return;
	fake_card_init(&f, p + 4, n - 4, &t);
	f.check = xfer_cmd;
	f.served = xfer_reply;
	f.arg = &x;
	r = vivo_apdu_xfer(&t, 0x00, X_INS, X_P1, X_P2,
	    x.dlen > 0 ? cmd_data : NULL, x.dlen, out, cap, &olen, &sw);
	fuzz_note("xfer: %d, %zu of %zu bytes, SW %04x, %u commands", r, olen,
	    cap, sw, f.ncmds);
	FUZZ_CHECK(
	    r == 0 || r == VIVO_ERR_CARD_COMM || r == VIVO_ERR_CARD_PROTO);
	FUZZ_CHECK(f.ncmds >= 1);
	if (x.sent_last)
		FUZZ_CHECK(x.sentlen == x.dlen);
	if (r != 0) {
		FUZZ_CHECK(olen == 0);
		goto done;
	}
	FUZZ_CHECK(olen <= cap && olen <= VIVO_XFER_MAX);
	FUZZ_CHECK(x.rlen >= 2 && sw == x.sw);
	if (x.sent_last) {
		FUZZ_CHECK((sw & 0xff00) != 0x6100);
		FUZZ_CHECK(!x.overflow && olen == x.explen);
		FUZZ_CHECK(olen == 0 || memcmp(out, x.expect, olen) == 0);
	} else /* a chained piece was refused */
		FUZZ_CHECK(olen == 0 && sw != 0x9000);
done:
	free(out);
}

/* ---- 3, 4: the card commands ------------------------------------------ */

static void
authenticate(const uint8_t *p, size_t n)
{
	struct fake_card f;
	struct vivo_transport t;
	struct vivo_u2f_auth a;
	int r;

	fake_card_init(&f, p, n, &t);
	r = vivo_u2f_select(&t);
	fuzz_note("select: %d", r);
	FUZZ_CHECK(r == 0 || r == VIVO_ERR_U2F_FIDO2 || card_error(r));
	memset(&a, 0, sizeof(a));
	r = vivo_u2f_authenticate(
	    &t, auth_chal, auth_app, reg_kh, sizeof(reg_kh), &a);
	fuzz_note("authenticate: %d", r);
	FUZZ_CHECK(r == 0 || card_error(r) || r == VIVO_ERR_U2F_WRONG_KH ||
	    r == VIVO_ERR_U2F_PRESENCE);
	if (r != 0)
		return;
	FUZZ_CHECK(a.siglen >= 8 && a.siglen <= VIVO_U2F_SIG_MAX);
	r = vivo_u2f_verify(auth_pub, auth_app, auth_chal, &a);
	fuzz_note("verify: %d", r);
	FUZZ_CHECK(r == 0 || r == -1);
	if (r == 0)
		FUZZ_CHECK(a.up & 0x01);
}

static void
do_register(const uint8_t *p, size_t n)
{
	static struct vivo_u2f_reg reg;
	struct fake_card f;
	struct vivo_transport t;
	int r;

	fake_card_init(&f, p, n, &t);
	memset(&reg, 0x5a, sizeof(reg));
	r = vivo_u2f_register(&t, reg_chal, reg_app, &reg);
	fuzz_note("register: %d", r);
	FUZZ_CHECK(r == 0 || card_error(r) || r == VIVO_ERR_U2F_PRESENCE);
	if (r != 0)
		return;
	FUZZ_CHECK(reg.khlen >= 1 && reg.khlen <= VIVO_U2F_KH_MAX);
	FUZZ_CHECK(reg.pub[0] == 0x04);
	FUZZ_CHECK(
	    strnlen(reg.subject, sizeof(reg.subject)) < sizeof(reg.subject));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p;
	size_t n;
	uint8_t *copy;

	if (size < 1)
		return 0;
	/* an exactly-sized copy: ASan then sees any read past the end */
	n = size - 1;
	if ((copy = malloc(n > 0 ? n : 1)) == NULL)
		return 0;
	if (n > 0)
		memcpy(copy, data + 1, n);
	p = copy;
	switch (data[0] % 5) {
	case 0: register_parse(p, n); break;
	case 1: auth_parse_verify(p, n); break;
	case 2: xfer(p, n); break;
	case 3: authenticate(p, n); break;
	default: do_register(p, n); break;
	}
	free(copy);
	return 0;
}
