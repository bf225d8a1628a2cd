/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dirval.c - the one-line form of an enrollment (dirval.h).
 */
#include "dirval.h"

#include "util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which fields of a method group are numbers or booleans (the rest are
 * strings); must match store.c's parse_uid/_hmac/_u2f/_fido2. */
static const char *const int_keys[] = { "uid.iterations", "hmac.slot",
	"fido2.cred_protect" };
static const char *const bool_keys[] = { "fido2.require_pin", "fido2.resident",
	"fido2.hmac_secret" };

static int
in_list(const char *k, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k, l[i]) == 0)
			return 1;
	return 0;
}

static int
plain_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || strchr("-._~:/+", ch) != NULL;
}

/* Append "key=value" (value percent-encoded) and a separator. */
static int
put(char **buf, size_t *len, size_t *cap, const char *key, const char *val)
{
	size_t need = strlen(key) + 3 * strlen(val) + 3;
	char *p;

	if (*len + need > *cap) {
		size_t ncap = (*cap + need) * 2;
		if (ncap > VIVO_DIRVAL_MAX * 2 ||
		    (p = realloc(*buf, ncap)) == NULL)
			return -1;
		*buf = p;
		*cap = ncap;
	}
	p = *buf + *len;
	p += sprintf(p, " %s=", key);
	for (const unsigned char *v = (const unsigned char *)val; *v; v++)
		p += plain_char(*v) ? sprintf(p, "%c", *v)
				    : sprintf(p, "%%%02X", *v);
	*len = (size_t)(p - *buf);
	return 0;
}

static int
put_setting(char **buf, size_t *len, size_t *cap, const char *prefix,
    config_setting_t *s)
{
	char key[64], num[32];
	const char *name = config_setting_name(s);

	if (name == NULL || strcmp(name, "counter") == 0)
		return 0; /* each machine's own */
	snprintf(
	    key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", name);
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return put(buf, len, cap, key, config_setting_get_string(s));
	case CONFIG_TYPE_INT:
		snprintf(num, sizeof(num), "%d", config_setting_get_int(s));
		return put(buf, len, cap, key, num);
	case CONFIG_TYPE_INT64:
		snprintf(num, sizeof(num), "%lld",
		    (long long)config_setting_get_int64(s));
		return put(buf, len, cap, key, num);
	case CONFIG_TYPE_BOOL:
		return put(buf, len, cap, key,
		    config_setting_get_bool(s) ? "true" : "false");
	case CONFIG_TYPE_GROUP:
		for (int i = 0; i < config_setting_length(s); i++)
			if (put_setting(buf, len, cap, name,
				config_setting_get_elem(s, (unsigned)i)) != 0)
				return -1;
		return 0;
	default: return -1;
	}
}

int
vivo_dirval_format(const struct vivo_entry *e, char **line)
{
	config_t cfg;
	config_setting_t *list, *g;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int ok = -1;

	*line = NULL;
	config_init(&cfg);
	if ((list = config_setting_add(
		 config_root_setting(&cfg), "l", CONFIG_TYPE_LIST)) == NULL ||
	    vivo_store_entry_to_setting(list, e) != 0 ||
	    (g = config_setting_get_elem(list, 0)) == NULL)
		goto out;
	cap = 1024;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	len = (size_t)sprintf(buf, "%s", "vivo1");
	for (int i = 0; i < config_setting_length(g); i++)
		if (put_setting(&buf, &len, &cap, "",
			config_setting_get_elem(g, (unsigned)i)) != 0)
			goto out;
	if (len > VIVO_DIRVAL_MAX)
		goto out;
	*line = buf;
	buf = NULL;
	ok = 0;
out:
	free(buf);
	config_destroy(&cfg);
	return ok;
}

