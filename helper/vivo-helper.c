/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vivo-helper - does the card work for pam_vivo.so, one request per exec.
 *
 * Started by the module with a socket on stdin/stdout, stderr on
 * /dev/null, an empty environment and the caller's credentials (no setuid
 * bit). Reads one AUTH message, may ask for the implant's PIN (PIN_ASK,
 * answered by PIN) before the tap, may send one WAIT message when it is
 * ready for the tap, sends one RESULT message and exits 0. See
 * docs/helper-protocol.md.
 */
#include "lib/auth.h"
#include "lib/authtok.h"
#include "lib/config.h"
#include "lib/harden.h"
#include "lib/log.h"
#include "lib/proto.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REQUEST_WAIT_MS 5000
/* the person types the PIN: the module's conversation may take this long */
#define PIN_WAIT_MS (5 * 60 * 1000)
/* card work may run this long past the tap timeout */
#define WATCHDOG_MARGIN_MS 800

/*
 * The watchdog: a chip that stops answering mid-exchange blocks inside
 * pcsc-lite. At timeout + margin, SIGALRM writes a RESULT that was encoded
 * in advance and exits (write and _exit are async-signal-safe). SIGALRM is
 * blocked while any other message is being written, so the two never mix.
 */
static uint8_t late_msg[4 + VIVO_MSG_MAX];
static size_t late_len;

static void
on_alarm(int sig)
{
	size_t off = 0;

	(void)sig;
	while (off < late_len) {
		ssize_t w =
		    write(STDOUT_FILENO, late_msg + off, late_len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	_exit(0);
}

static int
arm_watchdog(unsigned timeout)
{
	struct vivo_msg m;
	struct sigaction sa;
	struct itimerval it;
	long ms = (long)timeout * 1000 + WATCHDOG_MARGIN_MS;

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, VIVO_R_UNAVAILABLE);
	(void)vivo_msg_set_str(&m, VIVO_TAG_REASON,
	    "the exchange did not "
	    "finish in time (a chip or pcscd stopped answering)");
	(void)vivo_msg_set_str(&m, VIVO_TAG_TEXT,
	    "Implant login did not "
	    "finish in time.");
	if (vivo_msg_encode(&m, late_msg, sizeof(late_msg), &late_len) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return -1;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	return setitimer(ITIMER_REAL, &it, NULL);
}

/* Write a message with SIGALRM held off; after the final one it stays
 * held off, so the watchdog can never add a second answer. */
static int
write_msg(const struct vivo_msg *m, int final)
{
	sigset_t alrm, old;
	int r;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, &old);
	r = vivo_msg_write(STDOUT_FILENO, m, vivo_now_ms() + 5000);
	if (!final)
		sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/*
 * The helper must have exactly stdin, stdout and stderr open: anything
 * else leaked from the caller (CVE-2019-12210 class). 0 / -1.
 * Descriptors at or above the RLIMIT_NOFILE soft limit are not looked at:
 * no open() or dup2() can make one (only lowering the limit afterwards
 * can), and it is where valgrind keeps its own.
 */
static int
only_std_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	struct rlimit rl;
	int bad = 0, dfd;
	long limit = LONG_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)LONG_MAX)
		limit = (long)rl.rlim_cur;
	if (d == NULL)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		int fd;
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd > 2 && fd != dfd && fd < limit) {
			vivo_err("refusing to run: descriptor %d is open", fd);
			bad = 1;
		}
	}
	closedir(d);
	return bad ? -1 : 0;
}

/* a hand-scan login (no user named): the cue says so */
static int identify_mode;

static void
send_wait(void *arg, unsigned timeout, size_t nreaders)
{
	struct vivo_msg m;

	(void)arg;
	vivo_msg_init(&m, VIVO_MSG_WAIT);
	vivo_msg_set_u32(&m, VIVO_TAG_TIMEOUT, timeout);
	(void)vivo_msg_set_str(&m, VIVO_TAG_TEXT,
	    nreaders == 0 ? "No NFC reader found: connect one, then hold your "
			    "implant to it..."
		: identify_mode ? "Hold your implant to the reader to log in..."
				: "Hold your implant to the reader...");
	if (write_msg(&m, 0) != 0) {
		vivo_err("the module went away; giving up");
		exit(1);
	}
}

/* The watchdog's time, for re-arming it after the PIN prompt. */
static unsigned watchdog_timeout;

