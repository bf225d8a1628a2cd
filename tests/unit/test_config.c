/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_config.c - parsing and loading /etc/security/pam_vivo.conf.
 */
#include "t.h"
#include "config.h"
#include "file.h"
#include "util.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_TMP_TAG "config"
#include "t_tmp.h"

static int
put_str(
    const char *name, const char *text, mode_t mode, char *out, size_t outsz)
{
	return put(name, text, strlen(text), mode, out, outsz);
}

/* ---- parse: helpers ----------------------------------------------------- */

/* The text is refused and the message names `key`. */
static int
refused(const char *text, const char *key)
{
	struct vivo_config c;
	char err[256] = "";

	if (vivo_config_parse(text, &c, err, sizeof(err)) != -1) {
		printf("  accepted: %s\n", text);
		return 0;
	}
	if (key != NULL && strstr(err, key) == NULL) {
		printf("  message \"%s\" does not name \"%s\"\n", err, key);
		return 0;
	}
	return 1;
}

static int
parses(const char *text, struct vivo_config *c)
{
	char err[256] = "";

	if (vivo_config_parse(text, c, err, sizeof(err)) != 0) {
		printf("  refused (%s): %s\n", err, text);
		return 0;
	}
	return 1;
}

/* ---- parse -------------------------------------------------------------- */

static void
defaults(void)
{
	struct vivo_config c;
	char host[256], want[300];

	memset(&c, 0x5a, sizeof(c));
	T_CHECK(parses("", &c));
	T_CHECK(c.timeout == 15);
	T_CHECK(c.methods == (VIVO_M_FIDO2 | VIVO_M_U2F | VIVO_M_HMAC));
	T_CHECK(strcmp(c.store, "/etc/security/pam_vivo/users") == 0);
	T_CHECK(c.user_store == 0);
	T_CHECK(c.allow_remote == 0);
	T_CHECK(c.nreaders == 0);
	T_CHECK(c.check_counter == 1);
	T_CHECK(strncmp(c.appid, "pam://", 6) == 0);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		snprintf(want, sizeof(want), "pam://%s", host);
		T_CHECK(strcmp(c.appid, want) == 0);
	}
	/* comments only: still the defaults */
	T_CHECK(parses("# nothing here\n// nor here\n/* nor\n here */\n", &c));
	T_CHECK(c.timeout == 15 &&
	    c.methods == (VIVO_M_FIDO2 | VIVO_M_U2F | VIVO_M_HMAC));
}

static void
every_key(void)
{
	struct vivo_config c;

	T_CHECK(parses("# pam_vivo\n"
		       "timeout = 30;\n"
		       "readers = [ \"ACS ACR122U\", \"Identiv\" ];\n"
		       "methods = [ \"uid\" ];\n"
		       "store = \"/var/lib/pam_vivo\";\n"
		       "user_store = true;\n"
		       "allow_remote = true;\n"
		       "u2f = { appid = \"pam://example.org\"; check_counter = "
		       "false; };\n",
	    &c));
	T_CHECK(c.timeout == 30);
	T_CHECK(c.nreaders == 2);
	T_CHECK(strcmp(c.readers[0], "ACS ACR122U") == 0);
	T_CHECK(strcmp(c.readers[1], "Identiv") == 0);
	T_CHECK(c.methods == VIVO_M_UID);
	T_CHECK(strcmp(c.store, "/var/lib/pam_vivo") == 0);
	T_CHECK(c.user_store == 1);
	T_CHECK(c.allow_remote == 1);
	T_CHECK(strcmp(c.appid, "pam://example.org") == 0);
	T_CHECK(c.check_counter == 0);
}

static void
methods_forms(void)
{
	struct vivo_config c;

	T_CHECK(parses("methods = [\"uid\", \"hmac\", \"u2f\"];", &c));
	T_CHECK(c.methods == (VIVO_M_UID | VIVO_M_HMAC | VIVO_M_U2F));
	T_CHECK(parses("methods = (\"hmac\");", &c)); /* a list works too */
	T_CHECK(c.methods == VIVO_M_HMAC);
	T_CHECK(parses("methods = [\"u2f\"]; user_store = false;", &c));
	T_CHECK(c.methods == VIVO_M_U2F && c.user_store == 0);
}

static void
timeout_range(void)
{
	struct vivo_config c;

	T_CHECK(parses("timeout = 1;", &c) && c.timeout == 1);
	T_CHECK(parses("timeout = 600;", &c) && c.timeout == 600);
	T_CHECK(refused("timeout = 0;", "timeout"));
	T_CHECK(refused("timeout = 601;", "timeout"));
	T_CHECK(refused("timeout = -1;", "timeout"));
	T_CHECK(refused("timeout = 15L;", "timeout")); /* a 64-bit integer */
}

