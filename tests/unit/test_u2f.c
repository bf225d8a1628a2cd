/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_u2f.c - U2F parsing and verification against the raw-message
 * examples of the FIDO U2F specification (as used in python-fido2's
 * tests/test_ctap1.py), plus mutated copies that must fail; and the
 * chained/61xx transport over a fake card.
 */
#include "card.h"
#include "t.h"
#include "fake_card.h"
#include "u2f.h"
#include "util.h"

#include <stdlib.h>

static const char reg_hex[] =
    "0504b174bc49c7ca254b70d2e5c207cee9cf174820ebd77ea3c65508c26da51b657c1cc6b9"
    "52f8621697936482da0a6d3d3826a59095daf6cd7c03e2e60385d2f6d9402a552dfdb7477e"
    "d65fd84133f86196010b2215b57da75d315b7b9e8fe2e3925a6019551bab61d16591659cba"
    "f00b4950f7abfe6660e2e006f76868b772d70c253082013c3081e4a003020102020a479012"
    "80001155957352300a06082a8648ce3d0403023017311530130603550403130c476e756262"
    "792050696c6f74301e170d3132303831343138323933325a170d3133303831343138323933"
    "325a3031312f302d0603550403132650696c6f74476e756262792d302e342e312d34373930"
    "313238303030313135353935373335323059301306072a8648ce3d020106082a8648ce3d03"
    "0107034200048d617e65c9508e64bcc5673ac82a6799da3c1446682c258c463fffdf58dfd2"
    "fa3e6c378b53d795c4a4dffb4199edd7862f23abaf0203b4b8911ba0569994e101300a0608"
    "2a8648ce3d0403020347003044022060cdb6061e9c22262d1aac1d96d8c70829b2366531dd"
    "a268832cb836bcd30dfa0220631b1459f09e6330055722c8d89b7f48883b9089b88d60d1d9"
    "795902b30410df304502201471899bcc3987e62e8202c9b39c33c19033f7340352dba80fca"
    "b017db9230e402210082677d673d891933ade6f617e5dbde2e247e70423fd5ad7804a6d3d3"
    "961ef871";
static const char reg_chal[] =
    "4142d21c00d94ffb9d504ada8f99b721f4b191ae4e37ca0140f696b6983cfacb";
static const char reg_app[] =
    "f0e6a6a97042a4f1f1c87f5f7d44315b2d852c2df5c7991cc66241bf7072d1c4";
static const char reg_kh[] =
    "2a552dfdb7477ed65fd84133f86196010b2215b57da75d315b7b9e8fe2e3925a6019551bab"
    "61d16591659cbaf00b4950f7abfe6660e2e006f76868b772d70c25";

static const char auth_hex[] =
    "0100000001304402204b5f0cd17534cedd8c34ee09570ef542a353df4436030ce43d406de8"
    "70b847780220267bb998fac9b7266eb60e7cb0b5eabdfd5ba9614f53c7b22272ec10047a92"
    "3f";
static const char auth_chal[] =
    "ccd6ee2e47baef244d49a222db496bad0ef5b6f93aa7cc4d30c4821b3b9dbc57";
static const char auth_app[] =
    "4b0be934baebb5d12d26011b69227fa5e86df94e7d94aa2949a89f2d493992ca";
static const char auth_pub[] =
    "04d368f1b665bade3c33a20f1e429c7750d5033660c019119d29aa4ba7abc04aa7c80a46bb"
    "e11ca8cb5674d74f31f8a903f6bad105fb6ab74aefef4db8b0025e1d";

static size_t
hexin(const char *hex, uint8_t *out, size_t cap)
{
	size_t n;

	if (vivo_hex_decode(hex, out, cap, &n) != 0)
		abort();
	return n;
}

static void
register_vector_verifies(void)
{
	uint8_t resp[1024], chal[32], app[32], kh[64];
	size_t n = hexin(reg_hex, resp, sizeof(resp));
	struct vivo_u2f_reg reg;

	hexin(reg_chal, chal, 32);
	hexin(reg_app, app, 32);
	hexin(reg_kh, kh, 64);
	T_CHECK(vivo_u2f_register_parse(resp, n, chal, app, &reg) == 0);
	T_CHECK(reg.khlen == 64 && memcmp(reg.kh, kh, 64) == 0);
	T_CHECK(memcmp(reg.pub, resp + 1, 65) == 0);
	T_CHECK(strstr(reg.subject, "PilotGnubby") != NULL);
}

