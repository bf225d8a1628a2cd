/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_vivo.c - the PAM module: thin by design.
 *
 * Reads its arguments, runs vivo-helper (fork/execve, a socket on the
 * helper's stdin/stdout, nothing else open, an empty environment, a
 * deadline), asks for the implant's PIN when the helper says an enrollment
 * needs it, passes the helper's cue to the person through the PAM
 * conversation, and maps the helper's answer through the one return-code
 * table below. It links neither pcsc-lite nor OpenSSL: card data never
 * enters the caller's address space.
 */
#define PAM_SM_AUTH
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "../helper/lib/proto.h"
#include "../helper/lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#ifndef VIVO_HELPER_PATH
#define VIVO_HELPER_PATH "/usr/libexec/pam_vivo/vivo-helper"
#endif

/* The entry points libpam looks up; everything else is hidden (and the
 * version script pam_vivo.map says the same to the linker). */
#define VIVO_EXPORT __attribute__((visibility("default")))

#define STARTUP_MS 10000 /* helper: request to WAIT or RESULT */
#define GRACE_MS 5000    /* after the tap timeout: the card work */
#define REAP_MS 2000     /* after RESULT: exit */
_Static_assert(STARTUP_MS == VIVO_STARTUP_MS && GRACE_MS == VIVO_GRACE_MS,
    "the helper's view of the module's bounds (proto.h)");

struct args {
	const char *config; /* "" = the helper's default */
	const char *helper;
	unsigned timeout; /* 0 = the config's */
	int nouserok;
	int debug;
};

static int
parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->config = "";
	a->helper = VIVO_HELPER_PATH;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (strncmp(s, "config=", 7) == 0 && s[7] == '/')
			a->config = s + 7;
		else if (strncmp(s, "helper=", 7) == 0 && s[7] == '/')
			a->helper = s + 7;
		else if (strncmp(s, "timeout=", 8) == 0) {
			if (vivo_parse_uint(s + 8, 1, 600, &a->timeout) != 0) {
				pam_syslog(pamh, LOG_ERR,
				    "bad argument \"%s\" "
				    "(timeout=1..600)",
				    s);
				return -1;
			}
		} else if (strcmp(s, "nouserok") == 0)
			a->nouserok = 1;
		else if (strcmp(s, "debug") == 0)
			a->debug = 1;
		else {
			pam_syslog(pamh, LOG_ERR,
			    "unknown or invalid argument \"%s\" "
			    "(paths must be absolute)",
			    s);
			return -1;
		}
	}
	if (strlen(a->config) >= VIVO_PATH_MAX) {
		pam_syslog(pamh, LOG_ERR, "config path too long");
		return -1;
	}
	return 0;
}

/* One message through the conversation; PAM_SUCCESS or PAM_CONV_ERR. */
static int
converse(pam_handle_t *pamh, int style, const char *text)
{
	const struct pam_conv *conv = NULL;
	struct pam_message msg = { .msg_style = style, .msg = text };
	const struct pam_message *pmsg = &msg;
	struct pam_response *resp = NULL;
	int r;

	if (pam_get_item(pamh, PAM_CONV, (const void **)&conv) != PAM_SUCCESS ||
	    conv == NULL || conv->conv == NULL) {
		pam_syslog(pamh, LOG_ERR, "no conversation function");
		return PAM_CONV_ERR;
	}
	r = conv->conv(1, &pmsg, &resp, conv->appdata_ptr);
	if (resp != NULL) {
		if (resp[0].resp != NULL) {
			explicit_bzero(resp[0].resp, strlen(resp[0].resp));
			free(resp[0].resp);
		}
		free(resp);
	}
	if (r != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "conversation failed: %s",
		    pam_strerror(pamh, r));
		return PAM_CONV_ERR;
	}
	return PAM_SUCCESS;
}

