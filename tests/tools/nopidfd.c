/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nopidfd.so - an LD_PRELOAD shim for the module's fallback test. It makes
 * syscall(SYS_pidfd_open, ...) fail with ENOSYS, as on Linux < 5.3 or under
 * a seccomp filter that refuses it, and passes every other syscall()
 * through. When it refuses one and NOPIDFD_MARK names a file, it creates
 * that file, so the test knows the fallback path really ran.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

long syscall(long n, ...);

static long (*real_syscall)(long, ...);

static void init(void) __attribute__((constructor));
static void
init(void)
{
	real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
}

long
syscall(long n, ...)
{
	long a[6];
	va_list ap;

	if (n == SYS_pidfd_open) {
		const char *mark = getenv("NOPIDFD_MARK");
		int fd;
		if (mark != NULL &&
		    (fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >=
			0)
			close(fd);
		errno = ENOSYS;
		return -1;
	}
	/* the x86-64 and aarch64 ABIs let us read six, as glibc's own does */
	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (real_syscall == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
