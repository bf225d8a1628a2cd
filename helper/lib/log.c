/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - see log.h.
 */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>

/* A longer line is cut (every message here is far shorter). */
#define LOG_LINE_MAX 4096

static const char *log_ident;
static int log_stderr;
static int log_debug;

void
vivo_log_init(const char *ident, int to_stderr, int debug)
{
	log_ident = ident;
	log_stderr = to_stderr;
	log_debug = debug;
	openlog(ident, LOG_PID, LOG_AUTHPRIV);
}

void
vivo_log_connect(void)
{
	/* glibc connects a LOG_NDELAY openlog at once and keeps the socket
	 * across later openlog calls; if no logger listens yet, the first
	 * line tries again, as without LOG_NDELAY */
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

int
vivo_log_debug_enabled(void)
{
	return log_debug;
}

void
vivo_log(int prio, const char *fmt, ...)
{
	va_list ap;
	char line[LOG_LINE_MAX], esc[LOG_LINE_MAX];

	if (prio == LOG_DEBUG && !log_debug)
		return;
	/* What reaches syslog is escaped: a byte outside printable ASCII
	 * (from a label, a path, a chip) cannot break the line, forge a
	 * second one or carry bidi text into root's auth log. */
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void)vivo_log_escape_ctl(line, esc, sizeof(esc));
	syslog(LOG_AUTHPRIV | prio, "%s", esc);
	/* The person at the terminal reads the text as it is (a UTF-8 label
	 * stays readable); labels were checked for controls when stored. */
	if (log_stderr && (prio <= LOG_WARNING || log_debug)) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}