/*
 * Ask for the implant's PIN (no echo) and send it to the helper in a PIN
 * message. PAM_SUCCESS, PAM_CONV_ERR (the conversation failed or gave no
 * answer), PAM_AUTH_ERR (longer than any PIN), PAM_SYSTEM_ERR (the helper
 * could not be told). The answer is wiped wherever it was held.
 */
static int
send_pin(pam_handle_t *pamh, int fd, const char *prompt, int64_t deadline)
{
	const struct pam_conv *conv = NULL;
	struct pam_message msg = { .msg_style = PAM_PROMPT_ECHO_OFF,
		.msg = prompt };
	const struct pam_message *pmsg = &msg;
	struct pam_response *resp = NULL;
	struct vivo_msg m;
	int r, rc = PAM_SYSTEM_ERR;

	if (pam_get_item(pamh, PAM_CONV, (const void **)&conv) != PAM_SUCCESS ||
	    conv == NULL || conv->conv == NULL) {
		pam_syslog(pamh, LOG_ERR, "no conversation function");
		return PAM_CONV_ERR;
	}
	r = conv->conv(1, &pmsg, &resp, conv->appdata_ptr);
	if (r != PAM_SUCCESS || resp == NULL || resp[0].resp == NULL) {
		pam_syslog(pamh, LOG_ERR,
		    "conversation failed at the PIN prompt: %s",
		    r != PAM_SUCCESS ? pam_strerror(pamh, r) : "no answer");
		rc = PAM_CONV_ERR;
		goto out;
	}
	vivo_msg_init(&m, VIVO_MSG_PIN);
	if (vivo_msg_set_str(&m, VIVO_TAG_PIN, resp[0].resp) != 0) {
		pam_syslog(pamh, LOG_NOTICE, "the PIN given is too long");
		rc = PAM_AUTH_ERR;
	} else if (vivo_msg_write(fd, &m, deadline) != 0)
		pam_syslog(pamh, LOG_ERR, "cannot send the PIN to the helper");
	else
		rc = PAM_SUCCESS;
	explicit_bzero(&m, sizeof(m));
out:
	if (resp != NULL) {
		if (resp[0].resp != NULL) {
			explicit_bzero(resp[0].resp, strlen(resp[0].resp));
			free(resp[0].resp);
		}
		free(resp);
	}
	return rc;
}

/*
 * A caller running with 0, 1 or 2 closed gets those numbers for the
 * descriptors the child turns into the helper's stdin/stdout/stderr, and
 * dup2() onto itself would leave close-on-exec set: the helper would start
 * without them. Move such a descriptor to 3 or above (closing the old one).
 */
static int
above_std(int fd)
{
	int nfd;

	if (fd < 0 || fd > STDERR_FILENO)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return nfd;
}

/* In the child, between fork and execve: async-signal-safe calls only. */
static void __attribute__((noreturn))
exec_helper(const char *path, int sock, int devnull)
{
	char *const argv[] = { (char *)"vivo-helper", NULL };
	char *const envp[] = { NULL };
	struct sigaction sa;
	sigset_t none;

	if (dup2(sock, STDIN_FILENO) < 0 || dup2(sock, STDOUT_FILENO) < 0 ||
	    dup2(devnull, STDERR_FILENO) < 0)
		_exit(127);
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = 3; fd < (max > 0 ? max : 65536); fd++)
			(void)close((int)fd);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
	_exit(127);
}

/*
 * Wait for the helper until `deadline`, then kill it. 0 with its status,
 * -1 if it could not be waited for (then it never counts as a clean exit).
 * Sleeps in poll() on a pidfd, which wakes the moment the helper exits (a
 * fixed sleep between looks cost ~5 ms per authentication); without pidfds
 * (Linux < 5.3, or a filter that refuses the call) it looks every 1 ms.
 */
