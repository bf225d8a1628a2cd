/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - logging for the helper and the enrollment tool: syslog
 * (LOG_AUTHPRIV) and, for the tool, stderr. Never pass secrets here.
 * The syslog copy is escaped (util.h: vivo_log_escape_ctl); stderr is not.
 */
#ifndef VIVO_LOG_H
#define VIVO_LOG_H

#include <syslog.h>

/* ident: syslog ident; to_stderr: also print (the tool); debug: emit
 * LOG_DEBUG lines. */
void vivo_log_init(const char *ident, int to_stderr, int debug);
/* Connect to the system logger now rather than at the first line (the
 * helper's first line is usually its result, after the tap). The socket
 * stays open, close-on-exec: call it after any check of open descriptors. */
void vivo_log_connect(void);
int vivo_log_debug_enabled(void);
void
vivo_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vivo_err(...) vivo_log(LOG_ERR, __VA_ARGS__)
#define vivo_warn(...) vivo_log(LOG_WARNING, __VA_ARGS__)
#define vivo_notice(...) vivo_log(LOG_NOTICE, __VA_ARGS__)
#define vivo_info(...) vivo_log(LOG_INFO, __VA_ARGS__)
#define vivo_dbg(...) vivo_log(LOG_DEBUG, __VA_ARGS__)

#endif