/*
 * libconfig 1.5 reads an integer literal modulo 2^32: 4294967311
 * (2^32 + 15) would arrive as a valid 15, an out-of-range value silently
 * accepted. (Found by this test; config.c now refuses such literals.)
 */
static void
timeout_wrapping_literal_refused(void)
{
	T_CHECK(refused("timeout = 4294967311;", "timeout")); /* 2^32 + 15 */
	T_CHECK(refused("timeout = 4294967297;", "timeout")); /* 2^32 + 1 */
	T_CHECK(
	    refused("u2f = { appid = \"pam://x\"; };\ntimeout = 0x10000000F;",
		"timeout"));
}

static void
big_numbers_in_strings_and_comments_are_fine(void)
{
	struct vivo_config c;

	T_CHECK(parses(
	    "# 99999999999999999999\n"
	    "store = \"/srv/4294967311\"; // 4294967311\n"
	    "readers = [\"ACS 12345678901234\", \"say \\\"99999999999\\\"\"];\n"
	    "/* 4294967311 */ timeout = 20;\n",
	    &c));
	T_CHECK(strcmp(c.store, "/srv/4294967311") == 0);
	T_CHECK(strcmp(c.readers[1], "say \"99999999999\"") == 0);
	T_CHECK(c.timeout == 20);
}

static void
unknown_key(void)
{
	T_CHECK(refused("method = [\"uid\"];", "method"));
	T_CHECK(refused("timeout = 15;\nTimeout = 15;", "Timeout"));
	T_CHECK(refused("stores = \"/x\";", "stores"));
	T_CHECK(refused("appid = \"pam://x\";", "appid")); /* belongs in u2f */
}

static void
wrong_types(void)
{
	T_CHECK(refused("timeout = \"15\";", "timeout"));
	T_CHECK(refused("timeout = 15.0;", "timeout"));
	T_CHECK(refused("timeout = true;", "timeout"));
	T_CHECK(refused("user_store = 1;", "user_store"));
	T_CHECK(refused("user_store = \"true\";", "user_store"));
	T_CHECK(refused("allow_remote = 1;", "allow_remote"));
	T_CHECK(refused("store = 5;", "store"));
	T_CHECK(refused("methods = \"uid\";", "methods"));
	T_CHECK(refused("methods = [1];", "methods"));
	T_CHECK(refused("readers = \"ACS\";", "readers"));
	T_CHECK(refused("u2f = 5;", "u2f"));
	T_CHECK(refused("u2f = { check_counter = 1; };", "check_counter"));
	T_CHECK(refused("u2f = { appid = 5; };", "appid"));
}

static void
bad_methods(void)
{
	T_CHECK(refused("methods = [\"uid\", \"fido\"];", "methods"));
	T_CHECK(refused("methods = [\"UID\"];", "methods"));
	T_CHECK(refused("methods = [];", "methods"));
	T_CHECK(refused("methods = ();", "methods"));
}

static void
bad_store(void)
{
	T_CHECK(refused("store = \"etc/security/pam_vivo/users\";", "store"));
	T_CHECK(refused("store = \"./users\";", "store"));
	T_CHECK(refused("store = \"\";", "store"));
}

static void
readers_limits(void)
{
	struct vivo_config c;
	char text[2048], name[200];
	size_t off;

	T_CHECK(refused("readers = [\"\"];", "readers"));
	T_CHECK(refused("readers = [\"ACS\", \"\"];", "readers"));

	off = (size_t)snprintf(text, sizeof(text), "readers = [");
	for (int i = 0; i < VIVO_READERS_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "%s\"r%d\"", i ? ", " : "", i);
	snprintf(text + off, sizeof(text) - off, "];");
	T_CHECK(parses(text, &c));
	T_CHECK(c.nreaders == VIVO_READERS_MAX);
	T_CHECK(strcmp(c.readers[VIVO_READERS_MAX - 1], "r15") == 0);

	/* 17 */
	snprintf(text + off, sizeof(text) - off, ", \"r16\"];");
	T_CHECK(refused(text, "readers"));

	/* a name of 127 bytes fits, 128 does not */
	memset(name, 'n', 127);
	name[127] = '\0';
	snprintf(text, sizeof(text), "readers = [\"%s\"];", name);
	T_CHECK(parses(text, &c) && strcmp(c.readers[0], name) == 0);
	memset(name, 'n', 128);
	name[128] = '\0';
	snprintf(text, sizeof(text), "readers = [\"%s\"];", name);
	T_CHECK(refused(text, "readers"));
}

