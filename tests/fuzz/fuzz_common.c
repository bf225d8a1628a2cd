/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_common.c - see fuzz.h.
 */
#include "fuzz.h"

#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "==fuzz== invariant failed at %s:%d: %s\n", file, line,
	    what);
	fflush(stderr);
	abort();
}

void
fuzz_note(const char *fmt, ...)
{
	static int verbose = -1;
	va_list ap;

	if (verbose < 0) {
		const char *v = getenv("FUZZ_VERBOSE");
		verbose = v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
	}
	if (!verbose)
		return;
	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void
fuzz_quiet_syslog(void)
{
	/* A mask with no bit of a real priority (LOG_EMERG..LOG_DEBUG are
	 * 0..7): glibc's vsyslog then returns before formatting or
	 * connecting. setlogmask(0) would mean "leave it as it is". */
	(void)setlogmask(LOG_MASK(LOG_DEBUG) << 1);
}

char *
fuzz_text(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);

	if (t == NULL)
		return NULL;
	if (size > 0)
		memcpy(t, data, size);
	t[size] = '\0';
	return t;
}

void
fuzz_unhex(const char *hex, uint8_t *out, size_t want)
{
	size_t n = 0;

	if (vivo_hex_decode(hex, out, want, &n) != 0 || n != want)
		fuzz_fail(__FILE__, __LINE__, hex);
}
