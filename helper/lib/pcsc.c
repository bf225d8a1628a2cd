/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcsc.c - the reader layer (readerio.h) for pcsc-lite: vivo_pcsc_io. Every
 * call into pcsc-lite is here.
 */
#include "readerio.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <winscard.h>

#define PNP_READER "\\\\?PnP?\\Notification"
#define READERS_MAX 16

struct reader {
	char name[128];
	DWORD state;             /* last dwEventState seen (0 = never looked) */
	struct vivo_presence pr; /* fresh tap or stale chip (presence.c) */
};

struct pcsc {
	SCARDCONTEXT ctx;
	int have_ctx;
	SCARDHANDLE card;
	int have_card;
	DWORD proto;
	const struct vivo_config *cfg;
	struct reader r[READERS_MAX];
	size_t n;
	DWORD pnp_state;
	char *list; /* last SCardListReaders multi-string */
};

static int
map_err(LONG rv)
{
	switch (rv) {
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
	case SCARD_F_COMM_ERROR:   /* "RPC transport error": pcscd went away */
	case SCARD_E_NO_SMARTCARD: /* pcsc-lite answers this when the socket
	                              is there but nobody serves it */
		return VIVO_ERR_READER_NOSERVICE;
	case SCARD_E_TIMEOUT: return VIVO_ERR_READER_TIMEOUT;
	default:
		vivo_dbg("pcsc-lite: %s (0x%08lx)", pcsc_stringify_error(rv),
		    (unsigned long)rv);
		return VIVO_ERR_READER_FAIL;
	}
}

static int
pcsc_open(void **out, const struct vivo_config *c)
{
	struct pcsc *p;
	LONG rv;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return VIVO_ERR_READER_FAIL;
	p->cfg = c;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
	if (rv != SCARD_S_SUCCESS) {
		vivo_dbg("%s: SCardEstablishContext: %s", __func__,
		    pcsc_stringify_error(rv));
		free(p);
		return map_err(rv);
	}
	p->have_ctx = 1;
	*out = p;
	return 0;
}

static void pcsc_disconnect(void *h);

static void
pcsc_close(void *h)
{
	struct pcsc *p = h;

	if (p == NULL)
		return;
	pcsc_disconnect(p);
	if (p->have_ctx)
		SCardReleaseContext(p->ctx);
	free(p->list);
	free(p);
}

static int
name_matches(const struct vivo_config *c, const char *name)
{
	if (c->nreaders == 0)
		return 1;
	for (size_t i = 0; i < c->nreaders; i++)
		if (strstr(name, c->readers[i]) != NULL)
			return 1;
	return 0;
}

