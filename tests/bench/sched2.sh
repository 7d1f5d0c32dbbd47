# tests/bench/sched2.sh - fragment of 'make bench' (sourced by run.sh, which
# sets B, DATA, MATRIX, tmp, PSQL and need_pkg): the scheduling API.
#  - POST /v1/schedule for a job over 20 regions x 96 h (the 123-zone
#    matrix, hourly; the forecasting worker is off, so that its rounds do
#    not share the CPU with what is measured: the inputs are the replay's
#    stored future), against the bare libmicrohttpd handler answering a
#    body of the same size with the same threads, measured in the same run;
#  - POST /v1/jobs with capacity, committed durably (the bench cluster runs
#    with fsync and synchronous_commit on), against pgbench -b simple-update
#    on the same cluster (its tables in a separate database).
# wrk drives both; every figure is printed with its reference and the ratio.
s2_secs=${BENCH_SECONDS:-10}
s2_pgbench=$(pg_bindir)/pgbench
[ -x "$s2_pgbench" ] || s2_pgbench=$(command -v pgbench)

s2_wrk() { # CONNECTIONS SCRIPT URL -> "requests/s p99_ms requests non2xx seconds"
	wrk -t2 -c"$1" -d"${s2_secs}s" --latency -s "$2" "$3" 2>/dev/null | awk '
		/Requests\/sec/ {rps = $2}
		/requests in/ {n = $1; d = $4; sub(/s,?$/, "", d)}
		/Non-2xx/ {bad = $NF}
		/^ +99%/ {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)}
			else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; p99 = v}
		END {printf "%s %s %s %d %s\n", rps, p99, n, bad, d}'
}

if [ ! -f "$MATRIX" ]; then
	echo "sched2: /v1/schedule and /v1/jobs benches skipped: $MATRIX absent (../shared/data not present)"
elif ! need_pkg wrk wrk; then
	echo "sched2: /v1/schedule and /v1/jobs benches skipped: needs wrk (Debian package wrk; run as root to install it)"
else
	$PSQL -d postgres -c "CREATE DATABASE sched2"
	s2_db="host=$tmp/pg user=carbonsched dbname=sched2"
	CARBONSCHED_DATABASE_URL=$s2_db "$B/carbonsched" migrate >/dev/null &&
		CARBONSCHED_DATABASE_URL=$s2_db "$B/carbonsched" ingest --quiet --format wide --file "$MATRIX" >/dev/null ||
		echo "sched2: could not load $MATRIX"
	s2_key=$(CARBONSCHED_DATABASE_URL=$s2_db "$B/carbonsched" keys create --scopes admin --name bench 2>/dev/null)
	# 20 regions: the first 20 zones of the matrix, 10 kW each per hour.
	s2_zones=$(head -1 "$MATRIX" | tr -d '\r' | tr ',' '\n' | sed -n '2,21p')
	s2_regions=$(for z in $s2_zones; do
		printf '{"id":"%s","latitude":0,"longitude":0,"pue":1.1,"jurisdictions":["ALL"],"capacity_kw":10},' "$z"
	done | sed 's/,$//')
	s2_first=$(echo "$s2_zones" | head -1)
	s2_serve() { # THREADS -> port in $tmp/s2.port
		cat >"$tmp/s2.json" <<JSON
{"listen":"127.0.0.1:0","threads":$1,"database_url":"$s2_db","log_level":"warn",
 "clock":{"mode":"replay","start":"2022-07-01T00:00:10Z"},"forecast":{"enabled":false},"auth":{"rate_per_s":0},
 "regions":[$s2_regions]}
JSON
		rm -f "$tmp/s2.port"
		"$B/carbonsched" serve --config "$tmp/s2.json" --port-file "$tmp/s2.port" 2>>"$tmp/s2.log" &
		s2_pid=$!
		for i in $(seq 200); do [ -s "$tmp/s2.port" ] && break; sleep 0.1; done
		s2_port=$(cat "$tmp/s2.port")
	}

	# --- POST /v1/schedule: 4 h job, any of 20 regions, 96 h horizon --------
	s2_serve 4
	s2_body='{"duration":"PT4H","deadline":"2022-07-05T00:00:00Z","origin":"'$s2_first'","power_kw":10}'
	cat >"$tmp/s2-advice.lua" <<LUA
