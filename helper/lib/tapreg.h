/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tapreg.h - one tap answers one request, on the whole machine.
 *
 * Every process that waits for a tap (the helper for pam_vivo.so, and
 * vivo-enroll) registers in VIVO_TAPREG_DIR for as long as it waits: a
 * file it creates and holds an exclusive flock on. The kernel drops the
 * lock the moment the process ends, however it ends, so an entry whose
 * lock can be taken is dead and never counts. At a tap on reader R, a
 * process looks at the live entries of the others: when another request
 * waits on R too, the tap is contested, nobody may use it, and the first
 * process to see that leaves a contest marker for R so that one which
 * looks later (after the first has gone) sees it as well.
 *
 * No setuid program, no daemon. The directory is root's, 01777 (like
 * /tmp): anyone may add an entry, nobody may remove or rename another's.
 * What a user can do with it is make a tap fail (deny service), never
 * make one succeed: entries and markers only ever add contests.
 * See docs/security.md, "One tap, one request".
 */
#ifndef VIVO_TAPREG_H
#define VIVO_TAPREG_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#define VIVO_TAPREG_DIR "/run/pam_vivo"
/* A contest marker blocks taps on its reader detected up to this long
 * after the contest (a process that saw the same tap late still sees it). */
#define VIVO_TAPREG_CONTEST_MS 1500
/* Markers older than this are removed by whoever may. */
#define VIVO_TAPREG_MARKER_TTL_S 60
/* Most directory entries looked at: past that, refuse (abuse). */
#define VIVO_TAPREG_SCAN_MAX 4096

/* Who waits: shown to the person and logged when a tap is contested. */
struct vivo_waiter {
	char service[64]; /* PAM_SERVICE, or "vivo-enroll add" */
	char user[65];    /* whose implant it asks for ("" for probe) */
	char tty[64];     /* PAM_TTY */
	char ruser[65];   /* PAM_RUSER: who started it, when known */
};

typedef struct vivo_tapreg vivo_tapreg_t;

enum vivo_tapreg_status {
	VIVO_TAPREG_FREE = 0,      /* no other request waits on that reader */
	VIVO_TAPREG_CONTESTED = 1, /* another does: nobody may use this tap */
	VIVO_TAPREG_EFAIL = -1,    /* cannot tell: fail closed */
};

/*
 * Register this process as waiting for a tap on the readers `c` names
 * (all, when it names none), in `dir` (VIVO_TAPREG_DIR; root creates it
 * when missing). Also removes what dead processes left, where allowed.
 * 0, or -1 with a reason in err (the caller must then not wait).
 */
int vivo_tapreg_join(vivo_tapreg_t **out, const char *dir,
    const struct vivo_waiter *me, const struct vivo_config *c, char *err,
    size_t errsz);

/*
 * A chip arrived on `reader`, seen at tap_ms (vivo_tapreg_now()). FREE, or
 * CONTESTED with a description of the other request in `other` (for the
 * person and the log; never trusted for anything else), or EFAIL.
 */
int vivo_tapreg_check(vivo_tapreg_t *r, const char *reader, int64_t tap_ms,
    char *other, size_t othersz);

/* Deregister (also happens when the process ends). Accepts NULL. */
void vivo_tapreg_leave(vivo_tapreg_t **r);

/* CLOCK_BOOTTIME in ms: one clock for every process on the machine. */
int64_t vivo_tapreg_now(void);

#endif
