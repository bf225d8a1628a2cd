/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * authtok.c - see authtok.h.
 */
#include "authtok.h"
#include "file.h"
#include "store.h"

#include <libconfig.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <errno.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTHTOK_VERSION 1
#define AUTHTOK_FILE_MAX (64 * 1024)
static const char ctx_label[] = "pam_vivo authtok v1";

void
vivo_authtok_fido2_salt(
    const uint8_t salt[VIVO_AUTHTOK_SALT_LEN], uint8_t out[32])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned n = 0;

	if (m == NULL || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(m, ctx_label, sizeof(ctx_label) - 1) != 1 ||
	    EVP_DigestUpdate(m, salt, VIVO_AUTHTOK_SALT_LEN) != 1 ||
	    EVP_DigestFinal_ex(m, out, &n) != 1 || n != 32)
		memset(out, 0, 32); /* fails closed: no seal opens with it */
	EVP_MD_CTX_free(m);
}

int
vivo_authtok_key(unsigned method, const uint8_t *ikm, size_t ikmlen,
    const uint8_t salt[VIVO_AUTHTOK_SALT_LEN],
    uint8_t key[VIVO_AUTHTOK_KEY_LEN])
{
	char info[48];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5];
	int ok = -1;

	snprintf(info, sizeof(info), "%s %s", ctx_label,
	    method == VIVO_M_HMAC ? "hmac" : "fido2");
	p[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	p[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SALT, (void *)salt, VIVO_AUTHTOK_SALT_LEN);
	p[3] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_INFO, info, strlen(info));
	p[4] = OSSL_PARAM_construct_end();
	if (ctx != NULL &&
	    EVP_KDF_derive(ctx, key, VIVO_AUTHTOK_KEY_LEN, p) == 1)
		ok = 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

/* AAD: context ‖ 00 ‖ user ‖ 00 ‖ label */
static size_t
aad(const char *user, const char *label, uint8_t *out, size_t cap)
{
	size_t n = 0, a = sizeof(ctx_label), u = strlen(user) + 1,
	       l = strlen(label);

	if (a + u + l > cap)
		return 0;
	memcpy(out, ctx_label, a);
	n += a;
	memcpy(out + n, user, u);
	n += u;
	memcpy(out + n, label, l);
	return n + l;
}

int
vivo_authtok_seal(struct vivo_sealed *s, const char *user,
    const uint8_t key[VIVO_AUTHTOK_KEY_LEN], const char *pw)
{
	uint8_t ad[sizeof(ctx_label) + VIVO_USER_MAX + VIVO_LABEL_MAX + 2];
	size_t pwlen = strlen(pw), adlen = aad(user, s->label, ad, sizeof(ad));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok = -1;

	if (c == NULL || adlen == 0 || pwlen == 0 || pwlen > VIVO_AUTHTOK_MAX ||
	    RAND_bytes(s->nonce, sizeof(s->nonce)) != 1 ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
		c, EVP_CTRL_GCM_SET_IVLEN, VIVO_AUTHTOK_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, s->nonce) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, ad, (int)adlen) != 1 ||
	    EVP_EncryptUpdate(
		c, s->blob, &len, (const uint8_t *)pw, (int)pwlen) != 1 ||
	    (size_t)len != pwlen ||
	    EVP_EncryptFinal_ex(c, s->blob + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, VIVO_AUTHTOK_TAG_LEN,
		s->blob + pwlen) != 1)
		goto out;
	s->bloblen = pwlen + VIVO_AUTHTOK_TAG_LEN;
	ok = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return ok;
}

