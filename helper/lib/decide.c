/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.c - see decide.h.
 */
#include "decide.h"
#include "log.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <string.h>

int
vivo_decide(struct vivo_try *x, const struct vivo_transport *t)
{
	x->e = NULL;
	x->store = 0;
	x->clone = 0;
	x->final = 0;
	x->have_seal_key = 0;
	OPENSSL_cleanse(x->seal_key, sizeof(x->seal_key));
	x->result = VIVO_R_AUTH_FAILED;
	x->reason[0] = x->text[0] = '\0';
	for (size_t i = 0; i < vivo_nmethods && x->e == NULL && !x->final;
	     i++) {
		const struct vivo_method_ops *m = &vivo_methods[i];
		int r;
		if (!(x->cfg->methods & m->bit))
			continue;
		if ((r = m->try(x, t)) == VIVO_ERR_CARD_COMM)
			return r;
	}
	if (x->final && x->e == NULL && x->result == VIVO_R_OK)
		x->result = VIVO_R_INTERNAL; /* no success without an entry */
	if (x->clone || x->final)
		return VIVO_OK; /* result, reason and text are set */
	if (x->e == NULL) {
		x->result = VIVO_R_AUTH_FAILED;
		if (x->reason[0] == '\0')
			snprintf(x->reason, sizeof(x->reason),
			    "the chip presented "
			    "is not enrolled for %s",
			    x->user);
		snprintf(x->text, sizeof(x->text),
		    "This implant is not enrolled "
		    "for %s.",
		    x->user);
	} else if (x->result == VIVO_R_OK)
		snprintf(x->reason, sizeof(x->reason),
		    "implant \"%s\" accepted "
		    "(%s)",
		    x->e->label, vivo_method_name(x->e->method));
	else if (x->result == VIVO_R_AUTH_FAILED)
		snprintf(x->text, sizeof(x->text),
		    "This implant's state was just "
		    "used by another login; try again.");
	else
		snprintf(x->text, sizeof(x->text),
		    "Implant recognised, but its new "
		    "state could not be saved: refused.");
	return VIVO_OK;
}
