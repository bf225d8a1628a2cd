#!/bin/sh
# Run the unit-test binaries given as arguments; each prints its own
# "N passed, N failed" line. Sum them up.
total_p=0
total_f=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then p=0; f=1; echo "$t: crashed or gave no summary (rc $rc)"; fi
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_p=$((total_p + p))
	total_f=$((total_f + f))
done
echo "unit: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
