# deploy/pg.sh - start and stop a private PostgreSQL cluster (sourced).
#
# Used by 'make run' (a durable cluster under var/) and by the test
# harness (a throwaway cluster in a temporary directory).  The cluster
# listens only on a Unix socket inside its own directory, so several can
# run side by side without port clashes.  PostgreSQL refuses to run as
# root; when we are root, the server runs as the 'postgres' system user
# that Debian's postgresql package creates.

pg_bindir() {
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ]; then
			echo "$d"
			return 0
		fi
	done
	command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
	echo "deploy/pg.sh: no PostgreSQL server found (initdb); run: sudo deploy/install-deps.sh" >&2
	return 1
}

pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_init DIR: create a cluster in DIR/data (superuser 'carbonsched', trust
# auth on the socket) unless one exists.
pg_init() {
	dir=$1
	bin=$(pg_bindir) || return 1
	if [ -f "$dir/data/PG_VERSION" ]; then
		return 0
	fi
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
	fi
	pg_as "$bin/initdb" -D "$dir/data" -U carbonsched --auth=trust -E UTF8 --no-locale -N \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
}

# pg_start DIR [extra server options]: start the cluster, socket in DIR.
pg_start() {
	dir=$1
	shift
	bin=$(pg_bindir) || return 1
	pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -c listen_addresses= -c max_connections=200 $*" start >/dev/null || {
		cat "$dir/server.log" >&2
		return 1
	}
}

pg_stop() {
	dir=$1
	bin=$(pg_bindir) || return 1
	if [ -f "$dir/data/postmaster.pid" ]; then
		pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
	fi
}

# pg_conninfo DIR [DBNAME]
pg_conninfo() {
	echo "host=$1 user=carbonsched dbname=${2:-postgres}"
}

# pg_scratch PREFIX [server options]: a temporary directory ($tmp) holding a
# throwaway cluster in $tmp/pg, removed - with every process started from
# it - when the calling script exits.  For the test and bench harnesses.
pg_scratch() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || return 1
	shift
	chmod 755 "$tmp"
	trap 'pg_stop "$tmp/pg"; pkill -f -- "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
	trap 'exit 130' INT TERM
	pg_init "$tmp/pg" && pg_start "$tmp/pg" "$@"
}
