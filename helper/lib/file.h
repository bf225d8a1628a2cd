/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file.h - reading root- or user-owned files safely, and rewriting them
 * so that a crash, a kill -9 or a full disk leaves the old version intact.
 */
#ifndef VIVO_FILE_H
#define VIVO_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Errors: enum vivo_err (err.h), VIVO_ERR_FILE_*. */
#include "err.h"

/*
 * Read `path` whole, NUL-terminated, into a malloc'd buffer. The file must
 * be a regular file (not a symlink) owned by root or by `owner`, not
 * group/world-writable, at most `cap` bytes; every parent directory must be
 * owned by root or `owner` and not group/world-writable. On success *buf is
 * the caller's (wipe and free it). `why` gets a short reason on failure.
 */
int vivo_file_read(const char *path, uid_t owner, size_t cap, char **buf,
    size_t *len, const char **why);

/* Check the directories from dirname(path) up to "/" as above. */
int vivo_file_check_parents(const char *path, uid_t owner, const char **why);

/*
 * Replace `path` with `data`: write a temp file ".<name>.tmp.<pid>" in the
 * same directory (O_CREAT|O_EXCL|O_NOFOLLOW, `mode`), fsync it, rename it
 * over `path`, fsync the directory. 0; VIVO_ERR_FILE_IO (errno set) when the
 * old file is
 * untouched and the temp file removed; VIVO_ERR_FILE_NOTSYNCED when the new
 * file is in place but the directory fsync failed (after a crash either
 * version may be there).
 */
int
vivo_file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* Remove temp files vivo_file_replace left for `path` when its writer was
 * killed. Call only while holding the directory lock (a live writer holds
 * it too, so every temp file seen then is stale). */
void vivo_file_clean_stale(const char *path);

/* mkdir -p for the directories above `path` with `mode` (existing ones are
 * left as they are). 0 / -1. */
int vivo_file_mkparents(const char *path, mode_t mode);

/* Take an exclusive flock on "<dir>/.lock" (created 0600) for the
 * directory holding `path`: only who may write the directory can take it.
 * Returns the fd to pass to vivo_file_unlock, or -1. */
int vivo_file_lock_dir(const char *path);
void vivo_file_unlock(int fd);

#endif