/* Percent-decode in place; -1 on a bad escape or a NUL byte. */
static int
unpct(char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0'; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		int hi = vivo_hex_digit(r[1]),
		    lo = hi < 0 ? -1 : vivo_hex_digit(r[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return 0;
}

static int
parse_vivo1(const char *value, config_setting_t *g, char *why, size_t whysz)
{
	char *copy, *tok, *save = NULL;
	config_setting_t *m = NULL;
	size_t len;
	int ok = -1;

	if ((copy = strdup(value + strlen(VIVO_DIRVAL_PREFIX))) == NULL) {
		vivo_setf(why, whysz, "out of memory");
		return -1;
	}
	len = strlen(copy); /* strtok_r cuts it into pieces */
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '='), *dot;
		config_setting_t *parent = g, *s;
		const char *leaf;

		if (eq == NULL || eq == tok) {
			vivo_setf(
			    why, whysz, "\"%.32s\": expected key=value", tok);
			goto out;
		}
		*eq = '\0';
		if (unpct(eq + 1) != 0) {
			vivo_setf(why, whysz, "%.32s: bad %%-escape", tok);
			goto out;
		}
		leaf = tok;
		if ((dot = strchr(tok, '.')) != NULL) {
			*dot = '\0';
			if (m == NULL) {
				if (config_setting_get_member(g, tok) != NULL ||
				    (m = config_setting_add(
					 g, tok, CONFIG_TYPE_GROUP)) == NULL) {
					vivo_setf(why, whysz,
					    "%.16s: a second method group",
					    tok);
					goto out;
				}
			} else if (strcmp(config_setting_name(m), tok) != 0) {
				vivo_setf(why, whysz,
				    "%.16s: a second method group", tok);
				goto out;
			}
			*dot = '.';
			parent = m;
			leaf = dot + 1;
		}
		if (config_setting_get_member(parent, leaf) != NULL) {
			vivo_setf(why, whysz, "%.32s: given twice", tok);
			goto out;
		}
		if (in_list(tok, int_keys, VIVO_NELEM(int_keys))) {
			unsigned v;
			if (vivo_parse_uint(eq + 1, 0, 0x7fffffff, &v) != 0 ||
			    (s = config_setting_add(
				 parent, leaf, CONFIG_TYPE_INT)) == NULL ||
			    config_setting_set_int(s, (int)v) != CONFIG_TRUE) {
				vivo_setf(why, whysz,
				    "%.32s: expected a number", tok);
				goto out;
			}
		} else if (in_list(tok, bool_keys, VIVO_NELEM(bool_keys))) {
			int b = strcmp(eq + 1, "true") == 0;
			if ((!b && strcmp(eq + 1, "false") != 0) ||
			    (s = config_setting_add(
				 parent, leaf, CONFIG_TYPE_BOOL)) == NULL ||
			    config_setting_set_bool(s, b) != CONFIG_TRUE) {
				vivo_setf(why, whysz,
				    "%.32s: expected true or false", tok);
				goto out;
			}
		} else if ((s = config_setting_add(
				parent, leaf, CONFIG_TYPE_STRING)) == NULL ||
		    config_setting_set_string(s, eq + 1) != CONFIG_TRUE) {
			vivo_setf(why, whysz, "%.32s: not a valid key", tok);
			goto out;
		}
	}
	/* counters are kept by each machine (directory.c), from 0 */
	if (m != NULL &&
	    (strcmp(config_setting_name(m), "u2f") == 0 ||
		strcmp(config_setting_name(m), "fido2") == 0)) {
		config_setting_t *s =
		    config_setting_add(m, "counter", CONFIG_TYPE_INT64);
		if (s == NULL) {
			vivo_setf(why, whysz, "counter: given in the value");
			goto out;
		}
		(void)config_setting_set_int64(s, 0);
	}
	ok = 0;
out:
	explicit_bzero(copy, len);
	free(copy);
	return ok;
}