int
vivo_authtok_open(const struct vivo_sealed *s, const char *user,
    const uint8_t key[VIVO_AUTHTOK_KEY_LEN], char *pw, size_t pwsz)
{
	uint8_t ad[sizeof(ctx_label) + VIVO_USER_MAX + VIVO_LABEL_MAX + 2];
	uint8_t tag[VIVO_AUTHTOK_TAG_LEN];
	size_t adlen = aad(user, s->label, ad, sizeof(ad)), ctlen;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0, ok = -1;

	if (c == NULL || adlen == 0 || s->bloblen <= VIVO_AUTHTOK_TAG_LEN ||
	    s->bloblen > sizeof(s->blob) ||
	    (ctlen = s->bloblen - VIVO_AUTHTOK_TAG_LEN) >= pwsz)
		goto out;
	memcpy(tag, s->blob + ctlen, sizeof(tag));
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
		c, EVP_CTRL_GCM_SET_IVLEN, VIVO_AUTHTOK_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, s->nonce) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &len, ad, (int)adlen) != 1 ||
	    EVP_DecryptUpdate(c, (uint8_t *)pw, &len, s->blob, (int)ctlen) !=
		1 ||
	    EVP_CIPHER_CTX_ctrl(
		c, EVP_CTRL_GCM_SET_TAG, VIVO_AUTHTOK_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(c, (uint8_t *)pw + len, &fin) != 1) {
		OPENSSL_cleanse(pw, pwsz);
		goto out;
	}
	pw[ctlen] = '\0';
	/* a NUL inside would cut the password short: refuse it */
	if (strlen(pw) != ctlen) {
		OPENSSL_cleanse(pw, pwsz);
		goto out;
	}
	ok = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return ok;
}

int
vivo_authtok_shadow(const char *user, uint8_t out[32])
{
	struct spwd sp, *res = NULL;
	char buf[4096];
	unsigned n = 0;
	int r = -1;

	/* getspnam_r returns its error; no entry is 0 with res NULL (or
	 * ENOENT on some versions) */
	r = getspnam_r(user, &sp, buf, sizeof(buf), &res);
	if (r != 0 || res == NULL) {
		explicit_bzero(buf, sizeof(buf));
		return r == 0 || r == ENOENT ? 0 : -1;
	}
	r = -1;
	if (EVP_Digest(sp.sp_pwdp, strlen(sp.sp_pwdp), out, &n, EVP_sha256(),
		NULL) == 1 &&
	    n == 32)
		r = 1;
	explicit_bzero(buf, sizeof(buf));
	return r;
}

int
vivo_authtok_path(
    const struct vivo_config *c, const char *user, char *out, size_t outsz)
{
	int n;

	if (!vivo_user_valid(user))
		return -1;
	n = snprintf(out, outsz, "%s/%s/%s", c->store, VIVO_AUTHTOK_DIR, user);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static int
hex_get(config_setting_t *g, const char *name, uint8_t *out, size_t cap,
    size_t *len, int exact)
{
	const char *v;
	size_t n = 0;

	if (config_setting_lookup_string(g, name, &v) != CONFIG_TRUE ||
	    vivo_hex_decode(v, out, cap, &n) != 0 || (exact && n != cap))
		return -1;
	if (len != NULL)
		*len = n;
	return 0;
}

static int
parse(const char *text, struct vivo_sealed_set *set, char *why, size_t whysz)
{
	config_t cfg;
	config_setting_t *list;
	int version, ok = -1;
	char err[256];

	memset(set, 0, sizeof(*set));
	config_init(&cfg);
	if (vivo_libconfig_parse(&cfg, text, err, sizeof(err)) != 0) {
		vivo_setf(why, whysz, "%s", err);
		goto out;
	}
	if (config_lookup_int(&cfg, "version", &version) != CONFIG_TRUE ||
	    version != AUTHTOK_VERSION ||
	    (list = config_lookup(&cfg, "sealed")) == NULL ||
	    config_setting_type(list) != CONFIG_TYPE_LIST ||
	    config_setting_length(list) > VIVO_AUTHTOK_ITEMS_MAX) {
		vivo_setf(why, whysz,
		    "expected version = %d and a list sealed "
		    "= ( ... ) of at most %d",
		    AUTHTOK_VERSION, VIVO_AUTHTOK_ITEMS_MAX);
		goto out;
	}
	for (int i = 0; i < config_setting_length(list); i++) {
		config_setting_t *g =
		    config_setting_get_elem(list, (unsigned)i);
		struct vivo_sealed *s = &set->s[set->n];
		const char *label, *method, *created, *sh;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP ||
		    config_setting_lookup_string(g, "label", &label) !=
			CONFIG_TRUE ||
		    !vivo_label_valid(label) ||
		    config_setting_lookup_string(g, "method", &method) !=
			CONFIG_TRUE ||
		    ((s->method = vivo_method_from_name(method)) !=
			    VIVO_M_HMAC &&
			s->method != VIVO_M_FIDO2) ||
		    hex_get(g, "salt", s->salt, sizeof(s->salt), NULL, 1) ||
		    hex_get(g, "nonce", s->nonce, sizeof(s->nonce), NULL, 1) ||
		    hex_get(
			g, "blob", s->blob, sizeof(s->blob), &s->bloblen, 0) ||
		    s->bloblen <= VIVO_AUTHTOK_TAG_LEN ||
		    config_setting_lookup_string(g, "shadow", &sh) !=
			CONFIG_TRUE ||
		    config_setting_lookup_string(g, "created", &created) !=
			CONFIG_TRUE ||
		    vivo_strlcpy(s->created, created, sizeof(s->created))) {
			vivo_setf(why, whysz, "sealed %d: malformed", i + 1);
			goto out;
		}
		(void)vivo_strlcpy(s->label, label, sizeof(s->label));
		if (sh[0] != '\0') {
			if (hex_get(g, "shadow", s->shadow, sizeof(s->shadow),
				NULL, 1)) {
				vivo_setf(why, whysz,
				    "sealed %d: malformed "
				    "shadow",
				    i + 1);
				goto out;
			}
			s->has_shadow = 1;
		}
		for (size_t j = 0; j < set->n; j++)
			if (strcmp(set->s[j].label, s->label) == 0) {
				vivo_setf(why, whysz,
				    "sealed %d: duplicate "
				    "label",
				    i + 1);
				goto out;
			}
		set->n++;
	}
	ok = 0;
out:
	config_destroy(&cfg);
	if (ok != 0)
		explicit_bzero(set, sizeof(*set));
	return ok;
}