static void
register_vector_mutations_fail(void)
{
	uint8_t resp[1024], chal[32], app[32], m[1024];
	size_t n = hexin(reg_hex, resp, sizeof(resp));
	struct vivo_u2f_reg reg;
	/* offsets: pub 1..65, L 66, kh 67..130, cert 131.. (its key at 300),
	 * sig at the end. The certificate is only a carrier of the attestation
	 * key: its other fields (dates, names) are not trusted for anything. */
	const size_t flips[] = { 0, 10, 66, 100, 300, n - 1, n - 40 };

	hexin(reg_chal, chal, 32);
	hexin(reg_app, app, 32);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(m, resp, n);
		m[flips[i]] ^= 0x01;
		T_CHECK(vivo_u2f_register_parse(m, n, chal, app, &reg) != 0);
	}
	/* another challenge or application */
	chal[0] ^= 1;
	T_CHECK(vivo_u2f_register_parse(resp, n, chal, app, &reg) != 0);
	chal[0] ^= 1;
	app[31] ^= 0x80;
	T_CHECK(vivo_u2f_register_parse(resp, n, chal, app, &reg) != 0);
	app[31] ^= 0x80;
	/* truncated anywhere, or with trailing bytes */
	for (size_t cut = 0; cut < n; cut += 37)
		T_CHECK(
		    vivo_u2f_register_parse(resp, cut, chal, app, &reg) != 0);
	resp[n] = 0x00;
	T_CHECK(vivo_u2f_register_parse(resp, n + 1, chal, app, &reg) != 0);
}

static void
authenticate_vector_verifies(void)
{
	uint8_t resp[256], chal[32], app[32], pub[65];
	size_t n = hexin(auth_hex, resp, sizeof(resp));
	struct vivo_u2f_auth a;

	hexin(auth_chal, chal, 32);
	hexin(auth_app, app, 32);
	hexin(auth_pub, pub, 65);
	T_CHECK(vivo_u2f_auth_parse(resp, n, &a) == 0);
	T_CHECK(a.up == 1 && a.counter == 1);
	T_CHECK(vivo_u2f_verify(pub, app, chal, &a) == 0);
}

static void
authenticate_vector_mutations_fail(void)
{
	uint8_t resp[256], chal[32], app[32], pub[65], m[256];
	size_t n = hexin(auth_hex, resp, sizeof(resp));
	struct vivo_u2f_auth a;

	hexin(auth_chal, chal, 32);
	hexin(auth_app, app, 32);
	hexin(auth_pub, pub, 65);
	for (size_t i = 0; i < n; i += 3) {
		memcpy(m, resp, n);
		m[i] ^= 0x04;
		T_CHECK(vivo_u2f_auth_parse(m, n, &a) != 0 ||
		    vivo_u2f_verify(pub, app, chal, &a) != 0);
	}
	T_CHECK(vivo_u2f_auth_parse(resp, n, &a) == 0);
	chal[5] ^= 1;
	T_CHECK(vivo_u2f_verify(pub, app, chal, &a) != 0);
	chal[5] ^= 1;
	/* UP clear: refused even before the signature */
	a.up = 0;
	T_CHECK(vivo_u2f_verify(pub, app, chal, &a) != 0);
	T_CHECK(vivo_u2f_auth_parse(resp, n, &a) == 0);
	/* a counter other than the signed one */
	a.counter = 2;
	T_CHECK(vivo_u2f_verify(pub, app, chal, &a) != 0);
	T_CHECK(vivo_u2f_auth_parse(resp, n, &a) == 0);
	/* a public key off the curve */
	pub[64] ^= 1;
	T_CHECK(vivo_u2f_verify(pub, app, chal, &a) != 0);
	pub[64] ^= 1;
	/* compressed/other point encodings are refused */
	pub[0] = 0x02;
	T_CHECK(vivo_u2f_verify(pub, app, chal, &a) != 0);
}

static void
non_strict_der_is_refused(void)
{
	uint8_t resp[256], m[256];
	size_t n = hexin(auth_hex, resp, sizeof(resp));
	struct vivo_u2f_auth a;

	/* BER long-form length for the SEQUENCE: 30 81 44 ... */
	memcpy(m, resp, 6);
	m[6] = 0x81;
	memcpy(m + 7, resp + 6, n - 6);
	T_CHECK(vivo_u2f_auth_parse(m, n + 1, &a) != 0);
	/* trailing garbage after the signature */
	memcpy(m, resp, n);
	m[n] = 0;
	T_CHECK(vivo_u2f_auth_parse(m, n + 1, &a) != 0);
}

