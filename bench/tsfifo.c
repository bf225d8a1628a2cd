/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tsfifo - timestamp the lines written into a FIFO.
 *
 *   tsfifo FIFO
 *
 * Creates nothing: FIFO must exist. Opens it read-write (so that writers
 * coming and going never make it see end-of-file), and for every complete
 * line read prints "<CLOCK_MONOTONIC ns> <line>" on stdout, one write(2)
 * per line. The virtual implant's --log points at the FIFO: its lines
 * (connect, ctrl, > C-APDU, < R-APDU, close) arrive here a few tens of
 * microseconds after they happen, on the same clock as bench/spawnt.
 * Runs until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Wake at once when there is something to stamp, even on a busy machine:
 * SCHED_FIFO, priority 1, not inherited by children (best effort; the
 * process only ever sleeps in read()). */
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

static void
put(const char *s, size_t n, long long t)
{
	char out[80 + 70000];
	int k = snprintf(out, 80, "%lld ", t);
	size_t len = (size_t)k;

	if (n > sizeof(out) - len - 1)
		n = sizeof(out) - len - 1;
	memcpy(out + len, s, n);
	len += n;
	out[len++] = '\n';
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDOUT_FILENO, out + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			exit(1);
		off += (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	static char buf[1 << 18];
	size_t have = 0;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: tsfifo FIFO\n");
		return 2;
	}
	realtime();
	if ((fd = open(argv[1], O_RDWR | O_CLOEXEC)) < 0) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		long long t = now_ns();
		size_t start = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		have += (size_t)r;
		for (size_t i = 0; i < have; i++) {
			if (buf[i] == '\n') {
				put(buf + start, i - start, t);
				start = i + 1;
			}
		}
		if (start == 0 && have == sizeof(buf)) {
			put(buf, have, t); /* an over-long line: cut it */
			start = have;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
}
