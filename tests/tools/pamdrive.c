/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pamdrive - drive one pam_authenticate() through the real libpam with a
 * private service directory (pam_start_confdir), the way a login program
 * would, and report exactly what happened.
 *
 *   pamdrive --confdir DIR --service NAME --user USER [--rhost HOST]
 *            [--tty TTY] [--ruser USER]
 *            [--on-info CMD] [--conv ok|fail|null|failprompt] [--pin PIN]
 *            [--answer NAME] [--silent] [--putenv NAME=VALUE] [--session]
 *            (--user "" starts without a user)
 *            [--setcred] [--close-std]
 *
 * Prints every conversation message ("conv: info: ..." / "conv: error:
 * ..."), then "result: <code> <PAM_NAME>" and "elapsed_ms: N". Exit status
 * is the PAM code. --on-info runs `sh -c CMD` (not waited for) when the
 * first PAM_TEXT_INFO arrives: the test taps the implant after the prompt.
 * --close-std runs pam_authenticate with descriptors 0, 1 and 2 closed, as
 * some daemons do (the report still goes to the original stdout).
 */
#include <security/pam_appl.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *on_info;
static const char *conv_mode = "ok";
static const char *pin;    /* the answer to a PAM_PROMPT_ECHO_OFF */
static const char *answer; /* the answer to a PAM_PROMPT_ECHO_ON (a name) */
static int info_seen;

static const char *
code_name(int c)
{
	static const char *names[] = { "PAM_SUCCESS", "PAM_OPEN_ERR",
		"PAM_SYMBOL_ERR", "PAM_SERVICE_ERR", "PAM_SYSTEM_ERR",
		"PAM_BUF_ERR", "PAM_PERM_DENIED", "PAM_AUTH_ERR",
		"PAM_CRED_INSUFFICIENT", "PAM_AUTHINFO_UNAVAIL",
		"PAM_USER_UNKNOWN", "PAM_MAXTRIES", "PAM_NEW_AUTHTOK_REQD",
		"PAM_ACCT_EXPIRED", "PAM_SESSION_ERR", "PAM_CRED_UNAVAIL",
		"PAM_CRED_EXPIRED", "PAM_CRED_ERR", "PAM_NO_MODULE_DATA",
		"PAM_CONV_ERR", "PAM_AUTHTOK_ERR", "PAM_AUTHTOK_RECOVERY_ERR",
		"PAM_AUTHTOK_LOCK_BUSY", "PAM_AUTHTOK_DISABLE_AGING",
		"PAM_TRY_AGAIN", "PAM_IGNORE", "PAM_ABORT",
		"PAM_AUTHTOK_EXPIRED", "PAM_MODULE_UNKNOWN", "PAM_BAD_ITEM",
		"PAM_CONV_AGAIN", "PAM_INCOMPLETE" };

	return c >= 0 && c < (int)(sizeof(names) / sizeof(names[0])) ? names[c]
								     : "?";
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	(void)data;
	for (int i = 0; i < n; i++) {
		const char *kind = msg[i]->msg_style == PAM_TEXT_INFO ? "info"
		    : msg[i]->msg_style == PAM_ERROR_MSG              ? "error"
		    : msg[i]->msg_style == PAM_PROMPT_ECHO_ON ? "prompt-echo"
							      : "prompt-noecho";
		printf("conv: %s: %s\n", kind, msg[i]->msg);
		fflush(stdout);
		if (msg[i]->msg_style == PAM_TEXT_INFO && !info_seen &&
		    on_info) {
			info_seen = 1;
			/* a grandchild, not waited for: pamdrive keeps
			 * SIGCHLD as it is, which pam_exec needs */
			pid_t c = fork();
			if (c == 0) {
				if (fork() == 0) {
					execl("/bin/sh", "sh", "-c", on_info,
					    (char *)NULL);
					_exit(127);
				}
				_exit(0);
			}
			if (c > 0)
				(void)waitpid(c, NULL, 0);
		}
	}
	if (strcmp(conv_mode, "fail") == 0)
		return PAM_CONV_ERR;
	if (strcmp(conv_mode, "failprompt") == 0)
		for (int i = 0; i < n; i++)
			if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
			    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
				return PAM_CONV_ERR;
	if (strcmp(conv_mode, "null") == 0) {
		*resp = NULL;
		return PAM_SUCCESS;
	}
	*resp = calloc((size_t)n, sizeof(**resp));
	if (*resp == NULL)
		return PAM_BUF_ERR;
	/* a prompt gets --pin (the implant's PIN), or no answer */
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF && pin != NULL &&
		    ((*resp)[i].resp = strdup(pin)) == NULL)
			return PAM_BUF_ERR;
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_ON && answer != NULL &&
		    ((*resp)[i].resp = strdup(answer)) == NULL)
			return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

