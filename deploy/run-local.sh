#!/bin/sh
# deploy/run-local.sh - the body of 'make run'.
#
# Creates (first time) a PostgreSQL cluster under var/pg, migrates, loads
# the bundled demo data (again only when it changed) and serves on
# 127.0.0.1:8080 in the foreground.  Ctrl-C (SIGINT) or SIGTERM stops the
# service and then the PostgreSQL this script started.
set -eu
B=${B:-build}
. deploy/pg.sh

top=$(pwd)
dir="$top/var/pg"
config=${CARBONSCHED_CONFIG:-deploy/demo.json}
mkdir -p "$top/var"

pg_init "$dir"
pg_start "$dir"
pid=
stop() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pg_stop "$dir"
	echo "carbonsched and its PostgreSQL stopped"
}
trap stop EXIT
trap 'exit 130' INT TERM

psql_() { "$(pg_bindir)/psql" -X -q -h "$dir" -U carbonsched "$@"; }
if [ "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'carbonsched'")" != 1 ]; then
	psql_ -d postgres -c "CREATE DATABASE carbonsched"
fi
export CARBONSCHED_DATABASE_URL="host=$dir user=carbonsched dbname=carbonsched"

"$B/carbonsched" migrate --config "$config"
stamp=$(cat data/demo/*.csv.gz | cksum)
if [ "$(cat "$top/var/demo-loaded" 2>/dev/null)" != "$stamp" ]; then
	echo "loading the bundled demo data (data/demo, see its README for sources and licence)"
	for f in data/demo/*.csv.gz; do
		"$B/carbonsched" ingest --config "$config" --format dacf --file "$f"
	done
	echo "$stamp" >"$top/var/demo-loaded"
fi

echo "serving http://127.0.0.1:8080 (Ctrl-C stops the service and its PostgreSQL)"
"$B/carbonsched" serve --config "$config" &
pid=$!
# 'wait' returns early when a trapped signal arrives; the traps take over.
wait "$pid" || true
pid=
