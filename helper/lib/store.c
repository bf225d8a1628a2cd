/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.c - see store.h.
 */
#include "store.h"

#include "directory.h"
#include "file.h"
#include "proto.h"
#include "log.h"
#include "priv.h"

#include <libconfig.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Strictly YYYY-MM-DDTHH:MM:SSZ. */
static int
created_valid(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";

	if (strlen(s) != sizeof(pat) - 1)
		return 0;
	for (size_t i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	}
	return 1;
}

static int
hex_field(config_setting_t *g, const char *name, uint8_t *out, size_t want,
    char *err, size_t errlen)
{
	const char *v;
	size_t n;

	if (config_setting_lookup_string(g, name, &v) != CONFIG_TRUE ||
	    vivo_hex_decode(v, out, want, &n) != 0 || n != want) {
		snprintf(
		    err, errlen, "%s: expected %zu bytes of hex", name, want);
		return -1;
	}
	return 0;
}

/* Only the listed names may appear in group g. */
static int
only_keys(config_setting_t *g, const char *const *names, size_t n, char *err,
    size_t errlen)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const char *k = config_setting_name(
		    config_setting_get_elem(g, (unsigned)i));
		size_t j;
		for (j = 0; j < n && strcmp(k, names[j]) != 0; j++)
			;
		if (j == n) {
			snprintf(err, errlen, "unknown setting \"%.32s\"",
			    k ? k : "?");
			return -1;
		}
	}
	return 0;
}

static int
parse_uid(
    config_setting_t *g, struct vivo_uid_data *u, char *err, size_t errlen)
{
	static const char *const keys[] = { "kdf", "iterations", "salt",
		"hash" };
	const char *kdf;
	int iter;

	if (g == NULL || config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "uid: missing group");
		return -1;
	}
	if (only_keys(g, keys, VIVO_NELEM(keys), err, errlen) != 0)
		return -1;
	if (config_setting_lookup_string(g, "kdf", &kdf) != CONFIG_TRUE ||
	    strcmp(kdf, "pbkdf2-sha256") != 0) {
		snprintf(err, errlen, "uid.kdf: expected \"pbkdf2-sha256\"");
		return -1;
	}
	if (config_setting_lookup_int(g, "iterations", &iter) != CONFIG_TRUE ||
	    iter < VIVO_UID_ITER_MIN || iter > VIVO_UID_ITER_MAX) {
		snprintf(err, errlen, "uid.iterations: out of range");
		return -1;
	}
	u->iterations = (uint32_t)iter;
	if (hex_field(g, "salt", u->salt, sizeof(u->salt), err, errlen) ||
	    hex_field(g, "hash", u->hash, sizeof(u->hash), err, errlen))
		return -1;
	return 0;
}

static int
parse_hmac(
    config_setting_t *g, struct vivo_hmac_data *h, char *err, size_t errlen)
{
	static const char *const keys[] = { "slot", "challenge", "sealed" };
	int slot;

	if (g == NULL || config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "hmac: missing group");
		return -1;
	}
	if (only_keys(g, keys, VIVO_NELEM(keys), err, errlen) != 0)
		return -1;
	if (config_setting_lookup_int(g, "slot", &slot) != CONFIG_TRUE ||
	    (slot != 1 && slot != 2)) {
		snprintf(err, errlen, "hmac.slot: expected 1 or 2");
		return -1;
	}
	h->slot = (uint8_t)slot;
	if (hex_field(g, "challenge", h->challenge, sizeof(h->challenge), err,
		errlen) ||
	    hex_field(g, "sealed", h->sealed, sizeof(h->sealed), err, errlen))
		return -1;
	return 0;
}

static int
parse_u2f(
    config_setting_t *g, struct vivo_u2f_data *u, char *err, size_t errlen)
{
	static const char *const keys[] = { "appid", "keyhandle", "pubkey",
		"counter" };
	const char *appid, *kh;
	long long counter;

	if (g == NULL || config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "u2f: missing group");
		return -1;
	}
	if (only_keys(g, keys, VIVO_NELEM(keys), err, errlen) != 0)
		return -1;
	if (config_setting_lookup_string(g, "appid", &appid) != CONFIG_TRUE ||
	    appid[0] == '\0' ||
	    vivo_strlcpy(u->appid, appid, sizeof(u->appid))) {
		snprintf(err, errlen, "u2f.appid: missing or too long");
		return -1;
	}
	if (config_setting_lookup_string(g, "keyhandle", &kh) != CONFIG_TRUE ||
	    vivo_hex_decode(kh, u->kh, sizeof(u->kh), &u->khlen) != 0 ||
	    u->khlen == 0) {
		snprintf(err, errlen, "keyhandle: expected 1..%d bytes of hex",
		    VIVO_U2F_KH_MAX);
		return -1;
	}
	if (hex_field(g, "pubkey", u->pub, sizeof(u->pub), err, errlen))
		return -1;
	if (u->pub[0] != 0x04) {
		snprintf(err, errlen, "pubkey: expected an uncompressed point");
		return -1;
	}
	if (config_setting_lookup_int64(g, "counter", &counter) !=
		CONFIG_TRUE ||
	    counter < 0 || counter > 0xffffffffLL) {
		snprintf(err, errlen, "u2f.counter: expected 0..4294967295");
		return -1;
	}
	u->counter = (uint32_t)counter;
	return 0;
}