static int
reap(pid_t pid, int64_t deadline, int *status)
{
	int pidfd = -1, rc;

#ifdef SYS_pidfd_open
	pidfd =
	    (int)syscall(SYS_pidfd_open, pid, 0U); /* always close-on-exec */
#endif
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		int64_t left = deadline - vivo_now_ms();

		if (r == pid) {
			rc = 0;
			break;
		}
		if (r < 0 && errno != EINTR) {
			rc = -1; /* ECHILD: someone else reaped it */
			break;
		}
		if (r < 0)
			continue;
		if (left <= 0) {
			(void)kill(pid, SIGKILL);
			while (
			    (r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
				;
			rc = r == pid ? 0 : -1;
			break;
		}
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			if (poll(&p, 1, left > 1000 ? 1000 : (int)left) < 0 &&
			    errno != EINTR) {
				close(pidfd);
				pidfd = -1;
			}
		} else
			usleep(1000);
	}
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

/*
 * Run the helper for one request. Returns the PAM code, with the helper's
 * RESULT in *res when it sent one and exited cleanly.
 */
static int
run_helper(pam_handle_t *pamh, const struct args *a, const char *user,
    int remote, int identify, struct vivo_msg *res, int *have_res)
{
	struct sigaction sa_dfl, sa_old;
	struct vivo_msg req, m;
	int sv[2] = { -1, -1 }, devnull = -1, status = 0, killed = 0;
	int rc = PAM_SYSTEM_ERR, cued = 0, pinned = 0;
	/* before the helper's WAIT: its start-up, bounded by the tap timeout
	 * too when the module knows it */
	int64_t deadline = vivo_now_ms() +
	    (a->timeout != 0 && (int64_t)a->timeout * 1000 + 500 < STARTUP_MS
		    ? (int64_t)a->timeout * 1000 + 500
		    : STARTUP_MS);
	const char *err = NULL;
	pid_t pid;

	*have_res = 0;
	vivo_msg_init(&req, VIVO_MSG_AUTH);
	if (vivo_msg_set_str(&req, VIVO_TAG_USER, user) != 0 ||
	    vivo_msg_set_str(&req, VIVO_TAG_CONFIG, a->config) != 0)
		return PAM_SYSTEM_ERR;
	vivo_msg_set_u32(&req, VIVO_TAG_TIMEOUT, a->timeout);
	/* who asks, for the one-request rule's message (truncated: display) */
	{
		static const struct {
			int item;
			enum vivo_tag tag;
		} who[] = {
			{ PAM_SERVICE, VIVO_TAG_SERVICE },
			{ PAM_TTY, VIVO_TAG_TTY },
			{ PAM_RUSER, VIVO_TAG_RUSER },
		};
		for (size_t i = 0; i < VIVO_NELEM(who); i++) {
			const void *v = NULL;
			char buf[64];
			if (pam_get_item(pamh, who[i].item, &v) ==
				PAM_SUCCESS &&
			    v != NULL) {
				(void)vivo_strlcpy(buf, v, sizeof(buf));
				(void)vivo_msg_set_str(&req, who[i].tag, buf);
			}
		}
	}
	vivo_msg_set_u32(&req, VIVO_TAG_FLAGS,
	    (a->debug ? VIVO_FLAG_DEBUG : 0) | (remote ? VIVO_FLAG_REMOTE : 0) |
		(identify ? VIVO_FLAG_IDENTIFY : 0));

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    (sv[1] = above_std(sv[1])) < 0 ||
	    (devnull = above_std(open("/dev/null", O_RDWR | O_CLOEXEC))) < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot set up the helper: %m");
		goto close;
	}
	memset(&sa_dfl, 0, sizeof(sa_dfl));
	sa_dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa_dfl, &sa_old);
	if ((pid = fork()) < 0) {
		pam_syslog(pamh, LOG_ERR, "fork: %m");
		goto restore;
	}
	if (pid == 0)
		exec_helper(a->helper, sv[1], devnull);
	close(sv[1]);
	sv[1] = -1;

	if (vivo_msg_write(sv[0], &req, deadline) != 0) {
		pam_syslog(
		    pamh, LOG_ERR, "cannot send the request to %s", a->helper);
		goto kill;
	}
	for (;;) {
		int r = vivo_msg_read(sv[0], &m, deadline, &err);
		if (r == VIVO_ERR_MSG_DEADLINE) {
			pam_syslog(pamh, LOG_ERR,
			    "helper did not answer in time; "
			    "killed it");
			rc = PAM_AUTHINFO_UNAVAIL;
			goto kill;
		}
		if (r != 0) {
			pam_syslog(
			    pamh, LOG_ERR, "helper %s: %s", a->helper, err);
			goto kill;
		}
		if (m.type == VIVO_MSG_RESULT)
			break;
		if (m.type == VIVO_MSG_PIN_ASK && !cued && !pinned) {
			/* before the cue: the person types, then taps */
			pinned = 1;
			rc = send_pin(
			    pamh, sv[0], m.text, vivo_now_ms() + STARTUP_MS);
			if (rc != PAM_SUCCESS)
				goto kill;
			rc = PAM_SYSTEM_ERR;
			deadline = vivo_now_ms() + STARTUP_MS;
			continue;
		}
		if (m.type != VIVO_MSG_WAIT || cued) {
			pam_syslog(
			    pamh, LOG_ERR, "helper sent an unexpected message");
			goto kill;
		}
		cued = 1;
		deadline = vivo_now_ms() +
		    (int64_t)(m.timeout > 600 ? 600 : m.timeout) * 1000 +
		    GRACE_MS;
		/* the cue is shown even under PAM_SILENT (sudo's default):
		 * without it nobody knows to tap */
		if (converse(pamh, PAM_TEXT_INFO, m.text) != PAM_SUCCESS) {
			rc = PAM_CONV_ERR;
			goto kill;
		}
	}
	close(sv[0]);
	sv[0] = -1;
	/* The helper's exit takes ~0.4 ms (the kernel tearing down its
	 * address space, libcrypto's mapped pages above all) and we are idle
	 * meanwhile: do now what the result line's syslog() would otherwise do
	 * after the reap on the first call in this process, read the time
	 * zone (/etc/localtime). localtime() calls tzset() anyway; this only
	 * moves it. ~0.04 ms off the answer. */
	tzset();
	if (reap(pid, vivo_now_ms() + REAP_MS, &status) != 0 ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		pam_syslog(pamh, LOG_ERR,
		    "helper did not exit cleanly (status %d)", status);
		goto restore;
	}
	*res = m;
	*have_res = 1;
	rc = PAM_SUCCESS; /* only "the helper answered"; the caller maps it */
	goto restore;
