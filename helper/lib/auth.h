/*
 * auth.h - one authentication, exactly as the helper does it (the
 * enrollment tool's `test` runs the same code).
 */
#ifndef VIVO_AUTH_H
#define VIVO_AUTH_H

#include "config.h"
#include "proto.h"
#include "store.h"
#include "tapreg.h"

#include <pwd.h>

/* The stores of one user, as loaded (store.h says what lives where). */
enum vivo_store_kind {
	VIVO_ST_SYSTEM = 0, /* <store>/<user>, root only */
	VIVO_ST_PUBLIC = 1, /* <store>/.public/<user>, public data */
	VIVO_ST_USER = 2,   /* ~/.config/pam_vivo/implants */
	VIVO_ST_N
};
struct vivo_enrollments {
	struct vivo_store st[VIVO_ST_N];
	char path[VIVO_ST_N][VIVO_PATH_MAX]; /* "" when not read */
	int protected_unreadable; /* <store>/<user> exists, and this caller
	                             (not root) may not read it, by design */
};

/* vivo_enrollments_load: what the caller is doing. */
#define VIVO_EN_REQUEST 0 /* an authentication: the user store counts only
                             when it runs as that user */
#define VIVO_EN_LIST 1    /* listing: show the user store too */

/*
 * Load the user's enrollments: the system store (migrating a file of the
 * old layout first, when root), its public part and, when the config
 * enables it and `mode` allows, the user store (read with the user's
 * credentials). A caller that is not root uses only public entries of the
 * system store. A missing file is an empty store. Returns VIVO_R_OK,
 * VIVO_R_UNSAFE (unsafe, unreadable or corrupt: never read as "no
 * enrollment") or VIVO_R_INTERNAL, with `reason`.
 */
int vivo_enrollments_load(const struct vivo_config *c, const char *user,
    int mode, struct vivo_enrollments *en, char *reason, size_t reasonsz);

/* Temporarily take the user's identity (a no-op unless we are root). */
struct vivo_priv {
	int dropped;
	uid_t euid;
	gid_t egid;
	int ngroups;
	gid_t groups[256];
};
int vivo_priv_drop(struct vivo_priv *p, const struct passwd *pw);
void vivo_priv_regain(struct vivo_priv *p); /* aborts if it cannot */

/* Look a user up (getpwnam_r into caller storage). 0 / -1. */
int vivo_getpw(const char *user, struct passwd *pw, char *buf, size_t bufsz);

struct vivo_auth {
	/* in */
	const struct vivo_config *cfg;
	const char *user;
	unsigned timeout; /* seconds to wait for a tap */
	int remote;       /* PAM_RHOST was set */
	struct vivo_waiter id; /* who asks (the one-request rule) */
	/* called once when the helper is ready for the tap */
	void (*on_wait)(void *arg, unsigned timeout, size_t nreaders);
	void *arg;
	/* out */
	uint32_t result;                 /* enum vivo_result */
	char reason[VIVO_TEXT_MAX];      /* for the log: never secrets */
	char text[VIVO_TEXT_MAX];        /* for the person, may be "" */
	char label[VIVO_LABEL_MAX + 1];  /* on success */
	const char *method;              /* on success */
};

void vivo_authenticate(struct vivo_auth *a);

/*
 * Read-modify-write one entry of the store at `path` (owner root or
 * `owner`): under the directory lock, re-read it, let fn check and change
 * the entry named `label` (fn returns VIVO_R_OK to write, anything else to
 * leave the file alone), then replace the file (temp, fsync, rename, fsync
 * dir) with `mode`. VIVO_R_OK only when the new version is durable.
 */
typedef int (*vivo_entry_update_fn)(struct vivo_entry *e, void *arg,
    char *reason, size_t reasonsz);
int vivo_store_update(const char *path, uid_t owner, mode_t mode,
    const char *label, vivo_entry_update_fn fn, void *arg, char *reason,
    size_t reasonsz);

/*
 * Make the next hmac state of implant `label` durable: under the directory
 * lock, re-read the store at `path` (owner root or `owner`), check that the
 * entry still holds `used` (else a concurrent authentication consumed it:
 * VIVO_R_AUTH_FAILED), seal `key` under a fresh challenge and replace the
 * file (temp, fsync, rename, fsync dir) with `mode`. VIVO_R_OK only when
 * all of that worked; the old file is intact otherwise.
 */
int vivo_hmac_roll(const char *path, uid_t owner, mode_t mode,
    const char *user, const char *label, const struct vivo_hmac_data *used,
    const uint8_t key[VIVO_HMAC_KEY_LEN], char *reason, size_t reasonsz);

#endif
