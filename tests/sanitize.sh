#!/bin/sh
# tests/sanitize.sh - the body of 'make tsan' and 'make valgrind': the
# integration tests (own throwaway PostgreSQL) with the service binary
# they spawn checked by a dynamic tool, and every report of that tool
# turned into a failure.
#
#   tests/sanitize.sh tsan [suite...]      B holds a -fsanitize=thread build;
#                                          ThreadSanitizer reports of every
#                                          process go to $B/tsan-reports/
#   tests/sanitize.sh valgrind [suite...]  the binary runs under valgrind
#                                          (memcheck, definite and indirect
#                                          leaks are errors); one log per
#                                          process in $B/valgrind/
#
# Suites default to all (tests/lib/testlib.c: a name prefix filter).
# The run time is printed at the end.
set -u
B=${B:-build}
mode=${1:?usage: tests/sanitize.sh tsan|valgrind [suite...]}
shift
. deploy/pg.sh

pg_scratch carbonsched-$mode "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" || exit 1
export CARBONSCHED_TEST_PGHOST="$tmp/pg"
export CARBONSCHED_TEST_TMP="$tmp"
export CARBONSCHED_BIN="$B/carbonsched"

start=$(date +%s)
case $mode in
tsan)
	reports="$B/tsan-reports"
	rm -rf "$reports"
	mkdir -p "$reports"
	# halt_on_error=0: a race is reported and the test goes on, so one run
	# finds them all; the reports fail the run below.
	export TSAN_OPTIONS="log_path=$PWD/$reports/tsan second_deadlock_stack=1 history_size=4 \
suppressions=$PWD/tests/tsan.supp halt_on_error=0"
	;;
valgrind)
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "make valgrind needs valgrind (Debian package valgrind)" >&2
		exit 1
	fi
	reports="$B/valgrind"
	rm -rf "$reports"
	mkdir -p "$reports"
	export CARBONSCHED_TEST_WRAPPER="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
--log-file=$PWD/$reports/vg.%p"
	# The binary runs 20-50 times slower: the harness waits longer.
	export CARBONSCHED_TEST_TIMEOUT_SCALE=${CARBONSCHED_TEST_TIMEOUT_SCALE:-10}
	;;
*)
	echo "tests/sanitize.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac

status=0
echo "== integration tests under $mode${*:+ (suites: $*)}"
"$B/tests/integration-tests" "$@" || status=1

# Reports: any non-empty report file is a failure (valgrind with --quiet
# writes nothing for a clean process).
n=0
bad=0
for f in "$reports"/*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	if [ -s "$f" ]; then
		bad=$((bad + 1))
		if [ $bad -le 5 ]; then
			echo "---- $f" >&2
			head -60 "$f" >&2
		fi
	fi
done
elapsed=$(($(date +%s) - start))
case $mode in
tsan) echo "$mode: $bad report file(s) in $reports; ${elapsed}s" ;;
valgrind) echo "$mode: $n process(es) checked, $bad with errors or leaks (logs in $reports); ${elapsed}s" ;;
esac
[ $bad -eq 0 ] || status=1
if [ $status -eq 0 ]; then
	echo "== $mode: all passed"
else
	echo "== $mode: FAILED" >&2
fi
exit $status