static void
u2f_group(void)
{
	struct vivo_config c;

	T_CHECK(refused(
	    "u2f = { appid = \"pam://x\"; counter = true; };", "counter"));
	T_CHECK(refused("u2f = { appid = \"\"; };", "appid"));
	T_CHECK(parses("u2f = { check_counter = false; };", &c));
	T_CHECK(c.check_counter == 0 && strncmp(c.appid, "pam://", 6) == 0);
}

static void
fido2_group(void)
{
	struct vivo_config c;

	T_CHECK(parses("", &c));
	T_CHECK(
	    strncmp(c.rpid, "pam://", 6) == 0 && strcmp(c.rpid, c.appid) == 0);
	T_CHECK(c.fido2_require_pin == 0 && c.fido2_check_counter == 1 &&
	    c.fido2_min_pin_retries == 3);
	T_CHECK(parses("methods = [ \"fido2\" ];\n"
		       "fido2 = { rpid = \"pam://lab\"; require_pin = true; "
		       "check_counter = false; min_pin_retries = 5; };",
	    &c));
	T_CHECK(c.methods == VIVO_M_FIDO2 && strcmp(c.rpid, "pam://lab") == 0);
	T_CHECK(c.fido2_require_pin == 1 && c.fido2_check_counter == 0 &&
	    c.fido2_min_pin_retries == 5);
	T_CHECK(refused("fido2 = { rpid = \"\"; };", "rpid"));
	T_CHECK(
	    refused("fido2 = { min_pin_retries = 0; };", "min_pin_retries"));
	T_CHECK(
	    refused("fido2 = { min_pin_retries = 9; };", "min_pin_retries"));
	T_CHECK(refused("fido2 = { require_pin = 1; };", "require_pin"));
	T_CHECK(refused("fido2 = { pin = \"1234\"; };", "pin"));
	T_CHECK(refused("fido2 = 1;", "fido2"));
}

static void
services_group(void)
{
	struct vivo_config c;

	T_CHECK(parses("", &c));
	T_CHECK(c.identify == 0 && c.nservices == 0);
	T_CHECK(
	    parses("methods = [ \"fido2\" ];\ntimeout = 20;\n"
		   "identify = false;\n"
		   "services = { xscreensaver = { methods = [ \"uid\" ]; };\n"
		   "  sudo = { timeout = 5; allow_remote = true; };\n"
		   "  login = { identify = true; };\n"
		   "  gdm-password = { methods = [ \"uid\", \"hmac\" ]; "
		   "identify = true; }; };",
		&c));
	T_CHECK(c.nservices == 4);
	/* another service, or none: the top level */
	T_CHECK(vivo_config_apply_service(&c, "cron") == 0);
	T_CHECK(vivo_config_apply_service(&c, "") == 0);
	T_CHECK(c.methods == VIVO_M_FIDO2 && c.timeout == 20 && !c.identify);
	/* what the group sets, and only that */
	{
		struct vivo_config d = c;
		T_CHECK(vivo_config_apply_service(&d, "xscreensaver") == 1);
		T_CHECK(d.methods == VIVO_M_UID && d.timeout == 20 &&
		    !d.identify && !d.allow_remote);
		T_CHECK(strcmp(d.service, "xscreensaver") == 0);
	}
	{
		struct vivo_config d = c;
		T_CHECK(vivo_config_apply_service(&d, "sudo") == 1);
		T_CHECK(d.methods == VIVO_M_FIDO2 && d.timeout == 5 &&
		    d.allow_remote == 1);
	}
	{
		struct vivo_config d = c;
		T_CHECK(vivo_config_apply_service(&d, "gdm-password") == 1);
		T_CHECK(d.methods == (VIVO_M_UID | VIVO_M_HMAC) && d.identify);
	}
	/* names are exact */
	{
		struct vivo_config d = c;
		T_CHECK(vivo_config_apply_service(&d, "Login") == 0);
		T_CHECK(vivo_config_apply_service(&d, "logi") == 0);
	}
	T_CHECK(refused(
	    "services = { sudo = { pin = 1; }; };", "services.sudo.pin"));
	T_CHECK(refused("services = { sudo = { methods = [ \"retina\" ]; }; };",
	    "services.sudo.methods"));
	T_CHECK(refused("services = { sudo = { timeout = 0; }; };",
	    "services.sudo.timeout"));
	T_CHECK(refused("services = { sudo = { identify = 1; }; };",
	    "services.sudo.identify"));
	T_CHECK(refused("services = { sudo = 1; };", "services.sudo"));
	T_CHECK(refused("services = [ 1 ];", "services"));
	T_CHECK(refused("identify = 1;", "identify"));
}

