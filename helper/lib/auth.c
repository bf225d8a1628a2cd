/*
 * auth.c - see auth.h. The only place that decides VIVO_R_OK.
 */
#include "auth.h"
#include "file.h"
#include "log.h"
#include "pcsc.h"
#include "uid.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
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

static void
setf(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
setf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

int
vivo_enrollments_load(const struct vivo_config *c, const char *user,
    struct vivo_enrollments *en, char *reason, size_t reasonsz)
{
	struct passwd pw;
	char pwbuf[4096];
	struct vivo_priv priv;
	int r;

	memset(en, 0, sizeof(*en));
	if (vivo_store_system_path(c, user, en->sys_path, sizeof(en->sys_path))) {
		setf(reason, reasonsz, "cannot build the store path");
		return VIVO_R_INTERNAL;
	}
	r = vivo_store_load(en->sys_path, geteuid(), &en->sys, reason, reasonsz);
	if (r != 0 && r != VIVO_FILE_ENOENT)
		return VIVO_R_UNSAFE;
	if (!c->user_store)
		return VIVO_R_OK;
	if (vivo_getpw(user, &pw, pwbuf, sizeof(pwbuf)) != 0)
		return VIVO_R_OK; /* no such account: nothing in a home */
	if (vivo_store_user_path(pw.pw_dir, en->usr_path, sizeof(en->usr_path))) {
		setf(reason, reasonsz, "cannot build the user store path");
		return VIVO_R_INTERNAL;
	}
	if (vivo_priv_drop(&priv, &pw) != 0) {
		setf(reason, reasonsz, "cannot switch to %s to read %s", user,
		    en->usr_path);
		return VIVO_R_INTERNAL;
	}
	r = vivo_store_load(en->usr_path, pw.pw_uid, &en->usr, reason, reasonsz);
	vivo_priv_regain(&priv);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	if (r != 0 && r != VIVO_FILE_ENOENT)
		return VIVO_R_UNSAFE;
	return VIVO_R_OK;
}

/* Entries usable under the config's methods. */
static size_t
count_usable(const struct vivo_store *s, unsigned methods)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].method & methods)
			n++;
	return n;
}

/* Check the chip's UID against every usable uid entry (all of them, so
 * the time taken does not say which one matched). */
static const struct vivo_entry *
match_uid(const struct vivo_enrollments *en, const uint8_t *uid, size_t len)
{
	const struct vivo_store *stores[2] = { &en->sys, &en->usr };
	const struct vivo_entry *found = NULL;

	for (size_t s = 0; s < 2; s++) {
		for (size_t i = 0; i < stores[s]->n; i++) {
			const struct vivo_entry *e = &stores[s]->e[i];
			if (e->method != VIVO_M_UID)
				continue;
			if (vivo_uid_match(uid, len, &e->uid) == 1 && found == NULL)
				found = e;
		}
	}
	return found;
}

static void
ready_bridge(void *arg, size_t nreaders)
{
	struct vivo_auth *a = arg;

	if (a->on_wait != NULL)
		a->on_wait(a->arg, a->timeout, nreaders);
}

