/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identify.c - see identify.h.
 */
#include "identify.h"
#include "file.h"
#include "proto.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
dir_path(const struct vivo_config *c, const char *name, char *out, size_t outsz)
{
	int n =
	    snprintf(out, outsz, "%s/%s/%s", c->store, VIVO_IDENTIFY_DIR, name);

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Read the key: 0, VIVO_ERR_FILE_NOENT (no index yet) or another
 * VIVO_ERR_FILE_* with why. */
static int
read_key(const struct vivo_config *c, uint8_t key[VIVO_IDENTIFY_KEY_LEN],
    char *why, size_t whysz)
{
	char path[VIVO_PATH_MAX], *buf = NULL;
	const char *w = NULL;
	size_t len = 0;
	int r;

	if (dir_path(c, ".key", path, sizeof(path)) != 0) {
		vivo_setf(why, whysz, "store path too long");
		return VIVO_ERR_FILE_IO;
	}
	r = vivo_file_read(path, 0, 64, &buf, &len, &w);
	if (r == VIVO_OK && len != VIVO_IDENTIFY_KEY_LEN)
		r = VIVO_ERR_STORE_CORRUPT;
	if (r == VIVO_OK) {
		/* the key is what keeps the index from naming whose chip a
		 * UID is: root's alone, or not used */
		struct stat st;
		if (stat(path, &st) != 0 || (st.st_mode & 077) != 0) {
			w = "readable by others (it must be 0600)";
			r = VIVO_ERR_FILE_UNSAFE;
		}
	}
	if (r == VIVO_OK)
		memcpy(key, buf, VIVO_IDENTIFY_KEY_LEN);
	if (r != VIVO_OK && r != VIVO_ERR_FILE_NOENT)
		vivo_setf(why, whysz, "%s: %s", path,
		    r == VIVO_ERR_STORE_CORRUPT ? "not a 32-byte key"
						: (w ? w : vivo_strerr(r)));
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}
	return r;
}

