#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The C sources follow .clang-format (make format applies it): one line
# per file that does not, and "format: N passed, N failed, N skipped".
# clang-format's output differs between major versions: the check runs
# with the version Debian 12 installs (tests/install-deps.sh), and under
# VIVO_REQUIRE_DEPS=1 (make check) a missing clang-format is a failure.
set -u
cd "$(dirname "$0")/.." || exit 1
pass=0
fail=0
skip=0
if ! command -v clang-format >/dev/null 2>&1; then
	if [ "${VIVO_REQUIRE_DEPS:-}" = 1 ]; then
		echo "FAIL format: clang-format is not installed (tests/install-deps.sh installs it)"
		fail=1
	else
		echo "skip format: clang-format is not installed"
		skip=1
	fi
else
	for f in $(git ls-files '*.c' '*.h' 2>/dev/null); do
		if clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL format: $f (make format)"
		fi
	done
fi
echo "format: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
