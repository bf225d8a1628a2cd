/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * directory.c - enrollments from an LDAP directory (directory.h).
 *
 * libldap is loaded with dlopen() the first time a directory is asked,
 * like libfido2 (fido2lib.h): it brings GnuTLS, SASL and their own
 * libraries into the process, and most helper runs need none of them.
 * LDAPNOINIT=1 is set first, so that libldap reads neither
 * /etc/ldap/ldap.conf nor any ldaprc nor LDAP* variables: every option
 * comes from the root-owned config (the caller's environment never
 * counts, and a system-wide TLS_REQCERT never would weaken ours).
 */
#include "directory.h"

#include "dirval.h"
#include "file.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include <ldap.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Debian 12 ships libldap-2.5-0, Debian 13 libldap2 (one ABI) */
static const char *const ldap_sonames[] = { "libldap.so.2",
	"libldap-2.5.so.0" };

#define VIVO_LDAP_FUNCS                                                        \
	X(ldap_initialize)                                                     \
	X(ldap_set_option)                                                     \
	X(ldap_get_option)                                                     \
	X(ldap_connect)                                                        \
	X(ldap_start_tls_s)                                                    \
	X(ldap_sasl_bind_s)                                                    \
	X(ldap_search_ext_s)                                                   \
	X(ldap_count_entries)                                                  \
	X(ldap_first_entry)                                                    \
	X(ldap_get_dn)                                                         \
	X(ldap_get_values_len)                                                 \
	X(ldap_value_free_len)                                                 \
	X(ldap_msgfree)                                                        \
	X(ldap_memfree)                                                        \
	X(ldap_modify_ext_s)                                                   \
	X(ldap_unbind_ext_s)                                                   \
	X(ldap_err2string)

static struct {
#define X(f) __typeof__(&f) p_##f;
	VIVO_LDAP_FUNCS
#undef X
} L;