static int
get_bool_key(
    config_setting_t *g, const char *name, int *out, char *err, size_t errlen)
{
	config_setting_t *s = config_setting_get_member(g, name);

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_BOOL) {
		snprintf(err, errlen, "fido2.%s: expected true or false", name);
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 0;
}

static int
parse_fido2(
    config_setting_t *g, struct vivo_fido2_data *f, char *err, size_t errlen)
{
	static const char *const keys[] = { "rpid", "credential", "type",
		"pubkey", "user_id", "require_pin", "resident", "cred_protect",
		"hmac_secret", "counter" };
	const char *rpid, *cred, *type;
	long long counter;
	int cp;

	if (g == NULL || config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "fido2: missing group");
		return -1;
	}
	if (only_keys(g, keys, VIVO_NELEM(keys), err, errlen) != 0)
		return -1;
	if (config_setting_lookup_string(g, "rpid", &rpid) != CONFIG_TRUE ||
	    rpid[0] == '\0' || vivo_strlcpy(f->rpid, rpid, sizeof(f->rpid))) {
		snprintf(err, errlen, "fido2.rpid: missing or too long");
		return -1;
	}
	if (config_setting_lookup_string(g, "credential", &cred) !=
		CONFIG_TRUE ||
	    vivo_hex_decode(cred, f->cred, sizeof(f->cred), &f->credlen) != 0 ||
	    f->credlen == 0) {
		snprintf(err, errlen,
		    "fido2.credential: expected 1..%d bytes of hex",
		    VIVO_FIDO2_CRED_MAX);
		return -1;
	}
	if (config_setting_lookup_string(g, "type", &type) != CONFIG_TRUE ||
	    (strcmp(type, "es256") != 0 && strcmp(type, "eddsa") != 0)) {
		snprintf(err, errlen,
		    "fido2.type: expected \"es256\" or "
		    "\"eddsa\"");
		return -1;
	}
	f->alg = strcmp(type, "es256") == 0 ? VIVO_COSE_ES256 : VIVO_COSE_EDDSA;
	f->publen = f->alg == VIVO_COSE_ES256 ? 65 : 32;
	if (hex_field(g, "pubkey", f->pub, f->publen, err, errlen))
		return -1;
	if (f->alg == VIVO_COSE_ES256 && f->pub[0] != 0x04) {
		snprintf(err, errlen, "pubkey: expected an uncompressed point");
		return -1;
	}
	if (hex_field(
		g, "user_id", f->user_id, sizeof(f->user_id), err, errlen) ||
	    get_bool_key(g, "require_pin", &f->require_pin, err, errlen) ||
	    get_bool_key(g, "resident", &f->resident, err, errlen) ||
	    get_bool_key(g, "hmac_secret", &f->hmac_secret, err, errlen))
		return -1;
	if (config_setting_lookup_int(g, "cred_protect", &cp) != CONFIG_TRUE ||
	    cp < 0 || cp > 3) {
		snprintf(err, errlen, "fido2.cred_protect: expected 0..3");
		return -1;
	}
	f->cred_protect = cp;
	if (config_setting_lookup_int64(g, "counter", &counter) !=
		CONFIG_TRUE ||
	    counter < 0 || counter > 0xffffffffLL) {
		snprintf(err, errlen, "fido2.counter: expected 0..4294967295");
		return -1;
	}
	f->counter = (uint32_t)counter;
	return 0;
}

