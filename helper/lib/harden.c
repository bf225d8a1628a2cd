/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * harden.c - see harden.h.
 */
#include "harden.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

int
vivo_harden_process(void)
{
	const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -1;
	/* believe it only when the kernel says so */
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
