/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - parse and load the configuration (see config.h, docs/config.md).
 */
#include "config.h"
#include "file.h"
#include "util.h"

#include <ctype.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	unsigned bit;
} method_names[] = {
	{ "uid", VIVO_M_UID },
	{ "hmac", VIVO_M_HMAC },
	{ "u2f", VIVO_M_U2F },
	{ "fido2", VIVO_M_FIDO2 },
};

unsigned
vivo_method_from_name(const char *name)
{
	for (size_t i = 0; i < VIVO_NELEM(method_names); i++)
		if (strcmp(name, method_names[i].name) == 0)
			return method_names[i].bit;
	return 0;
}

const char *
vivo_method_name(unsigned m)
{
	for (size_t i = 0; i < VIVO_NELEM(method_names); i++)
		if (m == method_names[i].bit)
			return method_names[i].name;
	return "?";
}

void
vivo_config_defaults(struct vivo_config *c)
{
	char host[200];

	memset(c, 0, sizeof(*c));
	c->timeout = 15;
	c->methods = VIVO_M_FIDO2 | VIVO_M_U2F | VIVO_M_HMAC;
	(void)vivo_strlcpy(c->store, VIVO_STORE_DEFAULT, sizeof(c->store));
	if (gethostname(host, sizeof(host)) != 0)
		(void)vivo_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(c->appid, sizeof(c->appid), "pam://%s", host);
	c->check_counter = 1;
	snprintf(c->rpid, sizeof(c->rpid), "pam://%s", host);
	c->fido2_check_counter = 1;
	c->fido2_min_pin_retries = VIVO_FIDO2_PIN_RETRIES_FLOOR;
	(void)vivo_strlcpy(
	    c->dir.filter, VIVO_DIR_FILTER_DEFAULT, sizeof(c->dir.filter));
	(void)vivo_strlcpy(
	    c->dir.attribute, VIVO_DIR_ATTR_DEFAULT, sizeof(c->dir.attribute));
	c->dir.timeout = VIVO_DIR_TIMEOUT_DEFAULT;
	c->dir.cache_ttl = VIVO_DIR_CACHE_TTL_DEFAULT;
}

/*
 * libconfig 1.5 processes `@include "file"` lines while parsing (it cannot
 * be switched off before 1.7): refuse any text that has one, so a config
 * or enrollment file can never pull in another file.
 */
int
vivo_text_has_include(const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "@include", 8) == 0)
			return 1;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 0;
}

/*
 * libconfig 1.5 silently wraps an integer literal beyond 32 bits (without
 * an L suffix) to a small int: `timeout = 4294967311;` would read as 15.
 * Refuse such literals. A small scan that skips strings and comments.
 */
static int
text_has_wrapping_int(const char *p, char *name, size_t namesz)
{
	const char *ident = "?";
	size_t identlen = 1;

	while (*p != '\0') {
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '"')
				p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else if (*p >= '0' && *p <= '9') {
			int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
			const char *q = p + (hex ? 2 : 0);
			unsigned long long v = 0;
			int big = 0;
			for (; hex ? isxdigit((unsigned char)*q)
				   : isdigit((unsigned char)*q);
			     q++) {
				unsigned d =
				    (unsigned)(isdigit((unsigned char)*q)
					    ? *q - '0'
					    : (tolower((unsigned char)*q) -
						  'a' + 10));
				if (v > (0xffffffffffffffffULL - d) /
					(hex ? 16 : 10))
					big = 1;
				else
					v = v * (hex ? 16 : 10) + d;
			}
			if (*q == '.' || *q == 'e' || *q == 'E') { /* a float */
				while (isalnum((unsigned char)*q) ||
				    *q == '.' || *q == '+' || *q == '-')
					q++;
			} else if (*q != 'L' &&
			    (big ||
				v > (hex ? 0xffffffffULL : 0x7fffffffULL))) {
				snprintf(
				    name, namesz, "%.*s", (int)identlen, ident);
				return 1;
			}
			p = q;
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			ident = p;
			while (isalnum((unsigned char)*p) || *p == '_' ||
			    *p == '-')
				p++;
			identlen = (size_t)(p - ident);
		} else
			p++;
	}
	return 0;
}

