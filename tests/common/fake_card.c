/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fake_card.c - see fake_card.h.
 */
#include "fake_card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: fake card: %s\n", __FILE__,    \
			    __LINE__, #cond);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

/* ISO 7816-3: a short APDU, CLA INS P1 P2 [Lc data] [Le] with Lc 1..255,
 * or an extended one, CLA INS P1 P2 00 [Lc1 Lc2 data] [Le1 Le2]. */
static int
apdu_ok(const uint8_t *c, size_t clen)
{
	size_t lc;

	if (clen < 4 || clen > FAKE_CARD_EXT_MAX)
		return 0;
	if (clen <= 5)
		return 1; /* case 1, or case 2S (Le) */
	lc = c[4];
	if (lc != 0)
		return clen == 5 + lc || clen == 5 + lc + 1; /* 3S, 4S */
	if (clen == 7)
		return 1; /* case 2E: 00 Le1 Le2 */
	lc = (size_t)c[5] << 8 | c[6];
	return lc != 0 && (clen == 7 + lc || clen == 7 + lc + 2); /* 3E, 4E */
}

static int
fake_transmit(void *h, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
	struct fake_card *f = h;
	uint8_t copy[FAKE_CARD_EXT_MAX];
	size_t n;

	CHECK(f != NULL && c != NULL && r != NULL && rlen != NULL);
	CHECK(apdu_ok(c, clen));
	memcpy(copy, c, clen); /* ASan: the whole command must be readable */
	if (f->ncmds < FAKE_CARD_SENT) {
		/* kept up to FAKE_CARD_CMD_MAX bytes; sentlen is the real one */
		memcpy(f->sent[f->ncmds], c,
		    clen < FAKE_CARD_CMD_MAX ? clen : FAKE_CARD_CMD_MAX);
		f->sentlen[f->ncmds] = clen;
	}
	f->ncmds++;
	if (f->check != NULL)
		f->check(f->arg, copy, clen);
	if (f->left < 2) {
		f->left = 0;
		f->overrun = 1;
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
	if (t != NULL)
		*t = fake_card_transport(f);
}

struct vivo_transport
fake_card_transport(struct fake_card *f)
{
	struct vivo_transport t = { .transmit = fake_transmit, .h = f };

	return t;
}

void
fake_card_script(struct fake_card *f, struct vivo_transport *t)
{
	fake_card_init(f, NULL, 0, t);
	f->p = f->script;
}

static void
add(struct fake_card *f, uint16_t len, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	uint8_t *w = f->script + f->scriptlen;

	CHECK(f->scriptlen + 2 + alen + blen <= sizeof(f->script));
	w[0] = (uint8_t)(len >> 8);
	w[1] = (uint8_t)len;
	if (alen > 0)
		memcpy(w + 2, a, alen);
	if (blen > 0)
		memcpy(w + 2 + alen, b, blen);
	f->scriptlen += 2 + alen + blen;
	f->left += 2 + alen + blen;
}

void
fake_card_reply(
    struct fake_card *f, const uint8_t *data, size_t len, uint16_t sw)
{
	const uint8_t s[2] = { (uint8_t)(sw >> 8), (uint8_t)sw };

	add(f, (uint16_t)(len + 2), data, len, s, 2);
}

void
fake_card_raw(struct fake_card *f, const uint8_t *r, size_t len)
{
	add(f, (uint16_t)len, r, len, NULL, 0);
}

void
fake_card_fail(struct fake_card *f)
{
	add(f, FAKE_CARD_FAIL, NULL, 0, NULL, 0);
}

int
fake_card_sent_is(
    const struct fake_card *f, size_t i, const uint8_t *c, size_t clen)
{
	return i < f->ncmds && i < FAKE_CARD_SENT && f->sentlen[i] == clen &&
	    memcmp(f->sent[i], c,
		clen < FAKE_CARD_CMD_MAX ? clen : FAKE_CARD_CMD_MAX) == 0;
}
