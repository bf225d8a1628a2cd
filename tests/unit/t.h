/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t.h - a tiny unit-test harness: T_CHECK records a failure and goes on;
 * each test is a function; T_MAIN runs them and prints
 * "N passed, N failed, N skipped". A test that cannot run here for a reason
 * that is nobody's fault (not root, so no tmpfs) is left out of the cases
 * and reported with T_SKIP, never counted as passed.
 */
#ifndef VIVO_T_H
#define VIVO_T_H

#include <stdio.h>
#include <string.h>

static int t_failed_checks;
static int t_skipped;

#define T_SKIP(suite, name, why)                                               \
	do {                                                                   \
		printf("skip %s.%s: %s\n", (suite), (name), (why));            \
		t_skipped++;                                                   \
	} while (0)

#define T_CHECK(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("  %s:%d: check failed: %s\n", __FILE__,        \
			    __LINE__, #cond);                                  \
			t_failed_checks++;                                     \
		}                                                              \
	} while (0)

typedef void (*t_fn)(void);
struct t_case {
	const char *name;
	t_fn fn;
};
#define T_CASE(f)                                                              \
	{                                                                      \
#f, f                                                          \
	}

static int
t_run(const char *suite, const struct t_case *cases, size_t n)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		int before = t_failed_checks;
		cases[i].fn();
		if (t_failed_checks == before) {
			passed++;
			printf("ok   %s.%s\n", suite, cases[i].name);
		} else {
			failed++;
			printf("FAIL %s.%s\n", suite, cases[i].name);
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, t_skipped);
	return failed ? 1 : 0;
}

#define T_MAIN(suite, ...)                                                     \
	int main(void)                                                         \
	{                                                                      \
		static const struct t_case cases[] = { __VA_ARGS__ };          \
		return t_run(suite, cases, sizeof(cases) / sizeof(cases[0]));  \
	}

#endif
