/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * card.c - see card.h.
 */
#include "card.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int
vivo_apdu(const struct vivo_transport *t, const uint8_t *c, size_t clen,
    uint8_t *data, size_t cap, size_t *dlen, uint16_t *sw)
{
	uint8_t *r;
	size_t rlen = VIVO_RAPDU_MAX;
	int ok;

	*dlen = 0;
	*sw = 0;
	if ((r = malloc(VIVO_RAPDU_MAX)) == NULL)
		return VIVO_ERR_CARD_COMM;
	ok = t->transmit(t->h, c, clen, r, &rlen);
	if (ok != 0)
		goto out;
	if (rlen == 0) {
		/* vpcd and some readers report a chip lifted mid-exchange as an
		 * empty reply: the chip is gone, not lying */
		ok = VIVO_ERR_CARD_COMM;
		goto out;
	}
	if (rlen < 2 || rlen > VIVO_RAPDU_MAX || rlen - 2 > cap) {
		ok = VIVO_ERR_CARD_PROTO;
		goto out;
	}
	*sw = (uint16_t)(r[rlen - 2] << 8 | r[rlen - 1]);
	memcpy(data, r, rlen - 2);
	*dlen = rlen - 2;
out:
	explicit_bzero(r, VIVO_RAPDU_MAX);
	free(r);
	return ok;
}

int
vivo_apdu_xfer(const struct vivo_transport *t, uint8_t cla, uint8_t ins,
    uint8_t p1, uint8_t p2, const uint8_t *data, size_t dlen, uint8_t *out,
    size_t cap, size_t *outlen, uint16_t *sw)
{
	uint8_t cmd[5 + 255 + 1], piece[258];
	size_t off = 0, plen = 0, got = 0, n;
	int r = 0, rounds = 0;

	*outlen = 0;
	if (cap > VIVO_XFER_MAX)
		cap = VIVO_XFER_MAX;
	/* the command, chained when it does not fit one short APDU */
	for (;;) {
		size_t chunk = dlen - off, clen;
		int last = 1;
		if (dlen > 255 && chunk > 240) {
			chunk = 240;
			last = 0;
		}
		cmd[0] = last ? cla : (uint8_t)(cla | 0x10);
		cmd[1] = ins;
		cmd[2] = p1;
		cmd[3] = p2;
		clen = 4;
		if (chunk > 0) {
			cmd[clen++] = (uint8_t)chunk;
			memcpy(cmd + clen, data + off, chunk);
			clen += chunk;
		}
		if (last)
			cmd[clen++] = 0x00; /* Le: up to 256 */
		r = vivo_apdu(t, cmd, clen, piece, sizeof(piece), &plen, sw);
		if (r == 0 && last && (*sw & 0xff00) == 0x6c00 && plen == 0) {
			cmd[clen - 1] = (uint8_t)*sw; /* "wrong Le: use xx" */
			r = vivo_apdu(
			    t, cmd, clen, piece, sizeof(piece), &plen, sw);
		}
		if (r != 0)
			goto out;
		off += chunk;
		if (last)
			break;
		if (*sw != 0x9000)
			goto out; /* the card refused a piece */
	}
	/* the reply, fetched with GET RESPONSE while the card says 61 xx */
	for (;;) {
		if (plen > cap - got) {
			r = VIVO_ERR_CARD_PROTO;
			goto out;
		}
		memcpy(out + got, piece, plen);
		got += plen;
		if ((*sw & 0xff00) != 0x6100)
			break;
		if (++rounds > VIVO_XFER_ROUNDS) {
			r = VIVO_ERR_CARD_PROTO;
			goto out;
		}
		{
			uint8_t gr[5] = { 0x00, 0xc0, 0x00, 0x00,
				(uint8_t)*sw };
			r = vivo_apdu(
			    t, gr, sizeof(gr), piece, sizeof(piece), &n, sw);
			plen = n;
		}
		if (r != 0)
			goto out;
	}
	*outlen = got;
out:
	explicit_bzero(cmd, sizeof(cmd));
	explicit_bzero(piece, sizeof(piece));
	if (r != 0) {
		explicit_bzero(out, got);
		*outlen = 0;
	}
	return r;
}
