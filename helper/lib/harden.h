/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * harden.h - what the helper and the enrollment tool do first: they hold
 * secrets (an hmac slot key, a response, a sealed state being rewritten),
 * so no core file and no ptrace or /proc access by the calling user.
 */
#ifndef VIVO_HARDEN_H
#define VIVO_HARDEN_H

/* Make this process non-dumpable (PR_SET_DUMPABLE 0: no core file, its
 * /proc/PID files owned by root, no ptrace by the same uid) and set
 * RLIMIT_CORE to 0, soft and hard, for the rest of its life. Call it
 * first in main(), before reading anything. 0, or -1 with errno set
 * (nothing is logged: the caller says why and refuses to run). */
int vivo_harden_process(void);

#endif
