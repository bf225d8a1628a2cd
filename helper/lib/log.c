/*
 * log.c - see log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

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

	if (prio == LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	vsyslog(LOG_AUTHPRIV | prio, fmt, ap);
	va_end(ap);
	if (log_stderr && (prio <= LOG_WARNING || log_debug)) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}