int
main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *user = NULL,
		   *rhost = NULL;
	const char *tty = NULL, *ruser = NULL;
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh = NULL;
	struct timespec t0, t1;
	int rc, setcred = 0, close_std = 0, silent = 0, session = 0;
	const char *putenv_kv = NULL;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--setcred") == 0) {
			setcred = 1;
			continue;
		}
		if (strcmp(argv[i], "--close-std") == 0) {
			close_std = 1;
			continue;
		}
		if (strcmp(argv[i], "--silent") == 0) {
			silent = 1;
			continue;
		}
		if (strcmp(argv[i], "--session") == 0) {
			session = 1;
			continue;
		}
		if (v == NULL) {
			fprintf(
			    stderr, "pamdrive: %s needs a value\n", argv[i]);
			return 100;
		}
		if (strcmp(argv[i], "--confdir") == 0)
			confdir = v;
		else if (strcmp(argv[i], "--service") == 0)
			service = v;
		else if (strcmp(argv[i], "--user") == 0)
			user = v;
		else if (strcmp(argv[i], "--rhost") == 0)
			rhost = v;
		else if (strcmp(argv[i], "--tty") == 0)
			tty = v;
		else if (strcmp(argv[i], "--ruser") == 0)
			ruser = v;
		else if (strcmp(argv[i], "--on-info") == 0)
			on_info = v;
		else if (strcmp(argv[i], "--pin") == 0)
			pin = v;
		else if (strcmp(argv[i], "--answer") == 0)
			answer = v;
		else if (strcmp(argv[i], "--putenv") == 0)
			putenv_kv = v;
		else if (strcmp(argv[i], "--conv") == 0)
			conv_mode = v;
		else {
			fprintf(
			    stderr, "pamdrive: unknown option %s\n", argv[i]);
			return 100;
		}
		i++;
	}
	/* --user "" starts PAM without a user, as login does */
	if (user != NULL && user[0] == '\0')
		user = NULL;
	else if (user == NULL)
		confdir = NULL;
	if (confdir == NULL || service == NULL) {
		fprintf(stderr,
		    "usage: pamdrive --confdir DIR --service NAME "
		    "--user USER [--rhost H] [--tty T] [--ruser U] [--on-info "
		    "CMD] [--conv ok|fail|null|failprompt] [--pin PIN] "
		    "[--answer NAME] [--silent] [--putenv N=V] [--session] "
		    "[--setcred] [--close-std]\n");
		return 100;
	}
	if (close_std) {
		int fd = dup(STDOUT_FILENO);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (f == NULL) {
			perror("pamdrive: --close-std");
			return 100;
		}
		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
		stdout = f;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = pam_start_confdir(service, user, &pc, confdir, &pamh);
	if (rc == PAM_SUCCESS && rhost != NULL)
		rc = pam_set_item(pamh, PAM_RHOST, rhost);
	if (rc == PAM_SUCCESS && tty != NULL)
		rc = pam_set_item(pamh, PAM_TTY, tty);
	if (rc == PAM_SUCCESS && ruser != NULL)
		rc = pam_set_item(pamh, PAM_RUSER, ruser);
	if (rc == PAM_SUCCESS && putenv_kv != NULL)
		rc = pam_putenv(pamh, putenv_kv);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, silent ? PAM_SILENT : 0);
	if (rc == PAM_SUCCESS && session) {
		/* what a login program does next (the keyring module
		 * unlocks in its session part) */
		rc = pam_open_session(pamh, 0);
		if (rc == PAM_SUCCESS)
			rc = pam_close_session(pamh, 0);
	}
	if (rc == PAM_SUCCESS && setcred)
		rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("result: %d %s\n", rc, code_name(rc));
	if (pamh != NULL) {
		const void *u = NULL;
		if (pam_get_item(pamh, PAM_USER, &u) == PAM_SUCCESS &&
		    u != NULL)
			printf("user: %s\n", (const char *)u);
	}
	printf("elapsed_ms: %ld\n",
	    (long)((t1.tv_sec - t0.tv_sec) * 1000 +
		(t1.tv_nsec - t0.tv_nsec) / 1000000));
	if (pamh != NULL)
		pam_end(pamh, rc);
	return rc;
}
