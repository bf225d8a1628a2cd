/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nodump.so - an LD_PRELOAD shim for the hardening tests. With
 * NODUMP_FAIL=prctl, prctl(PR_SET_DUMPABLE, ...) fails with EPERM; with
 * NODUMP_FAIL=setrlimit, setrlimit(RLIMIT_CORE, ...) does. Every other call
 * goes through. It shows that the helper and vivo-enroll refuse to run
 * when they cannot make themselves non-dumpable.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static int
failing(const char *what)
{
	const char *f = getenv("NODUMP_FAIL");

	return f != NULL && strcmp(f, what) == 0;
}

int
prctl(int option, ...)
{
	static int (*real)(int, ...);
	unsigned long a[4];
	va_list ap;

	if (option == PR_SET_DUMPABLE && failing("prctl")) {
		errno = EPERM;
		return -1;
	}
	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (real == NULL)
		real = (int (*)(int, ...))dlsym(RTLD_NEXT, "prctl");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(option, a[0], a[1], a[2], a[3]);
}

int
setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	static int (*real)(__rlimit_resource_t, const struct rlimit *);

	if (res == RLIMIT_CORE && failing("setrlimit")) {
		errno = EPERM;
		return -1;
	}
	if (real == NULL)
		real = (int (*)(__rlimit_resource_t,
		    const struct rlimit *))dlsym(RTLD_NEXT, "setrlimit");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(res, rl);
}