int
vivo_authtok_load(const struct vivo_config *c, const char *user,
    struct vivo_sealed_set *set, char *why, size_t whysz)
{
	char path[VIVO_PATH_MAX], *text = NULL, sub[256];
	const char *w = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	memset(set, 0, sizeof(*set));
	if (vivo_authtok_path(c, user, path, sizeof(path)) != 0) {
		vivo_setf(why, whysz, "invalid user name or path too long");
		return VIVO_ERR_FILE_IO;
	}
	r = vivo_file_read(path, 0, AUTHTOK_FILE_MAX, &text, &len, &w);
	if (r == VIVO_ERR_FILE_NOENT)
		return VIVO_OK;
	if (r != VIVO_OK) {
		vivo_setf(why, whysz, "%s: %s", path, w ? w : vivo_strerr(r));
		return r;
	}
	/* sealed secrets are root's alone */
	if (stat(path, &st) != 0 || (st.st_mode & 077) != 0) {
		vivo_setf(why, whysz,
		    "%s: readable by others (it must be 0600)", path);
		r = VIVO_ERR_FILE_UNSAFE;
	} else if (strlen(text) != len || parse(text, set, sub, sizeof(sub))) {
		vivo_setf(why, whysz, "%s: %s", path,
		    strlen(text) != len ? "contains a NUL byte" : sub);
		r = VIVO_ERR_STORE_CORRUPT;
	}
	explicit_bzero(text, len);
	free(text);
	return r;
}

static int
add_hexs(config_setting_t *g, const char *name, const uint8_t *v, size_t n)
{
	char hex[2 * (VIVO_AUTHTOK_MAX + VIVO_AUTHTOK_TAG_LEN) + 1];
	config_setting_t *s;

	if (vivo_hex_encode(v, n, hex, sizeof(hex)) != 0 ||
	    (s = config_setting_add(g, name, CONFIG_TYPE_STRING)) == NULL)
		return -1;
	return config_setting_set_string(s, hex) == CONFIG_TRUE ? 0 : -1;
}

static int
add_s(config_setting_t *g, const char *name, const char *v)
{
	config_setting_t *s = config_setting_add(g, name, CONFIG_TYPE_STRING);

	return s != NULL && config_setting_set_string(s, v) == CONFIG_TRUE ? 0
									   : -1;
}

