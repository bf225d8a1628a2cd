/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_tapreg.c - the one-request rule (helper/lib/tapreg.c) in one
 * process: every registration is its own open file description, so two
 * of them lock against each other exactly as two processes do.
 */
#define T_TMP_TAG "tapreg"
#include "t.h"
#include "t_tmp.h"

#include "tapreg.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char regdir[PATH_MAX];

/* A fresh registry directory, root's and 1777 like /run/pam_vivo (the
 * unit tests run as root in make check). */
static const char *
fresh(void)
{
	static int n;

	snprintf(regdir, sizeof(regdir), "%s/reg%d", tmp(), n++);
	if (mkdir(regdir, 0700) != 0 || chmod(regdir, 01777) != 0)
		printf("  cannot make %s: %s\n", regdir, strerror(errno));
	return regdir;
}

static struct vivo_config
cfg(const char *reader_filter)
{
	struct vivo_config c;

	vivo_config_defaults(&c);
	if (reader_filter != NULL) {
		(void)vivo_strlcpy(
		    c.readers[0], reader_filter, sizeof(c.readers[0]));
		c.nreaders = 1;
	}
	return c;
}

static vivo_tapreg_t *
join_as(const char *dir, const char *service, const struct vivo_config *c)
{
	struct vivo_waiter w;
	vivo_tapreg_t *r = NULL;
	char err[256];

	memset(&w, 0, sizeof(w));
	(void)vivo_strlcpy(w.service, service, sizeof(w.service));
	(void)vivo_strlcpy(w.user, "alice", sizeof(w.user));
	(void)vivo_strlcpy(w.tty, "pts/1", sizeof(w.tty));
	if (vivo_tapreg_join(&r, dir, &w, c, err, sizeof(err)) != 0)
		printf("  join: %s\n", err);
	return r;
}

static int
count(const char *dir, char prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] == prefix && de->d_name[1] == '.')
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

static void
alone_is_free(void)
{
	struct vivo_config c = cfg(NULL);
	const char *d = fresh();
	vivo_tapreg_t *a = join_as(d, "sudo", &c);
	char other[512];

	T_CHECK(a != NULL);
	T_CHECK(vivo_tapreg_check(a, "Virtual PCD 00 00", vivo_tapreg_now(),
		    other, sizeof(other)) == VIVO_TAPREG_FREE);
	T_CHECK(count(d, 'w') == 1);
	vivo_tapreg_leave(&a);
	T_CHECK(a == NULL);
	T_CHECK(count(d, 'w') == 0);
}

static void
two_waiting_both_contested_and_named(void)
{
	struct vivo_config c = cfg(NULL);
	const char *d = fresh();
	vivo_tapreg_t *a = join_as(d, "su", &c), *b = join_as(d, "xlock", &c);
	char other[512];
	int64_t now = vivo_tapreg_now();

	T_CHECK(a != NULL && b != NULL);
	T_CHECK(vivo_tapreg_check(a, "R 0", now, other, sizeof(other)) ==
	    VIVO_TAPREG_CONTESTED);
	T_CHECK(strstr(other, "\"xlock\" for alice on pts/1") != NULL);
	/* a goes away at once; b looks only now: the marker tells it */
	vivo_tapreg_leave(&a);
	T_CHECK(count(d, 'c') == 1);
	T_CHECK(vivo_tapreg_check(b, "R 0", now + 5, other, sizeof(other)) ==
	    VIVO_TAPREG_CONTESTED);
	T_CHECK(strstr(other, "\"su\"") != NULL && strstr(other, "\"xlock\""));
	/* the marker is about that reader and that moment only */
	T_CHECK(vivo_tapreg_check(b, "R 1", now + 5, other, sizeof(other)) ==
	    VIVO_TAPREG_FREE);
	T_CHECK(vivo_tapreg_check(b, "R 0", now + VIVO_TAPREG_CONTEST_MS + 100,
		    other, sizeof(other)) == VIVO_TAPREG_FREE);
	vivo_tapreg_leave(&b);
}

static void
reader_filters_keep_requests_apart(void)
{
	struct vivo_config ca = cfg("ACS"), cb = cfg("Virtual");
	const char *d = fresh();
	vivo_tapreg_t *a = join_as(d, "login", &ca),
		      *b = join_as(d, "sudo", &cb);
	char other[512];

	T_CHECK(vivo_tapreg_check(b, "Virtual PCD 00 00", vivo_tapreg_now(),
		    other, sizeof(other)) == VIVO_TAPREG_FREE);
	T_CHECK(vivo_tapreg_check(b, "ACS ACR122U 00 00", vivo_tapreg_now(),
		    other, sizeof(other)) == VIVO_TAPREG_CONTESTED);
	vivo_tapreg_leave(&a);
	vivo_tapreg_leave(&b);
}

static void
dead_entry_counts_for_nothing_and_is_swept(void)
{
	struct vivo_config c = cfg(NULL);
	const char *d = fresh();
	char path[PATH_MAX + 64], other[512];
	vivo_tapreg_t *a;
	FILE *f;

	/* what a killed helper leaves: a w. file nobody holds a lock on */
	snprintf(
	    path, sizeof(path), "%s/w.0123456789abcdef0123456789abcdef", d);
	f = fopen(path, "w");
	T_CHECK(f != NULL);
	if (f != NULL) {
		fputs("v=1\nservice=sudo\nuser=alice\n", f);
		fclose(f);
	}
	a = join_as(d, "xlock", &c);
	T_CHECK(access(path, F_OK) != 0); /* swept by root's join */
	T_CHECK(vivo_tapreg_check(a, "R", vivo_tapreg_now(), other,
		    sizeof(other)) == VIVO_TAPREG_FREE);
	vivo_tapreg_leave(&a);
}

static void
unsafe_directory_is_refused(void)
{
	struct vivo_config c = cfg(NULL);
	const char *d = fresh();
	vivo_tapreg_t *a;

	T_CHECK(chmod(d, 0777) == 0); /* not sticky: anyone could remove */
	a = join_as(d, "sudo", &c);
	T_CHECK(a == NULL);
	T_CHECK(chown(d, 60002, 0) == 0 && chmod(d, 01777) == 0);
	a = join_as(d, "sudo", &c); /* not root's */
	T_CHECK(a == NULL);
}

static void
missing_directory_is_made_by_root(void)
{
	struct vivo_config c = cfg(NULL);
	char d[PATH_MAX + 8];
	struct stat st;
	vivo_tapreg_t *a;

	snprintf(d, sizeof(d), "%s/made", tmp());
	a = join_as(d, "sudo", &c);
	T_CHECK(a != NULL);
	T_CHECK(stat(d, &st) == 0 && st.st_uid == 0 &&
	    (st.st_mode & 07777) == 01777);
	vivo_tapreg_leave(&a);
}

T_MAIN("tapreg", T_CASE(alone_is_free),
    T_CASE(two_waiting_both_contested_and_named),
    T_CASE(reader_filters_keep_requests_apart),
    T_CASE(dead_entry_counts_for_nothing_and_is_swept),
    T_CASE(unsafe_directory_is_refused),
    T_CASE(missing_directory_is_made_by_root))