/* Refresh the reader list, keeping what we knew of readers still there. */
static int
relist(struct pcsc *p)
{
	struct reader old[READERS_MAX];
	size_t oldn = p->n;
	DWORD len = 0;
	LONG rv;

	memcpy(old, p->r, sizeof(old));
	p->n = 0;
	free(p->list);
	p->list = NULL;
	rv = SCardListReaders(p->ctx, NULL, NULL, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return 0;
	if (rv != SCARD_S_SUCCESS)
		return map_err(rv);
	if (len == 0 || len > 64 * 1024 ||
	    (p->list = calloc(1, len + 1)) == NULL)
		return VIVO_ERR_READER_FAIL;
	rv = SCardListReaders(p->ctx, NULL, p->list, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return 0;
	if (rv != SCARD_S_SUCCESS)
		return map_err(rv);
	for (const char *s = p->list; *s != '\0' && p->n < READERS_MAX;
	     s += strlen(s) + 1) {
		struct reader *r = &p->r[p->n];
		if (!name_matches(p->cfg, s) || strlen(s) >= sizeof(r->name))
			continue;
		memset(r, 0, sizeof(*r));
		(void)vivo_strlcpy(r->name, s, sizeof(r->name));
		for (size_t i = 0; i < oldn; i++)
			if (strcmp(old[i].name, s) == 0)
				*r = old[i];
		p->n++;
	}
	return 0;
}

/* Apply a reader's new state; 1 if this is a fresh tap. */
static int
update(struct reader *r, DWORD ev)
{
	enum vivo_chip_state chip = !(ev & SCARD_STATE_PRESENT)
	    ? VIVO_CHIP_ABSENT
	    : (ev & SCARD_STATE_MUTE) ? VIVO_CHIP_MUTE
				      : VIVO_CHIP_PRESENT;
	int tap = 0;

	/* neither present nor empty (a reader that is coming up): no news */
	if (chip != VIVO_CHIP_ABSENT || (ev & SCARD_STATE_EMPTY))
		tap = vivo_presence_update(&r->pr, chip, (unsigned)(ev >> 16));
	else if (!r->pr.seen)
		r->pr.seen = 1;
	r->state = ev ? ev : SCARD_STATE_UNAVAILABLE;
	return tap;
}

static int
pcsc_wait_tap(void *h, int64_t deadline, vivo_ready_fn ready, void *arg,
    char *reader, size_t readersz)
{
	struct pcsc *p = h;
	SCARD_READERSTATE st[READERS_MAX + 1];
	int need_list = 1, told = 0, ever_reader = 0, r;

	for (;;) {
		int64_t left = deadline - vivo_now_ms();
		size_t n;
		LONG rv;

		if (need_list) {
			if ((r = relist(p)) != 0)
				return r;
			need_list = 0;
			if (p->n > 0)
				ever_reader = 1;
		}
		n = p->n;
		memset(st, 0, sizeof(st));
		for (size_t i = 0; i < n; i++) {
			st[i].szReader = p->r[i].name;
			st[i].dwCurrentState = p->r[i].state == 0
			    ? SCARD_STATE_UNAWARE
			    : p->r[i].state & ~(DWORD)SCARD_STATE_CHANGED;
		}
		st[n].szReader = PNP_READER;
		st[n].dwCurrentState = p->pnp_state;
		if (!told) {
			/* first look: every reader UNAWARE, answered at once */
			left = 0;
		} else if (left <= 0)
			return ever_reader ? VIVO_ERR_READER_TIMEOUT
					   : VIVO_ERR_READER_NONE;
		rv =
		    SCardGetStatusChange(p->ctx, (DWORD)left, st, (DWORD)n + 1);
		if (rv == SCARD_E_TIMEOUT) {
			if (!told) {
				told = 1;
				if (ready != NULL)
					ready(arg, p->n);
			}
			continue;
		}
		if (rv == SCARD_E_UNKNOWN_READER ||
		    rv == SCARD_E_READER_UNAVAILABLE) {
			need_list = 1;
			continue;
		}
		if (rv != SCARD_S_SUCCESS) {
			vivo_dbg("%s: SCardGetStatusChange: %s", __func__,
			    pcsc_stringify_error(rv));
			return map_err(rv);
		}
		for (size_t i = 0; i < n; i++) {
			DWORD ev = st[i].dwEventState;
			if (!(ev & SCARD_STATE_CHANGED) && p->r[i].state != 0)
				continue;
			if (ev &
			    (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE |
				SCARD_STATE_UNAVAILABLE)) {
				need_list = 1;
				p->r[i].state = SCARD_STATE_UNAVAILABLE;
				vivo_presence_lost(&p->r[i].pr);
				continue;
			}
			if (update(&p->r[i], ev) && told) {
				vivo_dbg("%s: chip presented on \"%s\"",
				    __func__, p->r[i].name);
				return vivo_strlcpy(
					   reader, p->r[i].name, readersz) == 0
				    ? 0
				    : VIVO_ERR_READER_FAIL;
			}
		}
		if (st[n].dwEventState & SCARD_STATE_CHANGED) {
			p->pnp_state =
			    st[n].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
			need_list = 1;
		}
		if (!told) {
			told = 1;
			if (ready != NULL)
				ready(arg, p->n);
		}
	}
}

static int
pcsc_transmit(void *h, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
	struct pcsc *p = h;
	const SCARD_IO_REQUEST *pci =
	    p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD n = (DWORD)*rlen;
	LONG rv;

	if (!p->have_card || clen > MAX_BUFFER_SIZE_EXTENDED)
		return VIVO_ERR_CARD_COMM;
	rv = SCardTransmit(p->card, pci, c, (DWORD)clen, NULL, r, &n);
	if (rv != SCARD_S_SUCCESS) {
		vivo_dbg("%s: SCardTransmit: %s", __func__,
		    pcsc_stringify_error(rv));
		return VIVO_ERR_CARD_COMM;
	}
	*rlen = n;
	return 0;
}

static int
pcsc_connect(void *h, const char *reader, struct vivo_transport *t,
    uint8_t *atr, size_t *atrlen)
{
	struct pcsc *p = h;
	BYTE a[MAX_ATR_SIZE];
	DWORD alen = sizeof(a), st, proto, namelen = 0;
	LONG rv;

	pcsc_disconnect(p);
	rv = SCardConnect(p->ctx, reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->card, &p->proto);
	if (rv != SCARD_S_SUCCESS) {
		vivo_dbg(
		    "%s: SCardConnect: %s", __func__, pcsc_stringify_error(rv));
		return VIVO_ERR_CARD_COMM;
	}
	p->have_card = 1;
	rv = SCardStatus(p->card, NULL, &namelen, &st, &proto, a, &alen);
	if (rv != SCARD_S_SUCCESS || alen > *atrlen) {
		pcsc_disconnect(p);
		return VIVO_ERR_CARD_COMM;
	}
	memcpy(atr, a, alen);
	*atrlen = alen;
	t->transmit = pcsc_transmit;
	t->h = p;
	return 0;
}

static void
pcsc_disconnect(void *h)
{
	struct pcsc *p = h;

	if (p->have_card) {
		SCardDisconnect(p->card, SCARD_LEAVE_CARD);
		p->have_card = 0;
	}
}

static int
pcsc_list(void *h, const char **names, int *present, size_t cap, size_t *n)
{
	struct pcsc *p = h;
	SCARD_READERSTATE st[READERS_MAX];
	LONG rv;
	int r;

	*n = 0;
	if ((r = relist(p)) != 0)
		return r;
	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < p->n; i++) {
		st[i].szReader = p->r[i].name;
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	if (p->n > 0) {
		rv = SCardGetStatusChange(p->ctx, 0, st, (DWORD)p->n);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			return map_err(rv);
	}
	for (size_t i = 0; i < p->n && i < cap; i++) {
		names[i] = p->r[i].name;
		present[i] = (st[i].dwEventState & SCARD_STATE_PRESENT) != 0;
		(*n)++;
	}
	return 0;
}

const struct vivo_reader_io vivo_pcsc_io = {
	.open = pcsc_open,
	.close = pcsc_close,
	.wait_tap = pcsc_wait_tap,
	.connect = pcsc_connect,
	.disconnect = pcsc_disconnect,
	.list = pcsc_list,
};
