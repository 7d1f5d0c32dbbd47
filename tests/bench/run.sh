#!/bin/sh
# tests/bench/run.sh - the body of 'make bench'.
#
# Every figure is printed with a reference measured in the same run on the
# same machine, and the ratio between them; nothing here fails on timing.
# Parts whose data or tools are missing are skipped with a message.
# Other areas add a fragment tests/bench/<area>.sh, sourced below.
set -u
B=${B:-build}
. deploy/pg.sh
DATA=${CARBONSCHED_SHARED_DATA:-../shared/data}
MATRIX="$DATA/sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv"

need_pkg() { # need_pkg COMMAND PACKAGE: install a bench-only tool when root
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1
	fi
	command -v "$1" >/dev/null 2>&1
}

pg_scratch carbonsched-bench || exit 1
PSQL="$(pg_bindir)/psql -X -q -h $tmp/pg -U carbonsched"
$PSQL -d postgres -c "CREATE DATABASE bench"
export CARBONSCHED_DATABASE_URL="host=$tmp/pg user=carbonsched dbname=bench"
"$B/carbonsched" migrate >/dev/null || exit 1
# Every API request carries an admin key, so the figures include checking
# it; rate limits are off in the benches' configs (docs/security.md).
BENCH_KEY=$("$B/carbonsched" keys create --scopes admin --name bench 2>/dev/null) || exit 1
BENCH_AUTH="Authorization: Bearer $BENCH_KEY"
echo "carbonsched bench on $(nproc) cores, PostgreSQL $($PSQL -d bench -tAc 'SHOW server_version')"

# --- 1. ingest of the 123-zone matrix vs psql \copy of the same rows --------
if [ -f "$MATRIX" ]; then
	now_ms() { date +%s%3N; }
	best_ours=0
	best_psql=0
	for round in 1 2 3; do
		$PSQL -d bench -c "TRUNCATE signals; UPDATE series SET points = 0, first_ts = NULL, last_ts = NULL"
		t0=$(now_ms)
		"$B/carbonsched" ingest --quiet --format wide --file "$MATRIX" || exit 1
		t=$(($(now_ms) - t0))
		if [ "$best_ours" -eq 0 ] || [ "$t" -lt "$best_ours" ]; then best_ours=$t; fi
		if [ $round -eq 1 ]; then
			$PSQL -d bench -c "\\copy (SELECT series_id, ts, value, estimated FROM signals) TO '$tmp/rows.txt'"
		fi
		$PSQL -d bench -c "TRUNCATE signals"
		t0=$(now_ms)
		$PSQL -d bench -c "\\copy signals FROM '$tmp/rows.txt'" || exit 1
		t=$(($(now_ms) - t0))
		if [ "$best_psql" -eq 0 ] || [ "$t" -lt "$best_psql" ]; then best_psql=$t; fi
	done
	rows=$(wc -l <"$tmp/rows.txt")
	awk -v r="$rows" -v o="$best_ours" -v p="$best_psql" 'BEGIN {
		printf "ingest 123-zone matrix: %d points in %.2f s = %.0f points/s (parse + COPY, one transaction)\n", r, o/1000, r/(o/1000)
		printf "  reference psql \\copy of the same rows into the same table: %.2f s = %.0f rows/s\n", p/1000, r/(p/1000)
		printf "  ratio ours/psql = %.2f (goal >= 0.7; best of 3 each)\n", p/o }'
else
	echo "ingest bench skipped: $MATRIX absent (../shared/data not present)"
fi

# --- 2. GET /v1/regions/{id}/signals, one week, 64 keep-alive connections --
if [ -f "$MATRIX" ] && need_pkg wrk wrk; then
	cat >"$tmp/bench.json" <<JSON
{"listen":"127.0.0.1:0","threads":4,"clock":{"mode":"replay","start":"2022-07-01T00:00:00Z"},
 "auth":{"rate_per_s":0},
 "regions":[{"id":"DE","latitude":50.1,"longitude":8.7,"pue":1.15,"jurisdictions":["EU"]}]}
JSON
	"$B/carbonsched" serve --config "$tmp/bench.json" --port-file "$tmp/port" 2>"$tmp/serve.log" &
	for i in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	port=$(cat "$tmp/port")
	path="/v1/regions/DE/signals?from=2022-06-01T00:00:00Z&to=2022-06-08T00:00:00Z"
	curl -s -H "$BENCH_AUTH" "http://127.0.0.1:$port$path" >"$tmp/body.json"
	size=$(wc -c <"$tmp/body.json")
	"$B/bench/bare_mhd" "$tmp/body.json" 4 >"$tmp/bare.port" &
	for i in $(seq 100); do [ -s "$tmp/bare.port" ] && break; sleep 0.1; done
	bare=$(cat "$tmp/bare.port")
	run_wrk() { # URL -> "req/s p99_ms"
		wrk -t2 -c64 -d${BENCH_SECONDS:-10}s --latency -H "$BENCH_AUTH" "$1" 2>/dev/null | awk '
			/Requests\/sec/ {rps=$2}
			/^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v}
			END {printf "%s %s\n", rps, p99}'
	}
	run_wrk "http://127.0.0.1:$port$path" >/dev/null # warm-up
	set -- $(run_wrk "http://127.0.0.1:$port$path")
	ours_rps=$1 ours_p99=$2
	set -- $(run_wrk "http://127.0.0.1:$bare/")
	bare_rps=$1 bare_p99=$2
	awk -v s="$size" -v o="$ours_rps" -v op="$ours_p99" -v b="$bare_rps" -v bp="$bare_p99" 'BEGIN {
		printf "GET one week of signals (%d-byte JSON), 64 keep-alive connections: %.0f req/s, p99 %.2f ms\n", s, o, op
		printf "  reference bare libmicrohttpd handler, same body and threads: %.0f req/s, p99 %.2f ms\n", b, bp
		printf "  ratio ours/bare = %.2f (goal >= 0.5)\n", o/b }'
	pkill -f -- "$tmp/bench.json"
	pkill -f -- "$tmp/body.json"
else
	echo "HTTP bench skipped: needs $MATRIX and wrk (Debian package wrk; run as root to install it)"
fi

# --- fragments of other areas ----------------------------------------------
for f in tests/bench/*.sh; do
	[ "$f" = tests/bench/run.sh ] && continue
	# shellcheck disable=SC1090
	. "$f"
done
