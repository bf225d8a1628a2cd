/*
 * vivo-helper - does the card work for pam_vivo.so, one request per exec.
 *
 * Started by the module with a socket on stdin/stdout, stderr on
 * /dev/null, an empty environment and the caller's credentials (no setuid
 * bit). Reads one AUTH message, may send one WAIT message when it is ready
 * for the tap, sends one RESULT message and exits 0. See
 * docs/helper-protocol.md.
 */
#include "lib/auth.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/proto.h"
#include "lib/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REQUEST_WAIT_MS 5000

/* The helper must have exactly stdin, stdout and stderr open: anything
 * else leaked from the caller (CVE-2019-12210 class). 0 / -1. */
static int
only_std_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int bad = 0, dfd;

	if (d == NULL)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		int fd;
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd > 2 && fd != dfd) {
			vivo_err("refusing to run: descriptor %d is open", fd);
			bad = 1;
		}
	}
	closedir(d);
	return bad ? -1 : 0;
}

static void
send_wait(void *arg, unsigned timeout, size_t nreaders)
{
	struct vivo_msg m;

	(void)arg;
	vivo_msg_init(&m, VIVO_MSG_WAIT);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, timeout);
	(void)vivo_msg_set_str(&m, VIVO_TAG_TEXT, nreaders > 0 ?
	    "Hold your implant to the reader..." :
	    "No NFC reader found: connect one, then hold your implant to it...");
	if (vivo_msg_write(STDOUT_FILENO, &m, vivo_now_ms() + 5000) != 0) {
		vivo_err("the module went away; giving up");
		exit(1);
	}
}

static int
reply(uint32_t result, const char *reason, const char *text, const char *label,
    const char *method)
{
	struct vivo_msg m;

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, result);
	(void)vivo_msg_set_str(&m, VIVO_TAG_REASON, reason);
	if (text != NULL && text[0] != '\0')
		(void)vivo_msg_set_str(&m, VIVO_TAG_TEXT, text);
	if (result == VIVO_R_OK) {
		(void)vivo_msg_set_str(&m, VIVO_TAG_LABEL, label);
		(void)vivo_msg_set_str(&m, VIVO_TAG_METHOD, method);
	}
	return vivo_msg_write(STDOUT_FILENO, &m, vivo_now_ms() + 5000) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct vivo_msg req;
	struct vivo_config cfg;
	struct vivo_auth a;
	const char *err;
	char cerr[512];

	(void)argc;
	(void)argv;
	umask(077);
	vivo_log_init("vivo-helper", 0, 0);
	if (only_std_fds() != 0)
		return reply(VIVO_R_INTERNAL, "unexpected open descriptors", NULL,
		    NULL, NULL);
	if (vivo_msg_read(STDIN_FILENO, &req, vivo_now_ms() + REQUEST_WAIT_MS,
	    &err) != 0 || req.type != VIVO_MSG_AUTH) {
		vivo_err("bad request: %s", err ? err : "not an AUTH message");
		return reply(VIVO_R_INTERNAL, "bad request", NULL, NULL, NULL);
	}
	vivo_log_init("vivo-helper", 0, (req.flags & VIVO_FLAG_DEBUG) != 0);
	if (!vivo_user_valid(req.user))
		return reply(VIVO_R_NO_ENROLLMENT, "invalid user name", NULL, NULL,
		    NULL);
	if (vivo_config_load(req.config, geteuid(), &cfg, cerr, sizeof(cerr))) {
		vivo_err("user=%s result=config-error reason=%s", req.user, cerr);
		return reply(VIVO_R_CONFIG, cerr, "Implant login is misconfigured.",
		    NULL, NULL);
	}
	memset(&a, 0, sizeof(a));
	a.cfg = &cfg;
	a.user = req.user;
	a.timeout = req.timeout != 0 ? req.timeout : cfg.timeout;
	if (a.timeout > VIVO_TIMEOUT_MAX)
		a.timeout = VIVO_TIMEOUT_MAX;
	a.remote = (req.flags & VIVO_FLAG_REMOTE) != 0;
	a.on_wait = send_wait;
	vivo_dbg("user=%s timeout=%u methods=%#x", req.user, a.timeout, cfg.methods);
	vivo_authenticate(&a);
	vivo_log(a.result == VIVO_R_OK ? LOG_INFO : LOG_NOTICE,
	    "user=%s result=%s%s%s reason=%s", req.user,
	    vivo_result_str(a.result), a.method ? " method=" : "",
	    a.method ? a.method : "", a.reason);
	return reply(a.result, a.reason, a.text, a.label, a.method ? a.method : "");
}
