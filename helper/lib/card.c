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
		return VIVO_CARD_ECOMM;
	ok = t->transmit(t->h, c, clen, r, &rlen);
	if (ok != 0)
		goto out;
	if (rlen == 0) {
		/* vpcd and some readers report a chip lifted mid-exchange as an
		 * empty reply: the chip is gone, not lying */
		ok = VIVO_CARD_ECOMM;
		goto out;
	}
	if (rlen < 2 || rlen > VIVO_RAPDU_MAX || rlen - 2 > cap) {
		ok = VIVO_CARD_EPROTO;
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
