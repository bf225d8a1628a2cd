/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fake_card.c - see fake_card.h.
 */
#include "fake_card.h"

#include "fuzz.h"

#include <string.h>

/* ISO 7816-3 short APDU: CLA INS P1 P2 [Lc data] [Le], Lc 1..255. */
static int
short_apdu_ok(const uint8_t *c, size_t clen)
{
	size_t lc;

	if (clen < 4 || clen > FAKE_CARD_CMD_MAX)
		return 0;
	if (clen <= 5)
		return 1; /* case 1, or case 2 (Le) */
	lc = c[4];
	return lc != 0 && (clen == 5 + lc || clen == 5 + lc + 1);
}

static int
fake_transmit(void *h, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
	struct fake_card *f = h;
	uint8_t copy[FAKE_CARD_CMD_MAX];
	size_t n;

	FUZZ_CHECK(f != NULL && c != NULL && r != NULL && rlen != NULL);
	FUZZ_CHECK(short_apdu_ok(c, clen));
	memcpy(copy, c, clen); /* ASan: the whole command must be readable */
	f->ncmds++;
	if (f->check != NULL)
		f->check(f->arg, copy, clen);
	if (f->left < 2) {
		f->left = 0;
		return VIVO_ERR_CARD_COMM;
	}
	n = (size_t)f->p[0] << 8 | f->p[1];
	f->p += 2;
	f->left -= 2;
	if (n == FAKE_CARD_FAIL)
		return VIVO_ERR_CARD_COMM;
	if (n > f->left)
		n = f->left;
	if (n > *rlen)
		n = *rlen;
	memcpy(r, f->p, n);
	*rlen = n;
	if (f->served != NULL)
		f->served(f->arg, f->p, n);
	f->p += n;
	f->left -= n;
	return 0;
}

void
fake_card_init(struct fake_card *f, const uint8_t *data, size_t size,
    struct vivo_transport *t)
{
	memset(f, 0, sizeof(*f));
	f->p = data;
	f->left = size;
	t->transmit = fake_transmit;
	t->h = f;
}
