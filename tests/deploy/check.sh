#!/bin/sh
# tests/deploy/check.sh - the deploy/ part of 'make test' (called by tests/run.sh).
#
#   1. systemd: 'systemd-analyze verify' of deploy/systemd/carbonsched.service
#      (ExecStart pointed at the built binary, which verify requires to
#      exist), silent or it fails; 'systemd-analyze security --offline' prints
#      the exposure score and fails above MAX_EXPOSURE; the sysusers.d and
#      tmpfiles.d snippets applied to a scratch root; a broken unit must be
#      rejected.
#   2. Kubernetes: every manifest of deploy/kubernetes against the Kubernetes
#      API schemas plus the policy (tests/deploy/validate.mjs); the
#      ConfigMap's config through the real config parser; a broken manifest
#      and a policy-breaking copy of the directory must be rejected.
#   3. Container image: deploy/container/Containerfile through a Dockerfile
#      validator and the policy; its apt packages against this Debian 12
#      machine (they exist; the build stage has the -dev of every pkg-config
#      module the Makefile links; the runtime stage provides every shared
#      library the built binary loads); a broken one must be rejected.  (Not
#      built here: no image registry is reachable.)
#
# Node parts skip, saying why, only when node or npm is missing or npm ci
# fails; the systemd part skips only without systemd-analyze.  Exit 0: all
# passed or skipped, 1: a check failed.
set -u
tmp=${CARBONSCHED_TEST_TMP:-${TMPDIR:-/tmp}}/deploy-check
bin=${CARBONSCHED_BIN:-build/carbonsched}
here=tests/deploy
data=tests/data/deploy
# systemd-analyze security's scale is 0-100 (shown as 0.0-10.0).
MAX_EXPOSURE=20
status=0
rm -rf "$tmp"
mkdir -p "$tmp"

fail() {
	echo "deploy: $* FAILED" >&2
	status=1
}

# --- 1. systemd -----------------------------------------------------------
systemd_checks() {
	unit=deploy/systemd/carbonsched.service
	absbin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	if [ ! -x "$absbin" ]; then
		fail "systemd: $absbin is not built"
		return
	fi
	mkdir -p "$tmp/systemd"
	sed "s#^ExecStart=/usr/local/bin/carbonsched #ExecStart=$absbin #" "$unit" >"$tmp/systemd/carbonsched.service"
	if ! grep -q "^ExecStart=$absbin serve" "$tmp/systemd/carbonsched.service"; then
		fail "systemd: $unit has no 'ExecStart=/usr/local/bin/carbonsched serve' to point at the build"
		return
	fi
	# The hardening the unit promises, each directive as written.
	for d in User=carbonsched ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
		NoNewPrivileges=yes CapabilityBoundingSet= "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
		SystemCallFilter=@system-service MemoryDenyWriteExecute=yes LockPersonality=yes \
		RestrictNamespaces=yes ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
		ProtectControlGroups=yes Restart=on-failure EnvironmentFile=-/etc/carbonsched/env; do
		grep -qx "$d" "$unit" || fail "systemd: $unit lacks '$d'"
	done

	# verify exits 0 on unknown keys and bad values, only warning: any output fails.
	if systemd-analyze verify "$tmp/systemd/carbonsched.service" >"$tmp/verify.log" 2>&1 &&
		[ ! -s "$tmp/verify.log" ]; then
		echo "deploy: systemd-analyze verify $unit passed (no warnings)"
	else
		cat "$tmp/verify.log"
		fail "systemd: systemd-analyze verify $unit"
	fi
	# The broken unit: each of its three problems must be reported.
	cp "$data/broken.service" "$tmp/systemd/broken.service"
	systemd-analyze verify "$tmp/systemd/broken.service" >"$tmp/verify-broken.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q "NoNewPrivilegez" "$tmp/verify-broken.log" &&
		grep -q "bogus" "$tmp/verify-broken.log" && grep -q "/nonexistent/carbonsched" "$tmp/verify-broken.log"; then
		echo "deploy: systemd-analyze verify rejects $data/broken.service (unknown key, bad value, missing binary)"
	else
		cat "$tmp/verify-broken.log"
		fail "systemd: the broken unit $data/broken.service was not rejected as expected (exit $rc)"
	fi

	if systemd-analyze security --offline=yes --threshold=$MAX_EXPOSURE "$tmp/systemd/carbonsched.service" \
		>"$tmp/security.log" 2>&1; then
		ok=1
	else
		ok=0
	fi
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$tmp/security.log")
	if [ $ok -eq 1 ] && [ -n "$score" ]; then
		echo "deploy: systemd-analyze security: exposure $score (this check fails above $((MAX_EXPOSURE / 10)).$((MAX_EXPOSURE % 10)))"
	else
		grep -v "^✓" "$tmp/security.log" | head -40
		fail "systemd: systemd-analyze security exposure ${score:-unknown} (allowed up to $MAX_EXPOSURE/10)"
	fi

	# sysusers.d then tmpfiles.d, applied to a scratch root.
	root="$tmp/systemd/root"
	mkdir -p "$root/etc"
	if systemd-sysusers --root="$root" "$PWD/deploy/systemd/carbonsched.sysusers" >"$tmp/sysusers.log" 2>&1 &&
		grep -q "^carbonsched:" "$root/etc/passwd" &&
		systemd-tmpfiles --create --root="$root" "$PWD/deploy/systemd/carbonsched.tmpfiles" >>"$tmp/sysusers.log" 2>&1 &&
		[ -d "$root/var/lib/carbonsched/reports" ] &&
		[ "$(stat -c %U "$root/var/lib/carbonsched/reports" 2>/dev/null || true)" != root ]; then
		echo "deploy: sysusers.d and tmpfiles.d snippets create the carbonsched user and its directories"
	else
		cat "$tmp/sysusers.log"
		fail "systemd: deploy/systemd/carbonsched.sysusers or .tmpfiles"
	fi
}