static void
syntax_errors(void)
{
	T_CHECK(refused("timeout = ;", "line 1"));
	T_CHECK(refused("timeout = 15;\nstore = \"/x;\n", "line"));
	T_CHECK(refused("timeout 15;", "line 1"));
	T_CHECK(refused("\n\nreaders = [\"a\", ;", "line 3"));
	/* the same key twice is an error, not "the last one wins" */
	T_CHECK(refused("timeout = 10;\ntimeout = 20;", NULL));
}

/*
 * PRODUCT BUG (see the report): libconfig 1.5 needs a newline after a
 * `#` or `//` comment, so a config whose last line is a comment without
 * a final newline (what `printf '# end' >> pam_vivo.conf` or some editors
 * leave) is a "syntax error", and every authentication fails with a
 * config error.
 */
static void
comment_at_end_without_newline_parses(void)
{
	struct vivo_config c;

	T_CHECK(parses("timeout = 5;\n# end\n", &c) && c.timeout == 5);
	T_CHECK(parses("timeout = 5;\n# end", &c) && c.timeout == 5);
	T_CHECK(parses("timeout = 5;\n// end", &c) && c.timeout == 5);
}

static void
include_refused(void)
{
	char inc[PATH_MAX], text[PATH_MAX + 64], err[256];
	struct vivo_config c;

	T_CHECK(refused("@include \"/etc/hostname\"\n", "@include"));
	T_CHECK(
	    refused("timeout = 10;\n@include \"/etc/hostname\"\n", "@include"));
	T_CHECK(refused(
	    "timeout = 10;\n   @include \"/etc/hostname\"\n", "@include"));
	T_CHECK(refused(
	    "timeout = 10;\n\t @include \"/etc/hostname\"\n", "@include"));
	T_CHECK(
	    refused("timeout = 10;\n@include \"/etc/hostname\"", "@include"));

	/* a file libconfig would happily include: still refused */
	if (put_str("included.conf", "timeout = 42;\n", 0644, inc,
		sizeof(inc)) != 0) {
		T_CHECK(!"cannot write the included file");
		return;
	}
	snprintf(text, sizeof(text), "  @include \"%s\"\n", inc);
	memset(&c, 0, sizeof(c));
	T_CHECK(refused(text, "@include"));
	(void)vivo_config_parse(text, &c, err, sizeof(err));
	T_CHECK(c.timeout != 42);
}

/* ---- load --------------------------------------------------------------- */

static void
load_valid_file(void)
{
	char path[PATH_MAX], err[512] = "";
	struct vivo_config c;

	if (put_str("ok.conf", "timeout = 42;\nmethods = [\"uid\"];\n", 0644,
		path, sizeof(path)) != 0) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == 0);
	T_CHECK(c.timeout == 42 && c.methods == VIVO_M_UID);
	/* read-only for everyone is fine too */
	T_CHECK(chmod(path, 0400) == 0);
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == 0);
}

static void
load_missing_explicit_file(void)
{
	char path[PATH_MAX], err[512] = "";
	struct vivo_config c;
	const char *d = tmp();

	if (d == NULL) {
		T_CHECK(!"no temp dir");
		return;
	}
	snprintf(path, sizeof(path), "%s/no-such.conf", d);
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "no-such.conf") != NULL);
}

static void
load_refuses_relative_path(void)
{
	char err[512] = "";
	struct vivo_config c;

	T_CHECK(
	    vivo_config_load("pam_vivo.conf", 0, &c, err, sizeof(err)) == -1);
	T_CHECK(err[0] != '\0');
}

static void
load_refuses_writable_file(void)
{
	char path[PATH_MAX], err[512] = "";
	struct vivo_config c;

	if (put_str("ww.conf", "timeout = 42;\n", 0666, path, sizeof(path)) !=
	    0) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "ww.conf") != NULL);
	T_CHECK(c.timeout != 42);
	T_CHECK(chmod(path, 0664) == 0); /* group-writable */
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(chmod(path, 0646) == 0); /* world-writable only */
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(chmod(path, 0644) == 0); /* control */
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == 0);
}

