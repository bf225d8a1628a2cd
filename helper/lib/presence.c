/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * presence.c - see readerio.h: a fresh tap, and a chip that was already
 * there.
 */
#include "readerio.h"

int
vivo_presence_update(
    struct vivo_presence *p, enum vivo_chip_state chip, unsigned count)
{
	int first = !p->seen, tap = 0;

	p->seen = 1;
	if (chip == VIVO_CHIP_ABSENT)
		p->stale = 0;
	else if (first) {
		p->stale = 1;
		p->first_count = count;
	} else if (chip == VIVO_CHIP_PRESENT &&
	    (!p->stale || count != p->first_count))
		tap = 1; /* lifted and presented again, even between looks */
	return tap;
}

void
vivo_presence_lost(struct vivo_presence *p)
{
	p->seen = 0;
}
