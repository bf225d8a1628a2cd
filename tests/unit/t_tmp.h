/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_tmp.h - a private directory for a unit-test binary: created beside the
 * binary (build/tests/, under root-owned, non-writable parents, so it passes
 * vivo_file_check_parents), removed at exit. Define T_TMP_TAG before
 * including it.
 */
#ifndef VIVO_T_TMP_H
#define VIVO_T_TMP_H

#include "file.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
tmp_cleanup(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make tmpdir under `base`; keep it only if it passes the product's
 * parent-directory checks. 0 / -1. */
static int
tmp_under(const char *base)
{
	char probe[PATH_MAX + 8];
	const char *why = NULL;

	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp-" T_TMP_TAG "-XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		return -1;
	}
	snprintf(probe, sizeof(probe), "%s/x", tmpdir);
	if (vivo_file_check_parents(probe, 0, &why) != 0) {
		printf("  %s is not a safe place for the tests (%s); trying "
		       "elsewhere\n",
		    tmpdir, why);
		rmdir(tmpdir);
		tmpdir[0] = '\0';
		return -1;
	}
	return 0;
}

/* Beside the test binary when its parents are safe (root-owned, not
 * writable by others); otherwise, e.g. in a checkout under /tmp, in /run
 * (root only). */
static const char *
tmp(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (tmpdir[0] != '\0')
		return tmpdir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		printf("  cannot find the test binary\n");
		return NULL;
	}
	exe[n] = '\0';
	if (tmp_under(dirname(exe)) != 0 && tmp_under("/run") != 0) {
		printf("  no safe place for temporary files\n");
		return NULL;
	}
	atexit(tmp_cleanup);
	return tmpdir;
}

/* Write `len` bytes to <tmp>/name with exactly `mode`; path into out. */
static int __attribute__((unused)) put(const char *name, const void *data,
    size_t len, mode_t mode, char *out, size_t outsz)
{
	const char *d = tmp();
	int fd;
	ssize_t w;

	if (d == NULL)
		return -1;
	snprintf(out, outsz, "%s/%s", d, name);
	(void)unlink(out);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	w = write(fd, data, len);
	if (fchmod(fd, mode) != 0 || w != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

#endif