kill:
	killed = 1;
	(void)kill(pid, SIGKILL);
	(void)reap(pid, vivo_now_ms(), &status);
restore:
	(void)sigaction(SIGCHLD, &sa_old, NULL);
close:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (devnull >= 0)
		close(devnull);
	if (killed && a->debug)
		pam_syslog(pamh, LOG_DEBUG, "helper killed");
	explicit_bzero(&m, sizeof(m));
	return rc;
}

/* Names for the log lines (pam_strerror's prose reads badly there). */
static const char *
code_name(int rc)
{
	switch (rc) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
	default: return "PAM_?";
	}
}

/* The one return-code table (README.md, "What the module answers"). */
static int
map_result(uint32_t result, int nouserok)
{
	switch (result) {
	case VIVO_R_OK: return PAM_SUCCESS;
	case VIVO_R_NO_ENROLLMENT:
		return nouserok ? PAM_IGNORE : PAM_USER_UNKNOWN;
	case VIVO_R_UNAVAILABLE: return PAM_AUTHINFO_UNAVAIL;
	case VIVO_R_AUTH_FAILED: return PAM_AUTH_ERR;
	case VIVO_R_UNSAFE: return PAM_AUTH_ERR;
	case VIVO_R_CONFIG: return PAM_SYSTEM_ERR;
	default: return PAM_SYSTEM_ERR;
	}
}

/*
 * The last steps of a request the helper answered: hand the released login
 * secret to the modules after ours (PAM_AUTHTOK), and show the helper's
 * words (an error, or on success a note such as "your password changed
 * since it was sealed"). The PAM code, PAM_SYSTEM_ERR if the secret cannot
 * be set.
 */
