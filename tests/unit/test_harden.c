/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_harden.c - vivo_harden_process: not dumpable, no core file.
 */
#include "t.h"
#include "harden.h"

#include <sys/prctl.h>
#include <sys/resource.h>

static void
harden_makes_the_process_non_dumpable_without_core(void)
{
	struct rlimit rl;

	/* start from what a caller may hand us: the soft limit raised to
	 * the hard one, and dumpable */
	T_CHECK(getrlimit(RLIMIT_CORE, &rl) == 0);
	rl.rlim_cur = rl.rlim_max;
	T_CHECK(setrlimit(RLIMIT_CORE, &rl) == 0);
	T_CHECK(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == 0);
	T_CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);

	T_CHECK(vivo_harden_process() == 0);
	T_CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	T_CHECK(getrlimit(RLIMIT_CORE, &rl) == 0);
	T_CHECK(rl.rlim_cur == 0 && rl.rlim_max == 0);
	/* and a second call is harmless */
	T_CHECK(vivo_harden_process() == 0);
}

T_MAIN("harden", T_CASE(harden_makes_the_process_non_dumpable_without_core))