/* Strict standard base64 (padding optional, nothing else allowed). */
static int
b64dec(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t bits = 0, o = 0, i;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		const char *p = s[i] != '\0' ? strchr(al, s[i]) : NULL;
		if (p == NULL)
			return -1;
		acc = acc << 6 | (uint32_t)(p - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return -1; /* a lone character, or stray bits */
	*outlen = o;
	return 0;
}

/* DER SubjectPublicKeyInfo -> our raw form (04‖X‖Y, or 32 bytes). */
static int
spki_to_raw(const uint8_t *der, size_t len, struct vivo_fido2_data *f,
    char *why, size_t whysz)
{
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
	char group[32];
	BIGNUM *x = NULL, *y = NULL;
	int ok = -1;

	if (k == NULL || p != der + len) {
		vivo_setf(why, whysz,
		    "passkey: the public key is not DER "
		    "SubjectPublicKeyInfo");
		goto out;
	}
	if (EVP_PKEY_is_a(k, "ED25519")) {
		size_t n = sizeof(f->pub);
		if (EVP_PKEY_get_raw_public_key(k, f->pub, &n) != 1 || n != 32)
			goto bad;
		f->alg = VIVO_COSE_EDDSA;
		f->publen = 32;
		ok = 0;
		goto out;
	}
	if (!EVP_PKEY_is_a(k, "EC") ||
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
		sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		vivo_setf(why, whysz,
		    "passkey: only P-256 (es256) and Ed25519 keys are "
		    "supported");
		goto out;
	}
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
	    BN_bn2binpad(x, f->pub + 1, 32) != 32 ||
	    BN_bn2binpad(y, f->pub + 33, 32) != 32)
		goto bad;
	f->pub[0] = 0x04;
	f->alg = VIVO_COSE_ES256;
	f->publen = 65;
	ok = 0;
	goto out;
bad:
	vivo_setf(why, whysz, "passkey: cannot read the public key");
out:
	BN_free(x);
	BN_free(y);
	EVP_PKEY_free(k);
	return ok;
}

static int
parse_passkey(const struct vivo_config *c, const char *value,
    struct vivo_entry *e, char *why, size_t whysz)
{
	const char *id = value + strlen(VIVO_PASSKEY_PREFIX);
	const char *comma = strchr(id, ','), *pk, *end;
	uint8_t der[1024], h[EVP_MAX_MD_SIZE];
	size_t derlen;
	unsigned hl;

	memset(e, 0, sizeof(*e));
	if (comma == NULL) {
		vivo_setf(why, whysz,
		    "passkey: expected <credential id>,<public key>");
		return -1;
	}
	pk = comma + 1;
	end = strchr(pk, ',');
	if (end == NULL)
		end = pk + strlen(pk);
	/* a third field (the user handle) is not needed here */
	if (b64dec(id, (size_t)(comma - id), e->fido2.cred,
		sizeof(e->fido2.cred), &e->fido2.credlen) != 0 ||
	    e->fido2.credlen == 0) {
		vivo_setf(why, whysz,
		    "passkey: the credential id is not 1..%d bytes of base64",
		    VIVO_FIDO2_CRED_MAX);
		return -1;
	}
	if (b64dec(pk, (size_t)(end - pk), der, sizeof(der), &derlen) != 0) {
		vivo_setf(why, whysz, "passkey: the public key is not base64");
		return -1;
	}
	if (spki_to_raw(der, derlen, &e->fido2, why, whysz) != 0)
		return -1;
	if (EVP_Digest(e->fido2.cred, e->fido2.credlen, h, &hl, EVP_sha256(),
		NULL) != 1) {
		vivo_setf(why, whysz, "passkey: SHA-256 failed");
		return -1;
	}
	snprintf(e->label, sizeof(e->label), "passkey-%02x%02x%02x%02x", h[0],
	    h[1], h[2], h[3]);
	e->method = VIVO_M_FIDO2;
	(void)vivo_strlcpy(
	    e->created, "1970-01-01T00:00:00Z", sizeof(e->created));
	(void)vivo_strlcpy(e->fido2.rpid, c->rpid, sizeof(e->fido2.rpid));
	e->fido2.require_pin = c->fido2_require_pin;
	return 0;
}

