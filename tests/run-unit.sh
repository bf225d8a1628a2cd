#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run the unit-test binaries given as arguments; each prints its own
# "N passed, N failed, N skipped" line (a skipped test is one that cannot
# run here for a reason that is nobody's fault, e.g. not root; see
# tests/unit/t.h). Sum them up: "unit: N passed, N failed, N skipped".
total_p=0
total_f=0
total_s=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | tail -n 1)
	re='^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$'
	p=$(echo "$line" | sed -n "s/$re/\1/p")
	f=$(echo "$line" | sed -n "s/$re/\2/p")
	s=$(echo "$line" | sed -n "s/$re/\3/p")
	if [ -z "$p" ]; then p=0; f=1; s=0; echo "$t: crashed or gave no summary (rc $rc)"; fi
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	total_s=$((total_s + s))
done
echo "unit: $total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