/* Parse `text` with libconfig into cfg (initialised by the caller). */
int
vivo_libconfig_parse(config_t *cfg, const char *text, char *err, size_t errlen)
{
	char name[64], *copy;
	size_t len;
	int ok = 0;

	if (vivo_text_has_include(text)) {
		snprintf(err, errlen, "@include is not allowed");
		return -1;
	}
	if (text_has_wrapping_int(text, name, sizeof(name))) {
		snprintf(err, errlen, "%s: integer out of range", name);
		return -1;
	}
	/* libconfig 1.5 wants a newline after a final comment: give it one */
	len = strlen(text);
	if ((copy = malloc(len + 2)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\n';
	copy[len + 1] = '\0';
	if (config_read_string(cfg, copy) != CONFIG_TRUE) {
		snprintf(err, errlen, "line %d: %s", config_error_line(cfg),
		    config_error_text(cfg) ? config_error_text(cfg)
					   : "syntax error");
		ok = -1;
	}
	explicit_bzero(copy, len + 2);
	free(copy);
	return ok;
}

static int
get_bool(config_setting_t *s, int *out, char *err, size_t errlen)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		snprintf(err, errlen, "%s: expected true or false",
		    config_setting_name(s));
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 0;
}

static int
get_string(config_setting_t *s, char *out, size_t cap, char *err, size_t errlen)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    (v = config_setting_get_string(s)) == NULL) {
		snprintf(err, errlen, "%s: expected a string",
		    config_setting_name(s));
		return -1;
	}
	if (vivo_strlcpy(out, v, cap) != 0) {
		snprintf(err, errlen, "%s: too long", config_setting_name(s));
		return -1;
	}
	return 0;
}

static int
parse_u2f(config_setting_t *g, struct vivo_config *c, char *err, size_t errlen)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "u2f: expected a group { ... }");
		return -1;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "appid") == 0) {
			if (get_string(
				s, c->appid, sizeof(c->appid), err, errlen))
				return -1;
			if (c->appid[0] == '\0') {
				snprintf(err, errlen, "u2f.appid: empty");
				return -1;
			}
		} else if (strcmp(name, "check_counter") == 0) {
			if (get_bool(s, &c->check_counter, err, errlen))
				return -1;
		} else {
			snprintf(err, errlen, "u2f.%s: unknown setting", name);
			return -1;
		}
	}
	return 0;
}

static int
parse_fido2(
    config_setting_t *g, struct vivo_config *c, char *err, size_t errlen)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "fido2: expected a group { ... }");
		return -1;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "rpid") == 0) {
			if (get_string(
				s, c->rpid, sizeof(c->rpid), err, errlen))
				return -1;
			if (c->rpid[0] == '\0') {
				snprintf(err, errlen, "fido2.rpid: empty");
				return -1;
			}
		} else if (strcmp(name, "require_pin") == 0) {
			if (get_bool(s, &c->fido2_require_pin, err, errlen))
				return -1;
		} else if (strcmp(name, "check_counter") == 0) {
			if (get_bool(s, &c->fido2_check_counter, err, errlen))
				return -1;
		} else if (strcmp(name, "min_pin_retries") == 0) {
			int v;
			if (config_setting_type(s) != CONFIG_TYPE_INT ||
			    (v = config_setting_get_int(s)) < 1 || v > 8) {
				snprintf(err, errlen,
				    "fido2.min_pin_retries: expected 1..8");
				return -1;
			}
			c->fido2_min_pin_retries = (unsigned)v;
		} else {
			snprintf(
			    err, errlen, "fido2.%s: unknown setting", name);
			return -1;
		}
	}
	return 0;
}

/* An LDAP attribute description: a letter, then letters, digits, '-'. */
static int
attr_valid(const char *a)
{
	if (!((a[0] >= 'a' && a[0] <= 'z') || (a[0] >= 'A' && a[0] <= 'Z')))
		return 0;
	for (; *a != '\0'; a++)
		if (!((*a >= 'a' && *a <= 'z') || (*a >= 'A' && *a <= 'Z') ||
			(*a >= '0' && *a <= '9') || *a == '-'))
			return 0;
	return 1;
}

/* directory = { uri; base; filter; attribute; timeout; ca_file; cache_ttl;
 * bind_dn; bind_password_file; allow_uid; } */
