#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/fuzz/run.sh - run the libFuzzer targets, one process at a time
# (called by fuzz.mk, from the top of the tree).
#
#   run.sh fuzz SECONDS TARGET...   fuzz each for SECONDS on a scratch copy
#                                   of its corpus (the checked-in corpus is
#                                   never written); new inputs stay in
#                                   build/fuzz/work/TARGET
#   run.sh regress 0 TARGET...      run each once over every file of its
#                                   corpus and regressions
#
# A target fails on a non-zero exit or on any sanitizer or invariant
# report in its output; the log is build/fuzz/log/TARGET.MODE.log and a
# crashing input is kept in build/fuzz/artifacts/TARGET/. Environment:
# FUZZ_B (build/fuzz), FUZZ_DIR (tests/fuzz), FUZZ_MAXLEN_<target>,
# FUZZ_OPTS_<target> (more libFuzzer options, fuzz mode only), FUZZ_ROUND
# (longest single fuzzing process, seconds; 120).
set -u

mode=${1:?mode}
secs=${2:?seconds}
shift 2
B=${FUZZ_B:-build/fuzz}
D=${FUZZ_DIR:-tests/fuzz}
ROUND=${FUZZ_ROUND:-120}

ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
LSAN_OPTIONS=suppressions=$D/lsan.supp:print_suppressions=0
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
for s in llvm-symbolizer llvm-symbolizer-14; do
	if command -v "$s" >/dev/null 2>&1; then
		ASAN_SYMBOLIZER_PATH=$(command -v "$s")
		export ASAN_SYMBOLIZER_PATH
		break
	fi
done

REPORTS='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|==fuzz== invariant|ERROR: libFuzzer|SUMMARY: UndefinedBehaviorSanitizer'

pass=0
fail=0
failed=""
mkdir -p "$B/log"
for t in "$@"; do
	bin=$B/$t
	corpus=$D/corpus/$t
	regs=$D/regressions/$t
	log=$B/log/$t.$mode.log
	art=$B/artifacts/$t/
	maxlen=$(eval "echo \${FUZZ_MAXLEN_$t:-4096}")
	opts=$(eval "echo \${FUZZ_OPTS_$t:-}")
	rm -rf "$art" # the last run's; copy one to regressions/ to keep it
	mkdir -p "$art"
	if [ ! -x "$bin" ]; then
		echo "$t: FAILED (no $bin)"
		fail=$((fail + 1))
		failed="$failed $t"
		continue
	fi
	if [ "$mode" = fuzz ]; then
		work=$B/work/$t
		rm -rf "$work"
		mkdir -p "$work"
		[ -d "$corpus" ] && find "$corpus" -maxdepth 1 -type f \
		    -exec cp {} "$work/" \;
		ninit=$(find "$work" -type f | wc -l)
		dict=""
		[ -f "$D/dict/$t.dict" ] && dict="-dict=$D/dict/$t.dict"
		extra=""
		[ -d "$regs" ] && extra=$regs
		# In rounds of at most FUZZ_ROUND seconds, each a new process on
		# the same scratch corpus: memory that uninstrumented libraries
		# leak (lsan.supp) cannot pile up over a long run.
		left=$secs
		execs=0
		rc=0
		: >"$log"
		while [ "$left" -gt 0 ] && [ "$rc" -eq 0 ]; do
			round=$left
			[ "$round" -le "$ROUND" ] || round=$ROUND
			left=$((left - round))
			# shellcheck disable=SC2086
			"$bin" -max_len="$maxlen" -max_total_time="$round" \
			    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			    -error_exitcode=77 -timeout_exitcode=78 \
			    -artifact_prefix="$art" $dict $opts \
			    "$work" $extra >"$log.round" 2>&1
			rc=$?
			cat "$log.round" >>"$log"
			n=$(sed -n 's/^stat::number_of_executed_units: *//p' \
			    "$log.round" | tail -n 1)
			execs=$((execs + ${n:-0}))
		done
		rm -f "$log.round"
		cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 |
		    sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p')
		nfinal=$(find "$work" -type f | wc -l)
		what="${execs:-0} execs in ${secs} s, ${cov:-cov ?}, corpus $ninit -> $nfinal"
		if [ "$execs" -eq 0 ]; then
			[ "$rc" -ne 0 ] || rc=1 # ran nothing: not a pass
		fi
	else
		files=$(
			for d in "$corpus" "$regs"; do
				[ -d "$d" ] && find "$d" -maxdepth 1 -type f ! -name '.*' \
				    ! -name '*.md'
			done | sort
		)
		n=$(printf '%s\n' "$files" | grep -c .)
		if [ "$n" -eq 0 ]; then
			echo "$t: FAILED (no corpus in $corpus)"
			fail=$((fail + 1))
			failed="$failed $t"
			continue
		fi
		# shellcheck disable=SC2086
		"$bin" -timeout=10 -rss_limit_mb=2048 -error_exitcode=77 \
		    -timeout_exitcode=78 -artifact_prefix="$art" $files \
		    >"$log" 2>&1
		rc=$?
		ran=$(grep -c '^Executed ' "$log")
		what="$ran of $n inputs"
		[ "$ran" -eq "$n" ] || [ "$rc" -ne 0 ] || rc=1
	fi
	if [ "$rc" -eq 0 ] && ! grep -Eq "$REPORTS" "$log"; then
		echo "$t: ok, $what"
		pass=$((pass + 1))
	else
		echo "$t: FAILED (exit $rc), $what; log $log"
		grep -E -A 30 "$REPORTS" "$log" | head -n 60 | sed 's/^/    /'
		for a in "$art"*; do
			[ -f "$a" ] && echo "    input: $a"
		done
		fail=$((fail + 1))
		failed="$failed $t"
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
# nothing is ever skipped: a target that cannot run is a failure
echo "fuzz: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