static int
finish(pam_handle_t *pamh, int flags, int rc, const struct vivo_msg *res)
{
	if (rc == PAM_SUCCESS && vivo_msg_has(res, VIVO_TAG_AUTHTOK)) {
		if (pam_set_item(pamh, PAM_AUTHTOK, res->authtok) !=
		    PAM_SUCCESS) {
			pam_syslog(pamh, LOG_ERR, "cannot set PAM_AUTHTOK");
			return PAM_SYSTEM_ERR;
		}
		pam_syslog(
		    pamh, LOG_INFO, "login secret handed to the next modules");
	}
	if (vivo_msg_has(res, VIVO_TAG_TEXT) && (flags & (int)PAM_SILENT) == 0)
		(void)converse(pamh,
		    rc == PAM_SUCCESS ? PAM_TEXT_INFO : PAM_ERROR_MSG,
		    res->text);
	return rc;
}

/*
 * Hand-scan login: run the helper without a user. PAM_IGNORE when this
 * service may not identify (the caller then asks for the name); otherwise
 * the PAM code, with PAM_USER set to the account the implant proved on
 * PAM_SUCCESS.
 */
static int
identify(pam_handle_t *pamh, int flags, const struct args *a, int remote)
{
	struct vivo_msg res;
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096], elabel[4 * VIVO_TEXT_MAX + 1],
	    ereason[4 * VIVO_TEXT_MAX + 1], euser[4 * VIVO_USER_MAX + 1],
	    emethod[4 * sizeof(res.method) + 1];
	int have_res = 0, rc;

	rc = run_helper(pamh, a, "", remote, 1, &res, &have_res);
	if (rc != PAM_SUCCESS || !have_res) {
		if (rc == PAM_SUCCESS)
			rc = PAM_SYSTEM_ERR;
		pam_syslog(pamh, LOG_NOTICE, "user=(hand-scan) result=%s",
		    code_name(rc));
		goto out;
	}
	if (res.result == VIVO_R_NO_IDENTIFY) {
		if (a->debug)
			pam_syslog(pamh, LOG_DEBUG, "%s", res.reason);
		rc = PAM_IGNORE;
		goto out;
	}
	rc = map_result(res.result, a->nouserok);
	if (rc == PAM_IGNORE)
		rc = PAM_AUTH_ERR; /* only "identify off" asks for the name */
	if (rc == PAM_SUCCESS &&
	    (!vivo_msg_has(&res, VIVO_TAG_USER) || !vivo_user_valid(res.user) ||
		getpwnam_r(res.user, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
		pwp == NULL ||
		pam_set_item(pamh, PAM_USER, res.user) != PAM_SUCCESS)) {
		pam_syslog(pamh, LOG_ERR,
		    "hand-scan login: the helper named no usable account");
		rc = PAM_SYSTEM_ERR;
	}
	(void)vivo_log_escape_word(
	    rc == PAM_SUCCESS ? res.user : "(hand-scan)", euser, sizeof(euser));
	(void)vivo_log_escape(res.label, elabel, sizeof(elabel));
	(void)vivo_log_escape(res.reason, ereason, sizeof(ereason));
	(void)vivo_log_escape(res.method, emethod, sizeof(emethod));
	pam_syslog(pamh, rc == PAM_SUCCESS ? LOG_INFO : LOG_NOTICE,
	    "user=%s result=%s%s%s%s%s%s reason=\"%s\"%s", euser, code_name(rc),
	    vivo_msg_has(&res, VIVO_TAG_METHOD) ? " method=" : "",
	    vivo_msg_has(&res, VIVO_TAG_METHOD) ? emethod : "",
	    vivo_msg_has(&res, VIVO_TAG_LABEL) ? " implant=\"" : "",
	    vivo_msg_has(&res, VIVO_TAG_LABEL) ? elabel : "",
	    vivo_msg_has(&res, VIVO_TAG_LABEL) ? "\"" : "", ereason,
	    rc == PAM_SUCCESS ? " (hand-scan)" : "");
	rc = finish(pamh, flags, rc, &res);
out:
	explicit_bzero(pwbuf, sizeof(pwbuf));
	explicit_bzero(&res, sizeof(res));
	return rc;
}

