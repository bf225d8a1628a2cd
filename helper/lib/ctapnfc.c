/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctapnfc.c - see ctapnfc.h. CTAP 2.1, section 11.3 ("ISO7816, ISO14443
 * and Near Field Communication").
 */
#include "ctapnfc.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const uint8_t fido_aid[] = { 0xa0, 0x00, 0x00, 0x06, 0x47, 0x2f, 0x00,
	0x01 };

int
vivo_ctap_select(const struct vivo_transport *t, int *kind)
{
	uint8_t cmd[5 + sizeof(fido_aid) + 1], data[64];
	size_t dlen;
	uint16_t sw;
	int r;

	*kind = VIVO_CTAP_NONE;
	cmd[0] = 0x00;
	cmd[1] = 0xa4;
	cmd[2] = 0x04;
	cmd[3] = 0x00;
	cmd[4] = sizeof(fido_aid);
	memcpy(cmd + 5, fido_aid, sizeof(fido_aid));
	cmd[5 + sizeof(fido_aid)] = 0x00;
	r = vivo_apdu(t, cmd, sizeof(cmd), data, sizeof(data), &dlen, &sw);
	if (r == VIVO_ERR_CARD_COMM)
		return r;
	if (r != VIVO_OK || sw != 0x9000)
		return VIVO_OK; /* no FIDO applet */
	if (dlen == 6 && memcmp(data, "U2F_V2", 6) == 0)
		*kind = VIVO_CTAP_U2F;
	else if (dlen == 8 && memcmp(data, "FIDO_2_0", 8) == 0)
		*kind = VIVO_CTAP_FIDO2;
	return VIVO_OK;
}

/* One CBOR data item at p[*off..n), at nesting `depth`: see
 * vivo_ctap_cbor_ok. 0 / -1. */
static int
cbor_item(const uint8_t *p, size_t n, size_t *off, unsigned depth)
{
	uint8_t ib, major, ai;
	uint64_t v = 0;
	size_t len;

	if (depth > VIVO_CTAP_CBOR_DEPTH || *off >= n)
		return -1;
	ib = p[(*off)++];
	major = ib >> 5;
	ai = ib & 0x1f;
	if (ai < 24)
		v = ai;
	else if (ai <= 27) {
		len = (size_t)1 << (ai - 24);
		if (n - *off < len)
			return -1;
		for (size_t i = 0; i < len; i++)
			v = v << 8 | p[(*off)++];
	} else
		return -1; /* reserved, or indefinite length (not in CTAP) */
	switch (major) {
	case 0: /* unsigned */
	case 1: /* negative */ return 0;
	case 2: /* byte string */
	case 3: /* text string */
		if (v > n - *off)
			return -1;
		*off += (size_t)v;
		return 0;
	case 4: /* array: every element takes a byte at least */
	case 5: /* map: every pair two */
		if (v > (n - *off) / (major == 5 ? 2 : 1))
			return -1;
		for (uint64_t i = 0; i < v * (major == 5 ? 2 : 1); i++)
			if (cbor_item(p, n, off, depth + 1) != 0)
				return -1;
		return 0;
	case 6: /* tag */ return cbor_item(p, n, off, depth + 1);
	default: /* simple values, floats */ return 0;
	}
}

int
vivo_ctap_cbor_ok(const uint8_t *p, size_t n)
{
	size_t off = 0;

	if (n == 0)
		return 1;
	return cbor_item(p, n, &off, 0) == 0 && off == n;
}

static void
pause_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * Collect the rest of an answer whose first piece is in piece/plen/sw:
 * GET RESPONSE while `61 xx`, NFCCTAP_GETRESPONSE while `91 00`.
 */
static int
collect(struct vivo_ctapnfc *c, uint8_t *piece, size_t piececap, size_t plen,
    uint16_t sw, uint8_t *resp, size_t cap, size_t *resplen)
{
	size_t got = 0;
	unsigned rounds = 0;
	int r = VIVO_OK;

	c->keepalives = 0;
	for (;;) {
		if (sw == 0x9100) {
			/* a status update (processing / up needed): no part of
			 * the answer. Poll until the chip is done. */
			uint8_t poll[5] = { 0x80, 0x11, 0x00, 0x00, 0x00 };
			if (++c->keepalives > VIVO_CTAP_KEEPALIVE_MAX)
				return VIVO_ERR_CARD_PROTO;
			got = 0;
			pause_ms(VIVO_CTAP_KEEPALIVE_MS);
			r = vivo_apdu(c->t, poll, sizeof(poll), piece, piececap,
			    &plen, &sw);
			if (r != VIVO_OK)
				return r;
			continue;
		}
		if (plen > cap - got)
			return VIVO_ERR_CARD_PROTO;
		memcpy(resp + got, piece, plen);
		got += plen;
		if ((sw & 0xff00) != 0x6100)
			break;
		if (++rounds > VIVO_CTAP_RESP_ROUNDS)
			return VIVO_ERR_CARD_PROTO;
		{
			uint8_t gr[5] = { 0x00, 0xc0, 0x00, 0x00, (uint8_t)sw };
			r = vivo_apdu(
			    c->t, gr, sizeof(gr), piece, piececap, &plen, &sw);
			if (r != VIVO_OK)
				return r;
		}
	}
	c->last_sw = sw;
	*resplen = got;
	return VIVO_OK;
}

