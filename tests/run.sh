#!/bin/sh
# tests/run.sh - the body of 'make test': start a throwaway PostgreSQL, run
# the unit tests, the integration tests (real binary, real database, fake
# providers on loopback) and every fuzz corpus; clean up on every exit path.
set -u
B=${B:-build}
. deploy/pg.sh

# Durability is not under test here; speed is welcome.
pg_scratch carbonsched-test "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" || exit 1

export CARBONSCHED_TEST_PGHOST="$tmp/pg"
export CARBONSCHED_TEST_TMP="$tmp"
export CARBONSCHED_BIN="$B/carbonsched"

status=0
echo "== unit tests"
"$B/tests/unit-tests" || status=1
echo "== node tools (OpenAPI lint, dashboard bundle)"
tests/node/check.sh
case $? in
0) export CARBONSCHED_NODE_TOOLS=1 ;;
77) export CARBONSCHED_NODE_SKIP="node tools unavailable (see the node step above)" ;;
*) status=1; export CARBONSCHED_NODE_TOOLS=1 ;;
esac
echo "== deploy checks (systemd unit, Kubernetes manifests, Containerfile)"
tests/deploy/check.sh || status=1
echo "== integration tests"
"$B/tests/integration-tests" || status=1
echo "== fuzz corpora"
for f in "$B"/fuzz-replay/*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="tests/fuzz/corpus/${name#fuzz_}"
	if [ ! -d "$corpus" ]; then
		echo "fuzz: $name has no corpus in $corpus" >&2
		status=1
		continue
	fi
	n=$(find "$corpus" -type f | wc -l)
	if find "$corpus" -type f -print0 | xargs -0 -r "$f"; then
		echo "fuzz: $name replayed $n inputs"
	else
		echo "fuzz: $name FAILED" >&2
		status=1
	fi
done
if [ $status -eq 0 ]; then
	echo "== all tests passed"
else
	echo "== SOME TESTS FAILED" >&2
fi
exit $status