/* The index file's name for a hint: hex(HMAC-SHA256(key, kind ‖ hint)). */
static int
hint_name(const uint8_t key[VIVO_IDENTIFY_KEY_LEN], int kind,
    const uint8_t *hint, size_t len, char out[65])
{
	uint8_t mac[32], k = (uint8_t)kind;
	int ok = -1;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;

	if (ctx != NULL &&
	    EVP_MAC_init(ctx, key, VIVO_IDENTIFY_KEY_LEN, params) == 1 &&
	    EVP_MAC_update(ctx, &k, 1) == 1 &&
	    EVP_MAC_update(ctx, hint, len) == 1 &&
	    EVP_MAC_final(ctx, mac, &outl, sizeof(mac)) == 1 && outl == 32 &&
	    vivo_hex_encode(mac, sizeof(mac), out, 65) == 0)
		ok = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* Parse an index file: lines "user\tlabel". Calls fn for each valid one;
 * 0 / -1 (a malformed line). */
static int
each_line(const char *text,
    int (*fn)(void *arg, const char *user, const char *label), void *arg)
{
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n'), *tab;
		char user[VIVO_USER_MAX + 1], label[VIVO_LABEL_MAX + 1];
		size_t ul, ll;

		if (nl == NULL)
			return -1;
		tab = memchr(p, '\t', (size_t)(nl - p));
		if (tab == NULL)
			return -1;
		ul = (size_t)(tab - p);
		ll = (size_t)(nl - tab - 1);
		if (ul == 0 || ul > VIVO_USER_MAX || ll == 0 ||
		    ll > VIVO_LABEL_MAX)
			return -1;
		memcpy(user, p, ul);
		user[ul] = '\0';
		memcpy(label, tab + 1, ll);
		label[ll] = '\0';
		if (!vivo_user_valid(user) || !vivo_label_valid(label))
			return -1;
		if (fn(arg, user, label) != 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}

struct collect {
	char (*users)[VIVO_USER_MAX + 1];
	size_t cap, n;
};

static int
collect_user(void *arg, const char *user, const char *label)
{
	struct collect *c = arg;

	(void)label;
	for (size_t i = 0; i < c->n && i < c->cap; i++)
		if (strcmp(c->users[i], user) == 0)
			return 0;
	if (c->n < c->cap)
		(void)vivo_strlcpy(c->users[c->n], user, VIVO_USER_MAX + 1);
	c->n++;
	return 0;
}

int
vivo_identify_lookup(const struct vivo_config *c, int kind, const uint8_t *hint,
    size_t len, char (*users)[VIVO_USER_MAX + 1], size_t cap, size_t *n,
    char *why, size_t whysz)
{
	uint8_t key[VIVO_IDENTIFY_KEY_LEN];
	char name[65], path[VIVO_PATH_MAX], *text = NULL;
	const char *w = NULL;
	struct collect col = { users, cap, 0 };
	size_t tlen = 0;
	int r;

	*n = 0;
	r = read_key(c, key, why, whysz);
	if (r == VIVO_ERR_FILE_NOENT)
		return VIVO_OK; /* nobody enrolled for hand-scan yet */
	if (r != VIVO_OK)
		return r;
	r = hint_name(key, kind, hint, len, name);
	OPENSSL_cleanse(key, sizeof(key));
	if (r != 0 || dir_path(c, name, path, sizeof(path)) != 0) {
		vivo_setf(why, whysz, "cannot compute the index name");
		return VIVO_ERR_INTERNAL;
	}
	r = vivo_file_read(path, 0, VIVO_IDENTIFY_FILE_MAX, &text, &tlen, &w);
	if (r == VIVO_ERR_FILE_NOENT)
		return VIVO_OK;
	if (r != VIVO_OK) {
		vivo_setf(why, whysz, "%s: %s", path, w ? w : vivo_strerr(r));
		return r;
	}
	if (strlen(text) != tlen || each_line(text, collect_user, &col) != 0) {
		vivo_setf(why, whysz, "%s: malformed", path);
		r = VIVO_ERR_STORE_CORRUPT;
	} else
		*n = col.n;
	free(text);
	return r;
}

/* The index directory, its lock and key, created when missing (root). */
static int
open_index(const struct vivo_config *c, uint8_t key[VIVO_IDENTIFY_KEY_LEN],
    int *lock, char *why, size_t whysz)
{
	char path[VIVO_PATH_MAX];
	int r;

	*lock = -1;
	if (dir_path(c, ".key", path, sizeof(path)) != 0) {
		vivo_setf(why, whysz, "store path too long");
		return -1;
	}
	/* <store>/.identify: root's alone */
	{
		char dir[VIVO_PATH_MAX];
		(void)dir_path(c, "", dir, sizeof(dir));
		if (vivo_file_mkparents(path, 0755) != 0 ||
		    chmod(dir, 0700) != 0) {
			vivo_setf(why, whysz, "cannot create %s: %s", dir,
			    strerror(errno));
			return -1;
		}
	}
	if ((*lock = vivo_file_lock_dir(path)) < 0) {
		vivo_setf(
		    why, whysz, "cannot lock %s: %s", path, strerror(errno));
		return -1;
	}
	r = read_key(c, key, why, whysz);
	if (r == VIVO_ERR_FILE_NOENT) {
		vivo_file_clean_stale(path);
		if (RAND_bytes(key, VIVO_IDENTIFY_KEY_LEN) != 1 ||
		    vivo_file_replace(path, key, VIVO_IDENTIFY_KEY_LEN, 0600) !=
			0) {
			vivo_setf(why, whysz, "cannot write %s: %s", path,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	return r == VIVO_OK ? 0 : -1;
}

struct rewrite {
	char *out;
	size_t len, cap;
	const char *user, *label; /* the line to leave out (or NULL) */
	int found;
};

static int
keep_line(void *arg, const char *user, const char *label)
{
	struct rewrite *w = arg;
	int n;

	if (w->user != NULL && strcmp(user, w->user) == 0 &&
	    strcmp(label, w->label) == 0) {
		w->found = 1;
		return 0;
	}
	n = snprintf(w->out + w->len, w->cap - w->len, "%s\t%s\n", user, label);
	if (n < 0 || (size_t)n >= w->cap - w->len)
		return -1;
	w->len += (size_t)n;
	return 0;
}

/* Rewrite the index file at `path` without the line user/label, adding
 * `add_user`/`add_label` when given. Removes the file when nothing is
 * left. 0 / -1. */
static int
rewrite_file(const char *path, const char *user, const char *label,
    const char *add_user, const char *add_label, int *found, char *why,
    size_t whysz)
{
	char *text = NULL;
	const char *w = NULL;
	size_t tlen = 0;
	struct rewrite rw = { NULL, 0, VIVO_IDENTIFY_FILE_MAX + 1, user, label,
		0 };
	int r, ok = -1;

	r = vivo_file_read(path, 0, VIVO_IDENTIFY_FILE_MAX, &text, &tlen, &w);
	if (r != VIVO_OK && r != VIVO_ERR_FILE_NOENT) {
		vivo_setf(why, whysz, "%s: %s", path, w ? w : vivo_strerr(r));
		return -1;
	}
	if ((rw.out = malloc(rw.cap)) == NULL) {
		vivo_setf(why, whysz, "out of memory");
		goto out;
	}
	rw.out[0] = '\0';
	if (text != NULL &&
	    (strlen(text) != tlen || each_line(text, keep_line, &rw) != 0)) {
		vivo_setf(
		    why, whysz, "%s: malformed, or too many entries", path);
		goto out;
	}
	if (add_user != NULL) {
		rw.user = NULL;
		if (keep_line(&rw, add_user, add_label) != 0) {
			vivo_setf(why, whysz, "%s: too many entries", path);
			goto out;
		}
	}
	if (found != NULL)
		*found = rw.found;
	if (rw.len == 0) {
		if (text != NULL && unlink(path) != 0 && errno != ENOENT) {
			vivo_setf(why, whysz, "cannot remove %s: %s", path,
			    strerror(errno));
			goto out;
		}
		ok = 0;
		goto out;
	}
	if (text != NULL && add_user == NULL && !rw.found) {
		ok = 0; /* nothing changed */
		goto out;
	}
	vivo_file_clean_stale(path);
	if (vivo_file_replace(path, rw.out, rw.len, 0600) != 0) {
		vivo_setf(
		    why, whysz, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	ok = 0;
out:
	free(rw.out);
	free(text);
	return ok;
}

int
vivo_identify_add(const struct vivo_config *c, int kind, const uint8_t *hint,
    size_t len, const char *user, const char *label, char *why, size_t whysz)
{
	uint8_t key[VIVO_IDENTIFY_KEY_LEN];
	char name[65], path[VIVO_PATH_MAX];
	int lock = -1, ok = -1;

	if (open_index(c, key, &lock, why, whysz) != 0)
		goto out;
	if (hint_name(key, kind, hint, len, name) != 0 ||
	    dir_path(c, name, path, sizeof(path)) != 0) {
		vivo_setf(why, whysz, "cannot compute the index name");
		goto out;
	}
	/* the same enrollment again replaces its line */
	ok = rewrite_file(path, user, label, user, label, NULL, why, whysz);
out:
	OPENSSL_cleanse(key, sizeof(key));
	vivo_file_unlock(lock);
	return ok;
}

int
vivo_identify_remove(const struct vivo_config *c, const char *user,
    const char *label, char *why, size_t whysz)
{
	char dir[VIVO_PATH_MAX], path[VIVO_PATH_MAX];
	DIR *d;
	struct dirent *de;
	int lock, ok = 0;

	if (dir_path(c, ".key", path, sizeof(path)) != 0) {
		vivo_setf(why, whysz, "store path too long");
		return -1;
	}
	(void)dir_path(c, "", dir, sizeof(dir));
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	if ((lock = vivo_file_lock_dir(path)) < 0) {
		closedir(d);
		vivo_setf(why, whysz, "cannot lock %s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int found = 0;
		if (strlen(de->d_name) != 64 ||
		    strspn(de->d_name, "0123456789abcdef") != 64)
			continue; /* ".", "..", ".key", ".lock", temp files */
		if (dir_path(c, de->d_name, path, sizeof(path)) != 0 ||
		    rewrite_file(
			path, user, label, NULL, NULL, &found, why, whysz) != 0)
			ok = -1;
	}
	closedir(d);
	vivo_file_unlock(lock);
	return ok;
}