static int
parse_directory(
    config_setting_t *g, struct vivo_config *c, char *err, size_t errlen)
{
	struct vivo_dir_cfg *d = &c->dir;
	const char *pct;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "directory: expected a group { ... }");
		return -1;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		struct {
			const char *name;
			char *out;
			size_t cap;
		} strs[] = {
			{ "uri", d->uri, sizeof(d->uri) },
			{ "base", d->base, sizeof(d->base) },
			{ "filter", d->filter, sizeof(d->filter) },
			{ "attribute", d->attribute, sizeof(d->attribute) },
			{ "ca_file", d->ca_file, sizeof(d->ca_file) },
			{ "bind_dn", d->bind_dn, sizeof(d->bind_dn) },
			{ "bind_password_file", d->bind_password_file,
			    sizeof(d->bind_password_file) },
		};
		size_t j;
		int v;

		for (j = 0; j < VIVO_NELEM(strs); j++)
			if (strcmp(name, strs[j].name) == 0)
				break;
		if (j < VIVO_NELEM(strs)) {
			if (get_string(
				s, strs[j].out, strs[j].cap, err, errlen))
				return -1;
		} else if (strcmp(name, "timeout") == 0 ||
		    strcmp(name, "cache_ttl") == 0) {
			int is_t = name[0] == 't';
			if (config_setting_type(s) != CONFIG_TYPE_INT ||
			    (v = config_setting_get_int(s)) < (is_t ? 1 : 0) ||
			    v > (is_t ? VIVO_DIR_TIMEOUT_MAX : 31622400)) {
				snprintf(err, errlen,
				    is_t ? "directory.timeout: expected 1..60"
					 : "directory.cache_ttl: expected "
					   "0..31622400 (seconds)");
				return -1;
			}
			*(is_t ? &d->timeout : &d->cache_ttl) = (unsigned)v;
		} else if (strcmp(name, "allow_uid") == 0) {
			if (get_bool(s, &d->allow_uid, err, errlen))
				return -1;
		} else {
			snprintf(err, errlen,
			    "directory.%.32s: unknown setting", name);
			return -1;
		}
	}
	if (strncmp(d->uri, "ldaps://", 8) != 0 &&
	    strncmp(d->uri, "ldap://", 7) != 0 &&
	    strncmp(d->uri, "ldapi://", 8) != 0) {
		snprintf(err, errlen,
		    "directory.uri: expected one ldaps://, ldap:// (StartTLS) "
		    "or ldapi:// URI");
		return -1;
	}
	if (strpbrk(d->uri, " \t,") != NULL) {
		snprintf(err, errlen, "directory.uri: one URI only");
		return -1;
	}
	if (d->base[0] == '\0') {
		snprintf(err, errlen, "directory.base: missing");
		return -1;
	}
	if ((pct = strstr(d->filter, "%u")) == NULL || d->filter[0] != '(') {
		snprintf(err, errlen,
		    "directory.filter: expected an LDAP filter with %%u");
		return -1;
	}
	for (const char *p = d->filter; (p = strchr(p, '%')) != NULL; p += 2)
		if (p[1] != 'u') {
			snprintf(err, errlen,
			    "directory.filter: only %%u may follow '%%'");
			return -1;
		}
	if (!attr_valid(d->attribute)) {
		snprintf(
		    err, errlen, "directory.attribute: not an attribute name");
		return -1;
	}
	if (strncmp(d->uri, "ldapi://", 8) != 0 && d->ca_file[0] != '/') {
		snprintf(err, errlen,
		    "directory.ca_file: an absolute path is required for TLS "
		    "(every URI but ldapi://)");
		return -1;
	}
	if (d->ca_file[0] != '\0' && d->ca_file[0] != '/') {
		snprintf(err, errlen, "directory.ca_file: must be absolute");
		return -1;
	}
	if ((d->bind_dn[0] != '\0') != (d->bind_password_file[0] != '\0') ||
	    (d->bind_password_file[0] != '\0' &&
		d->bind_password_file[0] != '/')) {
		snprintf(err, errlen,
		    "directory.bind_dn and bind_password_file: both or "
		    "neither, and the file's path absolute");
		return -1;
	}
	return 0;
}

static int
parse_list(config_setting_t *s, char *err, size_t errlen)
{
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		snprintf(err, errlen, "%s: expected [ \"...\", ... ]",
		    config_setting_name(s));
		return -1;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			snprintf(err, errlen,
			    "%s: every element must be a string",
			    config_setting_name(s));
			return -1;
		}
	}
	return 0;
}

/* `methods`, at the top level or in a services group (`where` is the
 * prefix for messages: "" or "services.NAME."). */
