#!/bin/sh
# deploy/run-local.sh - the body of 'make run'.
#
# Creates (first time) a PostgreSQL cluster under var/pg, migrates, loads
# the bundled demo data (again only when it changed), makes a demo API key
# (read,schedule) kept in var/demo.key (mode 0600) and serves on
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

# A demo key with read,schedule, made once per database and kept in var/.
keyfile="$top/var/demo.key"
prefix=$(sed -n 's/^cs_\([0-9a-f]*\)_.*/\1/p' "$keyfile" 2>/dev/null || true)
if [ -z "$prefix" ] || [ "$(psql_ -d carbonsched -tAc "SELECT 1 FROM api_keys WHERE prefix = '$prefix' AND revoked_at IS NULL")" != 1 ]; then
	(umask 077 && "$B/carbonsched" keys create --config "$config" --scopes read,schedule --name demo \
		>"$keyfile.new" 2>/dev/null && mv "$keyfile.new" "$keyfile")
fi
chmod 600 "$keyfile"
echo "demo API key (read,schedule) in var/demo.key; use it with:"
echo "  export CARBONSCHED_API_KEY=\$(cat var/demo.key)"
echo "  curl -s -H \"Authorization: Bearer \$CARBONSCHED_API_KEY\" localhost:8080/v1/schedule -d '{...}'"
echo "serving http://127.0.0.1:8080 (Ctrl-C stops the service and its PostgreSQL)"
"$B/carbonsched" serve --config "$config" &
pid=$!
# 'wait' returns early when a trapped signal arrives; the traps take over.
wait "$pid" || true
pid=