static void
disarm_watchdog(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	(void)setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * auth.h's get_pin: PIN_ASK to the module, which asks the person through
 * the PAM conversation and answers PIN. The watchdog (which bounds the
 * card work, not the person's typing) is stopped meanwhile and restarted
 * in full after. A module that goes away or answers anything else ends
 * the request.
 */
static int
ask_pin(void *arg, const char *prompt, char *pin, size_t pinsz)
{
	struct vivo_msg m;
	const char *err = NULL;
	int r;

	(void)arg;
	vivo_msg_init(&m, VIVO_MSG_PIN_ASK);
	(void)vivo_msg_set_str(&m, VIVO_TAG_TEXT, prompt);
	disarm_watchdog();
	if (write_msg(&m, 0) != 0) {
		vivo_err("the module went away; giving up");
		exit(1);
	}
	r = vivo_msg_read(STDIN_FILENO, &m, vivo_now_ms() + PIN_WAIT_MS, &err);
	if (r != 0 || m.type != VIVO_MSG_PIN ||
	    vivo_strlcpy(pin, m.pin, pinsz) != 0) {
		explicit_bzero(&m, sizeof(m));
		vivo_notice("no PIN from the module: %s",
		    err ? err : "not a PIN message");
		if (r == VIVO_ERR_MSG_IO)
			exit(1); /* the module is gone, or broke the protocol */
		return -1;
	}
	explicit_bzero(&m, sizeof(m));
	if (arm_watchdog(watchdog_timeout) != 0)
		return -1;
	return 0;
}

/* The identified user (hand-scan login), sent with a RESULT ok. */
static const char *identified;
/* The released login secret (authtok = true), sent with a RESULT ok. */
static const char *released;

static int
reply(uint32_t result, const char *reason, const char *text, const char *label,
    const char *method)
{
	struct vivo_msg m;
	int r;

	vivo_msg_init(&m, VIVO_MSG_RESULT);
	vivo_msg_set_u32(&m, VIVO_TAG_RESULT, result);
	(void)vivo_msg_set_str(&m, VIVO_TAG_REASON, reason);
	if (text != NULL && text[0] != '\0')
		(void)vivo_msg_set_str(&m, VIVO_TAG_TEXT, text);
	if (result == VIVO_R_OK) {
		(void)vivo_msg_set_str(&m, VIVO_TAG_LABEL, label);
		(void)vivo_msg_set_str(&m, VIVO_TAG_METHOD, method);
		if (identified != NULL &&
		    vivo_msg_set_str(&m, VIVO_TAG_USER, identified) != 0)
			return 1;
		if (released != NULL &&
		    vivo_msg_set_str(&m, VIVO_TAG_AUTHTOK, released) != 0) {
			explicit_bzero(&m, sizeof(m));
			return 1;
		}
	}
	r = write_msg(&m, 1) == 0 ? 0 : 1;
	explicit_bzero(&m, sizeof(m));
	return r;
}

int
main(int argc, char **argv)
{
	struct vivo_msg req;
	struct vivo_config cfg;
	struct vivo_auth a;
	const char *err;
	char cerr[512], ereason[4 * VIVO_TEXT_MAX + 1],
	    euser[4 * VIVO_USER_MAX + 1];
	int hardened = vivo_harden_process(), herr = errno;
	int64_t started =
	    vivo_now_ms(); /* about when the module's clock began */

	(void)argc;
	(void)argv;
	umask(077);
	vivo_log_init("vivo-helper", 0, 0);
	if (hardened != 0) {
		vivo_err(
		    "refusing to run: cannot make the process non-dumpable: "
		    "%s",
		    strerror(herr));
		return reply(VIVO_R_INTERNAL,
		    "cannot make the helper non-dumpable", NULL, NULL, NULL);
	}
	if (only_std_fds() != 0)
		return reply(VIVO_R_INTERNAL, "unexpected open descriptors",
		    NULL, NULL, NULL);
	if (vivo_msg_read(STDIN_FILENO, &req, vivo_now_ms() + REQUEST_WAIT_MS,
		&err) != 0 ||
	    req.type != VIVO_MSG_AUTH) {
		vivo_err("bad request: %s", err ? err : "not an AUTH message");
		return reply(VIVO_R_INTERNAL, "bad request", NULL, NULL, NULL);
	}
	vivo_log_init("vivo-helper", 0, (req.flags & VIVO_FLAG_DEBUG) != 0);
	/* the result line comes after the tap: connect to the logger now,
	 * while the person has not even been asked to tap (saves a socket()
	 * and a connect() on the way to the answer) */
	vivo_log_connect();
	identify_mode = (req.flags & VIVO_FLAG_IDENTIFY) != 0;
	if (identify_mode ? req.user[0] != '\0' : !vivo_user_valid(req.user))
		return reply(VIVO_R_NO_ENROLLMENT, "invalid user name", NULL,
		    NULL, NULL);
	(void)vivo_log_escape_word(
	    identify_mode ? "(hand-scan)" : req.user, euser, sizeof(euser));
	if (vivo_config_load(req.config, geteuid(), &cfg, cerr, sizeof(cerr))) {
		(void)vivo_log_escape(cerr, ereason, sizeof(ereason));
		vivo_err("user=%s result=config-error reason=\"%s\"", euser,
		    ereason);
		return reply(VIVO_R_CONFIG, cerr,
		    "Implant login is misconfigured.", NULL, NULL);
	}
	/* the service's own rules (PAM_SERVICE, from libpam through the
	 * module; never the caller's environment) */
	if (vivo_config_apply_service(&cfg, req.service))
		vivo_dbg("service %s: its own rules apply", req.service);
	if (identify_mode && (!cfg.identify || geteuid() != 0)) {
		const char *why = !cfg.identify
		    ? "identify is off for this service: the name is asked"
		    : "hand-scan login needs a root-run caller (login, a "
		      "greeter): the name is asked";
		vivo_dbg("%s", why);
		return reply(VIVO_R_NO_IDENTIFY, why, NULL, NULL, NULL);
	}
	memset(&a, 0, sizeof(a));
	a.cfg = &cfg;
	a.user = req.user;
	a.timeout = req.timeout != 0 ? req.timeout : cfg.timeout;
	if (a.timeout > VIVO_TIMEOUT_MAX)
		a.timeout = VIVO_TIMEOUT_MAX;
	a.remote = (req.flags & VIVO_FLAG_REMOTE) != 0;
	(void)vivo_strlcpy(a.id.service, req.service, sizeof(a.id.service));
	(void)vivo_strlcpy(a.id.user, req.user, sizeof(a.id.user));
	(void)vivo_strlcpy(a.id.tty, req.tty, sizeof(a.id.tty));
	(void)vivo_strlcpy(a.id.ruser, req.ruser, sizeof(a.id.ruser));
	a.on_wait = send_wait;
	a.get_pin = ask_pin;
	vivo_dbg(
	    "user=%s timeout=%u methods=%#x", euser, a.timeout, cfg.methods);
	watchdog_timeout = a.timeout;
	if (cfg.dir.uri[0] != '\0' && geteuid() == 0) {
		/* The directory lookup must end within the module's bounds:
		 * before the first WAIT (named login: it comes before the
		 * cue), or within the grace after the tap window (hand-scan:
		 * it comes after the tap); 1 s is left for the rest. */
		int64_t bound = identify_mode
		    ? (int64_t)a.timeout * 1000 + VIVO_GRACE_MS - 1500
		    : (req.timeout != 0 &&
				  (int64_t)req.timeout * 1000 + 500 <
				      VIVO_STARTUP_MS
			      ? (int64_t)req.timeout * 1000 + 500
			      : VIVO_STARTUP_MS) -
			1000;
		cfg.dir.deadline = started + bound;
		watchdog_timeout = a.timeout + cfg.dir.timeout + 1;
	}
	if (arm_watchdog(watchdog_timeout) != 0)
		return reply(VIVO_R_INTERNAL, "cannot arm the watchdog", NULL,
		    NULL, NULL);
	/* the sealed login secrets: root's alone, released only where the
	 * service allows it (authtok.h) */
	a.release = cfg.authtok && geteuid() == 0;
	if (a.release && !identify_mode) {
		static struct vivo_sealed_set seals;
		char why[VIVO_TEXT_MAX];
		if (vivo_authtok_load(
			&cfg, req.user, &seals, why, sizeof(why)) != VIVO_OK) {
			vivo_warn("sealed login secrets of %s not used: %s",
			    euser, why);
			memset(&seals, 0, sizeof(seals));
		}
		a.seals = &seals;
	}
	if (identify_mode) {
		vivo_identify(&a);
		if (a.result == VIVO_R_OK) {
			identified = a.found_user;
			(void)vivo_log_escape_word(
			    a.found_user, euser, sizeof(euser));
		}
	} else
		vivo_authenticate(&a);
	/* the reason may hold a label from a user store: escaped, quoted */
	(void)vivo_log_escape(a.reason, ereason, sizeof(ereason));
	vivo_log(a.result == VIVO_R_OK ? LOG_INFO : LOG_NOTICE,
	    "user=%s result=%s%s%s reason=\"%s\"", euser,
	    vivo_result_str(a.result), a.method ? " method=" : "",
	    a.method ? a.method : "", ereason);
	/*
	 * _exit, not return: the module answers only once it has reaped us,
	 * so everything exit() would still run lies between the tap and the
	 * answer - OpenSSL's atexit clean-up above all (freeing its providers,
	 * method store and DRBG: ~0.4 ms measured, docs/performance.md).
	 * Nothing needs it: the RESULT was written with write(2), no stdio
	 * stream holds data, every secret was wiped where it was used, and
	 * the kernel frees the rest with the address space.
	 */
	if (a.result == VIVO_R_OK && a.have_authtok) {
		released = a.authtok;
		vivo_info(
		    "user=%s: login secret handed over to the next modules",
		    euser);
	} else if (a.result == VIVO_R_OK && a.authtok_changed &&
	    a.text[0] == '\0')
		(void)vivo_strlcpy(a.text,
		    "Your login password changed since "
		    "it was sealed for this implant: "
		    "type it where asked, then reseal it "
		    "(vivo-enroll authtok set).",
		    sizeof(a.text));
	{
		int rc = reply(a.result, a.reason, a.text, a.label,
		    a.method ? a.method : "");
		explicit_bzero(a.authtok, sizeof(a.authtok));
		explicit_bzero(a.seal_key, sizeof(a.seal_key));
		_exit(rc);
	}
}
