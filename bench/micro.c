/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * micro - in-process measurements that need the helper's own code
 * (build/libvivo.a, the library vivo-helper links).
 *
 *   micro lookup CONFIG USER N
 *       N times: vivo_enrollments_load(), exactly what vivo-helper calls to
 *       find and load one user's enrollments (path, safety checks of the
 *       file and every parent directory, read, libconfig parse, checks;
 *       with a `directory` in CONFIG, the directory's answer too, which
 *       must be fresh: the child process, libldap, the search, the local
 *       state file).
 *   micro update STOREFILE LABEL N
 *       N times: vivo_store_update() with an update that changes nothing:
 *       what the helper does to make a u2f counter or an hmac state
 *       durable (lock the directory, re-read and parse the file, write a
 *       temporary file, fsync it, rename it over the old one, fsync the
 *       directory), on the filesystem the store is on.
 *   micro uidhash N
 *       N times: vivo_uid_match() of a 7-byte UID against an entry made by
 *       vivo_uid_enroll() with the iterations vivo-enroll writes
 *       (PBKDF2-HMAC-SHA256): the deliberately slow part of method uid.
 *
 *   micro identify STOREDIR USERS N
 *       hand-scan login's lookup (identify.h): vivo-enroll's own
 *       vivo_identify_add() records USERS users, one chip each, in a fresh
 *       index under STOREDIR (a tmpfs: the adds are not what is measured);
 *       then N times vivo_identify_lookup() of one enrolled chip's UID
 *       (the HMAC, the key and the index file read and checked), and N
 *       times of a chip nobody enrolled.
 *
 * Prints "<what> n=<N> min=<ns> median=<ns> p90=<ns> mean=<ns>" (entries=
 * <count> for lookup). Exit 1 if any call fails.
 */
#include "auth.h"
#include "directory.h"
#include "identify.h"
#include "config.h"
#include "uid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, long long *t, long n, const char *extra)
{
	long long sum = 0;

	qsort(t, (size_t)n, sizeof(*t), cmp);
	for (long i = 0; i < n; i++)
		sum += t[i];
	printf("%s n=%ld min=%lld median=%lld p90=%lld mean=%lld%s\n", what, n,
	    t[0], t[n / 2], t[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], sum / n,
	    extra);
}

static int
unchanged(struct vivo_entry *e, void *arg, char *reason, size_t reasonsz)
{
	(void)e;
	(void)arg;
	(void)reason;
	(void)reasonsz;
	return VIVO_R_OK;
}