static int
parse_entry(config_setting_t *g, struct vivo_entry *e, char *err, size_t errlen)
{
	static const char *const keys[] = { "label", "method", "created", "uid",
		"hmac", "u2f", "fido2" };
	const char *label, *method, *created;

	memset(e, 0, sizeof(*e));
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(err, errlen, "expected a group { ... }");
		return -1;
	}
	if (only_keys(g, keys, VIVO_NELEM(keys), err, errlen) != 0)
		return -1;
	if (config_setting_lookup_string(g, "label", &label) != CONFIG_TRUE ||
	    !vivo_label_valid(label)) {
		snprintf(err, errlen,
		    "label: missing, too long, or not printable "
		    "UTF-8");
		return -1;
	}
	(void)vivo_strlcpy(e->label, label, sizeof(e->label));
	if (config_setting_lookup_string(g, "created", &created) !=
		CONFIG_TRUE ||
	    !created_valid(created)) {
		snprintf(err, errlen, "created: expected YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	(void)vivo_strlcpy(e->created, created, sizeof(e->created));
	if (config_setting_lookup_string(g, "method", &method) != CONFIG_TRUE ||
	    (e->method = vivo_method_from_name(method)) == 0) {
		snprintf(err, errlen, "method: missing or unknown");
		return -1;
	}
	/* exactly the method's own group */
	for (size_t i = 0; i < 4; i++) {
		static const char *const groups[] = { "uid", "hmac", "u2f",
			"fido2" };
		int want = strcmp(groups[i], method) == 0;
		if ((config_setting_get_member(g, groups[i]) != NULL) != want) {
			snprintf(err, errlen, "method \"%s\": %s group %s",
			    method, groups[i],
			    want ? "missing" : "not allowed");
			return -1;
		}
	}
	switch (e->method) {
	case VIVO_M_UID:
		return parse_uid(
		    config_setting_get_member(g, "uid"), &e->uid, err, errlen);
	case VIVO_M_HMAC:
		return parse_hmac(config_setting_get_member(g, "hmac"),
		    &e->hmac, err, errlen);
	case VIVO_M_U2F:
		return parse_u2f(
		    config_setting_get_member(g, "u2f"), &e->u2f, err, errlen);
	case VIVO_M_FIDO2:
		return parse_fido2(config_setting_get_member(g, "fido2"),
		    &e->fido2, err, errlen);
	default:
		snprintf(err, errlen,
		    "method \"%s\": not supported by this "
		    "version",
		    method);
		return -1;
	}
}

int
vivo_store_parse(
    const char *text, struct vivo_store *s, char *err, size_t errlen)
{
	static const char *const keys[] = { "version", "implants" };
	config_t cfg;
	config_setting_t *root, *list;
	int version, ok = -1;
	char sub[200];

	memset(s, 0, sizeof(*s));
	config_init(&cfg);
	if (vivo_libconfig_parse(&cfg, text, err, errlen) != 0)
		goto out;
	root = config_root_setting(&cfg);
	if (only_keys(root, keys, VIVO_NELEM(keys), err, errlen) != 0)
		goto out;
	if (config_lookup_int(&cfg, "version", &version) != CONFIG_TRUE) {
		snprintf(err, errlen, "version: missing");
		goto out;
	}
	if (version != VIVO_STORE_VERSION) {
		snprintf(err, errlen,
		    "version %d: not supported (this build reads "
		    "version %d)",
		    version, VIVO_STORE_VERSION);
		goto out;
	}
	list = config_lookup(&cfg, "implants");
	if (list == NULL || config_setting_type(list) != CONFIG_TYPE_LIST) {
		snprintf(err, errlen, "implants: expected a list ( ... )");
		goto out;
	}
	if (config_setting_length(list) > VIVO_ENTRIES_MAX) {
		snprintf(err, errlen, "implants: more than %d entries",
		    VIVO_ENTRIES_MAX);
		goto out;
	}
	for (int i = 0; i < config_setting_length(list); i++) {
		struct vivo_entry *e = &s->e[s->n];
		if (parse_entry(config_setting_get_elem(list, (unsigned)i), e,
			sub, sizeof(sub)) != 0) {
			snprintf(err, errlen, "implant %d: %s", i + 1, sub);
			goto out;
		}
		if (vivo_store_find(s, e->label) >= 0) {
			snprintf(
			    err, errlen, "implant %d: duplicate label", i + 1);
			goto out;
		}
		s->n++;
	}
	ok = 0;
out:
	config_destroy(&cfg);
	if (ok != 0)
		explicit_bzero(s, sizeof(*s));
	return ok;
}

static int
add_hex(config_setting_t *g, const char *name, const uint8_t *v, size_t n)
{
	char hex[2 * VIVO_FIDO2_CRED_MAX + 1];
	config_setting_t *s;

	if (n > VIVO_FIDO2_CRED_MAX ||
	    vivo_hex_encode(v, n, hex, sizeof(hex)) != 0 ||
	    (s = config_setting_add(g, name, CONFIG_TYPE_STRING)) == NULL)
		return -1;
	return config_setting_set_string(s, hex) == CONFIG_TRUE ? 0 : -1;
}

static int
add_str(config_setting_t *g, const char *name, const char *v)
{
	config_setting_t *s = config_setting_add(g, name, CONFIG_TYPE_STRING);

	return s != NULL && config_setting_set_string(s, v) == CONFIG_TRUE ? 0
									   : -1;
}

static int
add_bool(config_setting_t *g, const char *name, int v)
{
	config_setting_t *s = config_setting_add(g, name, CONFIG_TYPE_BOOL);

	return s != NULL && config_setting_set_bool(s, v) == CONFIG_TRUE ? 0
									 : -1;
}

static int
format_entry(config_setting_t *list, const struct vivo_entry *e)
{
	config_setting_t *g, *u, *s;

	if ((g = config_setting_add(list, NULL, CONFIG_TYPE_GROUP)) == NULL ||
	    add_str(g, "label", e->label) ||
	    add_str(g, "method", vivo_method_name(e->method)) ||
	    add_str(g, "created", e->created))
		return -1;
	if (e->method == VIVO_M_UID) {
		if ((u = config_setting_add(g, "uid", CONFIG_TYPE_GROUP)) ==
			NULL ||
		    add_str(u, "kdf", "pbkdf2-sha256") ||
		    (s = config_setting_add(
			 u, "iterations", CONFIG_TYPE_INT)) == NULL ||
		    config_setting_set_int(s, (int)e->uid.iterations) !=
			CONFIG_TRUE ||
		    add_hex(u, "salt", e->uid.salt, sizeof(e->uid.salt)) ||
		    add_hex(u, "hash", e->uid.hash, sizeof(e->uid.hash)))
			return -1;
		return 0;
	}
	if (e->method == VIVO_M_HMAC) {
		if ((u = config_setting_add(g, "hmac", CONFIG_TYPE_GROUP)) ==
			NULL ||
		    (s = config_setting_add(u, "slot", CONFIG_TYPE_INT)) ==
			NULL ||
		    config_setting_set_int(s, e->hmac.slot) != CONFIG_TRUE ||
		    add_hex(u, "challenge", e->hmac.challenge,
			sizeof(e->hmac.challenge)) ||
		    add_hex(
			u, "sealed", e->hmac.sealed, sizeof(e->hmac.sealed)))
			return -1;
		return 0;
	}
	if (e->method == VIVO_M_U2F) {
		if ((u = config_setting_add(g, "u2f", CONFIG_TYPE_GROUP)) ==
			NULL ||
		    add_str(u, "appid", e->u2f.appid) ||
		    add_hex(u, "keyhandle", e->u2f.kh, e->u2f.khlen) ||
		    add_hex(u, "pubkey", e->u2f.pub, sizeof(e->u2f.pub)) ||
		    (s = config_setting_add(u, "counter", CONFIG_TYPE_INT64)) ==
			NULL ||
		    config_setting_set_int64(s, e->u2f.counter) != CONFIG_TRUE)
			return -1;
		return 0;
	}
	if (e->method == VIVO_M_FIDO2) {
		const struct vivo_fido2_data *f = &e->fido2;
		if ((u = config_setting_add(g, "fido2", CONFIG_TYPE_GROUP)) ==
			NULL ||
		    add_str(u, "rpid", f->rpid) ||
		    add_hex(u, "credential", f->cred, f->credlen) ||
		    add_str(u, "type",
			f->alg == VIVO_COSE_ES256 ? "es256" : "eddsa") ||
		    add_hex(u, "pubkey", f->pub, f->publen) ||
		    add_hex(u, "user_id", f->user_id, sizeof(f->user_id)) ||
		    add_bool(u, "require_pin", f->require_pin) ||
		    add_bool(u, "resident", f->resident) ||
		    (s = config_setting_add(
			 u, "cred_protect", CONFIG_TYPE_INT)) == NULL ||
		    config_setting_set_int(s, f->cred_protect) != CONFIG_TRUE ||
		    add_bool(u, "hmac_secret", f->hmac_secret) ||
		    (s = config_setting_add(u, "counter", CONFIG_TYPE_INT64)) ==
			NULL ||
		    config_setting_set_int64(s, f->counter) != CONFIG_TRUE)
			return -1;
		return 0;
	}
	return -1;
}

int
vivo_store_entry_to_setting(config_setting_t *list, const struct vivo_entry *e)
{
	return format_entry(list, e);
}

int
vivo_store_entry_from_setting(
    config_setting_t *g, struct vivo_entry *e, char *err, size_t errlen)
{
	return parse_entry(g, e, err, errlen);
}

int
vivo_store_format(const struct vivo_store *s, char **text, size_t *len)
{
	config_t cfg;
	config_setting_t *v, *list;
	FILE *f = NULL;
	char *buf = NULL;
	size_t blen = 0;
	int ok = -1;

	*text = NULL;
	config_init(&cfg);
	v = config_setting_add(
	    config_root_setting(&cfg), "version", CONFIG_TYPE_INT);
	list = config_setting_add(
	    config_root_setting(&cfg), "implants", CONFIG_TYPE_LIST);
	if (v == NULL || list == NULL ||
	    config_setting_set_int(v, VIVO_STORE_VERSION) != CONFIG_TRUE)
		goto out;
	for (size_t i = 0; i < s->n; i++)
		if (format_entry(list, &s->e[i]) != 0)
			goto out;
	if ((f = open_memstream(&buf, &blen)) == NULL)
		goto out;
	fputs("# pam_vivo enrollments, written by vivo-enroll.\n"
	      "# Format: docs/enrollment-format.md. Edit with vivo-enroll.\n",
	    f);
	config_write(&cfg, f);
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	*text = buf;
	*len = blen;
	buf = NULL;
	ok = 0;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	config_destroy(&cfg);
	return ok;
}

int
vivo_store_find(const struct vivo_store *s, const char *label)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].label, label) == 0)
			return (int)i;
	return -1;
}