static int
parse_methods(config_setting_t *s, const char *where, unsigned *out, char *err,
    size_t errlen)
{
	char sub[256];

	if (parse_list(s, sub, sizeof(sub))) {
		snprintf(err, errlen, "%s%s", where, sub);
		return -1;
	}
	*out = 0;
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *v = config_setting_get_string_elem(s, i);
		unsigned m = vivo_method_from_name(v);
		if (m == 0) {
			snprintf(err, errlen,
			    "%smethods: unknown method \"%.32s\" "
			    "(known: fido2, u2f, hmac, uid)",
			    where, v);
			return -1;
		}
		*out |= m;
	}
	if (*out == 0) {
		snprintf(err, errlen, "%smethods: empty list", where);
		return -1;
	}
	return 0;
}

static int
parse_timeout(config_setting_t *s, const char *where, unsigned *out, char *err,
    size_t errlen)
{
	int v;

	if (config_setting_type(s) != CONFIG_TYPE_INT ||
	    (v = config_setting_get_int(s)) < 1 || v > VIVO_TIMEOUT_MAX) {
		snprintf(err, errlen, "%stimeout: expected 1..%d seconds",
		    where, VIVO_TIMEOUT_MAX);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* services = { NAME = { methods = [...]; timeout = N; identify = B;
 * allow_remote = B; }; ... }; */
static int
parse_services(
    config_setting_t *g, struct vivo_config *c, char *err, size_t errlen)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "services: expected a group { ... }");
		return -1;
	}
	if (config_setting_length(g) > VIVO_SERVICES_MAX) {
		snprintf(
		    err, errlen, "services: at most %d", VIVO_SERVICES_MAX);
		return -1;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *sg = config_setting_get_elem(g, (unsigned)i);
		const char *sname = config_setting_name(sg);
		struct vivo_service_cfg *sc = &c->services[c->nservices];
		char where[VIVO_SERVICE_NAME_MAX + 16];

		if (sname == NULL ||
		    vivo_strlcpy(sc->name, sname, sizeof(sc->name)) != 0) {
			snprintf(err, errlen, "services: name too long");
			return -1;
		}
		snprintf(where, sizeof(where), "services.%s.", sc->name);
		if (config_setting_type(sg) != CONFIG_TYPE_GROUP) {
			snprintf(err, errlen,
			    "services.%s: expected a group "
			    "{ ... }",
			    sc->name);
			return -1;
		}
		for (int j = 0; j < config_setting_length(sg); j++) {
			config_setting_t *s =
			    config_setting_get_elem(sg, (unsigned)j);
			const char *k = config_setting_name(s);
			char sub[256];
			int r = 0;

			if (strcmp(k, "methods") == 0) {
				r = parse_methods(
				    s, where, &sc->methods, err, errlen);
				sc->set |= VIVO_SVC_METHODS;
			} else if (strcmp(k, "timeout") == 0) {
				r = parse_timeout(
				    s, where, &sc->timeout, err, errlen);
				sc->set |= VIVO_SVC_TIMEOUT;
			} else if (strcmp(k, "identify") == 0 ||
			    strcmp(k, "allow_remote") == 0 ||
			    strcmp(k, "authtok") == 0) {
				unsigned bit = k[0] == 'i' ? VIVO_SVC_IDENTIFY
				    : k[1] == 'l' ? VIVO_SVC_ALLOW_REMOTE
						  : VIVO_SVC_AUTHTOK;
				int *b = bit == VIVO_SVC_IDENTIFY
				    ? &sc->identify
				    : bit == VIVO_SVC_ALLOW_REMOTE
				    ? &sc->allow_remote
				    : &sc->authtok;
				if ((r = get_bool(s, b, sub, sizeof(sub))) != 0)
					snprintf(
					    err, errlen, "%s%s", where, sub);
				sc->set |= bit;
			} else {
				snprintf(err, errlen,
				    "%s%.64s: unknown setting (known: methods, "
				    "timeout, identify, allow_remote, authtok)",
				    where, k);
				return -1;
			}
			if (r != 0)
				return -1;
		}
		c->nservices++;
	}
	return 0;
}

