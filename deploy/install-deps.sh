#!/bin/sh
# Install, from Debian packages, everything that building, running and
# testing carbonsched need.  Idempotent: packages already present are left
# alone and apt is not touched when nothing is missing.
#
#   sudo deploy/install-deps.sh          # build, run and test
#   sudo deploy/install-deps.sh --check  # exit 1 and list what is missing
set -eu

PACKAGES="
build-essential
pkg-config
libmicrohttpd-dev
libgnutls28-dev
openssl
libjansson-dev
libcurl4-openssl-dev
libpq-dev
libcunit1-dev
libxml2-dev
zlib1g-dev
postgresql
postgresql-client
curl
clang-format
clang
valgrind
glpk-utils
prometheus
chromium
systemd
"
# systemd: 'make test' checks deploy/systemd with systemd-analyze,
# systemd-sysusers and systemd-tmpfiles (no running systemd needed).
# Node.js runs the OpenAPI lint, the validation of answers against the
# OpenAPI schemas and the dashboard test (tests/node, web/); a machine that
# already has node (another distribution of it) keeps its own.
if ! command -v node >/dev/null 2>&1; then
	PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ "${1:-}" = "--check" ]; then
	if [ -n "$missing" ]; then
		echo "missing Debian packages:$missing" >&2
		exit 1
	fi
	exit 0
fi

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "carbonsched needs:$missing" >&2
	echo "run: sudo deploy/install-deps.sh" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