static int
ldap_lib_load(char *why, size_t whysz)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	static char err[256];
	void *h = NULL;

	if (state == 0) {
		state = -1;
		/* before libldap's first call reads any configuration */
		if (setenv("LDAPNOINIT", "1", 1) != 0) {
			vivo_setf(err, sizeof(err), "setenv failed");
			goto out;
		}
		for (size_t i = 0; i < VIVO_NELEM(ldap_sonames) && h == NULL;
		     i++)
			h = dlopen(ldap_sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			const char *e = dlerror();
			vivo_setf(err, sizeof(err), "%s", e ? e : "not found");
			goto out;
		}
#define X(f)                                                                   \
	if ((*(void **)&L.p_##f = dlsym(h, #f)) == NULL) {                     \
		vivo_setf(err, sizeof(err), "no %s", #f);                      \
		goto out;                                                      \
	}
		VIVO_LDAP_FUNCS
#undef X
		state = 1;
	}
out:
	if (state < 0)
		vivo_setf(why, whysz, "libldap cannot be used: %s", err);
	return state > 0 ? 0 : -1;
}

int
vivo_dir_escape(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int esc = *p == '*' || *p == '(' || *p == ')' || *p == '\\' ||
		    *p < 0x20 || *p > 0x7e;
		if (o + (esc ? 3 : 1) >= outsz)
			return -1;
		if (esc)
			o += (size_t)snprintf(out + o, outsz - o, "\\%02x", *p);
		else
			out[o++] = (char)*p;
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return 0;
}

int
vivo_dir_filter(const char *filter, const char *user, char *out, size_t outsz)
{
	char esc[3 * 256 + 1];
	size_t o = 0, el;

	if (vivo_dir_escape(user, esc, sizeof(esc)) != 0)
		return -1;
	el = strlen(esc);
	for (const char *p = filter; *p; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			if (o + el >= outsz)
				return -1;
			memcpy(out + o, esc, el);
			o += el;
			p++;
		} else {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return 0;
}

void
vivo_dir_free_values(char **vals, size_t n)
{
	if (vals == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
}

/* Milliseconds left before the deadline, at least 1. */
static long
left_ms(int64_t deadline)
{
	int64_t l = deadline - vivo_now_ms();

	return l < 1 ? 1 : (long)l;
}

/* Give libldap what is left of the deadline for its next step. */
static void
set_timeouts(LDAP *ld, int64_t deadline)
{
	long l = left_ms(deadline);
	struct timeval tv = { l / 1000, (l % 1000) * 1000 };

	(void)L.p_ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	(void)L.p_ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
}

/* An LDAP result code: the server could not be reached in time? */
static int
unreachable(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ||
	    rc == LDAP_TIMELIMIT_EXCEEDED || rc == LDAP_BUSY ||
	    rc == LDAP_UNAVAILABLE;
}

/* why = "<what>: <libldap's words> (<diagnostic>)" */
static void
ldap_why(LDAP *ld, int rc, const char *what, char *why, size_t whysz)
{
	char *diag = NULL;

	if (ld != NULL)
		(void)L.p_ldap_get_option(
		    ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	vivo_setf(why, whysz, "%s: %s%s%s%s", what, L.p_ldap_err2string(rc),
	    diag && *diag ? " (" : "", diag && *diag ? diag : "",
	    diag && *diag ? ")" : "");
	if (diag != NULL)
		L.p_ldap_memfree(diag);
}

/* Read the password file: root's, 0600 or stricter; the first line. */
static int
read_password(const char *path, struct berval *cred, char *why, size_t whysz)
{
	char *buf = NULL;
	const char *w = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	r = vivo_file_read(path, 0, 4096, &buf, &len, &w);
	if (r == VIVO_OK && (stat(path, &st) != 0 || (st.st_mode & 077) != 0)) {
		w = "readable by others (it must be 0600)";
		r = VIVO_ERR_FILE_UNSAFE;
	}
	if (r != VIVO_OK) {
		vivo_setf(why, whysz, "%s: %s", path, w ? w : "cannot read");
		if (buf != NULL) {
			explicit_bzero(buf, len);
			free(buf);
		}
		return -1;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	cred->bv_len = strlen(buf);
	/* only the first line is the password: the rest goes at once */
	explicit_bzero(buf + cred->bv_len, len - cred->bv_len);
	cred->bv_val = buf;
	return 0;
}

/*
 * Open, secure and bind a connection within the deadline. 0 with *ldp, or
 * an enum vivo_dir_fetch_result with why. bind_dn NULL: the config's
 * (anonymous if none); sasl_external: SASL EXTERNAL instead.
 */
static int
dir_open(const struct vivo_dir_cfg *d, int64_t deadline, const char *bind_dn,
    const char *pwfile, int sasl_external, LDAP **ldp, char *why, size_t whysz)
{
	LDAP *ld = NULL;
	int v3 = LDAP_VERSION3, hard = LDAP_OPT_X_TLS_HARD, zero = 0, rc;
	int ldapi = strncmp(d->uri, "ldapi://", 8) == 0;
	int starttls = strncmp(d->uri, "ldap://", 7) == 0;
	struct berval cred = { 0, NULL };
	/* SASL EXTERNAL: an empty initial response (the authorization
	 * identity is the one the transport proves: ldapi's peer uid) */
	static char nothing[1];
	struct berval empty = { 0, nothing };

	*ldp = NULL;
	if (ldap_lib_load(why, whysz) != 0)
		return VIVO_DIRF_REFUSED;
	if ((rc = L.p_ldap_initialize(&ld, d->uri)) != LDAP_SUCCESS) {
		vivo_setf(why, whysz, "directory.uri %s: %s", d->uri,
		    L.p_ldap_err2string(rc));
		return VIVO_DIRF_REFUSED;
	}
	if (L.p_ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != 0 ||
	    L.p_ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != 0) {
		vivo_setf(why, whysz, "cannot set libldap's options");
		goto refused;
	}
	if (!ldapi) {
		/* this connection's own TLS context: our CA, and a server
		 * certificate that must verify and name the URI's host */
		if (L.p_ldap_set_option(
			ld, LDAP_OPT_X_TLS_CACERTFILE, d->ca_file) != 0 ||
		    L.p_ldap_set_option(
			ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard) != 0 ||
		    L.p_ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) !=
			0) {
			vivo_setf(why, whysz,
			    "cannot set up TLS with %s (directory.ca_file)",
			    d->ca_file);
			goto refused;
		}
	}
	set_timeouts(ld, deadline);
	if ((rc = L.p_ldap_connect(ld)) != LDAP_SUCCESS) {
		/* Over ldaps://, libldap answers LDAP_SERVER_DOWN both for a
		 * server it cannot reach and for a TLS handshake that failed;
		 * only the latter leaves a diagnostic message (GnuTLS's
		 * words). A certificate that does not verify is a refusal;
		 * only a server that does not answer is "unreachable". */
		char *diag = NULL;
		int tls_failed;

		(void)L.p_ldap_get_option(
		    ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		tls_failed = !ldapi && !starttls && diag != NULL && *diag;
		if (diag != NULL)
			L.p_ldap_memfree(diag);
		ldap_why(ld, rc,
		    tls_failed ? "TLS with the server failed (its certificate "
				 "does not verify against directory.ca_file, "
				 "or does not name the host)"
			       : "cannot connect",
		    why, whysz);
		L.p_ldap_unbind_ext_s(ld, NULL, NULL);
		return unreachable(rc) && !tls_failed ? VIVO_DIRF_UNREACHABLE
						      : VIVO_DIRF_REFUSED;
	}
	if (starttls) {
		set_timeouts(ld, deadline);
		if ((rc = L.p_ldap_start_tls_s(ld, NULL, NULL)) !=
		    LDAP_SUCCESS) {
			ldap_why(ld, rc, "StartTLS failed", why, whysz);
			L.p_ldap_unbind_ext_s(ld, NULL, NULL);
			return unreachable(rc) ? VIVO_DIRF_UNREACHABLE
					       : VIVO_DIRF_REFUSED;
		}
	}
	if (bind_dn == NULL && d->bind_dn[0] != '\0') {
		bind_dn = d->bind_dn;
		pwfile = d->bind_password_file;
	}
	if (sasl_external || bind_dn != NULL) {
		if (!sasl_external &&
		    read_password(pwfile, &cred, why, whysz) != 0)
			goto refused;
		set_timeouts(ld, deadline);
		rc = L.p_ldap_sasl_bind_s(ld, sasl_external ? NULL : bind_dn,
		    sasl_external ? "EXTERNAL" : LDAP_SASL_SIMPLE,
		    sasl_external ? &empty : &cred, NULL, NULL, NULL);
		if (cred.bv_val != NULL) {
			explicit_bzero(cred.bv_val, cred.bv_len);
			free(cred.bv_val);
		}
		if (rc != LDAP_SUCCESS) {
			ldap_why(ld, rc, "bind failed", why, whysz);
			L.p_ldap_unbind_ext_s(ld, NULL, NULL);
			return unreachable(rc) ? VIVO_DIRF_UNREACHABLE
					       : VIVO_DIRF_REFUSED;
		}
	}
	*ldp = ld;
	return 0;
refused:
	L.p_ldap_unbind_ext_s(ld, NULL, NULL);
	return VIVO_DIRF_REFUSED;
}

/* Search the user's entry: FOUND with *entry in *res (free with
 * ldap_msgfree), or another enum vivo_dir_fetch_result with why. */
static int
dir_find(LDAP *ld, const struct vivo_dir_cfg *d, const char *user, char **attrs,
    int64_t deadline, LDAPMessage **res, LDAPMessage **entry, char *why,
    size_t whysz)
{
	char filter[1024];
	long l;
	struct timeval tv;
	int rc, n;

	*res = NULL;
	if (vivo_dir_filter(d->filter, user, filter, sizeof(filter)) != 0) {
		vivo_setf(why, whysz, "the filter is too long for this user");
		return VIVO_DIRF_REFUSED;
	}
	set_timeouts(ld, deadline);
	l = left_ms(deadline);
	tv.tv_sec = l / 1000;
	tv.tv_usec = (l % 1000) * 1000;
	/* size limit 2: one entry is the answer, two are ambiguous */
	rc = L.p_ldap_search_ext_s(ld, d->base, LDAP_SCOPE_SUBTREE, filter,
	    attrs, 0, NULL, NULL, &tv, 2, res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED ||
	    (rc == LDAP_SUCCESS &&
		(n = L.p_ldap_count_entries(ld, *res)) > 1)) {
		vivo_setf(why, whysz,
		    "more than one entry matches directory.filter for %s",
		    user);
		return VIVO_DIRF_REFUSED;
	}
	if (rc != LDAP_SUCCESS) {
		ldap_why(ld, rc, "search failed", why, whysz);
		return unreachable(rc) ? VIVO_DIRF_UNREACHABLE
				       : VIVO_DIRF_REFUSED;
	}
	if (n == 0 || (*entry = L.p_ldap_first_entry(ld, *res)) == NULL) {
		vivo_setf(
		    why, whysz, "the directory has no entry for %s", user);
		return VIVO_DIRF_NOUSER;
	}
	return VIVO_DIRF_FOUND;
}

static int
fetch_here(const struct vivo_dir_cfg *d, const char *user, int64_t deadline,
    char ***vals, size_t *n, char *why, size_t whysz)
{
	char attr[sizeof(d->attribute)], *attrs[2] = { attr, NULL };
	LDAP *ld = NULL;
	LDAPMessage *res = NULL, *entry = NULL;
	struct berval **bv = NULL;
	int r;

	*vals = NULL;
	*n = 0;
	(void)vivo_strlcpy(attr, d->attribute, sizeof(attr));
	if ((r = dir_open(d, deadline, NULL, NULL, 0, &ld, why, whysz)) != 0)
		goto out;
	r = dir_find(ld, d, user, attrs, deadline, &res, &entry, why, whysz);
	if (r != VIVO_DIRF_FOUND)
		goto out;
	bv = L.p_ldap_get_values_len(ld, entry, attr);
	if (bv != NULL) {
		size_t cnt = 0;
		while (bv[cnt] != NULL)
			cnt++;
		if ((*vals = calloc(cnt + 1, sizeof(char *))) == NULL) {
			vivo_setf(why, whysz, "out of memory");
			r = VIVO_DIRF_REFUSED;
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			if (bv[i]->bv_len > VIVO_DIRVAL_MAX ||
			    memchr(bv[i]->bv_val, '\0', bv[i]->bv_len) !=
				NULL) {
				vivo_warn("directory: a %s value of %s is "
					  "longer than %d bytes or holds a NUL "
					  "byte: ignored",
				    attr, user, VIVO_DIRVAL_MAX);
				continue;
			}
			if (((*vals)[*n] = strndup(
				 bv[i]->bv_val, bv[i]->bv_len)) == NULL) {
				vivo_setf(why, whysz, "out of memory");
				r = VIVO_DIRF_REFUSED;
				goto out;
			}
			(*n)++;
		}
	}
	r = VIVO_DIRF_FOUND;
out:
	if (r != VIVO_DIRF_FOUND) {
		vivo_dir_free_values(*vals, *n);
		*vals = NULL;
		*n = 0;
	}
	if (bv != NULL)
		L.p_ldap_value_free_len(bv);
	if (res != NULL)
		L.p_ldap_msgfree(res);
	if (ld != NULL)
		L.p_ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

/* ---- this machine's state: <store>/.directory/<user> ------------------ */

#define STATE_VERSION 1
/* room for the most it holds: every value at its longest (libconfig
 * writes a control byte as \xNN, 4 bytes), and the counters */
#define STATE_MAX ((size_t)VIVO_ENTRIES_MAX * (4 * VIVO_DIRVAL_MAX + 64) + 8192)

struct dir_counter {
	char key[33];
	uint32_t counter;
};

struct dir_state {
	int64_t fetched; /* time(): the last answer that reached us */
	char **vals;
	size_t nvals;
	struct dir_counter ctr[VIVO_ENTRIES_MAX];
	size_t nctr;
};

static void
state_free(struct dir_state *s)
{
	vivo_dir_free_values(s->vals, s->nvals);
	memset(s, 0, sizeof(*s));
}

static int
state_path(
    const struct vivo_config *c, const char *user, char *out, size_t outsz)
{
	int n = snprintf(
	    out, outsz, "%s/%s/%s", c->store, VIVO_DIRECTORY_DIR, user);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* 0 (read, or no file: empty), or -1 with why (unsafe or corrupt). */
static int
state_read(const char *path, struct dir_state *s, char *why, size_t whysz)
{
	char *text = NULL;
	const char *w = NULL;
	size_t len = 0;
	config_t cfg;
	config_setting_t *vs, *cs;
	long long fetched;
	int version, r, ok = -1;
	struct stat st;

	memset(s, 0, sizeof(*s));
	r = vivo_file_read(path, 0, STATE_MAX, &text, &len, &w);
	if (r == VIVO_ERR_FILE_NOENT)
		return 0;
	if (r == VIVO_OK && (stat(path, &st) != 0 || (st.st_mode & 077) != 0)) {
		w = "readable by others (it must be 0600)";
		r = VIVO_ERR_FILE_UNSAFE;
	}
	if (r != VIVO_OK) {
		vivo_setf(why, whysz, "%s: %s", path, w ? w : "cannot read");
		free(text);
		return -1;
	}
	config_init(&cfg);
	if (strlen(text) != len ||
	    vivo_libconfig_parse(&cfg, text, why, whysz) != 0 ||
	    config_lookup_int(&cfg, "version", &version) != CONFIG_TRUE ||
	    version != STATE_VERSION ||
	    config_lookup_int64(&cfg, "fetched", &fetched) != CONFIG_TRUE ||
	    (vs = config_lookup(&cfg, "values")) == NULL ||
	    (cs = config_lookup(&cfg, "counters")) == NULL) {
		vivo_setf(why, whysz, "%s: not a directory state file", path);
		goto out;
	}
	s->fetched = fetched;
	if ((s->vals = calloc((size_t)config_setting_length(vs) + 1,
		 sizeof(char *))) == NULL)
		goto out;
	for (int i = 0; i < config_setting_length(vs); i++) {
		const char *v = config_setting_get_string_elem(vs, i);
		if (v == NULL || (s->vals[s->nvals] = strdup(v)) == NULL)
			goto bad;
		s->nvals++;
	}
	for (int i = 0;
	     i < config_setting_length(cs) && s->nctr < VIVO_ENTRIES_MAX; i++) {
		config_setting_t *g = config_setting_get_elem(cs, (unsigned)i);
		const char *k;
		long long v;
		if (config_setting_lookup_string(g, "key", &k) != CONFIG_TRUE ||
		    strlen(k) != 32 ||
		    config_setting_lookup_int64(g, "counter", &v) !=
			CONFIG_TRUE ||
		    v < 0 || v > 0xffffffffLL)
			goto bad;
		(void)vivo_strlcpy(s->ctr[s->nctr].key, k, 33);
		s->ctr[s->nctr++].counter = (uint32_t)v;
	}
	ok = 0;
	goto out;
bad:
	vivo_setf(why, whysz, "%s: a value or counter is malformed", path);
out:
	if (ok != 0)
		state_free(s);
	config_destroy(&cfg);
	free(text);
	return ok;
}

static int
state_write(const char *path, const struct dir_state *s)
{
	config_t cfg;
	config_setting_t *root, *x, *vs, *cs;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r = VIVO_ERR_NOMEM;

	config_init(&cfg);
	root = config_root_setting(&cfg);
	if ((x = config_setting_add(root, "version", CONFIG_TYPE_INT)) ==
		NULL ||
	    config_setting_set_int(x, STATE_VERSION) != CONFIG_TRUE ||
	    (x = config_setting_add(root, "fetched", CONFIG_TYPE_INT64)) ==
		NULL ||
	    config_setting_set_int64(x, s->fetched) != CONFIG_TRUE ||
	    (vs = config_setting_add(root, "values", CONFIG_TYPE_LIST)) ==
		NULL ||
	    (cs = config_setting_add(root, "counters", CONFIG_TYPE_LIST)) ==
		NULL)
		goto out;
	for (size_t i = 0; i < s->nvals; i++)
		if ((x = config_setting_add(vs, NULL, CONFIG_TYPE_STRING)) ==
			NULL ||
		    config_setting_set_string(x, s->vals[i]) != CONFIG_TRUE)
			goto out;
	for (size_t i = 0; i < s->nctr; i++) {
		config_setting_t *g =
		    config_setting_add(cs, NULL, CONFIG_TYPE_GROUP);
		if (g == NULL ||
		    (x = config_setting_add(g, "key", CONFIG_TYPE_STRING)) ==
			NULL ||
		    config_setting_set_string(x, s->ctr[i].key) !=
			CONFIG_TRUE ||
		    (x = config_setting_add(g, "counter", CONFIG_TYPE_INT64)) ==
			NULL ||
		    config_setting_set_int64(x, s->ctr[i].counter) !=
			CONFIG_TRUE)
			goto out;
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		goto out;
	config_write(&cfg, f);
	if (fclose(f) != 0)
		goto out;
	r = vivo_file_replace(path, buf, len, 0600);
out:
	free(buf);
	config_destroy(&cfg);
	return r;
}

static struct dir_counter *
state_counter(struct dir_state *s, const char *key)
{
	for (size_t i = 0; i < s->nctr; i++)
		if (strcmp(s->ctr[i].key, key) == 0)
			return &s->ctr[i];
	return NULL;
}

/* The values into entries, with this machine's counters. */
static void
to_store(const struct vivo_config *c, const char *user,
    const struct dir_state *s, struct vivo_store *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < s->nvals; i++) {
		struct vivo_entry *e;
		struct dir_counter *ctr;
		char why[200], key[33];

		if (st->n == VIVO_ENTRIES_MAX) {
			vivo_warn("directory: %s has more than %d values; the "
				  "rest are ignored",
			    user, VIVO_ENTRIES_MAX);
			break;
		}
		e = &st->e[st->n];
		if (vivo_dirval_parse(c, s->vals[i], e, why, sizeof(why)) !=
		    0) {
			vivo_warn("directory: value %zu of %s refused: %s",
			    i + 1, user, why);
			continue;
		}
		if (vivo_store_find(st, e->label) >= 0) {
			vivo_warn("directory: value %zu of %s repeats the "
				  "label \"%s\": ignored",
			    i + 1, user, e->label);
			explicit_bzero(e, sizeof(*e));
			continue;
		}
		if (vivo_dirval_key(e, key) == 0 &&
		    (ctr = state_counter((struct dir_state *)s, key)) != NULL) {
			if (e->method == VIVO_M_U2F)
				e->u2f.counter = ctr->counter;
			else if (e->method == VIVO_M_FIDO2)
				e->fido2.counter = ctr->counter;
		}
		st->n++;
	}
}

static int
same_values(const struct dir_state *s, char **vals, size_t n)
{
	if (s->nvals != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->vals[i], vals[i]) != 0)
			return 0;
	return 1;
}

int
vivo_dir_load(const struct vivo_config *c, const char *user,
    struct vivo_store *st, int *state, char *why, size_t whysz)
{
	char path[VIVO_PATH_MAX], fwhy[256], swhy[256];
	char **vals = NULL;
	size_t n = 0;
	struct dir_state s;
	int64_t now = (int64_t)time(NULL);
	int r, lock;

	memset(st, 0, sizeof(*st));
	why[0] = '\0';
	*state = VIVO_DIR_OFF;
	if (c->dir.uri[0] == '\0')
		return 0;
	if (geteuid() != 0) {
		/* the cache, the counters and a bind password are root's: a
		 * screen locker running as the user uses the local stores */
		*state = VIVO_DIR_UNAVAILABLE;
		vivo_setf(why, whysz,
		    "not asked: this caller (uid %u) is not root, and only "
		    "root-run callers read the directory",
		    (unsigned)geteuid());
		return 0;
	}
	if (state_path(c, user, path, sizeof(path)) != 0) {
		vivo_setf(why, whysz, "store path too long");
		*state = VIVO_DIR_UNAVAILABLE;
		return 0;
	}
	r = vivo_dir_fetch(&c->dir, user, &vals, &n, fwhy, sizeof(fwhy));
	if (state_read(path, &s, swhy, sizeof(swhy)) != 0) {
		/* its counters are what tells a clone: an unsafe or corrupt
		 * file is never read as "none", nor overwritten */
		vivo_dir_free_values(vals, n);
		*state = VIVO_DIR_UNAVAILABLE;
		vivo_setf(why, whysz,
		    "this machine's state of its enrollments is not usable: %s "
		    "(fix or remove the file)",
		    swhy);
		return 0;
	}
	if (r == VIVO_DIRF_FOUND || r == VIVO_DIRF_NOUSER) {
		struct dir_state ns;
		int changed = !same_values(&s, vals, n);
		/* refresh the cache when it changed, or at most once a
		 * minute (and within a tenth of the ttl) otherwise */
		int64_t every = c->dir.cache_ttl / 10 < 60
		    ? (int64_t)c->dir.cache_ttl / 10
		    : 60;

		memset(&ns, 0, sizeof(ns));
		ns.fetched = now;
		ns.vals = vals;
		ns.nvals = n;
		/* this machine's counters stay */
		memcpy(ns.ctr, s.ctr, sizeof(ns.ctr));
		ns.nctr = s.nctr;
		to_store(c, user, &ns, st);
		*state = VIVO_DIR_FRESH;
		if (r == VIVO_DIRF_NOUSER)
			vivo_dbg("directory: %s", fwhy);
		/* a name nobody has (whatever anyone types at a login
		 * prompt) leaves no file */
		int nothing = n == 0 && s.fetched == 0 && s.nctr == 0;

		if (!nothing &&
		    (changed ||
			(c->dir.cache_ttl > 0 &&
			    (now - s.fetched >= every || now < s.fetched)))) {
			if (vivo_file_mkparents(path, 0700) != 0 ||
			    (lock = vivo_file_lock_dir(path)) < 0) {
				vivo_warn("directory: cannot lock %s: %s", path,
				    strerror(errno));
			} else {
				struct dir_state cur;
				/* the counters as they are now, under the lock */
				if (state_read(
					path, &cur, swhy, sizeof(swhy)) != 0) {
					vivo_warn(
					    "directory: %s: not rewritten",
					    swhy);
				} else {
					memcpy(ns.ctr, cur.ctr, sizeof(ns.ctr));
					ns.nctr = cur.nctr;
					state_free(&cur);
					vivo_file_clean_stale(path);
					if (state_write(path, &ns) != 0)
						vivo_warn(
						    "directory: cannot write "
						    "%s: %s (the cache is "
						    "older)",
						    path, strerror(errno));
				}
				vivo_file_unlock(lock);
			}
		}
		vivo_dir_free_values(vals, n);
		state_free(&s);
		return 0;
	}
	/* not reached, or refused */
	vivo_dir_free_values(vals, n);
	if (r == VIVO_DIRF_UNREACHABLE && s.fetched > 0 &&
	    c->dir.cache_ttl > 0 && now >= s.fetched &&
	    now - s.fetched < (int64_t)c->dir.cache_ttl) {
		to_store(c, user, &s, st);
		*state = VIVO_DIR_CACHED;
		vivo_setf(why, whysz,
		    "%s; the cached answer of %lld s ago is used (cache_ttl "
		    "%u s)",
		    fwhy, (long long)(now - s.fetched), c->dir.cache_ttl);
	} else {
		*state = VIVO_DIR_UNAVAILABLE;
		if (r == VIVO_DIRF_UNREACHABLE)
			vivo_setf(why, whysz, "%s; %s", fwhy,
			    s.fetched == 0 || c->dir.cache_ttl == 0
				? "no cached answer"
				: "the cached answer is older than cache_ttl");
		else
			vivo_setf(why, whysz, "%s", fwhy);
	}
	state_free(&s);
	return 0;
}

int
vivo_dir_commit(const struct vivo_config *c, const char *user,
    const struct vivo_entry *e, vivo_entry_update_fn fn, void *arg,
    char *reason, size_t reasonsz)
{
	char path[VIVO_PATH_MAX], key[33], why[256];
	struct dir_state s;
	struct dir_counter *ctr;
	struct vivo_entry copy;
	int lock, r;

	if (state_path(c, user, path, sizeof(path)) != 0 ||
	    vivo_dirval_key(e, key) != 0) {
		vivo_setf(reason, reasonsz, "cannot name the local state");
		return VIVO_R_INTERNAL;
	}
	if (vivo_file_mkparents(path, 0700) != 0 ||
	    (lock = vivo_file_lock_dir(path)) < 0) {
		vivo_setf(reason, reasonsz, "cannot lock %s: %s", path,
		    strerror(errno));
		return VIVO_R_INTERNAL;
	}
	if (state_read(path, &s, why, sizeof(why)) != 0) {
		vivo_setf(reason, reasonsz, "%s", why);
		vivo_file_unlock(lock);
		return VIVO_R_UNSAFE;
	}
	copy = *e;
	ctr = state_counter(&s, key);
	if (copy.method == VIVO_M_U2F)
		copy.u2f.counter = ctr ? ctr->counter : 0;
	else if (copy.method == VIVO_M_FIDO2)
		copy.fido2.counter = ctr ? ctr->counter : 0;
	r = fn(&copy, arg, reason, reasonsz);
	if (r == VIVO_R_OK) {
		uint32_t nc = copy.method == VIVO_M_U2F ? copy.u2f.counter
		    : copy.method == VIVO_M_FIDO2       ? copy.fido2.counter
							: 0;
		if (ctr == NULL && s.nctr == VIVO_ENTRIES_MAX) {
			/* the oldest goes: one per value, at most */
			memmove(&s.ctr[0], &s.ctr[1],
			    (s.nctr - 1) * sizeof(s.ctr[0]));
			s.nctr--;
		}
		if (ctr == NULL) {
			ctr = &s.ctr[s.nctr++];
			(void)vivo_strlcpy(ctr->key, key, sizeof(ctr->key));
		}
		ctr->counter = nc;
		vivo_file_clean_stale(path);
		if ((r = state_write(path, &s)) != 0) {
			vivo_setf(reason, reasonsz,
			    "cannot write the counter to %s: %s", path,
			    strerror(errno));
			r = VIVO_R_INTERNAL;
		}
	}
	explicit_bzero(&copy, sizeof(copy));
	state_free(&s);
	vivo_file_unlock(lock);
	return r;
}

static int
write_here(const struct vivo_config *c, const char *user, const char *value,
    int del, const char *bind_dn, const char *pwfile, int64_t deadline,
    char *why, size_t whysz)
{
	const struct vivo_dir_cfg *d = &c->dir;
	char attr[sizeof(d->attribute)], oc[] = "objectClass";
	char *attrs[3] = { oc, attr, NULL };
	char ocval[] = "vivoImplantUser";
	char *ocvals[2] = { ocval, NULL }, *vals[2] = { (char *)value, NULL };
	LDAPMod mod_oc = { LDAP_MOD_ADD, oc, { ocvals } };
	LDAPMod mod_v = { del ? LDAP_MOD_DELETE : LDAP_MOD_ADD, attr,
		{ vals } };
	LDAPMod *mods[3] = { NULL, NULL, NULL };
	LDAP *ld = NULL;
	LDAPMessage *res = NULL, *entry = NULL;
	struct berval **ocs = NULL;
	char *dn = NULL;
	int r, rc, ok = -1, has_oc = 0;

	(void)vivo_strlcpy(attr, d->attribute, sizeof(attr));
	r = dir_open(
	    d, deadline, bind_dn, pwfile, bind_dn == NULL, &ld, why, whysz);
	if (r != 0)
		goto out;
	r = dir_find(ld, d, user, attrs, deadline, &res, &entry, why, whysz);
	if (r != VIVO_DIRF_FOUND)
		goto out;
	dn = L.p_ldap_get_dn(ld, entry);
	if ((ocs = L.p_ldap_get_values_len(ld, entry, oc)) != NULL)
		for (size_t i = 0; ocs[i] != NULL; i++)
			if (ocs[i]->bv_len == strlen(ocval) &&
			    strncasecmp(
				ocs[i]->bv_val, ocval, ocs[i]->bv_len) == 0)
				has_oc = 1;
	if (!del && !has_oc && strcasecmp(attr, VIVO_DIR_ATTR_DEFAULT) == 0) {
		mods[0] = &mod_oc;
		mods[1] = &mod_v;
	} else
		mods[0] = &mod_v;
	set_timeouts(ld, deadline);
	rc = L.p_ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		ldap_why(ld, rc,
		    del ? "cannot remove the value" : "cannot add the value",
		    why, whysz);
		goto out;
	}
	ok = 0;
out:
	if (ocs != NULL)
		L.p_ldap_value_free_len(ocs);
	if (dn != NULL)
		L.p_ldap_memfree(dn);
	if (res != NULL)
		L.p_ldap_msgfree(res);
	if (ld != NULL)
		L.p_ldap_unbind_ext_s(ld, NULL, NULL);
	return ok;
}

/* ---- every conversation with the server runs in a child ----------------
 *
 * libldap's own timeouts do not bound everything: a server that accepts
 * the connection and never finishes the TLS handshake keeps ldap_connect
 * busy (spinning, with LDAP_OPT_NETWORK_TIMEOUT set) well past them
 * (measured with a stopped slapd). So the conversation runs in a child
 * process that is killed at the deadline: the answer comes within
 * directory.timeout (+ 0.5 s for the child to report), whatever the
 * server does. The child also keeps libldap, GnuTLS and SASL out of the
 * helper's memory. Its answer is a byte stream on a pipe.
 */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void
wput(struct wbuf *w, const void *v, size_t n)
{
	if (w->err)
		return;
	if (w->len + n > w->cap) {
		size_t nc = (w->len + n) * 2;
		uint8_t *np = realloc(w->p, nc);
		if (np == NULL) {
			w->err = 1;
			return;
		}
		w->p = np;
		w->cap = nc;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void
wu32(struct wbuf *w, uint32_t v)
{
	wput(w, &v, sizeof(v));
}

static void
wstr(struct wbuf *w, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	wu32(w, n);
	wput(w, s, n);
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
};

static int
ru32(struct rbuf *r, uint32_t *v)
{
	if (r->len - r->off < sizeof(*v))
		return -1;
	memcpy(v, r->p + r->off, sizeof(*v));
	r->off += sizeof(*v);
	return 0;
}

/* A string of at most cap - 1 bytes into out. */
static int
rstr(struct rbuf *r, char *out, size_t cap)
{
	uint32_t n;

	if (ru32(r, &n) != 0 || n >= cap || r->len - r->off < n)
		return -1;
	memcpy(out, r->p + r->off, n);
	out[n] = '\0';
	r->off += n;
	return 0;
}

#define ANSWER_MAX ((size_t)VIVO_ENTRIES_MAX * (VIVO_DIRVAL_MAX + 8) + 4096)

typedef void (*job_fn)(void *arg, int64_t deadline, struct wbuf *out);

/* Run fn in a child; its answer into *ans (malloc'd). 0, or -1 with why
 * (no answer before the deadline: the child is killed). */
static int
run_job(job_fn fn, void *arg, int64_t deadline, uint8_t **ans, size_t *anslen,
    char *why, size_t whysz)
{
	int pfd[2], st;
	pid_t pid;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ok = -1;

	*ans = NULL;
	*anslen = 0;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		vivo_setf(why, whysz, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		vivo_setf(why, whysz, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		struct wbuf w = { NULL, 0, 0, 0 };
		size_t off = 0;
		close(pfd[0]);
		/* libldap may write to a socket the server closed, and we to a
		 * pipe the helper gave up on: EPIPE, not death by SIGPIPE */
		(void)signal(SIGPIPE, SIG_IGN);
		fn(arg, deadline, &w);
		while (!w.err && off < w.len) {
			ssize_t k = write(pfd[1], w.p + off, w.len - off);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		_exit(w.err ? 1 : 0);
	}
	close(pfd[1]);
	if ((buf = malloc(ANSWER_MAX)) == NULL) {
		vivo_setf(why, whysz, "out of memory");
		goto kill;
	}
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int64_t left = deadline + 500 - vivo_now_ms();
		int pr;
		ssize_t k;

		if (left <= 0) {
			vivo_setf(why, whysz,
			    "no answer within directory.timeout (the lookup "
			    "was stopped)");
			goto kill;
		}
		pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			vivo_setf(why, whysz, "poll: %s", strerror(errno));
			goto kill;
		}
		if (pr == 0)
			continue; /* the deadline check above decides */
		k = read(pfd[0], buf + len, ANSWER_MAX - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			vivo_setf(why, whysz, "read: %s", strerror(errno));
			goto kill;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len == ANSWER_MAX) {
			vivo_setf(why, whysz, "answer too long");
			goto kill;
		}
	}
	ok = 0;
	goto reap;
kill:
	(void)kill(pid, SIGKILL);
reap:
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (ok == 0) {
		*ans = buf;
		*anslen = len;
	} else
		free(buf);
	return ok;
}

struct fetch_job {
	const struct vivo_dir_cfg *d;
	const char *user;
};

static void
fetch_child(void *arg, int64_t deadline, struct wbuf *w)
{
	struct fetch_job *j = arg;
	char **vals = NULL, why[512] = "";
	size_t n = 0;
	int r =
	    fetch_here(j->d, j->user, deadline, &vals, &n, why, sizeof(why));

	wu32(w, (uint32_t)r);
	wstr(w, why);
	if (n > VIVO_ENTRIES_MAX) {
		vivo_warn("directory: %s has %zu values; only the first %d "
			  "are used",
		    j->user, n, VIVO_ENTRIES_MAX);
		n = VIVO_ENTRIES_MAX;
	}
	wu32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		wstr(w, vals[i]);
	vivo_dir_free_values(vals, n);
}

int
vivo_dir_fetch(const struct vivo_dir_cfg *d, const char *user, char ***vals,
    size_t *n, char *why, size_t whysz)
{
	int64_t now = vivo_now_ms(),
		deadline = now + (int64_t)d->timeout * 1000;
	struct fetch_job j = { d, user };
	char w[512], *val = NULL;
	uint8_t *ans = NULL;
	size_t len = 0;
	struct rbuf r;
	uint32_t rc, cnt;

	*vals = NULL;
	*n = 0;
	if (d->deadline != 0 && d->deadline < deadline)
		deadline = d->deadline;
	if (deadline - now < 100) {
		vivo_setf(why, whysz,
		    "%s: not asked: no time left within the request's bounds "
		    "(the module's timeout= is shorter than directory.timeout)",
		    d->uri);
		return VIVO_DIRF_UNREACHABLE;
	}
	if (run_job(fetch_child, &j, deadline, &ans, &len, w, sizeof(w)) != 0) {
		vivo_setf(why, whysz, "%s: %s", d->uri, w);
		return VIVO_DIRF_UNREACHABLE;
	}
	r.p = ans;
	r.len = len;
	r.off = 0;
	if (ru32(&r, &rc) != 0 || rc > VIVO_DIRF_REFUSED ||
	    rstr(&r, w, sizeof(w)) != 0 || ru32(&r, &cnt) != 0 ||
	    cnt > VIVO_ENTRIES_MAX ||
	    (val = malloc(VIVO_DIRVAL_MAX + 1)) == NULL ||
	    (*vals = calloc(cnt + 1, sizeof(char *))) == NULL) {
		vivo_setf(why, whysz,
		    "%s: the lookup failed (no answer from "
		    "its process)",
		    d->uri);
		rc = VIVO_DIRF_REFUSED;
		goto out;
	}
	for (uint32_t i = 0; i < cnt; i++) {
		if (rstr(&r, val, VIVO_DIRVAL_MAX + 1) != 0 ||
		    ((*vals)[i] = strdup(val)) == NULL) {
			vivo_setf(why, whysz, "%s: the lookup's answer is cut",
			    d->uri);
			rc = VIVO_DIRF_REFUSED;
			goto out;
		}
		(*n)++;
	}
	if (rc != VIVO_DIRF_FOUND)
		vivo_setf(why, whysz, "%s: %s", d->uri, w);
out:
	if (rc != VIVO_DIRF_FOUND) {
		vivo_dir_free_values(*vals, *n);
		*vals = NULL;
		*n = 0;
	}
	free(val);
	free(ans);
	return (int)rc;
}

struct write_job {
	const struct vivo_config *c;
	const char *user, *value, *bind_dn, *pwfile;
	int del;
};

static void
write_child(void *arg, int64_t deadline, struct wbuf *w)
{
	struct write_job *j = arg;
	char why[512] = "";
	int r = write_here(j->c, j->user, j->value, j->del, j->bind_dn,
	    j->pwfile, deadline, why, sizeof(why));

	wu32(w, r == 0 ? 0 : 1);
	wstr(w, why);
}

int
vivo_dir_write(const struct vivo_config *c, const char *user, const char *value,
    int del, const char *bind_dn, const char *pwfile, char *why, size_t whysz)
{
	int64_t deadline = vivo_now_ms() + (int64_t)c->dir.timeout * 1000;
	struct write_job j = { c, user, value, bind_dn, pwfile, del };
	uint8_t *ans = NULL;
	size_t len = 0;
	struct rbuf r;
	uint32_t rc = 1;
	char w[512];

	if (run_job(write_child, &j, deadline, &ans, &len, w, sizeof(w)) != 0) {
		vivo_setf(why, whysz, "%s", w);
		return -1;
	}
	r.p = ans;
	r.len = len;
	r.off = 0;
	if (ru32(&r, &rc) != 0 || rstr(&r, w, sizeof(w)) != 0) {
		vivo_setf(why, whysz, "no answer from the writing process");
		rc = 1;
	} else if (rc != 0)
		vivo_setf(why, whysz, "%s", w);
	free(ans);
	return rc == 0 ? 0 : -1;
}