int
vivo_store_add(struct vivo_store *s, const struct vivo_entry *e)
{
	if (s->n >= VIVO_ENTRIES_MAX || vivo_store_find(s, e->label) >= 0)
		return -1;
	s->e[s->n++] = *e;
	return 0;
}

int
vivo_store_remove(struct vivo_store *s, const char *label)
{
	int i = vivo_store_find(s, label);

	if (i < 0)
		return -1;
	memmove(
	    &s->e[i], &s->e[i + 1], (s->n - (size_t)i - 1) * sizeof(s->e[0]));
	s->n--;
	explicit_bzero(&s->e[s->n], sizeof(s->e[0]));
	return 0;
}

int
vivo_store_system_path(
    const struct vivo_config *c, const char *user, char *out, size_t outsz)
{
	if (!vivo_user_valid(user))
		return -1;
	return snprintf(out, outsz, "%s/%s", c->store, user) < (int)outsz ? 0
									  : -1;
}

int
vivo_store_public_path(
    const struct vivo_config *c, const char *user, char *out, size_t outsz)
{
	if (!vivo_user_valid(user))
		return -1;
	return snprintf(out, outsz, "%s/%s/%s", c->store, VIVO_STORE_PUBLIC_DIR,
		   user) < (int)outsz
	    ? 0
	    : -1;
}