int
vivo_config_apply_service(struct vivo_config *c, const char *service)
{
	if (service == NULL || service[0] == '\0')
		return 0;
	for (size_t i = 0; i < c->nservices; i++) {
		const struct vivo_service_cfg *sc = &c->services[i];
		if (strcmp(sc->name, service) != 0)
			continue;
		if (sc->set & VIVO_SVC_METHODS)
			c->methods = sc->methods;
		if (sc->set & VIVO_SVC_TIMEOUT)
			c->timeout = sc->timeout;
		if (sc->set & VIVO_SVC_IDENTIFY)
			c->identify = sc->identify;
		if (sc->set & VIVO_SVC_ALLOW_REMOTE)
			c->allow_remote = sc->allow_remote;
		if (sc->set & VIVO_SVC_AUTHTOK)
			c->authtok = sc->authtok;
		(void)vivo_strlcpy(c->service, sc->name, sizeof(c->service));
		return 1;
	}
	return 0;
}

static int
parse_setting(
    config_setting_t *s, struct vivo_config *c, char *err, size_t errlen)
{
	const char *name = config_setting_name(s);

	if (strcmp(name, "timeout") == 0) {
		return parse_timeout(s, "", &c->timeout, err, errlen);
	} else if (strcmp(name, "readers") == 0) {
		int n;
		if (parse_list(s, err, errlen))
			return -1;
		if ((n = config_setting_length(s)) > VIVO_READERS_MAX) {
			snprintf(err, errlen, "readers: at most %d",
			    VIVO_READERS_MAX);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			const char *v = config_setting_get_string_elem(s, i);
			if (v[0] == '\0' ||
			    vivo_strlcpy(
				c->readers[i], v, sizeof(c->readers[i]))) {
				snprintf(err, errlen,
				    "readers: empty or too long name");
				return -1;
			}
		}
		c->nreaders = (size_t)n;
	} else if (strcmp(name, "methods") == 0) {
		return parse_methods(s, "", &c->methods, err, errlen);
	} else if (strcmp(name, "store") == 0) {
		if (get_string(s, c->store, sizeof(c->store), err, errlen))
			return -1;
		if (c->store[0] != '/') {
			snprintf(
			    err, errlen, "store: must be an absolute path");
			return -1;
		}
	} else if (strcmp(name, "user_store") == 0) {
		return get_bool(s, &c->user_store, err, errlen);
	} else if (strcmp(name, "allow_remote") == 0) {
		return get_bool(s, &c->allow_remote, err, errlen);
	} else if (strcmp(name, "u2f") == 0) {
		return parse_u2f(s, c, err, errlen);
	} else if (strcmp(name, "fido2") == 0) {
		return parse_fido2(s, c, err, errlen);
	} else if (strcmp(name, "identify") == 0) {
		return get_bool(s, &c->identify, err, errlen);
	} else if (strcmp(name, "authtok") == 0) {
		return get_bool(s, &c->authtok, err, errlen);
	} else if (strcmp(name, "services") == 0) {
		return parse_services(s, c, err, errlen);
	} else if (strcmp(name, "directory") == 0) {
		return parse_directory(s, c, err, errlen);
	} else {
		snprintf(err, errlen, "%.64s: unknown setting", name);
		return -1;
	}
	return 0;
}

int
vivo_config_parse(
    const char *text, struct vivo_config *c, char *err, size_t errlen)
{
	config_t cfg;
	config_setting_t *root;
	int ok = -1;

	vivo_config_defaults(c);
	config_init(&cfg);
	if (vivo_libconfig_parse(&cfg, text, err, errlen) != 0)
		goto out;
	root = config_root_setting(&cfg);
	for (int i = 0; i < config_setting_length(root); i++)
		if (parse_setting(config_setting_get_elem(root, (unsigned)i), c,
			err, errlen) != 0)
			goto out;
	ok = 0;
out:
	config_destroy(&cfg);
	return ok;
}

int
vivo_config_load(const char *path, uid_t owner, struct vivo_config *c,
    char *err, size_t errlen)
{
	int is_default = path == NULL || path[0] == '\0';
	const char *p = is_default ? VIVO_CONFIG_DEFAULT : path;
	const char *why;
	char *text = NULL;
	size_t len;
	int r, ok = -1;

	vivo_config_defaults(c);
	if (p[0] != '/') {
		snprintf(err, errlen, "config path must be absolute");
		return -1;
	}
	r = vivo_file_read(p, owner, VIVO_CONFIG_MAX, &text, &len, &why);
	if (r == VIVO_ERR_FILE_NOENT && is_default)
		return 0; /* no file: the defaults */
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", p, why);
		return -1;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: contains a NUL byte", p);
		goto out;
	}
	if (vivo_config_parse(text, c, err, errlen) == 0)
		ok = 0;
	else {
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "%s: %s", p, tmp);
	}
out:
	free(text);
	return ok;
}
