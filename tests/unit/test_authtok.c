/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_authtok.c - the sealed login secret (authtok.c): it opens with the
 * key it was sealed with, for the user and label it was sealed for, and
 * with nothing else; a changed byte is refused; the file is root's alone
 * and survives a round trip; removal forgets.
 */
#define T_TMP_TAG "authtok"
#include "authtok.h"
#include "t.h"
#include "t_tmp.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char pw[] = "correct horse battery staple";

static void
seal_one(struct vivo_sealed *s, uint8_t key[VIVO_AUTHTOK_KEY_LEN])
{
	static const uint8_t slot[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16, 17, 18, 19, 20 };

	memset(s, 0, sizeof(*s));
	strcpy(s->label, "apex");
	s->method = VIVO_M_HMAC;
	memset(s->salt, 0x42, sizeof(s->salt));
	strcpy(s->created, "2026-11-30T00:00:00Z");
	T_CHECK(vivo_authtok_key(
		    VIVO_M_HMAC, slot, sizeof(slot), s->salt, key) == 0);
	T_CHECK(vivo_authtok_seal(s, "alice", key, pw) == 0);
}

static void
opens_only_with_its_key_user_and_label(void)
{
	struct vivo_sealed s, t;
	uint8_t key[VIVO_AUTHTOK_KEY_LEN], other[VIVO_AUTHTOK_KEY_LEN];
	static const uint8_t slot2[20] = { 9 };
	char out[VIVO_AUTHTOK_MAX + 1];

	seal_one(&s, key);
	T_CHECK(s.bloblen == strlen(pw) + VIVO_AUTHTOK_TAG_LEN);
	T_CHECK(memmem(s.blob, s.bloblen, pw, strlen(pw)) == NULL);
	T_CHECK(vivo_authtok_open(&s, "alice", key, out, sizeof(out)) == 0 &&
	    strcmp(out, pw) == 0);
	/* another slot secret, another salt, another method: another key */
	T_CHECK(vivo_authtok_key(
		    VIVO_M_HMAC, slot2, sizeof(slot2), s.salt, other) == 0);
	T_CHECK(vivo_authtok_open(&s, "alice", other, out, sizeof(out)) != 0);
	T_CHECK(vivo_authtok_key(VIVO_M_FIDO2, (const uint8_t *)"x", 1, s.salt,
		    other) == 0 &&
	    memcmp(other, key, sizeof(key)) != 0);
	/* another user or label (the AAD) */
	T_CHECK(vivo_authtok_open(&s, "bob", key, out, sizeof(out)) != 0);
	t = s;
	strcpy(t.label, "spare");
	T_CHECK(vivo_authtok_open(&t, "alice", key, out, sizeof(out)) != 0);
	/* any changed byte of nonce, ciphertext or tag */
	for (size_t i = 0; i < s.bloblen; i += 7) {
		t = s;
		t.blob[i] ^= 0x01;
		T_CHECK(
		    vivo_authtok_open(&t, "alice", key, out, sizeof(out)) != 0);
	}
	t = s;
	t.nonce[0] ^= 1;
	T_CHECK(vivo_authtok_open(&t, "alice", key, out, sizeof(out)) != 0);
	/* a buffer too small is a refusal, not a truncation */
	T_CHECK(vivo_authtok_open(&s, "alice", key, out, 5) != 0);
	/* two seals of the same password differ (fresh nonce) */
	t = s;
	T_CHECK(vivo_authtok_seal(&t, "alice", key, pw) == 0);
	T_CHECK(memcmp(t.nonce, s.nonce, sizeof(s.nonce)) != 0);
	/* nothing, or too long, is not sealed */
	T_CHECK(vivo_authtok_seal(&t, "alice", key, "") != 0);
	{
		char big[VIVO_AUTHTOK_MAX + 2];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		T_CHECK(vivo_authtok_seal(&t, "alice", key, big) != 0);
	}
}

