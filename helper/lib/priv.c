/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * priv.c - see priv.h.
 */
#include "priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
vivo_getpw(const char *user, struct passwd *pw, char *buf, size_t bufsz)
{
	struct passwd *res = NULL;

	if (getpwnam_r(user, pw, buf, bufsz, &res) != 0 || res == NULL)
		return -1;
	return 0;
}

void
vivo_priv_regain(struct vivo_priv *p)
{
	if (!p->dropped)
		return;
	if (seteuid(p->euid) != 0 || setegid(p->egid) != 0 ||
	    setgroups((size_t)p->ngroups, p->groups) != 0) {
		vivo_err("%s: cannot regain privileges: %s", __func__,
		    strerror(errno));
		abort(); /* never carry on with the wrong identity */
	}
	p->dropped = 0;
}

int
vivo_priv_drop(struct vivo_priv *p, const struct passwd *pw)
{
	memset(p, 0, sizeof(*p));
	if (geteuid() != 0 || pw->pw_uid == 0)
		return 0;
	p->euid = geteuid();
	p->egid = getegid();
	if ((p->ngroups = getgroups((int)VIVO_NELEM(p->groups), p->groups)) < 0)
		return -1;
	p->dropped = 1; /* from here on, a failure restores (or aborts) */
	if (setgroups(1, &pw->pw_gid) != 0 || setegid(pw->pw_gid) != 0 ||
	    seteuid(pw->pw_uid) != 0) {
		vivo_priv_regain(p);
		return -1;
	}
	return 0;
}
