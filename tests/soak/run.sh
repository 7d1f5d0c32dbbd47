#!/bin/sh
# tests/soak/run.sh - the body of 'make soak': the real service on a
# throwaway PostgreSQL with the bundled demo data (deploy/demo.json: six
# regions, replay clock, forecasting worker on), then build/soak at a fixed
# rate on loopback for SOAK_SECONDS (default 180).  Fails on any error or
# on resident memory growth of 5 % or more; latency is reported only.
#
#   SOAK_SECONDS  length of the measured run (default 180)
#   SOAK_RATE     requests per second planned (default 100)
#   SOAK_THREADS  client connections (default 8)
set -u
B=${B:-build}
SECONDS_=${SOAK_SECONDS:-180}
RATE=${SOAK_RATE:-100}
THREADS=${SOAK_THREADS:-8}
. deploy/pg.sh

pg_scratch carbonsched-soak || exit 1
PSQL="$(pg_bindir)/psql -X -q -h $tmp/pg -U carbonsched"
$PSQL -d postgres -c "CREATE DATABASE soak" || exit 1
export CARBONSCHED_DATABASE_URL="host=$tmp/pg user=carbonsched dbname=soak"
config=deploy/demo.json
"$B/carbonsched" migrate --config "$config" >/dev/null || exit 1
for f in data/demo/*.csv.gz; do
	"$B/carbonsched" ingest --quiet --config "$config" --format dacf --file "$f" || exit 1
done

# An API key, as a client has (once 'carbonsched keys' exists); its rate
# limit well above the soak's rate: the soak measures the service, not the
# limiter turning it away.
if "$B/carbonsched" keys --help >/dev/null 2>&1; then
	SOAK_API_KEY=$("$B/carbonsched" keys create --config "$config" --scopes read,schedule --name soak \
		2>/dev/null | head -1)
	if [ -z "$SOAK_API_KEY" ]; then
		echo "soak: carbonsched keys create failed" >&2
		exit 1
	fi
	export SOAK_API_KEY
	export CARBONSCHED_AUTH_RATE_PER_S=$((${SOAK_RATE:-100} * 10))
fi

CARBONSCHED_LISTEN=127.0.0.1:0 "$B/carbonsched" serve --config "$config" --port-file "$tmp/port" \
	2>"$tmp/serve.log" &
pid=$!
port=
for _ in $(seq 1 300); do
	port=$(cat "$tmp/port" 2>/dev/null)
	[ -n "$port" ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	echo "soak: the service did not start:" >&2
	cat "$tmp/serve.log" >&2
	exit 1
fi
base="http://127.0.0.1:$port"
get_ok() { # get_ok PATH: a 2xx answer
	if [ -n "${SOAK_API_KEY:-}" ]; then
		curl -fs -o /dev/null -H "Authorization: Bearer $SOAK_API_KEY" "$base$1"
	else
		curl -fs -o /dev/null "$base$1"
	fi
}
# Ready, and every region forecast (the worker's first round), before the clock starts.
echo "soak: waiting for the service's first forecasts"
ok=0
for _ in $(seq 1 600); do
	ok=1
	get_ok /readyz || ok=0
	for r in SE DE US-CAL-CISO US-MIDA-PJM US-TEX-ERCO US-NE-ISNE; do
		[ $ok -eq 1 ] || break
		get_ok "/v1/regions/$r/forecast" || ok=0
	done
	[ $ok -eq 1 ] && break
	sleep 0.5
done
if [ $ok -ne 1 ]; then
	echo "soak: the service did not get ready with forecasts in 300 s; its log:" >&2
	tail -20 "$tmp/serve.log" >&2
	kill $pid
	exit 1
fi
echo "soak: service pid $pid on $base; $SECONDS_ s at $RATE requests/s over $THREADS connections"
"$B/soak" "$base" "$pid" "$SECONDS_" "$RATE" "$THREADS"
status=$?
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -ne 0 ]; then
	echo "soak: the service exited with status $rc" >&2
	status=1
fi
if grep -q ' error ' "$tmp/serve.log"; then
	echo "soak: the service logged errors:" >&2
	grep ' error ' "$tmp/serve.log" | head -5 >&2
	status=1
fi
exit $status
