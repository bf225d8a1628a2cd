/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spawnt - run a command N times and time each run as its caller sees it.
 *
 *   spawnt [-n N] [-q] [-t] -- COMMAND [ARG]...
 *
 * For each run: t0 = CLOCK_MONOTONIC, posix_spawn(COMMAND) with stdin
 * /dev/null, stdout a pipe (or a pty, -t), stderr inherited and the
 * environment PATH=/usr/bin:/bin only,
 * forward every line the command prints as "L <ns> <line>" (<ns>: when
 * the line arrived here), then wait4() and t1 = CLOCK_MONOTONIC. Prints
 * "T <t0> <t1> <exit status> <utime us> <stime us> <maxrss kB> <pid>".
 * The times are CLOCK_MONOTONIC nanoseconds, the clock bench/tsfifo uses.
 * -q: do not forward the command's lines (only T lines). -t: the
 * command's stdout is a pseudo-terminal (raw mode, no \r added) instead of
 * a pipe, so that a program whose stdio buffers a pipe (pamtester's
 * misc_conv) still prints its cue at once. rusage is that of the command
 * and of the descendants it waited for (Linux wait4). stdout of spawnt is
 * flushed after every line, so a reader sees the command's cue the moment
 * it is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Wake at once when there is something to stamp, even on a busy machine:
 * SCHED_FIFO, priority 1, not inherited by children (best effort; the
 * process only ever sleeps in read() or wait4()). */
static void
realtime(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	(void)sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp);
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	char *envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	long n = 1;
	int quiet = 0, tty = 0, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-q") == 0)
			quiet = 1;
		else if (strcmp(argv[i], "-t") == 0)
			tty = 1;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			break;
	}
	if (i >= argc || n < 1) {
		fprintf(
		    stderr, "usage: spawnt [-n N] [-q] -- COMMAND [ARG]...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	realtime();
	for (long run = 0; run < n; run++) {
		posix_spawn_file_actions_t fa;
		char line[4096];
		size_t have = 0;
		struct rusage ru;
		long long t0, t1;
		int p[2], status = 0;
		pid_t pid;

		if (tty) {
			struct termios tio;
			if ((p[0] = posix_openpt(
				 O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
			    grantpt(p[0]) != 0 || unlockpt(p[0]) != 0 ||
			    (p[1] = open(ptsname(p[0]),
				 O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
			    tcgetattr(p[1], &tio) != 0) {
				perror("pty");
				return 1;
			}
			cfmakeraw(&tio);
			(void)tcsetattr(p[1], TCSANOW, &tio);
		} else if (pipe2(p, O_CLOEXEC) != 0) {
			perror("pipe");
			return 1;
		}
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(
		    &fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
		t0 = now_ns();
		errno = posix_spawn(&pid, argv[i], &fa, NULL, argv + i, envp);
		if (errno != 0) {
			perror(argv[i]);
			return 1;
		}
		posix_spawn_file_actions_destroy(&fa);
		close(p[1]);
		for (;;) {
			ssize_t r =
			    read(p[0], line + have, sizeof(line) - 1 - have);
			long long t = now_ns();
			size_t start = 0;

			if (r < 0 && errno == EINTR)
				continue;
			if (r <=
			    0) /* a pty's master reads EIO once the slave is gone */
				break;
			have += (size_t)r;
			for (size_t k = 0; k < have; k++) {
				if (line[k] != '\n')
					continue;
				line[k] = '\0';
				if (!quiet)
					printf("L %lld %s\n", t, line + start);
				start = k + 1;
			}
			if (start == 0 && have == sizeof(line) - 1)
				start = have; /* drop an over-long line */
			memmove(line, line + start, have - start);
			have -= start;
		}
		close(p[0]);
		while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
			;
		t1 = now_ns();
		printf("T %lld %lld %d %ld %ld %ld %d\n", t0, t1,
		    WIFEXITED(status) ? WEXITSTATUS(status)
				      : 128 + WTERMSIG(status),
		    (long)(ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec),
		    (long)(ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec),
		    ru.ru_maxrss, (int)pid);
	}
	return 0;
}