int
main(int argc, char **argv)
{
	long n;
	long long *t;

	if (argc >= 3 && strcmp(argv[1], "uidhash") == 0) {
		const uint8_t uid[7] = { 0x04, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5,
			0xf6 };
		struct vivo_uid_data d;

		n = strtol(argv[2], NULL, 10);
		if (n < 1 || (t = calloc((size_t)n, sizeof(*t))) == NULL)
			return 2;
		if (vivo_uid_enroll(
			uid, sizeof(uid), VIVO_UID_ITER_DEFAULT, &d) != 0)
			return 1;
		for (long i = 0; i < n; i++) {
			long long t0 = now_ns();
			int r = vivo_uid_match(uid, sizeof(uid), &d);
			t[i] = now_ns() - t0;
			if (r != 1)
				return 1;
		}
		char extra[64];
		snprintf(extra, sizeof(extra), " iterations=%u",
		    (unsigned)VIVO_UID_ITER_DEFAULT);
		report("uidhash", t, n, extra);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "update") == 0) {
		char err[512];

		n = strtol(argv[4], NULL, 10);
		if (n < 1 || (t = calloc((size_t)n, sizeof(*t))) == NULL)
			return 2;
		for (long i = 0; i < n; i++) {
			long long t0 = now_ns();
			int r = vivo_store_update(argv[2], geteuid(), 0644,
			    argv[3], unchanged, NULL, err, sizeof(err));
			t[i] = now_ns() - t0;
			if (r != VIVO_R_OK) {
				fprintf(stderr, "micro: %s\n", err);
				return 1;
			}
		}
		report("update", t, n, "");
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "identify") == 0) {
		struct vivo_config cfg;
		char why[512], user[32], label[32], extra[64];
		char found[VIVO_IDENTIFY_USERS_MAX][VIVO_USER_MAX + 1];
		long users = strtol(argv[3], NULL, 10);
		uint8_t uid[7] = { 0x04, 0, 0, 0, 0, 0, 0x80 };
		long long *th, *tm;
		size_t k = 0;

		n = strtol(argv[4], NULL, 10);
		if (users < 1 || users > 1000000 || n < 1 || n > 1000000)
			return 2;
		vivo_config_defaults(&cfg);
		snprintf(cfg.store, sizeof(cfg.store), "%s", argv[2]);
		for (long u = 0; u < users; u++) {
			uid[1] = (uint8_t)(u >> 16);
			uid[2] = (uint8_t)(u >> 8);
			uid[3] = (uint8_t)u;
			snprintf(user, sizeof(user), "u%06ld", u);
			snprintf(label, sizeof(label), "hand");
			if (vivo_identify_add(&cfg, VIVO_HINT_UID, uid,
				sizeof(uid), user, label, why,
				sizeof(why)) != 0) {
				fprintf(stderr, "micro: %s\n", why);
				return 1;
			}
		}
		th = calloc((size_t)n, sizeof(*th));
		tm = calloc((size_t)n, sizeof(*tm));
		if (th == NULL || tm == NULL)
			return 1;
		/* the middle user's chip, then a chip of nobody's */
		uid[1] = (uint8_t)((users / 2) >> 16);
		uid[2] = (uint8_t)((users / 2) >> 8);
		uid[3] = (uint8_t)(users / 2);
		for (long i = 0; i < n; i++) {
			long long t0 = now_ns();
			if (vivo_identify_lookup(&cfg, VIVO_HINT_UID, uid,
				sizeof(uid), found, VIVO_IDENTIFY_USERS_MAX, &k,
				why, sizeof(why)) != 0 ||
			    k != 1) {
				fprintf(stderr, "micro: lookup: %s\n", why);
				return 1;
			}
			th[i] = now_ns() - t0;
		}
		uid[6] = 0x81;
		for (long i = 0; i < n; i++) {
			long long t0 = now_ns();
			if (vivo_identify_lookup(&cfg, VIVO_HINT_UID, uid,
				sizeof(uid), found, VIVO_IDENTIFY_USERS_MAX, &k,
				why, sizeof(why)) != 0 ||
			    k != 0)
				return 1;
			tm[i] = now_ns() - t0;
		}
		snprintf(extra, sizeof(extra), " users=%ld", users);
		report("identify-hit", th, n, extra);
		report("identify-miss", tm, n, extra);
		free(th);
		free(tm);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "lookup") == 0) {
		struct vivo_config cfg;
		struct vivo_enrollments *en = calloc(1, sizeof(*en));
		char err[512], extra[64];
		size_t entries = 0;

		n = strtol(argv[4], NULL, 10);
		if (en == NULL || n < 1 ||
		    (t = calloc((size_t)n, sizeof(*t))) == NULL)
			return 2;
		if (vivo_config_load(
			argv[2], geteuid(), &cfg, err, sizeof(err))) {
			fprintf(stderr, "micro: %s\n", err);
			return 1;
		}
		for (long i = 0; i < n; i++) {
			long long t0 = now_ns();
			int r = vivo_enrollments_load(&cfg, argv[3],
			    VIVO_EN_REQUEST, en, err, sizeof(err));
			t[i] = now_ns() - t0;
			size_t found = 0;
			for (int s = 0; s < VIVO_ST_N; s++)
				found += en->st[s].n;
			if (r != VIVO_R_OK || found == 0 ||
			    (cfg.dir.uri[0] != '\0' &&
				en->dir_state != VIVO_DIR_FRESH)) {
				fprintf(stderr, "micro: %s: %s\n", argv[3],
				    r != VIVO_R_OK   ? err
					: found == 0 ? "no enrollment found"
						     : en->dir_why);
				return 1;
			}
			entries = found;
		}
		snprintf(extra, sizeof(extra), " entries=%zu", entries);
		report("lookup", t, n, extra);
		return 0;
	}
	fprintf(stderr,
	    "usage: micro lookup CONFIG USER N | micro update FILE "
	    "LABEL N | micro uidhash N\n");
	return 2;
}
