/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * directory.h - enrollments read from an LDAP directory (OpenLDAP's
 * libldap, loaded on first use), one attribute value per enrollment
 * (dirval.h), with what each machine keeps for itself: the last answer
 * (the cache, used for at most directory.cache_ttl while the directory
 * cannot be reached) and the counters of those enrollments, both in
 * <store>/.directory/<user> (root's, 0600 in a 0700 directory). Only
 * callers that run as root use the directory.
 */
#ifndef VIVO_DIRECTORY_H
#define VIVO_DIRECTORY_H

#include "config.h"
#include "store.h"

#include <stddef.h>

#define VIVO_DIRECTORY_DIR ".directory"

/* What vivo_dir_fetch found. */
enum vivo_dir_fetch_result {
	VIVO_DIRF_FOUND = 0,       /* the user's entry; values (maybe none) */
	VIVO_DIRF_NOUSER = 1,      /* the directory has no entry for the user */
	VIVO_DIRF_UNREACHABLE = 2, /* no answer in time, server down */
	VIVO_DIRF_REFUSED = 3,     /* TLS, bind, or an answer we cannot use */
};

/* What a load got from the directory (struct vivo_enrollments). */
enum vivo_dir_state {
	VIVO_DIR_OFF = 0,     /* no directory, or a caller that is not root */
	VIVO_DIR_FRESH,       /* the directory answered this request */
	VIVO_DIR_CACHED,      /* it did not; its last answer (within ttl) */
	VIVO_DIR_UNAVAILABLE, /* nothing from it: unreachable without a
	                         usable cache, or refused */
};

/* RFC 4515 escaping of a filter value: '*', '(', ')', '\\', NUL and every
 * byte above 0x7e become \\XX. 0 / -1 (too long). */
int vivo_dir_escape(const char *in, char *out, size_t outsz);

/* The config's filter with each %u replaced by the escaped user. 0 / -1. */
int
vivo_dir_filter(const char *filter, const char *user, char *out, size_t outsz);

/*
 * Ask the directory for the user's values, within d->timeout seconds in
 * all (connection, TLS, bind, search), and by d->deadline when it is set
 * (size limit 2: a filter matching two entries is refused). *vals (n
 * strings, each malloc'd, and the array) is the caller's:
 * vivo_dir_free_values. enum vivo_dir_fetch_result, with why for all but
 * FOUND.
 */
int vivo_dir_fetch(const struct vivo_dir_cfg *d, const char *user, char ***vals,
    size_t *n, char *why, size_t whysz);
void vivo_dir_free_values(char **vals, size_t n);

/*
 * The user's directory enrollments into `st` (with this machine's
 * counters), by the rules of docs/config.md ("directory"): a fresh answer
 * replaces the cache; an unreachable directory gives the cache while it
 * is younger than cache_ttl. *state is an enum vivo_dir_state; why says
 * what happened when it is not FRESH or OFF. Values that may not come
 * from a directory are left out, each with a log line. 0, or -1 (out of
 * memory: nothing loaded).
 */
int vivo_dir_load(const struct vivo_config *c, const char *user,
    struct vivo_store *st, int *state, char *why, size_t whysz);

/*
 * The commit of a directory entry (auth.c): under the lock of the
 * .directory folder, read this machine's counter for `e` again, let fn
 * check and change a copy of e that carries it, and write the counter
 * back (temp, fsync, rename). VIVO_R_OK only when it is durable.
 */
int vivo_dir_commit(const struct vivo_config *c, const char *user,
    const struct vivo_entry *e, vivo_entry_update_fn fn, void *arg,
    char *reason, size_t reasonsz);

/*
 * vivo-enroll add/remove --directory: add (del = 0) or delete (del = 1)
 * `value` in the user's entry, bound as bind_dn with the password in
 * pwfile, or with SASL EXTERNAL when bind_dn is NULL (ldapi:// as root).
 * The entry gets objectClass vivoImplantUser when the attribute is
 * vivoImplant and it has not. 0, or -1 with why.
 */
int
vivo_dir_write(const struct vivo_config *c, const char *user, const char *value,
    int del, const char *bind_dn, const char *pwfile, char *why, size_t whysz);

#endif