static void
load_refuses_symlink(void)
{
	char target[PATH_MAX], link[PATH_MAX], err[512] = "";
	struct vivo_config c;

	if (put_str("target.conf", "timeout = 42;\n", 0644, target,
		sizeof(target)) != 0) {
		T_CHECK(!"cannot write");
		return;
	}
	snprintf(link, sizeof(link), "%s/link.conf", tmp());
	(void)unlink(link);
	T_CHECK(symlink(target, link) == 0);
	T_CHECK(vivo_config_load(link, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(c.timeout != 42);
	T_CHECK(vivo_config_load(target, 0, &c, err, sizeof(err)) == 0);
}

static void
load_refuses_nul_byte(void)
{
	/* before the NUL a valid config; after it, what it hides */
	static const char data[] = "timeout = 42;\n\0timeout = 1;\n";
	char path[PATH_MAX], err[512] = "";
	struct vivo_config c;

	if (put("nul.conf", data, sizeof(data) - 1, 0644, path, sizeof(path)) !=
	    0) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "nul.conf") != NULL);
}

static void
load_reports_path_and_key(void)
{
	char path[PATH_MAX], err[512] = "";
	struct vivo_config c;

	if (put_str("typo.conf", "timeout = 10;\nmethod = [\"uid\"];\n", 0644,
		path, sizeof(path)) != 0) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "typo.conf") != NULL);
	T_CHECK(strstr(err, "method") != NULL);
}

static void
load_checks_owner(void)
{
	char path[PATH_MAX], err[512] = "";
	struct vivo_config c;

	if (put_str("owned.conf", "timeout = 42;\n", 0644, path,
		sizeof(path)) != 0 ||
	    chown(path, 12345, 12345) != 0) {
		T_CHECK(!"cannot write/chown");
		return;
	}
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(vivo_config_load(path, 1000, &c, err, sizeof(err)) == -1);
	/* the caller's own file is fine */
	T_CHECK(vivo_config_load(path, 12345, &c, err, sizeof(err)) == 0);
	T_CHECK(c.timeout == 42);
}

static void
load_refuses_too_big(void)
{
	static char big[VIVO_CONFIG_MAX + 2];
	char path[PATH_MAX], err[512] = "";
	struct vivo_config c;

	/* a valid config padded with comment lines past the cap */
	memset(big, '#', sizeof(big) - 1);
	memcpy(big, "timeout = 42;\n", 14);
	for (size_t i = 100; i < sizeof(big) - 1; i += 100)
		big[i] = '\n';
	big[sizeof(big) - 1] = '\0';
	if (put_str("big.conf", big, 0644, path, sizeof(path)) != 0) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == -1);
	T_CHECK(c.timeout != 42);
	/* at the cap exactly it is read (ending in a newline: libconfig 1.5
	 * refuses a comment at the end of the text without one) */
	T_CHECK(truncate(path, VIVO_CONFIG_MAX - 1) == 0);
	{
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		T_CHECK(fd >= 0 && write(fd, "\n", 1) == 1);
		if (fd >= 0)
			close(fd);
	}
	{
		struct stat st;
		T_CHECK(stat(path, &st) == 0 && st.st_size == VIVO_CONFIG_MAX);
	}
	T_CHECK(vivo_config_load(path, 0, &c, err, sizeof(err)) == 0);
	T_CHECK(c.timeout == 42);
}

static void
load_refuses_directory(void)
{
	char err[512] = "";
	struct vivo_config c;
	const char *d = tmp();

	if (d == NULL) {
		T_CHECK(!"no temp dir");
		return;
	}
	T_CHECK(vivo_config_load(d, 0, &c, err, sizeof(err)) == -1);
}

T_MAIN("config", T_CASE(defaults), T_CASE(every_key), T_CASE(methods_forms),
    T_CASE(timeout_range), T_CASE(timeout_wrapping_literal_refused),
    T_CASE(big_numbers_in_strings_and_comments_are_fine), T_CASE(unknown_key),
    T_CASE(wrong_types), T_CASE(bad_methods), T_CASE(bad_store),
    T_CASE(readers_limits), T_CASE(u2f_group), T_CASE(fido2_group),
    T_CASE(services_group), T_CASE(syntax_errors),
    T_CASE(comment_at_end_without_newline_parses), T_CASE(include_refused),
    T_CASE(load_valid_file), T_CASE(load_missing_explicit_file),
    T_CASE(load_refuses_relative_path), T_CASE(load_refuses_writable_file),
    T_CASE(load_refuses_symlink), T_CASE(load_refuses_nul_byte),
    T_CASE(load_reports_path_and_key), T_CASE(load_checks_owner),
    T_CASE(load_refuses_too_big), T_CASE(load_refuses_directory))
