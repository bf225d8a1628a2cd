/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.h - the enrollment files: one libconfig file per user, one entry
 * per implant (format: docs/enrollment-format.md).
 */
#ifndef VIVO_STORE_H
#define VIVO_STORE_H

#include "config.h"
#include "hmac.h"
#include "u2f.h"
#include "fido2.h"
#include "proto.h"
#include "util.h"

#include <stdint.h>
#include <sys/types.h>

#define VIVO_STORE_VERSION 1
#define VIVO_STORE_MAX (64 * 1024) /* bytes per file */
#define VIVO_ENTRIES_MAX 32        /* implants per user and file */

#define VIVO_UID_SALT_LEN 16
#define VIVO_UID_HASH_LEN 32
#define VIVO_UID_ITER_MIN 10000
#define VIVO_UID_ITER_MAX 1000000 /* ~0.2 s per entry here */

/* `uid`: PBKDF2-HMAC-SHA256(password = length byte ‖ UID, salt). */
struct vivo_uid_data {
	uint32_t iterations;
	uint8_t salt[VIVO_UID_SALT_LEN];
	uint8_t hash[VIVO_UID_HASH_LEN];
};

struct vivo_entry {
	char label[VIVO_LABEL_MAX + 1];
	unsigned method;          /* one enum vivo_method bit */
	char created[32];         /* ISO 8601 UTC, e.g. 2026-11-27T07:00:00Z */
	struct vivo_uid_data uid; /* method uid */
	struct vivo_hmac_data hmac;   /* method hmac */
	struct vivo_u2f_data u2f;     /* method u2f */
	struct vivo_fido2_data fido2; /* method fido2 */
};

struct vivo_store {
	size_t n;
	struct vivo_entry e[VIVO_ENTRIES_MAX];
};

/* Parse an enrollment file's text: version must be VIVO_STORE_VERSION,
 * every entry complete and valid, labels unique. 0 / -1 with err. */
int vivo_store_parse(
    const char *text, struct vivo_store *s, char *err, size_t errlen);

/* Serialise; *text is malloc'd (caller frees). 0 / -1. */
int vivo_store_format(const struct vivo_store *s, char **text, size_t *len);

/* One entry as a group appended to the libconfig list `list` (the file's
 * own layout), and back (every check of vivo_store_parse but the labels'
 * uniqueness). Used by dirval.c for the one-line form. 0 / -1. */
int
vivo_store_entry_to_setting(config_setting_t *list, const struct vivo_entry *e);
int vivo_store_entry_from_setting(
    config_setting_t *g, struct vivo_entry *e, char *err, size_t errlen);

/* Index of the entry with this label, or -1. */
int vivo_store_find(const struct vivo_store *s, const char *label);

/* Append (label must be new, room must exist). 0 / -1. */
int vivo_store_add(struct vivo_store *s, const struct vivo_entry *e);

/* Remove by label. 0 / -1 (not found). */
int vivo_store_remove(struct vivo_store *s, const char *label);

/*
 * Where a user's enrollments live (docs/enrollment-format.md):
 * - <store>/<user>: root-owned, 0600. Everything that helps to answer or
 *   guess a challenge (hmac states, UID hashes) lives only here.
 * - <store>/.public/<user>: root-owned, 0644. Public data only (u2f key
 *   handles, public keys, counters), so that a screen locker running as
 *   the user can use them. ".public" cannot be a user's file: user names
 *   never start with '.'.
 * - <home>/.config/pam_vivo/implants: the user's own, 0600; honoured only
 *   for requests that run as that user.
 * 0 / -1.
 */
#define VIVO_STORE_PUBLIC_DIR ".public"
int vivo_store_system_path(
    const struct vivo_config *c, const char *user, char *out, size_t outsz);
int vivo_store_public_path(
    const struct vivo_config *c, const char *user, char *out, size_t outsz);
int vivo_store_user_path(const char *home, char *out, size_t outsz);

/* 1 if entries of method m hold only public data (may be world-readable). */
int vivo_method_is_public(unsigned m);

/* Remove from `sys` the public entries that `pub` holds too (what a
 * migration interrupted between its two writes leaves). */
void vivo_store_drop_duplicates(
    struct vivo_store *sys, const struct vivo_store *pub);

/*
 * Bring <store>/<user> of the layout before 0.2 (one file, 0644) to the
 * current one (as root, under both locks): public entries move to
 * <store>/.public/<user> (written first), then <store>/<user> is rewritten
 * 0600. Nothing is lost at any point: a crash leaves an entry in both
 * files at worst. 0 nothing to do, 1 migrated, -1 with err (the files are
 * as they were, or public entries are in both).
 */
int vivo_store_migrate(
    const struct vivo_config *c, const char *user, char *err, size_t errlen);

/*
 * Read and parse the store at `path` (owner: root or `owner`). Returns 0,
 * or a VIVO_FILE_* error (VIVO_ERR_FILE_NOENT: no enrollment there), or
 * VIVO_ERR_STORE_CORRUPT. `err` says why.
 */
