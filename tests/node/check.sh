#!/bin/sh
# tests/node/check.sh - the Node part of 'make test' (called by tests/run.sh):
#
#   1. install the pinned tools of web/ and tests/node/ from their lock files
#      (npm ci, only when a lock file changed since the last install);
#   2. lint service/openapi.json with Redocly (every rule of redocly.yaml);
#   3. rebuild the dashboard bundle from web/src and the locked uPlot and
#      compare it byte for byte with the committed web/dist, which is what
#      'make' embeds (so building the binary never needs npm).
#
# Exit 0: all passed, the tools are ready for the integration tests.
# Exit 77: skipped - no usable node/npm, or npm could not install (message
# on stdout).  Exit 1: a check failed.
set -u
tmp=${CARBONSCHED_TEST_TMP:-${TMPDIR:-/tmp}}

skip() {
	echo "SKIP node checks: $*"
	exit 77
}

command -v node >/dev/null 2>&1 || skip "node is not installed (deploy/install-deps.sh installs Debian's nodejs and npm)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (deploy/install-deps.sh installs Debian's npm)"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge 18 ] || skip "node $(node --version) is older than 18, which the pinned tools need"

# npm ci from the lock file (never 'npm install'): exactly the pinned
# versions, no scripts run.  A stamp with the lock file's hash avoids
# reinstalling on every run.
install() {
	dir=$1
	want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
	have=$(cat "$dir/node_modules/.carbonsched-lock" 2>/dev/null || true)
	[ "$want" = "$have" ] && return 0
	echo "node: npm ci in $dir"
	if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$tmp/npm-ci.log" 2>&1); then
		cat "$tmp/npm-ci.log"
		skip "'npm ci' failed in $dir (is the npm registry reachable?)"
	fi
	echo "$want" >"$dir/node_modules/.carbonsched-lock"
}
install web
install tests/node

status=0
# Redocly's CLI would otherwise phone home and check for updates.
if REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	node tests/node/node_modules/@redocly/cli/bin/cli.js lint --config tests/node/redocly.yaml \
	--format stylish service/openapi.json >"$tmp/redocly.log" 2>&1; then
	echo "node: openapi lint passed (Redocly, tests/node/redocly.yaml)"
else
	cat "$tmp/redocly.log"
	echo "node: openapi lint FAILED" >&2
	status=1
fi

rm -rf "$tmp/dist"
if ! node web/build.mjs --out "$tmp/dist"; then
	echo "node: the dashboard bundle does not build" >&2
	status=1
elif diff -r web/dist "$tmp/dist" >/dev/null; then
	echo "node: web/dist is what web/src builds with the locked packages ($(cat web/dist/* | wc -c) bytes)"
else
	diff -r web/dist "$tmp/dist" | head -5 | cut -c1-200
	echo "node: web/dist differs from a fresh build of web/src: run 'cd web && npm ci && node build.mjs' and commit web/dist" >&2
	status=1
fi
exit $status