if command -v systemd-analyze >/dev/null 2>&1; then
	systemd_checks
else
	echo "SKIP deploy systemd checks: systemd-analyze is not installed (Debian package systemd)"
fi

# --- the Containerfile's Debian packages against this Debian 12 machine -----
# Its stages install packages by name; the build stage must have the -dev
# package of every pkg-config module the Makefile links (PKGS), and the
# runtime stage's packages with their dependencies must provide every
# shared library the built binary loads.  Needs Debian 12 with apt's lists.
containerfile_packages() {
	if ! grep -q '^VERSION_ID="12"' /etc/os-release 2>/dev/null || ! command -v dpkg-query >/dev/null 2>&1; then
		echo "SKIP deploy Containerfile package check: this machine is not Debian 12, the image's base"
		return
	fi
	if ! apt-cache show --no-all-versions libc6 >/dev/null 2>&1; then
		echo "SKIP deploy Containerfile package check: apt has no package lists (apt-get update)"
		return
	fi
	node "$here/validate.mjs" containerfile-packages deploy/container/Containerfile >"$tmp/cf-pkgs" || {
		fail "container: listing the Containerfile's packages"
		return
	}
	build=$(sed -n 's/^build //p' "$tmp/cf-pkgs")
	runtime=$(sed -n 's/^runtime //p' "$tmp/cf-pkgs")
	bad=0
	# One apt-cache and one dpkg call each: every call parses the whole cache.
	# shellcheck disable=SC2086
	apt-cache show --no-all-versions $build $runtime 2>/dev/null | sed -n 's/^Package: //p' | sort -u >"$tmp/cf-known"
	for p in $build $runtime; do
		grep -qxF "$p" "$tmp/cf-known" || {
			echo "container: no Debian 12 package '$p'"
			bad=1
		}
	done
	pcs=""
	for m in $(sed -n 's/^PKGS := //p' Makefile); do
		pcs="$pcs $(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc"
	done
	# shellcheck disable=SC2086
	dpkg -S $pcs 2>/dev/null >"$tmp/cf-pc-owners"
	for pc in $pcs; do
		owner=$(grep ": $pc\$" "$tmp/cf-pc-owners" | cut -d: -f1)
		case " $build " in
		*" $owner "*) ;;
		*) echo "container: the build stage lacks ${owner:-the package of $pc} (Makefile PKGS)"; bad=1 ;;
		esac
	done
	# shellcheck disable=SC2086
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
		--no-enhances $runtime 2>/dev/null | grep -v '^ ' | sort -u >"$tmp/cf-closure"
	# One dpkg -S for all libraries (each call reads every file list): the
	# resolved path, with and without /usr (merged /usr).
	paths=""
	# A sanitizer build (make asan) also loads the sanitizers' runtimes,
	# which the image's release build does not.
	for lib in $(ldd "$bin" | awk '/=> \// {print $3}' | grep -Ev '/lib(a|ub|t|l)san\.so'); do
		r=$(readlink -f "$lib")
		r=${r#/usr}
		paths="$paths $r /usr$r"
	done
	dpkg -S $paths 2>/dev/null >"$tmp/cf-owners"
	nlibs=0
	for p in $paths; do
		case $p in /usr/*) continue ;; esac
		nlibs=$((nlibs + 1))
		owners=$(grep -e ": $p\$" -e ": /usr$p\$" "$tmp/cf-owners" | cut -d: -f1 | tr ', ' '\n\n' | grep . | sort -u)
		if [ -z "$owners" ] || ! echo "$owners" | grep -qxF -f "$tmp/cf-closure"; then
			echo "container: $p (of $(echo $owners)) is not in the runtime stage's packages or their dependencies"
			bad=1
		fi
	done
	if [ $bad -eq 0 ] && [ $nlibs -gt 0 ]; then
		echo "deploy: the Containerfile's packages exist in Debian 12; the build stage has every -dev of PKGS; the runtime stage provides all $nlibs shared libraries the binary loads"
	else
		fail "container: the Containerfile's packages"
	fi
}

# --- 2 and 3: node tools ----------------------------------------------------
node_skip() {
	echo "SKIP deploy manifest and Containerfile checks: $*"
}

node_checks() {
	command -v node >/dev/null 2>&1 || {
		node_skip "node is not installed (deploy/install-deps.sh installs Debian's nodejs and npm)"
		return
	}
	command -v npm >/dev/null 2>&1 || {
		node_skip "npm is not installed (deploy/install-deps.sh installs Debian's npm)"
		return
	}
	major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
	[ "$major" -ge 18 ] || {
		node_skip "node $(node --version) is older than 18"
		return
	}
	# npm ci from the lock file, only when it changed since the last install.
	want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
	have=$(cat "$here/node_modules/.carbonsched-lock" 2>/dev/null || true)
	if [ "$want" != "$have" ]; then
		echo "deploy: npm ci in $here"
		if ! (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$tmp/npm-ci.log" 2>&1); then
			cat "$tmp/npm-ci.log"
			node_skip "'npm ci' failed in $here (is the npm registry reachable?)"
			return
		fi
		echo "$want" >"$here/node_modules/.carbonsched-lock"
	fi
	v="node $here/validate.mjs"

	$v kubernetes deploy/kubernetes || fail "kubernetes: deploy/kubernetes"
	$v kubernetes deploy/kubernetes/upgrade/migrate-job.yaml || fail "kubernetes: deploy/kubernetes/upgrade"

	# The broken manifests: every defect named, nothing accepted.
	$v kubernetes "$data/broken-k8s.yaml" >"$tmp/k8s-broken.log" 2>&1
	rc=$?
	missing=""
	for want in "Deployment/broken: data/spec/replicas must be integer" \
		"containers/0 must have required property name" \
		"containers/0/ports/0/containerPort must be integer" \
		"Service/broken: data/spec/ports/0/port must be integer" \
		"PodDisruptionBudget/broken: data/spec/minAvailable must match exactly one schema" \
		"unknown apiVersion/kind apps/v1/Deploymnet"; do
		grep -qF "$want" "$tmp/k8s-broken.log" || missing="$missing
  $want"
	done
	if [ $rc -eq 1 ] && [ -z "$missing" ]; then
		echo "deploy: the schema validation rejects $data/broken-k8s.yaml ($(wc -l <"$tmp/k8s-broken.log") problems named)"
	else
		cat "$tmp/k8s-broken.log"
		fail "kubernetes: $data/broken-k8s.yaml not rejected as expected (exit $rc; not reported:$missing)"
	fi

	# A schema-valid copy that breaks the policy: two replicas, readiness on /healthz.
	cp -r deploy/kubernetes "$tmp/k8s-policy"
	sed -i -e 's/^  replicas: 3$/  replicas: 2/' -e 's#{path: /readyz, port: http}#{path: /healthz, port: http}#' \
		"$tmp/k8s-policy/deployment.yaml"
	$v kubernetes "$tmp/k8s-policy" >"$tmp/k8s-policy.log" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q "spec.replicas must be 3, is 2" "$tmp/k8s-policy.log" &&
		grep -q "readinessProbe: GET /readyz" "$tmp/k8s-policy.log"; then
		echo "deploy: the policy rejects a copy with two replicas and readiness on /healthz"
	else
		cat "$tmp/k8s-policy.log"
		fail "kubernetes: the policy-breaking copy was not rejected as expected (exit $rc)"
	fi

	# The ConfigMap's config through the real parser: with a database URL that
	# cannot connect, a valid config gets as far as the connection.
	if $v config-from deploy/kubernetes "$tmp/configmap.json"; then
		CARBONSCHED_DATABASE_URL="host=$tmp/no-such-socket-dir dbname=none connect_timeout=2" \
			"$bin" migrate --config "$tmp/configmap.json" >"$tmp/config.log" 2>&1
		if grep -q "^carbonsched database:" "$tmp/config.log"; then
			echo "deploy: the ConfigMap's carbonsched.json loads (carbonsched's own config parser)"
		else
			cat "$tmp/config.log"
			fail "kubernetes: the ConfigMap's carbonsched.json is not a valid config"
		fi
	else
		fail "kubernetes: could not extract the ConfigMap's carbonsched.json"
	fi

	$v containerfile deploy/container/Containerfile || fail "container: deploy/container/Containerfile"
	containerfile_packages
	$v containerfile "$data/broken.Containerfile" >"$tmp/cf-broken.log" 2>&1
	rc=$?
	missing=""
	for want in "Invalid containerPort: http" "missing unit in duration 5" "ENV API_TOKEN: no secrets" \
		"FROM ubuntu:22.04: Debian 12 images only" "numeric non-root uid[:gid] (is 'root')"; do
		grep -qF "$want" "$tmp/cf-broken.log" || missing="$missing
  $want"
	done
	if [ $rc -eq 1 ] && [ -z "$missing" ]; then
		echo "deploy: the Containerfile checks reject $data/broken.Containerfile ($(wc -l <"$tmp/cf-broken.log") problems named)"
	else
		cat "$tmp/cf-broken.log"
		fail "container: $data/broken.Containerfile not rejected as expected (exit $rc; not reported:$missing)"
	fi
}
node_checks

exit $status
