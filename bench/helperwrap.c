/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * helperwrap - stands in for vivo-helper to measure it from outside.
 *
 * Installed as <dir>/vivo-helper with the real helper beside it as
 * <dir>/vivo-helper.real; the module's `helper=` points at the wrapper.
 * It forks, the child execs the real helper with the very same argv,
 * environment and descriptors (the module's socket on 0 and 1, /dev/null
 * on 2: nothing else is open), the parent drops its copies of 0 and 1 so
 * that the socket closes when the helper exits, waits for it with wait4()
 * and appends "maxrss_kb utime_us stime_us status" to <dir>/vivo-helper.rusage.
 * It exits with the helper's status. Used only for the peak-RSS and the
 * idle-CPU measurements, never for the timings (it adds a fork).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int
main(int argc, char **argv)
{
	char self[PATH_MAX - 16], real[PATH_MAX], log[PATH_MAX];
	struct rusage ru;
	ssize_t n;
	pid_t pid;
	int status = 0, fd;

	(void)argc;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return 127;
	self[n] = '\0';
	snprintf(real, sizeof(real), "%s.real", self);
	snprintf(log, sizeof(log), "%s.rusage", self);
	if ((pid = fork()) < 0)
		return 127;
	if (pid == 0) {
		execve(real, argv, environ);
		_exit(127);
	}
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return 127;
	if ((fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >=
	    0) {
		dprintf(fd, "%ld %ld %ld %d\n", ru.ru_maxrss,
		    (long)(ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec),
		    (long)(ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec),
		    status);
		close(fd);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
