/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * method.h - the authentication methods as rows of one table, strongest
 * first: how to try a user's entries on a connected chip, how to enroll a
 * chip, how to describe what a chip offers (probe). A new method adds a row
 * and its unit (the card and crypto code: u2f.c, hmac.c, uid.c), not a
 * branch in every file. The decision unit (decide.h) walks the rows.
 */
#ifndef VIVO_METHOD_H
#define VIVO_METHOD_H

#include "authtok.h"
#include "config.h"
#include "fido2.h"
#include "hmac.h"
#include "proto.h"
#include "store.h"
#include "uid.h"

/* What enrolling a chip takes, per method, and what it tells back. The
 * caller wipes it (it may hold an hmac slot secret). */
struct vivo_enroll_req {
	/* in */
	const char *user;               /* hmac: the seal names the user */
	const char *appid;              /* u2f */
	unsigned slot;                  /* hmac: 1 or 2 */
	int program;                    /* hmac: write `key` into the slot */
	uint8_t key[VIVO_HMAC_KEY_LEN]; /* hmac: the slot secret */
	const char *rpid;               /* fido2 */
	int require_pin, resident;      /* fido2 */
	unsigned min_pin_retries;       /* fido2: send no PIN below this */
	/* fido2: the chip has a PIN and this enrollment needs it: ask the
	 * person (once: the answer is kept for another tap). 0 with a NUL-
	 * terminated PIN in pin, -1 when none can be had. */
	int (*get_pin)(void *arg, char *pin, size_t pinsz);
	void *pin_arg;
	/* out */
	char attestation[256];     /* u2f: the attestation's subject */
	uint8_t uid[VIVO_UID_MAX]; /* uid: as read, for the duplicate check */
	size_t uidlen;
	char note[256]; /* fido2: what the owner should know (no counter) */
};

/*
 * One authentication as the decision unit runs it against one chip. The
 * caller fills the "in" part; the rows fill the "out" part.
 */
struct vivo_try {
	/* in */
	const struct vivo_config *cfg;
	const char *user;
	const struct vivo_enrollments *en;
	int writable[VIVO_ST_N]; /* may this caller write that store? (a
	                            screen locker cannot write root's) */
	/* Make a change to the entry x->e durable in the store it came from
	 * (store.c's read-modify-write in the product, under its lock; a unit
	 * test's own). fn checks the entry as it is now and changes it.
	 * VIVO_R_OK only when the new version is durable; else why, in
	 * reason. */
	int (*commit)(void *ctx, const struct vivo_try *x,
	    vivo_entry_update_fn fn, void *arg, char *reason, size_t reasonsz);
	void *commit_ctx;
	/* fido2: the PIN the person gave for this request, NULL or "" when
	 * none; the caller wipes it */
	const char *pin;
	/* authtok.h: the sealed login secrets of this user (or, for
	 * `vivo-enroll authtok set`, the one about to be sealed): after a
	 * proof of an entry that has one, the row leaves its seal key */
	const struct vivo_sealed_set *seals;
	/* out */
	const struct vivo_entry *e; /* the entry the chip proved, or NULL */
	int store;                  /* enum vivo_store_kind of e */
	uint32_t result;            /* enum vivo_result, once e is set */
	int clone;                  /* a u2f counter went backwards */
	/* the request ends with result/reason/text as the row set them,
	 * even without an entry (a wrong PIN; too few PIN retries left) */
	int final;
	uint8_t seal_key[VIVO_AUTHTOK_KEY_LEN]; /* wiped by the caller */
	int have_seal_key;
	char reason[VIVO_TEXT_MAX]; /* for the log: never secrets */
	char text[VIVO_TEXT_MAX];   /* for the person, may be "" */
};

struct vivo_method_ops {
	unsigned bit;     /* enum vivo_method */
	const char *name; /* as in the config and the enrollment files */
	/* Try every usable entry of this method on the chip. VIVO_OK (x->e
	 * is set when one was proved, with x->result), or VIVO_ERR_CARD_COMM
	 * when the chip was lost before anything was decided. */
	int (*try)(struct vivo_try *x, const struct vivo_transport *t);
	/* Enroll the chip: check it can do the method with what `req` gives,
	 * fill `e`'s method data. VIVO_OK, VIVO_ERR_CARD_COMM (wait for
	 * another tap), or another error with a reason in `why`. */
	int (*enroll)(const struct vivo_transport *t,
	    struct vivo_enroll_req *req, struct vivo_entry *e, char *why,
	    size_t whysz);
	/* One line for probe: what the chip offers for this method (its
	 * applet and version). 1 usable, 0 not, VIVO_ERR_CARD_COMM lost. */
	int (*describe)(
	    const struct vivo_transport *t, char *line, size_t linesz);
};

/* The rows, strongest first. */
extern const struct vivo_method_ops vivo_methods[];
extern const size_t vivo_nmethods;

/* Does a fido2 login of this user need the PIN? 1 when an entry usable
 * under c (its rp id) asks for it, or c requires it for every one. */
int vivo_fido2_pin_needed(
    const struct vivo_config *c, const struct vivo_enrollments *en);

/* The sealed secret of entry `label`, or NULL. */
const struct vivo_sealed *vivo_sealed_find(
    const struct vivo_sealed_set *set, const char *label, unsigned method);

/* The row of method bit m, or NULL. */
const struct vivo_method_ops *vivo_method_find(unsigned m);

/*
 * Make the next hmac state of implant `label` durable: under the directory
 * lock, re-read the store at `path` (owner root or `owner`), check that the
 * entry still holds `used` (else a concurrent authentication consumed it:
 * VIVO_R_AUTH_FAILED), seal `key` under a fresh challenge and replace the
 * file (temp, fsync, rename, fsync dir) with `mode`. VIVO_R_OK only when
 * all of that worked; the old file is intact otherwise.
 */
int vivo_hmac_roll(const char *path, uid_t owner, mode_t mode, const char *user,
    const char *label, const struct vivo_hmac_data *used,
    const uint8_t key[VIVO_HMAC_KEY_LEN], char *reason, size_t reasonsz);

#endif