int
vivo_method_is_public(unsigned m)
{
	return m == VIVO_M_U2F || m == VIVO_M_FIDO2;
}

int
vivo_store_user_path(const char *home, char *out, size_t outsz)
{
	if (home == NULL || home[0] != '/')
		return -1;
	return snprintf(out, outsz, "%s/%s", home, VIVO_USER_STORE_REL) <
		(int)outsz
	    ? 0
	    : -1;
}

int
vivo_store_load(const char *path, uid_t owner, struct vivo_store *s, char *err,
    size_t errlen)
{
	const char *why;
	char *text = NULL, sub[256];
	size_t len;
	int r;

	memset(s, 0, sizeof(*s));
	r = vivo_file_read(path, owner, VIVO_STORE_MAX, &text, &len, &why);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return r;
	}
	if (strlen(text) != len) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		r = VIVO_ERR_STORE_CORRUPT;
	} else if (vivo_store_parse(text, s, sub, sizeof(sub)) != 0) {
		snprintf(err, errlen, "%s: %s", path, sub);
		r = VIVO_ERR_STORE_CORRUPT;
	}
	explicit_bzero(text, len);
	free(text);
	return r;
}

int
vivo_store_save(const char *path, const struct vivo_store *s, mode_t mode)
{
	char *text;
	size_t len;
	int r;

	if (vivo_store_format(s, &text, &len) != 0)
		return VIVO_ERR_NOMEM;
	r = vivo_file_replace(path, text, len, mode);
	explicit_bzero(text, len);
	free(text);
	return r;
}

void
vivo_store_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Entry of `s` with e's label that is the same public registration (u2f, fido2). */
static int
same_public(const struct vivo_store *s, const struct vivo_entry *e)
{
	int i = vivo_store_find(s, e->label);

	if (i >= 0 && e->method == VIVO_M_FIDO2)
		return s->e[i].method == VIVO_M_FIDO2 &&
		    s->e[i].fido2.credlen == e->fido2.credlen &&
		    memcmp(s->e[i].fido2.cred, e->fido2.cred,
			e->fido2.credlen) == 0;
	return i >= 0 && s->e[i].method == VIVO_M_U2F &&
	    s->e[i].u2f.khlen == e->u2f.khlen &&
	    memcmp(s->e[i].u2f.kh, e->u2f.kh, e->u2f.khlen) == 0 &&
	    memcmp(s->e[i].u2f.pub, e->u2f.pub, sizeof(e->u2f.pub)) == 0;
}

void
vivo_store_drop_duplicates(struct vivo_store *sys, const struct vivo_store *pub)
{
	size_t i = 0;

	while (i < sys->n) {
		if (vivo_method_is_public(sys->e[i].method) &&
		    same_public(pub, &sys->e[i]))
			(void)vivo_store_remove(sys, sys->e[i].label);
		else
			i++;
	}
}

