/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_identify.c - the hand-scan index (identify.c): a hint leads to the
 * users enrolled with it and to nobody else; names say nothing without the
 * key; removal forgets; an unsafe index is an error, never "nobody".
 * Needs root (the index is root's alone, and is checked to be).
 */
#define T_TMP_TAG "identify"
#include "identify.h"
#include "t.h"
#include "t_tmp.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t uid_a[7] = { 0x04, 1, 2, 3, 4, 5, 6 };
static const uint8_t uid_b[7] = { 0x04, 9, 9, 9, 9, 9, 9 };

static struct vivo_config c;

static int
fresh(void)
{
	static int n;
	const char *d = tmp();

	if (d == NULL)
		return -1;
	vivo_config_defaults(&c);
	snprintf(c.store, sizeof(c.store), "%s/store%d", d, n++);
	return mkdir(c.store, 0755);
}

static size_t
lookup(int kind, const uint8_t *h, size_t len, char (*u)[VIVO_USER_MAX + 1])
{
	size_t n = 99;
	char why[256] = "";

	if (vivo_identify_lookup(&c, kind, h, len, u, VIVO_IDENTIFY_USERS_MAX,
		&n, why, sizeof(why)) != 0) {
		printf("  lookup failed: %s\n", why);
		return 99;
	}
	return n;
}

static size_t
entries(void)
{
	char dir[1200];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	snprintf(dir, sizeof(dir), "%s/.identify", c.store);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
add_lookup_remove(void)
{
	char u[VIVO_IDENTIFY_USERS_MAX][VIVO_USER_MAX + 1], why[256] = "";
	char dir[1200];
	struct stat st;

	T_CHECK(fresh() == 0);
	/* no index yet: nobody, and no error */
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 0);
	T_CHECK(vivo_identify_add(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a),
		    "alice", "left hand", why, sizeof(why)) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 1 &&
	    strcmp(u[0], "alice") == 0);
	/* another UID, or the same bytes as another kind of hint: nobody */
	T_CHECK(lookup(VIVO_HINT_UID, uid_b, sizeof(uid_b), u) == 0);
	T_CHECK(lookup(VIVO_HINT_FIDO2, uid_a, sizeof(uid_a), u) == 0);
	/* the same enrollment twice is one line; a second label of the same
	 * user is still one user */
	T_CHECK(vivo_identify_add(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a),
		    "alice", "left hand", why, sizeof(why)) == 0);
	T_CHECK(vivo_identify_add(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a),
		    "alice", "spare", why, sizeof(why)) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 1);
	/* a second user on the same chip: both are reported */
	T_CHECK(vivo_identify_add(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a),
		    "bob", "shared", why, sizeof(why)) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 2);
	T_CHECK(entries() == 1);
	/* root's alone */
	snprintf(dir, sizeof(dir), "%s/.identify", c.store);
	T_CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	/* removal forgets that enrollment only, and the file when empty */
	T_CHECK(
	    vivo_identify_remove(&c, "bob", "shared", why, sizeof(why)) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 1 &&
	    strcmp(u[0], "alice") == 0);
	T_CHECK(vivo_identify_remove(
		    &c, "alice", "left hand", why, sizeof(why)) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 1);
	T_CHECK(
	    vivo_identify_remove(&c, "alice", "spare", why, sizeof(why)) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 0);
	T_CHECK(entries() == 0);
}

static void
names_need_the_key(void)
{
	char u[VIVO_IDENTIFY_USERS_MAX][VIVO_USER_MAX + 1], why[256] = "";
	char key[1200], hex[15];
	DIR *d;
	struct dirent *de;

	T_CHECK(fresh() == 0);
	T_CHECK(vivo_identify_add(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a),
		    "alice", "hand", why, sizeof(why)) == 0);
	/* no file is named after the UID itself */
	(void)vivo_hex_encode(uid_a, sizeof(uid_a), hex, sizeof(hex));
	snprintf(key, sizeof(key), "%s/.identify", c.store);
	if ((d = opendir(key)) != NULL) {
		while ((de = readdir(d)) != NULL)
			T_CHECK(strstr(de->d_name, hex) == NULL);
		closedir(d);
	}
	/* another key (another machine): the same chip finds nobody */
	snprintf(key, sizeof(key), "%s/.identify/.key", c.store);
	T_CHECK(unlink(key) == 0);
	T_CHECK(vivo_identify_add(&c, VIVO_HINT_UID, uid_b, sizeof(uid_b),
		    "bob", "hand", why, sizeof(why)) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_a, sizeof(uid_a), u) == 0);
	T_CHECK(lookup(VIVO_HINT_UID, uid_b, sizeof(uid_b), u) == 1);
}

static void
unsafe_index_is_an_error(void)
{
	char u[VIVO_IDENTIFY_USERS_MAX][VIVO_USER_MAX + 1], why[256] = "";
	char path[1200];
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	T_CHECK(fresh() == 0);
	T_CHECK(vivo_identify_add(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a),
		    "alice", "hand", why, sizeof(why)) == 0);
	snprintf(path, sizeof(path), "%s/.identify", c.store);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			snprintf(path, sizeof(path), "%s/.identify/%s", c.store,
			    de->d_name);
	closedir(d);
	/* writable by others: refused, not "nobody" */
	T_CHECK(chmod(path, 0666) == 0);
	T_CHECK(vivo_identify_lookup(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a), u,
		    VIVO_IDENTIFY_USERS_MAX, &n, why, sizeof(why)) != 0);
	T_CHECK(strstr(why, path) != NULL);
	/* a key others can read: refused */
	T_CHECK(chmod(path, 0600) == 0);
	{
		char key[1200];
		snprintf(key, sizeof(key), "%s/.identify/.key", c.store);
		T_CHECK(chmod(key, 0644) == 0);
		T_CHECK(vivo_identify_lookup(&c, VIVO_HINT_UID, uid_a,
			    sizeof(uid_a), u, VIVO_IDENTIFY_USERS_MAX, &n, why,
			    sizeof(why)) == VIVO_ERR_FILE_UNSAFE);
		T_CHECK(strstr(why, "readable by others") != NULL);
		T_CHECK(chmod(key, 0600) == 0);
	}
	/* malformed lines: refused */
	T_CHECK(chmod(path, 0600) == 0);
	{
		FILE *f = fopen(path, "w");
		if (f != NULL) {
			fputs("alice hand\n", f); /* no tab */
			fclose(f);
		}
	}
	T_CHECK(vivo_identify_lookup(&c, VIVO_HINT_UID, uid_a, sizeof(uid_a), u,
		    VIVO_IDENTIFY_USERS_MAX, &n, why,
		    sizeof(why)) == VIVO_ERR_STORE_CORRUPT);
}

int
main(void)
{
	static const struct t_case cases[] = {
		T_CASE(add_lookup_remove),
		T_CASE(names_need_the_key),
		T_CASE(unsafe_index_is_an_error),
	};

	if (geteuid() != 0) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			T_SKIP("identify", cases[i].name,
			    "needs root (the index must be root's)");
		return t_run("identify", NULL, 0);
	}
	return t_run("identify", cases, sizeof(cases) / sizeof(cases[0]));
}