/* Send req as one extended APDU. */
static int
send_extended(struct vivo_ctapnfc *c, const uint8_t *req, size_t reqlen,
    uint8_t *cmd, uint8_t *piece, size_t piececap, size_t *plen, uint16_t *sw)
{
	size_t n = 0;

	cmd[n++] = 0x80;
	cmd[n++] = 0x10;
	cmd[n++] = 0x80;
	cmd[n++] = 0x00;
	cmd[n++] = 0x00;
	cmd[n++] = (uint8_t)(reqlen >> 8);
	cmd[n++] = (uint8_t)reqlen;
	memcpy(cmd + n, req, reqlen);
	n += reqlen;
	cmd[n++] = 0x00; /* Le 00 00: up to 65536 */
	cmd[n++] = 0x00;
	return vivo_apdu(c->t, cmd, n, piece, piececap, plen, sw);
}

/* Send req in short APDUs, chained (CLA 90) when over 255 bytes. */
static int
send_chained(struct vivo_ctapnfc *c, const uint8_t *req, size_t reqlen,
    uint8_t *cmd, uint8_t *piece, size_t piececap, size_t *plen, uint16_t *sw)
{
	size_t off = 0;

	for (;;) {
		size_t chunk = reqlen - off, n = 0;
		int last = chunk <= 255;
		int r;

		if (!last)
			chunk = 255;
		cmd[n++] = last ? 0x80 : 0x90;
		cmd[n++] = 0x10;
		cmd[n++] = 0x80;
		cmd[n++] = 0x00;
		cmd[n++] = (uint8_t)chunk;
		memcpy(cmd + n, req + off, chunk);
		n += chunk;
		if (last)
			cmd[n++] = 0x00; /* Le: up to 256 */
		r = vivo_apdu(c->t, cmd, n, piece, piececap, plen, sw);
		if (r != VIVO_OK || last)
			return r;
		if (*sw != 0x9000) {
			/* a piece refused (or answered early, even with 61 xx):
			 * the command did not arrive whole; nothing to fetch */
			c->last_sw = *sw;
			return VIVO_ERR_CARD_NOTSUP;
		}
		off += chunk;
	}
}

int
vivo_ctap_msg(struct vivo_ctapnfc *c, const uint8_t *req, size_t reqlen,
    uint8_t *resp, size_t cap, size_t *resplen)
{
	uint8_t *cmd = NULL, *piece = NULL;
	const size_t piececap = 65536;
	size_t plen = 0;
	uint16_t sw = 0;
	int r;

	*resplen = 0;
	c->last_sw = 0;
	if (reqlen == 0 || reqlen > VIVO_CTAP_MSG_MAX)
		return VIVO_ERR_INTERNAL;
	if ((cmd = malloc(reqlen + 9)) == NULL ||
	    (piece = malloc(piececap)) == NULL) {
		free(cmd);
		return VIVO_ERR_NOMEM;
	}
	if (reqlen > 255 && !c->short_only) {
		r = send_extended(
		    c, req, reqlen, cmd, piece, piececap, &plen, &sw);
		if (r == VIVO_OK && sw == 0x6700) {
			/* wrong length: no extended APDUs here; it did not
			 * run the command. Chain from now on. */
			c->short_only = 1;
			r = send_chained(
			    c, req, reqlen, cmd, piece, piececap, &plen, &sw);
		}
	} else
		r = send_chained(
		    c, req, reqlen, cmd, piece, piececap, &plen, &sw);
	if (r == VIVO_OK)
		r = collect(c, piece, piececap, plen, sw, resp, cap, resplen);
	if (r == VIVO_OK && c->last_sw != 0x9000) {
		r = VIVO_ERR_CARD_NOTSUP;
		*resplen = 0;
	} else if (r == VIVO_OK && *resplen == 0)
		r = VIVO_ERR_CARD_PROTO; /* not even a status byte */
	explicit_bzero(cmd, reqlen + 9);
	explicit_bzero(piece, piececap);
	free(cmd);
	free(piece);
	if (r != VIVO_OK)
		explicit_bzero(resp, cap);
	return r;
}

int
vivo_ctap_apdu(struct vivo_ctapnfc *c, const uint8_t *apdu, size_t len,
    uint8_t *resp, size_t cap, size_t *resplen)
{
	uint8_t *piece;
	const size_t piececap = 65536;
	size_t plen = 0, got = 0;
	uint16_t sw = 0;
	int r;

	*resplen = 0;
	if (cap < 2)
		return VIVO_ERR_INTERNAL;
	if ((piece = malloc(piececap)) == NULL)
		return VIVO_ERR_NOMEM;
	r = vivo_apdu(c->t, apdu, len, piece, piececap, &plen, &sw);
	if (r == VIVO_OK)
		r = collect(c, piece, piececap, plen, sw, resp, cap - 2, &got);
	if (r == VIVO_OK) {
		resp[got] = (uint8_t)(c->last_sw >> 8);
		resp[got + 1] = (uint8_t)c->last_sw;
		*resplen = got + 2;
	}
	explicit_bzero(piece, piececap);
	free(piece);
	return r;
}