int vivo_store_load(const char *path, uid_t owner, struct vivo_store *s,
    char *err, size_t errlen);

/* Write atomically (file.h) with `mode`. 0, VIVO_ERR_NOMEM, or what
 * vivo_file_replace answers (VIVO_ERR_FILE_IO with errno, or
 * VIVO_ERR_FILE_NOTSYNCED). */
int vivo_store_save(const char *path, const struct vivo_store *s, mode_t mode);

/*
 * A read-modify-write of a store file (and, with `other`, of the second
 * file of the same system store, whose labels must not clash): the
 * directories are created (`dirmode`) and locked (".lock", parent
 * directory first, so every writer takes them in one order), both files
 * are read again under the locks, the caller changes `cur` and/or `oth`,
 * vivo_store_edit_save writes one atomically (temp, fsync, rename, fsync
 * dir), vivo_store_edit_end unlocks and wipes. Used by the helper (through
 * vivo_store_update) and by vivo-enroll add and remove alike.
 */
struct vivo_store_edit {
	/* in */
	const char *path;  /* the file */
	const char *other; /* NULL or "", or the other file */
	uid_t owner;       /* files owned by root or this uid */
	mode_t mode, other_mode, dirmode;
	/* out */
	struct vivo_store cur; /* path, as read under the lock */
	struct vivo_store oth; /* other, as read under the lock */
	int lock_a, lock_b;
};

/* Lock and read. 0, or VIVO_ERR_* with why in err (ENOENT is an empty
 * store, not an error). Call vivo_store_edit_end in every case. */
int vivo_store_edit_begin(struct vivo_store_edit *ed, char *err, size_t errsz);
/* Write cur (which 0) or oth (which 1). 0, or VIVO_ERR_* with err; the
 * previous version is intact unless it is VIVO_ERR_FILE_NOTSYNCED. */
int vivo_store_edit_save(
    struct vivo_store_edit *ed, int which, char *err, size_t errsz);
void vivo_store_edit_end(struct vivo_store_edit *ed);

/*
 * Read-modify-write one entry of the store at `path` (owner root or
 * `owner`): under the directory lock, re-read it, let fn check and change
 * the entry named `label` (fn returns VIVO_R_OK (proto.h) to write, anything else to
 * leave the file alone), then replace the file (temp, fsync, rename, fsync
 * dir) with `mode`. VIVO_R_OK (proto.h) only when the new version is durable.
 */
typedef int (*vivo_entry_update_fn)(
    struct vivo_entry *e, void *arg, char *reason, size_t reasonsz);
int
vivo_store_update(const char *path, uid_t owner, mode_t mode, const char *label,
    vivo_entry_update_fn fn, void *arg, char *reason, size_t reasonsz);

/* The stores of one user, as loaded (store.h says what lives where). */
enum vivo_store_kind {
	VIVO_ST_SYSTEM = 0,    /* <store>/<user>, root only */
	VIVO_ST_PUBLIC = 1,    /* <store>/.public/<user>, public data */
	VIVO_ST_USER = 2,      /* ~/.config/pam_vivo/implants */
	VIVO_ST_DIRECTORY = 3, /* the directory (directory.h), root only */
	VIVO_ST_N
};
struct vivo_enrollments {
	struct vivo_store st[VIVO_ST_N];
	char path[VIVO_ST_N][VIVO_PATH_MAX]; /* "" when not read */
	int protected_unreadable; /* <store>/<user> exists, and this caller
	                             (not root) may not read it, by design */
	int dir_state;            /* enum vivo_dir_state (directory.h) */
	char dir_why[512];        /* what happened, when not FRESH or OFF */
};

/* vivo_enrollments_load: what the caller is doing. */
/* an authentication: the user store counts only when it runs as that user */
#define VIVO_EN_REQUEST 0
/* listing: show the user store too */
#define VIVO_EN_LIST 1

/*
 * Load the user's enrollments: the system store (migrating a file of the
 * old layout first, when root), its public part and, when the config
 * enables it and `mode` allows, the user store (read with the user's
 * credentials). A caller that is not root uses only public entries of the
 * system store. A missing file is an empty store. With a `directory` in
 * the config and a caller that is root, the directory's entries for the
 * user come last (VIVO_ST_DIRECTORY; dir_state says whether they are
 * fresh, cached or unavailable). Returns VIVO_R_OK,
 * VIVO_R_UNSAFE (unsafe, unreadable or corrupt: never read as "no
 * enrollment") or VIVO_R_INTERNAL, with `reason`.
 */
int vivo_enrollments_load(const struct vivo_config *c, const char *user,
    int mode, struct vivo_enrollments *en, char *reason, size_t reasonsz);

/* Current time as ISO 8601 UTC into out[32]. */
void vivo_store_now(char out[32]);

#endif