static int
format(const struct vivo_sealed_set *set, char **text, size_t *len)
{
	config_t cfg;
	config_setting_t *v, *list;
	FILE *f;
	int ok = -1;

	*text = NULL;
	*len = 0;
	config_init(&cfg);
	if ((v = config_setting_add(config_root_setting(&cfg), "version",
		 CONFIG_TYPE_INT)) == NULL ||
	    config_setting_set_int(v, AUTHTOK_VERSION) != CONFIG_TRUE ||
	    (list = config_setting_add(config_root_setting(&cfg), "sealed",
		 CONFIG_TYPE_LIST)) == NULL)
		goto out;
	for (size_t i = 0; i < set->n; i++) {
		const struct vivo_sealed *s = &set->s[i];
		config_setting_t *g =
		    config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
		if (g == NULL || add_s(g, "label", s->label) ||
		    add_s(g, "method", vivo_method_name(s->method)) ||
		    add_s(g, "created", s->created) ||
		    add_hexs(g, "salt", s->salt, sizeof(s->salt)) ||
		    add_hexs(g, "nonce", s->nonce, sizeof(s->nonce)) ||
		    add_hexs(g, "blob", s->blob, s->bloblen) ||
		    (s->has_shadow ? add_hexs(g, "shadow", s->shadow,
					 sizeof(s->shadow))
				   : add_s(g, "shadow", "")))
			goto out;
	}
	if ((f = open_memstream(text, len)) == NULL)
		goto out;
	fputs("# pam_vivo sealed login secrets: root's alone (0600). "
	      "docs/enrollment-format.md\n",
	    f);
	config_write(&cfg, f);
	if (fclose(f) == 0)
		ok = 0;
out:
	config_destroy(&cfg);
	if (ok != 0 && *text != NULL) {
		free(*text);
		*text = NULL;
	}
	return ok;
}

int
vivo_authtok_update(const struct vivo_config *c, const char *user,
    const char *label, const struct vivo_sealed *s, char *why, size_t whysz)
{
	struct vivo_sealed_set *set = NULL;
	char path[VIVO_PATH_MAX], dir[VIVO_PATH_MAX], *text = NULL;
	size_t len = 0, i;
	int lock = -1, ok = -1, changed = 0, r;

	if (vivo_authtok_path(c, user, path, sizeof(path)) != 0 ||
	    snprintf(dir, sizeof(dir), "%s/%s", c->store, VIVO_AUTHTOK_DIR) <
		0) {
		vivo_setf(why, whysz, "invalid user name or path too long");
		return -1;
	}
	if (s == NULL && access(dir, F_OK) != 0)
		return 0; /* nothing was ever sealed here */
	if (vivo_file_mkparents(path, 0755) != 0 || chmod(dir, 0700) != 0 ||
	    (lock = vivo_file_lock_dir(path)) < 0) {
		vivo_setf(why, whysz, "cannot create or lock %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		vivo_setf(why, whysz, "out of memory");
		goto out;
	}
	if ((r = vivo_authtok_load(c, user, set, why, whysz)) != VIVO_OK)
		goto out;
	for (i = 0; i < set->n;) {
		if (label == NULL || strcmp(set->s[i].label, label) == 0) {
			memmove(&set->s[i], &set->s[i + 1],
			    (set->n - i - 1) * sizeof(set->s[0]));
			set->n--;
			changed = 1;
		} else
			i++;
	}
	if (s != NULL) {
		if (set->n >= VIVO_AUTHTOK_ITEMS_MAX) {
			vivo_setf(why, whysz, "%s: full", path);
			goto out;
		}
		set->s[set->n++] = *s;
		changed = 1;
	}
	if (!changed) {
		ok = 0;
		goto out;
	}
	if (set->n == 0) {
		if (unlink(path) != 0 && errno != ENOENT) {
			vivo_setf(why, whysz, "cannot remove %s: %s", path,
			    strerror(errno));
			goto out;
		}
		ok = 1;
		goto out;
	}
	vivo_file_clean_stale(path);
	if (format(set, &text, &len) != 0 ||
	    vivo_file_replace(path, text, len, 0600) != 0) {
		vivo_setf(
		    why, whysz, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	ok = 1;
out:
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	if (set != NULL) {
		explicit_bzero(set, sizeof(*set));
		free(set);
	}
	vivo_file_unlock(lock);
	return ok;
}
