#!/bin/sh
# tests/fuzz/run.sh - the body of 'make fuzz': build every tests/fuzz/fuzz_*.c
# with clang's libFuzzer (ASan + UBSan) and run each for FUZZ_SECONDS,
# starting from its seed corpus (tests/fuzz/corpus/<name>/, copied: new
# inputs stay in build/, add interesting ones to the seed corpus by hand).
# Crashes are written to build/fuzz/crashes/<name>/ and fail the run.
# FUZZ_TARGETS="routes jobreq" runs only those (default: all).  Prints the
# executions of each target and their total.
set -u
B=${B:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-}
if ! command -v clang >/dev/null 2>&1; then
	echo "make fuzz needs clang (Debian package clang)" >&2
	exit 1
fi
make --no-print-directory B="$B" CC=clang OPT="-O1 -g" SANITIZE=address,undefined \
	EXTRA_CFLAGS="-fsanitize=fuzzer-no-link" fuzz-bins || exit 1
status=0
total=0
for f in "$B"/fuzzer/fuzz_*; do
	name=$(basename "$f")
	short=${name#fuzz_}
	if [ -n "$FUZZ_TARGETS" ] && ! echo " $FUZZ_TARGETS " | grep -q " $short "; then
		continue
	fi
	work="$B/corpus/$short"
	crashes="$B/crashes/$short"
	mkdir -p "$work" "$crashes"
	cp -r "tests/fuzz/corpus/$short/." "$work/" 2>/dev/null
	"$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -artifact_prefix="$crashes/" "$work" \
		>"$B/$name.log" 2>&1
	rc=$?
	execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$B/$name.log")
	total=$((total + ${execs:-0}))
	if [ $rc -ne 0 ]; then
		echo "fuzz: $name FAILED after ${execs:-?} executions; see $B/$name.log and $crashes" >&2
		status=1
	else
		echo "fuzz: $name: ${execs:-?} executions in ${FUZZ_SECONDS}s, no crash"
	fi
done
echo "fuzz: $total executions in all"
exit $status