int
vivo_dirval_parse(const struct vivo_config *c, const char *value,
    struct vivo_entry *e, char *why, size_t whysz)
{
	config_t cfg;
	config_setting_t *g;
	char err[160];
	int ok = -1;

	memset(e, 0, sizeof(*e));
	if (strlen(value) > VIVO_DIRVAL_MAX) {
		vivo_setf(why, whysz, "longer than %d bytes", VIVO_DIRVAL_MAX);
		return -1;
	}
	if (strncmp(value, VIVO_PASSKEY_PREFIX, strlen(VIVO_PASSKEY_PREFIX)) ==
	    0) {
		if (!(c->methods & VIVO_M_FIDO2)) {
			vivo_setf(why, whysz,
			    "a passkey (fido2), and methods does not allow "
			    "fido2");
			return -1;
		}
		return parse_passkey(c, value, e, why, whysz);
	}
	if (strncmp(value, VIVO_DIRVAL_PREFIX, strlen(VIVO_DIRVAL_PREFIX)) !=
	    0) {
		vivo_setf(why, whysz,
		    "neither \"" VIVO_DIRVAL_PREFIX "...\" nor "
		    "\"" VIVO_PASSKEY_PREFIX "...\"");
		return -1;
	}
	config_init(&cfg);
	if ((g = config_setting_add(
		 config_root_setting(&cfg), "e", CONFIG_TYPE_GROUP)) == NULL ||
	    parse_vivo1(value, g, why, whysz) != 0)
		goto out;
	{
		const char *m = NULL;
		/* say first what the method is refused for, not how its
		 * fields are wrong */
		if (config_setting_lookup_string(g, "method", &m) ==
			CONFIG_TRUE &&
		    strcmp(m, "hmac") == 0) {
			vivo_setf(why, whysz,
			    "an hmac enrollment: its state rolls on each "
			    "machine, it cannot come from a directory");
			goto out;
		}
	}
	if (vivo_store_entry_from_setting(g, e, err, sizeof(err)) != 0) {
		vivo_setf(why, whysz, "%s", err);
		goto out;
	}
	switch (e->method) {
	case VIVO_M_FIDO2:
	case VIVO_M_U2F: ok = 0; break;
	case VIVO_M_UID:
		if (c->dir.allow_uid)
			ok = 0;
		else
			vivo_setf(why, whysz,
			    "a uid enrollment, and directory.allow_uid is "
			    "false (a UID hash anyone can read can be "
			    "searched for the UID)");
		break;
	default:
		vivo_setf(why, whysz,
		    "an hmac enrollment: its state rolls on each machine, "
		    "it cannot come from a directory");
		break;
	}
out:
	config_destroy(&cfg);
	if (ok != 0)
		explicit_bzero(e, sizeof(*e));
	return ok;
}

int
vivo_dirval_key(const struct vivo_entry *e, char out[33])
{
	const char *m = vivo_method_name(e->method);
	const uint8_t *id;
	size_t idlen;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hl;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = -1;

	switch (e->method) {
	case VIVO_M_FIDO2:
		id = e->fido2.cred;
		idlen = e->fido2.credlen;
		break;
	case VIVO_M_U2F:
		id = e->u2f.kh;
		idlen = e->u2f.khlen;
		break;
	case VIVO_M_UID:
		id = e->uid.salt;
		idlen = sizeof(e->uid.salt);
		break;
	default: goto out;
	}
	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, m, strlen(m) + 1) == 1 &&
	    EVP_DigestUpdate(md, id, idlen) == 1 &&
	    EVP_DigestFinal_ex(md, h, &hl) == 1 &&
	    vivo_hex_encode(h, 16, out, 33) == 0)
		ok = 0;
out:
	EVP_MD_CTX_free(md);
	return ok;
}
