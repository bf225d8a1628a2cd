/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Every target links the product library built with the same sanitizers
 * (build/fuzz/libvivo-fuzz.a, see fuzz.mk). An invariant a target checks
 * that does not hold is reported with FUZZ_CHECK, which abort()s, so
 * libFuzzer records the input as a crash.
 */
#ifndef VIVO_FUZZ_H
#define VIVO_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Print "invariant failed" with the place and abort(). */
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond);                  \
	} while (0)

/* Mask every syslog priority: the library logs through vsyslog, and a
 * fuzzer must not spend its time (or a socket per call) on that. */
void fuzz_quiet_syslog(void);

/* A NUL-terminated, exactly-sized heap copy of the input (so ASan sees a
 * read past the text's end); NULL only when out of memory. */
char *fuzz_text(const uint8_t *data, size_t size);

/* With FUZZ_VERBOSE=1 in the environment, print a line about what an
 * input did (for writing seeds; make-seeds.py); otherwise nothing. */
void fuzz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Decode hex (a constant of the target) or abort. */
void fuzz_unhex(const char *hex, uint8_t *out, size_t want);

#endif