wrk.method = "POST"
wrk.body = '$s2_body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $s2_key"
LUA
	curl -s -o "$tmp/s2-answer.json" -w '%{http_code}' -H "Authorization: Bearer $s2_key" -d "$s2_body" "http://127.0.0.1:$s2_port/v1/schedule" >"$tmp/s2-code"
	if [ "$(cat "$tmp/s2-code")" != 200 ]; then
		echo "sched2: /v1/schedule FAILED: $(cat "$tmp/s2-answer.json")"
	else
		s2_size=$(wc -c <"$tmp/s2-answer.json")
		"$B/bench/bare_mhd" "$tmp/s2-answer.json" 4 >"$tmp/s2-bare.port" &
		s2_bare_pid=$!
		for i in $(seq 100); do [ -s "$tmp/s2-bare.port" ] && break; sleep 0.1; done
		s2_bare=$(cat "$tmp/s2-bare.port")
		s2_secs_keep=$s2_secs
		s2_secs=2 s2_wrk 64 "$tmp/s2-advice.lua" "http://127.0.0.1:$s2_port/v1/schedule" >/dev/null # warm-up
		s2_secs=$s2_secs_keep
		set -- $(s2_wrk 64 "$tmp/s2-advice.lua" "http://127.0.0.1:$s2_port/v1/schedule")
		s2_rps=$1 s2_p99=$2 s2_bad=$4
		set -- $(s2_wrk 64 "$tmp/s2-advice.lua" "http://127.0.0.1:$s2_bare/")
		awk -v s="$s2_size" -v o="$s2_rps" -v op="$s2_p99" -v b="$1" -v bp="$2" -v bad="$s2_bad" 'BEGIN {
			printf "sched2: POST /v1/schedule, 4 h job over 20 regions x 96 h (%d-byte answer), 64 keep-alive connections, 4 threads: %.0f req/s, p99 %.2f ms (%d non-2xx)\n", s, o, op, bad
			printf "sched2:   reference bare libmicrohttpd handler, same body and threads: %.0f req/s, p99 %.2f ms\n", b, bp
			printf "sched2:   ratio ours/bare = %.2f (goal >= 0.5)\n", o/b }'
		kill "$s2_bare_pid"
	fi
	kill "$s2_pid"
	wait "$s2_pid" 2>/dev/null

	# --- POST /v1/jobs against capacity, durable, vs pgbench ------------------
	if [ -z "$s2_pgbench" ]; then
		echo "sched2: booking bench skipped: pgbench not found"
	else
		$PSQL -d postgres -c "CREATE DATABASE pgb"
		"$s2_pgbench" -h "$tmp/pg" -U carbonsched -i -q pgb >/dev/null 2>&1
		s2_tps=$("$s2_pgbench" -h "$tmp/pg" -U carbonsched -n -b simple-update -c 32 -j 2 -T "$s2_secs" pgb 2>/dev/null |
			awk '/^tps/ {print $3; exit}')
		$PSQL -d sched2 -c "SHOW synchronous_commit" -tA >"$tmp/s2-sync"
		s2_serve ${S2_BOOK_THREADS:-32}
		# Each request books 1 kW for 1 h in one region (round robin over the 20):
		# 10 kW per region-hour fills the cheapest hours and moves on.
		cat >"$tmp/s2-book.lua" <<LUA
local zones = {}
for z in string.gmatch("$(echo $s2_zones)", "%S+") do zones[#zones + 1] = z end
local n = math.random(1, 1000000)
request = function()
	n = n + 1
	local z = zones[(n % #zones) + 1]
	local body = '{"duration":"PT1H","deadline":"2022-07-05T00:00:00Z","origin":"' .. z .. '","power_kw":1,"regions":["' .. z .. '"]}'
	return wrk.format("POST", "/v1/jobs", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $s2_key"}, body)
end
LUA
		set -- $(s2_wrk 32 "$tmp/s2-book.lua" "http://127.0.0.1:$s2_port/")
		s2_req=$3 s2_bad=$4 s2_dur=$5 s2_p99=$2
		s2_jobs=$($PSQL -d sched2 -tAc "SELECT count(*) FROM jobs")
		s2_over=$($PSQL -d sched2 -tAc "SELECT count(*) FROM region_load WHERE reserved_kw > capacity_kw + 1e-9")
		awk -v j="$s2_jobs" -v d="$s2_dur" -v t="$s2_tps" -v bad="$s2_bad" -v p="$s2_p99" -v o="$s2_over" \
			-v sc="$(cat "$tmp/s2-sync")" -v th="${S2_BOOK_THREADS:-32}" 'BEGIN {
			printf "sched2: POST /v1/jobs, 1 kW x 1 h in one of 20 regions, 10 kW per region-hour, 32 connections, %d threads (a database connection each, as pgbench clients), synchronous_commit=%s: %d jobs in %.1f s = %.0f bookings/s, p99 %.2f ms (%d refused, %d steps over capacity)\n", th, sc, j, d, j/d, p, bad, o
			printf "sched2:   reference pgbench -b simple-update, 32 clients, same cluster: %.0f tps\n", t
			printf "sched2:   ratio ours/pgbench = %.2f (goal >= 0.3)\n", (j/d)/t }'
		# The same with relocation across all 20 regions: every booking wants the same greenest
		# hours, so they queue on the lock of the region that has them.
		$PSQL -d sched2 -c "TRUNCATE jobs CASCADE; TRUNCATE region_load"
		sed -e 's/,"regions":\["'"'"' .. z .. '"'"'"\]//' "$tmp/s2-book.lua" >"$tmp/s2-book-any.lua"
		set -- $(s2_wrk 32 "$tmp/s2-book-any.lua" "http://127.0.0.1:$s2_port/")
		s2_dur=$5 s2_bad=$4 s2_p99=$2
		s2_jobs=$($PSQL -d sched2 -tAc "SELECT count(*) FROM jobs")
		awk -v j="$s2_jobs" -v d="$s2_dur" -v t="$s2_tps" -v p="$s2_p99" 'BEGIN {
			printf "sched2:   the same jobs relocatable over all 20 regions (all chase the greenest free hour): %.0f bookings/s, p99 %.2f ms, ratio to pgbench %.2f\n", j/d, p, (j/d)/t }'
		kill "$s2_pid"
		wait "$s2_pid" 2>/dev/null
	fi
fi
