/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth.h - one authentication, exactly as the helper does it (the
 * enrollment tool's `test` runs the same code): enrollments, the tap loop
 * (tap.h), the decision (decide.h), durable state changes.
 */
#ifndef VIVO_AUTH_H
#define VIVO_AUTH_H

#include "authtok.h"
#include "config.h"
#include "proto.h"
#include "store.h"
#include "readerio.h"
#include "tapreg.h"

#include <pwd.h>

struct vivo_auth {
	/* in */
	const struct vivo_config *cfg;
	const char *user;
	unsigned timeout;      /* seconds to wait for a tap */
	int remote;            /* PAM_RHOST was set */
	struct vivo_waiter id; /* who asks (the one-request rule) */
	const struct vivo_reader_io
	    *io;            /* NULL: pcsc-lite (unit tests: a fake) */
	const char *regdir; /* NULL: VIVO_TAPREG_DIR */
	/* called once when the helper is ready for the tap */
	void (*on_wait)(void *arg, unsigned timeout, size_t nreaders);
	/* called at most once, before the tap, when a fido2 enrollment of
	 * this user needs the PIN: ask the person with `prompt`. 0 with a
	 * NUL-terminated PIN ("" = none given), -1 when no answer can be had
	 * (the request ends UNAVAILABLE). NULL: no PIN. */
	int (*get_pin)(void *arg, const char *prompt, char *pin, size_t pinsz);
	void *arg;
	/* authtok.h: the user's sealed login secrets (NULL: none); with
	 * `release`, the one of the entry that proves itself is opened into
	 * `authtok` (unless the password changed since it was sealed) */
	const struct vivo_sealed_set *seals;
	int release;
	/* out */
	uint32_t result;                        /* enum vivo_result */
	char reason[VIVO_TEXT_MAX];             /* for the log: never secrets */
	char text[VIVO_TEXT_MAX];               /* for the person, may be "" */
	char label[VIVO_LABEL_MAX + 1];         /* on success */
	const char *method;                     /* on success */
	char found_user[VIVO_USER_MAX + 1];     /* vivo_identify, on success */
	uint8_t seal_key[VIVO_AUTHTOK_KEY_LEN]; /* the proved entry's, if */
	int have_seal_key;                      /* it has a seal in seals */
	char authtok[VIVO_AUTHTOK_MAX + 1];     /* released; wipe after use */
	int have_authtok;
	char authtok_note[VIVO_TEXT_MAX]; /* why none was released, or "" */
	int authtok_changed; /* ... because the password changed since */
};

void vivo_authenticate(struct vivo_auth *a);

/*
 * Hand-scan login (identify.h): no user is named. At a fresh tap that is
 * this request's alone, find the user the chip was enrolled for (its
 * discoverable fido2 credentials, its fixed UID), refuse a chip enrolled
 * for more than one, and prove that user exactly as vivo_authenticate
 * would (the same decision, counters, state) on the same tap. Entries that
 * need the PIN are not used (no name, no prompt before the tap). The
 * caller checked that it is root and the config allows identification.
 * On VIVO_R_OK, found_user names the user (an account NSS knows).
 */
void vivo_identify(struct vivo_auth *a);

#endif