static void
app_param_is_sha256_of_appid(void)
{
	uint8_t p[32], want[32];

	/* printf 'pam://host' | sha256sum */
	hexin(
	    "82913f89f8c7f9c6c43461d48bb7216621d4be114d995c3e6cc865f076070ec0",
	    want, 32);
	T_CHECK(vivo_u2f_app_param("pam://host", p) == 0);
	T_CHECK(memcmp(p, want, 32) == 0);
	T_CHECK(vivo_u2f_app_param("pam://other", want) == 0);
	T_CHECK(memcmp(p, want, 32) != 0);
}

/* The fake transport (tests/common/fake_card.h), scripted as a card that
 * hands out `total` bytes (0, 1, 2, ...) in pieces of 90, each but the
 * last ending 61 xx. */
static void
script_pieces(struct fake_card *f, size_t total)
{
	uint8_t piece[90];
	size_t served = 0;

	do {
		size_t chunk = total - served > 90 ? 90 : total - served, left;
		for (size_t i = 0; i < chunk; i++)
			piece[i] = (uint8_t)(served + i);
		served += chunk;
		left = total - served;
		fake_card_reply(f, piece, chunk,
		    left == 0 ? 0x9000
			      : (uint16_t)(0x6100 | (left > 255 ? 0 : left)));
	} while (served < total);
}

static void
xfer_collects_61xx_pieces(void)
{
	static struct fake_card f;
	struct vivo_transport t;
	uint8_t out[2048];
	size_t olen;
	uint16_t sw;
	int ok = 1;

	fake_card_script(&f, &t);
	script_pieces(&f, 900); /* ten pieces of 90 */
	T_CHECK(vivo_apdu_xfer(&t, 0, 1, 0, 0, (const uint8_t *)"x", 1, out,
		    sizeof(out), &olen, &sw) == 0);
	T_CHECK(sw == 0x9000 && olen == 900 && f.ncmds == 10);
	for (size_t i = 0; i < olen; i++)
		ok &= out[i] == (uint8_t)i;
	T_CHECK(ok);
	T_CHECK(memcmp(f.sent[1], "\x00\xc0\x00\x00", 4) == 0);
}

static void
xfer_bounds_endless_61xx(void)
{
	static struct fake_card f;
	struct vivo_transport t;
	uint8_t out[VIVO_XFER_MAX];
	size_t olen;
	uint16_t sw;

	fake_card_script(&f, &t);
	for (int i = 0; i < 2 * VIVO_XFER_ROUNDS; i++)
		fake_card_reply(&f, NULL, 0, 0x61ff); /* "more", forever */
	T_CHECK(vivo_apdu_xfer(&t, 0, 1, 0, 0, NULL, 0, out, sizeof(out), &olen,
		    &sw) == VIVO_ERR_CARD_PROTO);
	T_CHECK(f.ncmds <= VIVO_XFER_ROUNDS + 1);
	T_CHECK(!f.overrun);
}

static void
xfer_chains_long_commands(void)
{
	static struct fake_card f;
	struct vivo_transport t;
	uint8_t data[320], out[64];
	size_t olen;
	uint16_t sw;

	fake_card_script(&f, &t);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	fake_card_reply(&f, NULL, 0, 0x9000); /* the chained piece */
	script_pieces(&f, 10);
	T_CHECK(vivo_apdu_xfer(&t, 0, 2, 3, 0, data, sizeof(data), out,
		    sizeof(out), &olen, &sw) == 0);
	T_CHECK(f.ncmds == 2);
	T_CHECK(f.sent[0][0] == 0x10 && f.sent[0][4] == 240 &&
	    f.sentlen[0] == 5 + 240);
	T_CHECK(f.sent[1][0] == 0x00 && f.sent[1][4] == 80 &&
	    f.sentlen[1] == 5 + 80 + 1);
	T_CHECK(memcmp(f.sent[1] + 5, data + 240, 80) == 0);
}

T_MAIN("u2f", T_CASE(register_vector_verifies),
    T_CASE(register_vector_mutations_fail),
    T_CASE(authenticate_vector_verifies),
    T_CASE(authenticate_vector_mutations_fail),
    T_CASE(non_strict_der_is_refused), T_CASE(app_param_is_sha256_of_appid),
    T_CASE(xfer_collects_61xx_pieces), T_CASE(xfer_bounds_endless_61xx),
    T_CASE(xfer_chains_long_commands))