static void
file_round_trip_and_removal(void)
{
	static struct vivo_sealed_set set;
	struct vivo_config c;
	struct vivo_sealed s;
	uint8_t key[VIVO_AUTHTOK_KEY_LEN];
	char why[512] = "", path[1200], out[VIVO_AUTHTOK_MAX + 1];
	struct stat st;
	const char *d = tmp();

	if (d == NULL) {
		T_CHECK(d != NULL);
		return;
	}
	vivo_config_defaults(&c);
	T_CHECK(strlen(d) < sizeof(c.store) - 8);
	snprintf(c.store, sizeof(c.store), "%.500s/store", d);
	T_CHECK(mkdir(c.store, 0755) == 0);
	/* nothing sealed: an empty set, no error */
	T_CHECK(vivo_authtok_load(&c, "alice", &set, why, sizeof(why)) == 0 &&
	    set.n == 0);
	seal_one(&s, key);
	s.has_shadow = 1;
	memset(s.shadow, 0x5a, sizeof(s.shadow));
	T_CHECK(vivo_authtok_update(
		    &c, "alice", s.label, &s, why, sizeof(why)) == 1);
	T_CHECK(vivo_authtok_path(&c, "alice", path, sizeof(path)) == 0);
	T_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	T_CHECK(vivo_authtok_load(&c, "alice", &set, why, sizeof(why)) == 0);
	T_CHECK(set.n == 1 && strcmp(set.s[0].label, "apex") == 0 &&
	    set.s[0].method == VIVO_M_HMAC && set.s[0].has_shadow &&
	    memcmp(set.s[0].shadow, s.shadow, 32) == 0);
	T_CHECK(
	    vivo_authtok_open(&set.s[0], "alice", key, out, sizeof(out)) == 0 &&
	    strcmp(out, pw) == 0);
	/* sealing again replaces, not adds */
	T_CHECK(vivo_authtok_update(
		    &c, "alice", s.label, &s, why, sizeof(why)) == 1);
	T_CHECK(vivo_authtok_load(&c, "alice", &set, why, sizeof(why)) == 0 &&
	    set.n == 1);
	/* readable by others: refused */
	T_CHECK(chmod(path, 0644) == 0);
	T_CHECK(vivo_authtok_load(&c, "alice", &set, why, sizeof(why)) ==
	    VIVO_ERR_FILE_UNSAFE);
	T_CHECK(chmod(path, 0600) == 0);
	/* removal: another label changes nothing; its own removes the file */
	T_CHECK(vivo_authtok_update(
		    &c, "alice", "spare", NULL, why, sizeof(why)) == 0);
	T_CHECK(vivo_authtok_update(
		    &c, "alice", "apex", NULL, why, sizeof(why)) == 1);
	T_CHECK(access(path, F_OK) != 0);
	/* a user never sealed for: nothing to remove */
	T_CHECK(
	    vivo_authtok_update(&c, "bob", NULL, NULL, why, sizeof(why)) == 0);
	/* a malformed file is refused with the path named */
	{
		FILE *f = fopen(path, "w");
		if (f != NULL) {
			fputs(
			    "version = 1;\nsealed = ( { label = \"x\"; } );\n",
			    f);
			fclose(f);
		}
		T_CHECK(chmod(path, 0600) == 0);
		T_CHECK(vivo_authtok_load(&c, "alice", &set, why,
			    sizeof(why)) == VIVO_ERR_STORE_CORRUPT);
		T_CHECK(strstr(why, path) != NULL);
	}
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(opens_only_with_its_key_user_and_label),
		T_CASE(file_round_trip_and_removal),
	};

	if (geteuid() != 0) {
		T_SKIP("authtok", "file_round_trip_and_removal",
		    "needs root (the sealed file must be root's)");
		return t_run("authtok", cases, 1);
	}
	return t_run("authtok", cases, sizeof(cases) / sizeof(cases[0]));
}
