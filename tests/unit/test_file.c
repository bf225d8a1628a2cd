/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_file.c - safe reads (owner, mode, type, size, parents) and atomic
 * replacement of root- and user-owned files, and the directory lock.
 * Runs as root (chown, mount).
 */
#include "t.h"
#include "file.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_TMP_TAG "file"
#include "t_tmp.h"

/* <tmp>/name into out; NULL if there is no temp dir. */
static const char *
at(const char *name, char *out, size_t outsz)
{
	const char *d = tmp();

	if (d == NULL)
		return NULL;
	snprintf(out, outsz, "%s/%s", d, name);
	return out;
}

/* A fresh subdirectory of the temp dir, with exactly `mode`. */
static const char *
subdir(const char *name, mode_t mode, char *out, size_t outsz)
{
	if (at(name, out, outsz) == NULL)
		return NULL;
	if (mkdir(out, 0700) != 0 || chmod(out, mode) != 0)
		return NULL;
	return out;
}

static int
put_at(const char *path, const char *text, mode_t mode)
{
	int fd;
	ssize_t w;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	w = write(fd, text, strlen(text));
	if (fchmod(fd, mode) != 0 || w != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Does the file hold exactly `text`? */
static int
holds(const char *path, const char *text)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

/* How many entries dir holds, besides . and .. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* ---- vivo_file_replace -------------------------------------------------- */

static void
replace_writes_content(void)
{
	char d[PATH_MAX], p[PATH_MAX + 16];

	if (subdir("rw", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	snprintf(p, sizeof(p), "%s/alice", d);
	T_CHECK(vivo_file_replace(p, "first version, long\n", 20, 0600) == 0);
	T_CHECK(holds(p, "first version, long\n"));
	/* shorter content: no tail of the old one remains */
	T_CHECK(vivo_file_replace(p, "second\n", 7, 0600) == 0);
	T_CHECK(holds(p, "second\n"));
	T_CHECK(vivo_file_replace(p, "", 0, 0600) == 0);
	T_CHECK(holds(p, ""));
}

static void
replace_mode_ignores_umask(void)
{
	char d[PATH_MAX], p[PATH_MAX + 16];
	mode_t old;

	if (subdir("mode", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	snprintf(p, sizeof(p), "%s/f", d);
	old = umask(077);
	T_CHECK(vivo_file_replace(p, "x", 1, 0644) == 0);
	T_CHECK(mode_of(p) == 0644);
	umask(0);
	T_CHECK(vivo_file_replace(p, "x", 1, 0600) == 0);
	T_CHECK(mode_of(p) == 0600);
	umask(0777);
	T_CHECK(vivo_file_replace(p, "x", 1, 0640) == 0);
	T_CHECK(mode_of(p) == 0640);
	umask(022);
	T_CHECK(vivo_file_replace(p, "x", 1, 0400) == 0);
	T_CHECK(mode_of(p) == 0400);
	umask(old);
}

static void
replace_leaves_no_temp_file(void)
{
	char d[PATH_MAX], p[PATH_MAX + 16];

	if (subdir("clean", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	snprintf(p, sizeof(p), "%s/alice", d);
	T_CHECK(vivo_file_replace(p, "one", 3, 0600) == 0);
	T_CHECK(vivo_file_replace(p, "two", 3, 0600) == 0);
	T_CHECK(count_entries(d) == 1);
	T_CHECK(holds(p, "two"));
}

static void
replace_fails_without_directory(void)
{
	char d[PATH_MAX], p[PATH_MAX + 32];

	if (at("no-such-dir", d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	snprintf(p, sizeof(p), "%s/alice", d);
	errno = 0;
	T_CHECK(vivo_file_replace(p, "x", 1, 0600) == VIVO_ERR_FILE_IO);
	T_CHECK(errno == ENOENT);
	T_CHECK(access(d, F_OK) != 0);
}

static void
replace_ignores_stale_temp_symlink(void)
{
	char d[PATH_MAX], p[PATH_MAX + 16], victim[PATH_MAX + 16],
	    stale[PATH_MAX + 64];

	if (subdir("stale", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	snprintf(p, sizeof(p), "%s/alice", d);
	snprintf(victim, sizeof(victim), "%s/victim", d);
	snprintf(stale, sizeof(stale), "%s/.alice.tmp.%ld", d, (long)getpid());
	T_CHECK(put_at(victim, "precious", 0644) == 0);
	/* a temp name planted as a symlink must not redirect the write */
	T_CHECK(symlink(victim, stale) == 0);
	T_CHECK(vivo_file_replace(p, "new", 3, 0600) == 0);
	T_CHECK(holds(victim, "precious"));
	T_CHECK(holds(p, "new"));
	T_CHECK(mode_of(p) == 0600);
	T_CHECK(count_entries(d) == 2); /* alice, victim */
	/* a leftover regular temp file of a killed run is no obstacle */
	T_CHECK(put_at(stale, "half-written", 0600) == 0);
	T_CHECK(vivo_file_replace(p, "newer", 5, 0600) == 0);
	T_CHECK(holds(p, "newer"));
	T_CHECK(count_entries(d) == 2);
}

/* Run only when a tmpfs can be mounted (see main). */
static void
replace_on_full_fs_keeps_old_file(void)
{
	static char big[256 * 1024];
	char d[PATH_MAX], p[PATH_MAX + 16];

	if (subdir("full", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	if (mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV,
		"size=16k,mode=0755") != 0) {
		T_CHECK(!"mount tmpfs");
		return;
	}
	snprintf(p, sizeof(p), "%s/alice", d);
	T_CHECK(vivo_file_replace(p, "old content\n", 12, 0600) == 0);
	memset(big, 'n', sizeof(big));
	errno = 0;
	T_CHECK(
	    vivo_file_replace(p, big, sizeof(big), 0600) == VIVO_ERR_FILE_IO);
	T_CHECK(errno == ENOSPC);
	T_CHECK(holds(p, "old content\n"));
	T_CHECK(mode_of(p) == 0600);
	T_CHECK(count_entries(d) == 1); /* the temp file was removed */
	/* and the space is free again: a small write succeeds */
	T_CHECK(vivo_file_replace(p, "small\n", 6, 0600) == 0);
	T_CHECK(holds(p, "small\n"));
	T_CHECK(umount2(d, 0) == 0);
}

static void
clean_stale_removes_only_our_temp_files(void)
{
	static const char *const stale[] = { ".alice.tmp.123",
		".alice.tmp.4567" };
	/* "alice.tmp.1" may be another user's enrollment file: it stays */
	static const char *const keep[] = { "alice", "alice.tmp.1",
		".alicex.tmp.1", ".bob.tmp.1", ".alice.tmpx", ".alice.tmp.1x",
		".alice.tmp.", "x.alice.tmp.1", "victim" };
	char d[PATH_MAX], p[PATH_MAX + 32], link[PATH_MAX + 32];

	if (subdir("cleanup", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	for (size_t i = 0; i < VIVO_NELEM(stale); i++) {
		snprintf(p, sizeof(p), "%s/%s", d, stale[i]);
		T_CHECK(put_at(p, "stale", 0600) == 0);
	}
	for (size_t i = 0; i < VIVO_NELEM(keep); i++) {
		snprintf(p, sizeof(p), "%s/%s", d, keep[i]);
		T_CHECK(put_at(p, "keep", 0600) == 0);
	}
	/* a stale temp name that is a symlink: the link goes, not its target */
	snprintf(p, sizeof(p), "%s/victim", d);
	snprintf(link, sizeof(link), "%s/.alice.tmp.99", d);
	T_CHECK(symlink(p, link) == 0);

	snprintf(p, sizeof(p), "%s/alice", d);
	vivo_file_clean_stale(p);
	T_CHECK(count_entries(d) == (int)VIVO_NELEM(keep));
	for (size_t i = 0; i < VIVO_NELEM(keep); i++) {
		snprintf(p, sizeof(p), "%s/%s", d, keep[i]);
		T_CHECK(holds(p, "keep"));
	}
}

/* ---- vivo_file_read ----------------------------------------------------- */

static int
read_rc(const char *path, uid_t owner, size_t cap)
{
	char *buf = (char *)1;
	size_t len = 0;
	const char *why = NULL;
	int r = vivo_file_read(path, owner, cap, &buf, &len, &why);

	if (r == 0) {
		free(buf);
	} else {
		if (buf != NULL) /* on failure *buf is NULL */
			return 99;
		if (why == NULL || why[0] == '\0')
			return 98;
	}
	return r;
}

static void
read_returns_content(void)
{
	char p[PATH_MAX], *buf = NULL;
	size_t len = 0;
	const char *why = NULL;

	if (at("plain", p, sizeof(p)) == NULL || put_at(p, "hello\n", 0644)) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(vivo_file_read(p, 0, 100, &buf, &len, &why) == 0);
	T_CHECK(buf != NULL && len == 6 && memcmp(buf, "hello\n", 7) == 0);
	free(buf);
	/* read-only and owner-only files are fine */
	T_CHECK(chmod(p, 0400) == 0);
	T_CHECK(read_rc(p, 0, 100) == 0);
	T_CHECK(chmod(p, 0600) == 0);
	T_CHECK(read_rc(p, 0, 100) == 0);
}

static void
read_missing_file(void)
{
	char p[PATH_MAX];

	if (at("missing", p, sizeof(p)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	T_CHECK(read_rc(p, 0, 100) == VIVO_ERR_FILE_NOENT);
}

static void
read_refuses_symlink(void)
{
	char target[PATH_MAX], link[PATH_MAX];

	if (at("real", target, sizeof(target)) == NULL ||
	    put_at(target, "data", 0644) ||
	    at("link", link, sizeof(link)) == NULL) {
		T_CHECK(!"cannot write");
		return;
	}
	(void)unlink(link);
	T_CHECK(symlink(target, link) == 0);
	T_CHECK(read_rc(link, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(read_rc(target, 0, 100) == 0);
	/* a dangling symlink is not "missing" either */
	(void)unlink(link);
	T_CHECK(symlink("/nonexistent/file", link) == 0);
	T_CHECK(read_rc(link, 0, 100) == VIVO_ERR_FILE_UNSAFE);
}

static void
read_refuses_fifo(void)
{
	char p[PATH_MAX];

	if (at("fifo", p, sizeof(p)) == NULL || mkfifo(p, 0644) != 0) {
		T_CHECK(!"mkfifo");
		return;
	}
	/* an open() that blocks for a writer would hang: SIGALRM ends it */
	alarm(5);
	T_CHECK(read_rc(p, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	alarm(0);
}

static void
read_refuses_directory_and_devices(void)
{
	char d[PATH_MAX];

	if (subdir("adir", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	T_CHECK(read_rc(d, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	alarm(5);
	T_CHECK(read_rc("/dev/zero", 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(read_rc("/dev/null", 0, 100) == VIVO_ERR_FILE_UNSAFE);
	alarm(0);
}

static void
read_refuses_over_cap(void)
{
	char p[PATH_MAX], *buf = NULL;
	size_t len = 0;
	const char *why = NULL;

	if (at("ten", p, sizeof(p)) == NULL || put_at(p, "0123456789", 0644)) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(read_rc(p, 0, 9) == VIVO_ERR_FILE_BIG);
	T_CHECK(read_rc(p, 0, 0) == VIVO_ERR_FILE_BIG);
	T_CHECK(vivo_file_read(p, 0, 10, &buf, &len, &why) == 0);
	T_CHECK(buf != NULL && len == 10 && buf[10] == '\0');
	free(buf);
}

static void
read_refuses_writable_file(void)
{
	char p[PATH_MAX];

	if (at("gw", p, sizeof(p)) == NULL || put_at(p, "data", 0664)) {
		T_CHECK(!"cannot write");
		return;
	}
	T_CHECK(read_rc(p, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(chmod(p, 0646) == 0);
	T_CHECK(read_rc(p, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(chmod(p, 0620) == 0);
	T_CHECK(read_rc(p, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(chmod(p, 0644) == 0);
	T_CHECK(read_rc(p, 0, 100) == 0);
}

static void
read_refuses_other_owner(void)
{
	char p[PATH_MAX];

	if (at("theirs", p, sizeof(p)) == NULL || put_at(p, "data", 0644) ||
	    chown(p, 12345, 12345) != 0) {
		T_CHECK(!"cannot write/chown");
		return;
	}
	T_CHECK(read_rc(p, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(read_rc(p, 1000, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(read_rc(p, 12345, 100) == 0); /* the owner's own file */
	/* root-owned files are fine whoever the owner is */
	T_CHECK(chown(p, 0, 0) == 0);
	T_CHECK(read_rc(p, 12345, 100) == 0);
}

static void
read_refuses_unsafe_parent(void)
{
	char gw[PATH_MAX], inner[PATH_MAX + 8], f[PATH_MAX + 16];

	/* group-writable parent */
	if (subdir("gwdir", 0775, gw, sizeof(gw)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	snprintf(f, sizeof(f), "%s/file", gw);
	T_CHECK(put_at(f, "data", 0644) == 0);
	T_CHECK(read_rc(f, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	/* a group-writable grandparent: every level is checked */
	snprintf(inner, sizeof(inner), "%s/in", gw);
	T_CHECK(mkdir(inner, 0755) == 0 && chmod(inner, 0755) == 0);
	snprintf(f, sizeof(f), "%s/file", inner);
	T_CHECK(put_at(f, "data", 0644) == 0);
	T_CHECK(read_rc(f, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	/* control: the same tree made safe */
	T_CHECK(chmod(gw, 0755) == 0);
	T_CHECK(read_rc(f, 0, 100) == 0);
	/* world-writable, even with the sticky bit */
	T_CHECK(chmod(gw, 01777) == 0);
	T_CHECK(read_rc(f, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(chmod(gw, 0755) == 0);
	/* a parent owned by another user */
	T_CHECK(chown(inner, 12345, 12345) == 0);
	T_CHECK(read_rc(f, 0, 100) == VIVO_ERR_FILE_UNSAFE);
	T_CHECK(read_rc(f, 12345, 100) == 0);
}

/* ---- vivo_file_lock_dir ------------------------------------------------- */

static void
lock_dir_excludes_others(void)
{
	char d[PATH_MAX], p[PATH_MAX + 16], lock[PATH_MAX + 16];
	int fd, other;

	if (subdir("lock", 0755, d, sizeof(d)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	snprintf(p, sizeof(p), "%s/alice", d); /* need not exist */
	snprintf(lock, sizeof(lock), "%s/.lock", d);
	fd = vivo_file_lock_dir(p);
	T_CHECK(fd >= 0);
	/* the lock is a 0600 file, not the directory: a user who may only
	 * read the directory cannot open it, so cannot hold writers up */
	T_CHECK(mode_of(lock) == 0600);
	other = open(lock, O_RDONLY | O_CLOEXEC);
	T_CHECK(other >= 0);
	errno = 0;
	T_CHECK(flock(other, LOCK_EX | LOCK_NB) == -1);
	T_CHECK(errno == EWOULDBLOCK);
	T_CHECK(flock(other, LOCK_SH | LOCK_NB) == -1);
	vivo_file_unlock(fd);
	T_CHECK(flock(other, LOCK_EX | LOCK_NB) == 0);
	close(other);
	/* a symlink planted as the lock file is not followed */
	T_CHECK(unlink(lock) == 0);
	T_CHECK(symlink("/etc/passwd", lock) == 0);
	T_CHECK(vivo_file_lock_dir(p) == -1);
	T_CHECK(unlink(lock) == 0);
}

static void
lock_dir_missing_directory(void)
{
	char p[PATH_MAX];

	if (at("no-such-dir/alice", p, sizeof(p)) == NULL) {
		T_CHECK(!"no dir");
		return;
	}
	T_CHECK(vivo_file_lock_dir(p) == -1);
}

/* ---- main: the tmpfs case only where a tmpfs can be mounted ------------- */

static int
can_mount_tmpfs(char *why, size_t whysz)
{
	char d[PATH_MAX];

	if (subdir("mount-probe", 0755, d, sizeof(d)) == NULL) {
		snprintf(why, whysz, "cannot create a mount point");
		return 0;
	}
	if (mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k") != 0) {
		snprintf(why, whysz, "mount tmpfs: %s", strerror(errno));
		return 0;
	}
	if (umount2(d, 0) != 0) {
		snprintf(why, whysz, "umount: %s", strerror(errno));
		return 0;
	}
	return 1;
}

int
main(void)
{
	static const struct t_case always[] = {
		T_CASE(replace_writes_content),
		T_CASE(replace_mode_ignores_umask),
		T_CASE(replace_leaves_no_temp_file),
		T_CASE(replace_fails_without_directory),
		T_CASE(replace_ignores_stale_temp_symlink),
		T_CASE(clean_stale_removes_only_our_temp_files),
		T_CASE(read_returns_content),
		T_CASE(read_missing_file),
		T_CASE(read_refuses_symlink),
		T_CASE(read_refuses_fifo),
		T_CASE(read_refuses_directory_and_devices),
		T_CASE(read_refuses_over_cap),
		T_CASE(read_refuses_writable_file),
		T_CASE(read_refuses_other_owner),
		T_CASE(read_refuses_unsafe_parent),
		T_CASE(lock_dir_excludes_others),
		T_CASE(lock_dir_missing_directory),
	};
	static const struct t_case full_fs =
	    T_CASE(replace_on_full_fs_keeps_old_file);
	struct t_case cases[VIVO_NELEM(always) + 1];
	size_t n = VIVO_NELEM(always);
	char why[256];

	memcpy(cases, always, sizeof(always));
	if (can_mount_tmpfs(why, sizeof(why)))
		cases[n++] = full_fs;
	else
		T_SKIP("file", "replace_on_full_fs_keeps_old_file", why);
	return t_run("file", cases, n);
}