VIVO_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;
	struct vivo_msg res;
	const char *user = NULL, *rhost = NULL;
	int have_res = 0, rc;
	char emethod[4 * sizeof(res.method) + 1], elabel[4 * VIVO_TEXT_MAX + 1],
	    ereason[4 * VIVO_TEXT_MAX + 1], euser[4 * VIVO_USER_MAX + 1];

	if (parse_args(pamh, argc, argv, &a) != 0)
		return PAM_SYSTEM_ERR;
	if (pam_get_item(pamh, PAM_RHOST, (const void **)&rhost) != PAM_SUCCESS)
		rhost = NULL;
	/* no user named (login, a greeter): the implant may say who it is,
	 * where the config lets this service identify; else the name is
	 * asked below, as always */
	if (pam_get_item(pamh, PAM_USER, (const void **)&user) == PAM_SUCCESS &&
	    (user == NULL || user[0] == '\0')) {
		rc = identify(
		    pamh, flags, &a, rhost != NULL && rhost[0] != '\0');
		if (rc != PAM_IGNORE)
			return rc;
	}
	if ((rc = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s",
		    pam_strerror(pamh, rc));
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
	}
	if (!vivo_user_valid(user)) {
		pam_syslog(pamh, LOG_NOTICE, "refusing an invalid user name");
		return PAM_USER_UNKNOWN;
	}
	/* a valid name may still hold a space or '=': one field in the log */
	(void)vivo_log_escape_word(user, euser, sizeof(euser));
	rc = run_helper(pamh, &a, user, rhost != NULL && rhost[0] != '\0', 0,
	    &res, &have_res);
	if (rc != PAM_SUCCESS || !have_res) {
		if (rc == PAM_SUCCESS)
			rc = PAM_SYSTEM_ERR;
		pam_syslog(pamh, LOG_NOTICE, "user=%s result=%s", euser,
		    code_name(rc));
		return rc;
	}
	if (vivo_msg_has(&res, VIVO_TAG_USER)) {
		/* a user is named only in answer to a hand-scan request */
		pam_syslog(pamh, LOG_ERR,
		    "user=%s result=PAM_SYSTEM_ERR: the helper named a user "
		    "it was not asked for",
		    euser);
		explicit_bzero(&res, sizeof(res));
		return PAM_SYSTEM_ERR;
	}
	rc = map_result(res.result, a.nouserok);
	/* what the helper sent may hold a label from a user store: escaped
	 * (util.h), so it cannot forge fields or lines in root's log */
	(void)vivo_log_escape(res.method, emethod, sizeof(emethod));
	(void)vivo_log_escape(res.label, elabel, sizeof(elabel));
	(void)vivo_log_escape(res.reason, ereason, sizeof(ereason));
	pam_syslog(pamh, rc == PAM_SUCCESS ? LOG_INFO : LOG_NOTICE,
	    "user=%s result=%s%s%s%s%s%s reason=\"%s\"", euser, code_name(rc),
	    vivo_msg_has(&res, VIVO_TAG_METHOD) ? " method=" : "",
	    vivo_msg_has(&res, VIVO_TAG_METHOD) ? emethod : "",
	    vivo_msg_has(&res, VIVO_TAG_LABEL) ? " implant=\"" : "",
	    vivo_msg_has(&res, VIVO_TAG_LABEL) ? elabel : "",
	    vivo_msg_has(&res, VIVO_TAG_LABEL) ? "\"" : "", ereason);
	rc = finish(pamh, flags, rc, &res);
	explicit_bzero(&res, sizeof(res));
	return rc;
}

VIVO_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	/* No credentials to establish; this is what pam_unix and pam_u2f do. */
	return PAM_SUCCESS;
}