int
vivo_store_migrate(
    const struct vivo_config *c, const char *user, char *err, size_t errlen)
{
	struct vivo_store *sys = NULL, *pub = NULL;
	char sys_path[VIVO_PATH_MAX], pub_path[VIVO_PATH_MAX], sub[512];
	struct stat st;
	int lock = -1, plock = -1, r, ok = -1, moved = 0;

	if (vivo_store_system_path(c, user, sys_path, sizeof(sys_path)) != 0 ||
	    vivo_store_public_path(c, user, pub_path, sizeof(pub_path)) != 0) {
		snprintf(err, errlen, "store path too long");
		return -1;
	}
	/* the common case, without a lock: nothing to do. Only a regular
	 * file readable by others is of the old layout; one that is unsafe
	 * (a symlink, writable by others) is left for the load to refuse. */
	if (lstat(sys_path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 044) == 0 || (st.st_mode & 022) != 0)
		return 0;
	if ((sys = calloc(1, sizeof(*sys))) == NULL ||
	    (pub = calloc(1, sizeof(*pub))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((lock = vivo_file_lock_dir(sys_path)) < 0 ||
	    vivo_file_mkparents(pub_path, 0755) != 0 ||
	    (plock = vivo_file_lock_dir(pub_path)) < 0) {
		snprintf(err, errlen, "cannot lock %s: %s", sys_path,
		    strerror(errno));
		goto out;
	}
	if ((r = vivo_store_load(sys_path, 0, sys, sub, sizeof(sub))) != 0) {
		ok = r == VIVO_ERR_FILE_NOENT ? 0 : -1; /* gone meanwhile */
		snprintf(err, errlen, "%s", sub);
		goto out;
	}
	r = vivo_store_load(pub_path, 0, pub, sub, sizeof(sub));
	if (r != 0 && r != VIVO_ERR_FILE_NOENT) {
		snprintf(err, errlen, "%s", sub);
		goto out;
	}
	/* public entries first move to the public file (written first: a
	 * crash in between leaves them in both, which readers and the next
	 * migration recognise), then the protected file is rewritten 0600 */
	for (size_t i = 0; i < sys->n; i++) {
		const struct vivo_entry *e = &sys->e[i];
		if (!vivo_method_is_public(e->method) || same_public(pub, e))
			continue;
		if (vivo_store_find(pub, e->label) >= 0 ||
		    vivo_store_add(pub, e) != 0) {
			/* logged here: the migration itself succeeds, and
			 * its caller keeps no message on success */
			vivo_warn("cannot move implant \"%s\" to %s: the label "
				  "is taken or the file is full; it stays in "
				  "%s, where "
				  "a screen locker cannot use it",
			    e->label, pub_path, sys_path);
			continue; /* it stays where it is, protected */
		}
		moved = 1;
	}
	if (moved) {
		vivo_file_clean_stale(pub_path);
		if (vivo_store_save(pub_path, pub, 0644) != 0) {
			snprintf(err, errlen, "cannot write %s: %s", pub_path,
			    strerror(errno));
			goto out;
		}
	}
	vivo_store_drop_duplicates(sys, pub);
	vivo_file_clean_stale(sys_path);
	if (vivo_store_save(sys_path, sys, 0600) != 0) {
		snprintf(err, errlen, "cannot rewrite %s: %s", sys_path,
		    strerror(errno));
		goto out;
	}
	ok = 1;
out:
	vivo_file_unlock(plock);
	vivo_file_unlock(lock);
	if (sys != NULL) {
		explicit_bzero(sys, sizeof(*sys));
		free(sys);
	}
	if (pub != NULL) {
		explicit_bzero(pub, sizeof(*pub));
		free(pub);
	}
	return ok;
}

/* Length of the directory part of a path. */
static size_t
dirlen(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? (size_t)(slash - path) : 0;
}

int
vivo_store_edit_begin(struct vivo_store_edit *ed, char *err, size_t errsz)
{
	const char *first = ed->path, *second = ed->other;
	int r;

	ed->lock_a = ed->lock_b = -1;
	memset(&ed->cur, 0, sizeof(ed->cur));
	memset(&ed->oth, 0, sizeof(ed->oth));
	if (second != NULL && second[0] == '\0')
		second = NULL;
	/* one order for every writer (vivo_store_migrate too): the shorter
	 * directory, the parent, first */
	if (second != NULL && dirlen(second) < dirlen(first)) {
		first = ed->other;
		second = ed->path;
	}
	if (ed->dirmode != 0 &&
	    vivo_file_mkparents(ed->path, ed->dirmode) != 0) {
		snprintf(err, errsz, "cannot create the directory of %s: %s",
		    ed->path, strerror(errno));
		return VIVO_ERR_FILE_IO;
	}
	if ((ed->lock_a = vivo_file_lock_dir(first)) < 0) {
		snprintf(err, errsz, "cannot lock the directory of %s: %s",
		    first, strerror(errno));
		return VIVO_ERR_FILE_IO;
	}
	if (second != NULL && (ed->lock_b = vivo_file_lock_dir(second)) < 0 &&
	    errno != ENOENT) {
		snprintf(err, errsz, "cannot lock the directory of %s: %s",
		    second, strerror(errno));
		return VIVO_ERR_FILE_IO;
	}
	r = vivo_store_load(ed->path, ed->owner, &ed->cur, err, errsz);
	if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		return r;
	if (ed->other != NULL && ed->other[0] != '\0') {
		r = vivo_store_load(ed->other, ed->owner, &ed->oth, err, errsz);
		if (r != 0 && r != VIVO_ERR_FILE_NOENT)
			return r;
	}
	err[0] = '\0';
	return VIVO_OK;
}

int
vivo_store_edit_save(
    struct vivo_store_edit *ed, int which, char *err, size_t errsz)
{
	const char *path = which ? ed->other : ed->path;
	int r;

	vivo_file_clean_stale(path); /* we hold the lock */
	r = vivo_store_save(path, which ? &ed->oth : &ed->cur,
	    which ? ed->other_mode : ed->mode);
	if (r == VIVO_ERR_FILE_NOTSYNCED)
		snprintf(err, errsz,
		    "%s was written, but its directory could "
		    "not be synced to disk (%s): after a crash the previous "
		    "version may be back",
		    path, strerror(errno));
	else if (r != 0)
		snprintf(err, errsz,
		    "cannot write %s: %s (the previous version "
		    "is intact)",
		    path, strerror(errno));
	return r;
}

void
vivo_store_edit_end(struct vivo_store_edit *ed)
{
	vivo_file_unlock(ed->lock_b);
	vivo_file_unlock(ed->lock_a);
	ed->lock_a = ed->lock_b = -1;
	explicit_bzero(&ed->cur, sizeof(ed->cur));
	explicit_bzero(&ed->oth, sizeof(ed->oth));
}

int
vivo_store_update(const char *path, uid_t owner, mode_t mode, const char *label,
    vivo_entry_update_fn fn, void *arg, char *reason, size_t reasonsz)
{
	struct vivo_store_edit *ed = NULL;
	char err[512];
	int idx, result = VIVO_R_INTERNAL;

	if ((ed = calloc(1, sizeof(*ed))) == NULL)
		return VIVO_R_INTERNAL;
	ed->path = path;
	ed->owner = owner;
	ed->mode = mode;
	if (vivo_store_edit_begin(ed, err, sizeof(err)) != VIVO_OK) {
		snprintf(reason, reasonsz,
		    "cannot store the new state: %s; "
		    "refusing",
		    err);
		goto out;
	}
	if ((idx = vivo_store_find(&ed->cur, label)) < 0) {
		result = VIVO_R_AUTH_FAILED;
		snprintf(reason, reasonsz,
		    "implant \"%s\" was removed meanwhile", label);
		goto out;
	}
	if ((result = fn(&ed->cur.e[idx], arg, reason, reasonsz)) != VIVO_R_OK)
		goto out;
	result = VIVO_R_INTERNAL;
	if (vivo_store_edit_save(ed, 0, err, sizeof(err)) != 0) {
		snprintf(reason, reasonsz,
		    "cannot store the new state: %s; "
		    "refusing",
		    err);
		goto out;
	}
	result = VIVO_R_OK;
out:
	vivo_store_edit_end(ed);
	free(ed);
	return result;
}

/* Keep only the entries whose data is public (what a caller that is not
 * root may use from the system store); 1 if any was dropped. */
static int
keep_public(struct vivo_store *s)
{
	size_t i = 0;
	int dropped = 0;

	while (i < s->n) {
		if (vivo_method_is_public(s->e[i].method))
			i++;
		else {
			(void)vivo_store_remove(s, s->e[i].label);
			dropped = 1;
		}
	}
	return dropped;
}

static int
load_local(const struct vivo_config *c, const char *user, int mode,
    struct vivo_enrollments *en, char *reason, size_t reasonsz)
{
	struct passwd pw;
	char pwbuf[4096];
	struct vivo_priv priv;
	uid_t me = geteuid();
	int r;

	memset(en, 0, sizeof(*en));
	if (vivo_store_system_path(
		c, user, en->path[VIVO_ST_SYSTEM], sizeof(en->path[0])) != 0 ||
	    vivo_store_public_path(
		c, user, en->path[VIVO_ST_PUBLIC], sizeof(en->path[0])) != 0) {
		snprintf(reason, reasonsz, "cannot build the store path");
		return VIVO_R_INTERNAL;
	}
	if (me == 0 &&
	    (r = vivo_store_migrate(c, user, reason, reasonsz)) != 0) {
		if (r < 0)
			vivo_warn("cannot protect the enrollments of %s: %s",
			    user, reason);
		else
			vivo_info(
			    "enrollments of %s moved to the protected layout "
			    "(%s 0600, public entries in %s)",
			    user, en->path[VIVO_ST_SYSTEM],
			    en->path[VIVO_ST_PUBLIC]);
		reason[0] = '\0';
	}
	r = vivo_store_load(en->path[VIVO_ST_SYSTEM], me,
	    &en->st[VIVO_ST_SYSTEM], reason, reasonsz);
	if (r == VIVO_ERR_FILE_ACCES && me != 0) {
		en->protected_unreadable = 1; /* root's alone, by design */
		reason[0] = '\0';
	} else if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		return VIVO_R_UNSAFE;
	if (me != 0 && keep_public(&en->st[VIVO_ST_SYSTEM]))
		vivo_notice(
		    "%s is readable by others and holds secret "
		    "entries: not used; root's next use of it (or vivo-enroll "
		    "migrate) protects it",
		    en->path[VIVO_ST_SYSTEM]);
	r = vivo_store_load(en->path[VIVO_ST_PUBLIC], me,
	    &en->st[VIVO_ST_PUBLIC], reason, reasonsz);
	if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		return VIVO_R_UNSAFE;
	if (keep_public(&en->st[VIVO_ST_PUBLIC]))
		vivo_warn("%s holds entries that are not public: ignored",
		    en->path[VIVO_ST_PUBLIC]);
	vivo_store_drop_duplicates(
	    &en->st[VIVO_ST_SYSTEM], &en->st[VIVO_ST_PUBLIC]);
	if (!c->user_store)
		return VIVO_R_OK;
	if (vivo_getpw(user, &pw, pwbuf, sizeof(pwbuf)) != 0)
		return VIVO_R_OK; /* no such account: nothing in a home */
	if (mode == VIVO_EN_REQUEST && me != pw.pw_uid) {
		/* whatever runs as the user can write that file: it must not
		 * open doors that run as root (sudo, su, login) */
		vivo_dbg(
		    "user store of %s ignored: this request runs as uid %u, "
		    "not as %s",
		    user, (unsigned)me, user);
		explicit_bzero(pwbuf, sizeof(pwbuf));
		return VIVO_R_OK;
	}
	if (vivo_store_user_path(
		pw.pw_dir, en->path[VIVO_ST_USER], sizeof(en->path[0])) != 0) {
		snprintf(reason, reasonsz, "cannot build the user store path");
		return VIVO_R_INTERNAL;
	}
	if (vivo_priv_drop(&priv, &pw) != 0) {
		snprintf(reason, reasonsz, "cannot switch to %s to read %s",
		    user, en->path[VIVO_ST_USER]);
		return VIVO_R_INTERNAL;
	}
	r = vivo_store_load(en->path[VIVO_ST_USER], pw.pw_uid,
	    &en->st[VIVO_ST_USER], reason, reasonsz);
	vivo_priv_regain(&priv);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	if (r != 0 && r != VIVO_ERR_FILE_NOENT)
		return VIVO_R_UNSAFE;
	return VIVO_R_OK;
}

int
vivo_enrollments_load(const struct vivo_config *c, const char *user, int mode,
    struct vivo_enrollments *en, char *reason, size_t reasonsz)
{
	int r = load_local(c, user, mode, en, reason, reasonsz);

	if (r != VIVO_R_OK || c->dir.uri[0] == '\0')
		return r;
	if (vivo_dir_load(c, user, &en->st[VIVO_ST_DIRECTORY], &en->dir_state,
		en->dir_why, sizeof(en->dir_why)) != 0) {
		vivo_setf(reason, reasonsz, "out of memory");
		return VIVO_R_INTERNAL;
	}
	(void)snprintf(en->path[VIVO_ST_DIRECTORY],
	    sizeof(en->path[VIVO_ST_DIRECTORY]), "%s/%s/%s", c->store,
	    VIVO_DIRECTORY_DIR, user);
	if (en->dir_state == VIVO_DIR_CACHED)
		vivo_notice("directory: %s", en->dir_why);
	else if (en->dir_state == VIVO_DIR_UNAVAILABLE && geteuid() == 0)
		vivo_warn(
		    "directory: nothing for %s from it: %s", user, en->dir_why);
	else if (en->dir_state == VIVO_DIR_UNAVAILABLE)
		vivo_dbg("directory: %s", en->dir_why);
	/* a label is one enrollment: a directory value may not take the
	 * name of a local one (a sealed secret is found by its label) */
	{
		struct vivo_store *d = &en->st[VIVO_ST_DIRECTORY];
		for (size_t i = 0; i < d->n;) {
			int clash = 0;
			for (int s = 0; s < VIVO_ST_DIRECTORY; s++)
				clash |= vivo_store_find(
					     &en->st[s], d->e[i].label) >= 0;
			if (!clash) {
				i++;
				continue;
			}
			vivo_warn("directory: the value labelled \"%s\" of %s "
				  "is ignored: a local enrollment has that "
				  "label",
			    d->e[i].label, user);
			(void)vivo_store_remove(d, d->e[i].label);
		}
	}
	return VIVO_R_OK;
}