void
vivo_authenticate(struct vivo_auth *a)
{
	const struct vivo_config *c = a->cfg;
	struct vivo_enrollments *en = NULL;
	vivo_pcsc_t *pcsc = NULL;
	int64_t deadline;
	int r, told = 0;

	a->result = VIVO_R_INTERNAL;
	a->reason[0] = a->text[0] = a->label[0] = '\0';
	a->method = NULL;

	if (a->remote && !c->allow_remote) {
		a->result = VIVO_R_UNAVAILABLE;
		setf(a->reason, sizeof(a->reason), "remote request (PAM_RHOST set) "
		    "declined: allow_remote is false");
		goto out;
	}
	if (!vivo_user_valid(a->user)) {
		a->result = VIVO_R_NO_ENROLLMENT;
		setf(a->reason, sizeof(a->reason), "invalid user name");
		goto out;
	}
	if ((en = calloc(1, sizeof(*en))) == NULL) {
		setf(a->reason, sizeof(a->reason), "out of memory");
		goto out;
	}
	r = vivo_enrollments_load(c, a->user, en, a->reason, sizeof(a->reason));
	if (r != VIVO_R_OK) {
		a->result = (uint32_t)r;
		goto out;
	}
	if (count_usable(&en->sys, c->methods) + count_usable(&en->usr,
	    c->methods) == 0) {
		a->result = VIVO_R_NO_ENROLLMENT;
		if (en->sys.n + en->usr.n > 0)
			setf(a->reason, sizeof(a->reason), "user %s has %zu "
			    "enrollment(s), none with a method the config allows",
			    a->user, en->sys.n + en->usr.n);
		else
			setf(a->reason, sizeof(a->reason), "user %s has no enrollment",
			    a->user);
		goto out;
	}

	deadline = vivo_now_ms() + (int64_t)a->timeout * 1000;
	if ((r = vivo_pcsc_new(&pcsc, c)) != 0) {
		a->result = r == VIVO_PCSC_ENOSERVICE ? VIVO_R_UNAVAILABLE :
		    VIVO_R_INTERNAL;
		setf(a->reason, sizeof(a->reason), "%s", vivo_pcsc_strerr(r));
		setf(a->text, sizeof(a->text), "Implant login unavailable: %s.",
		    vivo_pcsc_strerr(r));
		goto out;
	}
	for (;;) {
		char reader[128];
		uint8_t atr[64], uid[VIVO_UID_MAX];
		size_t atrlen = sizeof(atr), uidlen = 0;
		struct vivo_transport t;
		const struct vivo_entry *e;

		r = vivo_pcsc_wait_tap(pcsc, deadline, told ? NULL : ready_bridge,
		    a, reader, sizeof(reader));
		told = 1;
		if (r != 0) {
			a->result = r == VIVO_PCSC_EFAIL ? VIVO_R_INTERNAL :
			    VIVO_R_UNAVAILABLE;
			setf(a->reason, sizeof(a->reason), "%s", vivo_pcsc_strerr(r));
			if (r == VIVO_PCSC_ETIMEOUT)
				setf(a->text, sizeof(a->text), "No implant was "
				    "presented within %u s.", a->timeout);
			else
				setf(a->text, sizeof(a->text), "Implant login "
				    "unavailable: %s.", vivo_pcsc_strerr(r));
			goto out;
		}
		if (vivo_pcsc_connect(pcsc, reader, &t, atr, &atrlen) != 0) {
			vivo_dbg("%s: could not connect to the chip; waiting for "
			    "another tap", __func__);
			continue;
		}
		r = vivo_uid_read(&t, uid, &uidlen);
		vivo_pcsc_disconnect(pcsc);
		if (r == VIVO_CARD_ECOMM) {
			vivo_dbg("%s: chip lost during the read; waiting for "
			    "another tap", __func__);
			continue;
		}
		if (r != 0) {
			a->result = VIVO_R_AUTH_FAILED;
			setf(a->reason, sizeof(a->reason), "the chip presented did not "
			    "report a usable UID");
			setf(a->text, sizeof(a->text), "This chip cannot be used here.");
			goto out;
		}
		e = (c->methods & VIVO_M_UID) ? match_uid(en, uid, uidlen) : NULL;
		VIVO_WIPE_ARRAY(uid);
		if (e == NULL) {
			a->result = VIVO_R_AUTH_FAILED;
			setf(a->reason, sizeof(a->reason), "the chip presented is not "
			    "enrolled for %s", a->user);
			setf(a->text, sizeof(a->text), "This implant is not enrolled "
			    "for %s.", a->user);
			goto out;
		}
		a->result = VIVO_R_OK;
		a->method = vivo_method_name(e->method);
		(void)vivo_strlcpy(a->label, e->label, sizeof(a->label));
		setf(a->reason, sizeof(a->reason), "implant \"%s\" accepted (%s)",
		    e->label, a->method);
		goto out;
	}
out:
	vivo_pcsc_free(&pcsc);
	if (en != NULL) {
		explicit_bzero(en, sizeof(*en));
		free(en);
	}
}
