/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * priv.h - who the helper is: looking a user up, and taking the user's
 * identity for a while (to read or write a user-owned file as that user,
 * never as root: pam-u2f's drop_priv/regain_priv).
 */
#ifndef VIVO_PRIV_H
#define VIVO_PRIV_H

#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>

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

#endif
