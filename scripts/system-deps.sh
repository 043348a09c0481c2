#!/usr/bin/env bash
# Make sure the system programs Taskscore needs are there: as root on Debian (apt-get), install
# the missing ones from Debian's packages; otherwise print exactly what to install and exit 1.
#
#   scripts/system-deps.sh install GROUP...   install what is missing (or say what to install)
#   scripts/system-deps.sh check GROUP...     only say what is missing (exit 1 if anything is)
#
# Groups:
#   python     $PYTHON (python3) 3.11+ that can make a venv   python3, python3-venv
#   node       Node.js that frontend/package.json's engines accept, and npm
#                                                             nodejs, npm (and see below)
#   postgres   Postgres server binaries (initdb, pg_ctl)      postgresql
#   redis      redis-server                                   redis-server
#   rabbitmq   rabbitmq-server (for an amqp:// broker)        rabbitmq-server
#   browser    chromium at $CHROMIUM_PATH (/usr/bin/chromium) chromium
#   test-tools what the tests start themselves: redis-server (the fault tests' throwaway Redis)
#              and pg_dump (the backup drill's test)          redis-server, postgresql-client
#
# Debian 12's nodejs is 18, older than the web app needs (Next.js 16): when the node on PATH is
# too old, Node.js $NODE_MAJOR (22) and npm $NPM_MAJOR (10) are installed from the npm registry
# (the packages node-linux-<arch>, which holds the official binary, and npm) into /usr/local,
# with the npm Debian's packages brought.
#
# The servers' Debian packages are installed but their own services are neither started (a
# policy-rc.d refuses it while apt-get runs) nor enabled at boot: scripts/services.sh starts
# project-local ones under .local/ on the configured ports, and Debian's Postgres cluster, had it
# started, would hold port 5432 and ask for a password the default DATABASE_URL does not have.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PYTHON="${PYTHON:-python3}"
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
NODE_MAJOR="${NODE_MAJOR:-22}"
NPM_MAJOR="${NPM_MAJOR:-10}"
NODE_PREFIX="${NODE_PREFIX:-/usr/local}"

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

can_install() { ((EUID == 0)) && have apt-get && have dpkg; }

# ---------------------------------------------------------------- what is missing
PKGS=()    # Debian packages to install
WHY=()     # one line each: what is missing
NODE_OLD="" # the node on PATH is too old (Debian's 18): install a newer one from npm

add() { # pkg why
	local p
	for p in ${PKGS[@]+"${PKGS[@]}"}; do [[ $p == "$1" ]] && return 0; done
	PKGS+=("$1")
	WHY+=("$2")
}

version_ge() { # a b -> a >= b (dotted numbers)
	local IFS=. i a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	for i in 0 1 2; do
		((10#${a[i]:-0} > 10#${b[i]:-0})) && return 0
		((10#${a[i]:-0} < 10#${b[i]:-0})) && return 1
	done
	return 0
}

node_min() { # the lowest version frontend/package.json's "engines" accept (>=X.Y.Z)
	local v
	v="$(sed -n 's/.*"node": *">= *\([0-9][0-9.]*\)".*/\1/p' "$ROOT/frontend/package.json" 2>/dev/null | head -n 1)"
	printf '%s' "${v:-20.19.0}"
}

check_python() {
	if ! have "$PYTHON"; then
		[[ $PYTHON == python3 ]] || { warn "$PYTHON is not on PATH (PYTHON=$PYTHON)"; return 1; }
		add python3 "python3 is missing"
		add python3-venv "python3's venv module is missing"
		return 0
	fi
	"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
		warn "Python 3.11+ is needed; $PYTHON is $("$PYTHON" -V 2>&1). Debian 12 and later have it (python3);
  on an older system install a newer Python and run make with PYTHON=python3.x"
		return 1
	}
	# Debian splits venv's pip bootstrap (ensurepip) into python3-venv
	"$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 ||
		add python3-venv "$PYTHON cannot make a virtual environment (no ensurepip)"
}

check_node() {
	local min v
	min="$(node_min)"
	if ! have node; then
		add nodejs "node is missing (Node.js $min+)"
		have npm || add npm "npm is missing"
		return 0
	fi
	v="$(node -v 2>/dev/null)"
	v="${v#v}"
	if ! version_ge "$v" "$min"; then
		NODE_OLD="$v"
		have npm || add npm "npm is missing (it installs the newer Node.js)"
	fi
	have npm || add npm "npm is missing"
}

pg_server_bin() { # 0 if some Postgres server binaries are installed
	local d
	have pg_ctl && have initdb && return 0
	for d in /usr/lib/postgresql/*/bin /usr/pgsql-*/bin /opt/homebrew/opt/postgresql@*/bin \
		/usr/local/opt/postgresql@*/bin /opt/homebrew/opt/postgresql/bin /usr/local/opt/postgresql/bin; do
		[[ -x $d/pg_ctl && -x $d/initdb ]] && return 0
	done
	return 1
}

check_group() {
	case $1 in
	python) check_python ;;
	node) check_node ;;
	postgres) pg_server_bin || add postgresql "Postgres server binaries (initdb, pg_ctl) are missing" ;;
	redis) have redis-server || add redis-server "redis-server is missing" ;;
	rabbitmq)
		[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || have rabbitmq-server ||
			add rabbitmq-server "rabbitmq-server is missing (CELERY_BROKER_URL is an amqp:// URL)"
		;;
	browser) [[ -x $CHROMIUM_PATH ]] || add chromium "chromium is missing at $CHROMIUM_PATH (the browser tests drive it)" ;;
	test-tools)
		have redis-server || add redis-server "redis-server is missing (the fault tests start their own Redis)"
		have pg_dump || add postgresql-client "pg_dump is missing (the backup drill's test runs it)"
		;;
	*)
		warn "system-deps.sh: unknown group '$1' (python, node, postgres, redis, rabbitmq, browser, test-tools)"
		exit 2
		;;
	esac
}

node_arch() {
	case "$(uname -m)" in
	x86_64 | amd64) printf 'x64' ;;
	aarch64 | arm64) printf 'arm64' ;;
	*) return 1 ;;
	esac
}

node_npm_cmd() { # the command that installs a newer Node.js and npm from the npm registry
	local arch
	arch="$(node_arch)" || arch='<x64|arm64>'
	printf 'npm install --global --prefix %s node-linux-%s@%s npm@%s' "$NODE_PREFIX" "$arch" "$NODE_MAJOR" "$NPM_MAJOR"
}

# ---------------------------------------------------------------- installing
UPDATED=""
POLICY=/usr/sbin/policy-rc.d
POLICY_OURS=""
# shellcheck disable=SC2329  # the EXIT trap calls it
cleanup() { [[ -z $POLICY_OURS ]] || rm -f "$POLICY"; }
trap cleanup EXIT

apt_install() { # pkgs...
	local p server=() plain=() browser=()
	for p in "$@"; do
		case $p in
		postgresql | redis-server | rabbitmq-server) server+=("$p") ;;
		chromium) browser+=("$p") ;; # with its recommended fonts, which the screenshots need
		*) plain+=("$p") ;;
		esac
	done
	if [[ -z $UPDATED ]]; then
		say "system-deps: apt-get update"
		apt-get -o DPkg::Lock::Timeout=300 update -qq
		UPDATED=1
	fi
	if ((${#server[@]})) && [[ ! -e $POLICY ]]; then
		printf '#!/bin/sh\n# scripts/system-deps.sh: no service starts while it installs packages\nexit 101\n' >"$POLICY"
		chmod 755 "$POLICY"
		POLICY_OURS=1
	fi
	if ((${#plain[@]} + ${#server[@]})); then
		say "system-deps: apt-get install $(printf '%s ' ${plain[@]+"${plain[@]}"} ${server[@]+"${server[@]}"})"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
			${plain[@]+"${plain[@]}"} ${server[@]+"${server[@]}"} >/dev/null
	fi
	if ((${#browser[@]})); then
		say "system-deps: apt-get install ${browser[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${browser[@]}" >/dev/null
	fi
	if [[ -n $POLICY_OURS ]]; then
		rm -f "$POLICY"
		POLICY_OURS=""
	fi
	for p in ${server[@]+"${server[@]}"}; do # not at boot either: the project runs its own
		if have systemctl; then
			systemctl disable --quiet "$p" >/dev/null 2>&1 || true
		elif have update-rc.d; then
			update-rc.d "$p" disable >/dev/null 2>&1 || true
		fi
		say "system-deps: $p installed; its own service is not started or enabled (scripts/services.sh starts a project-local one)"
	done
}

node_from_npm() { # install Node.js $NODE_MAJOR and npm $NPM_MAJOR from the npm registry
	local arch v min
	arch="$(node_arch)" || { warn "system-deps: no Node.js package for $(uname -m) on the npm registry; install Node.js $(node_min)+ yourself"; return 1; }
	say "system-deps: node ${NODE_OLD:-?} is older than the web app needs; installing Node.js $NODE_MAJOR and npm $NPM_MAJOR into $NODE_PREFIX from the npm registry"
	npm install --global --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error \
		"node-linux-$arch@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null
	hash -r
	min="$(node_min)"
	v="$(node -v 2>/dev/null)" || v=""
	v="${v#v}"
	if ! version_ge "${v:-0}" "$min"; then
		warn "system-deps: Node.js $NODE_MAJOR is in $NODE_PREFIX/bin, but node on PATH is still ${v:-missing} ($(command -v node || true)):
  put $NODE_PREFIX/bin before /usr/bin in PATH"
		return 1
	fi
	say "system-deps: node $v, npm $(npm -v) ($(command -v node))"
}

hint() { # say exactly what to install
	local i
	warn "Missing system programs:"
	for i in "${!WHY[@]}"; do warn "  - ${WHY[i]}"; done
	[[ -n $NODE_OLD ]] && warn "  - node $NODE_OLD is older than the $(node_min) the web app needs"
	if ((${#PKGS[@]})); then
		warn "Install them (Debian/Ubuntu), or run this as root, which does it:
  sudo apt-get install ${PKGS[*]}"
	fi
	if [[ -n $NODE_OLD ]] || [[ " ${PKGS[*]:-} " == *" nodejs "* ]]; then
		warn "Node.js $(node_min)+ is needed; Debian 12's nodejs is 18. With Debian's npm, as root:
  sudo $(node_npm_cmd)
  (or any Node.js $(node_min)+ with npm on PATH)"
	fi
}

# ---------------------------------------------------------------- main
mode="${1:-}"
case $mode in
install | check) shift ;;
-h | --help | help)
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
	exit 0
	;;
*)
	warn "usage: scripts/system-deps.sh install|check GROUP..."
	exit 2
	;;
esac
(($#)) || set -- python node

for g in "$@"; do check_group "$g"; done
((${#PKGS[@]} == 0)) && [[ -z $NODE_OLD ]] && exit 0

if [[ $mode == check ]] || ! can_install; then
	hint
	exit 1
fi

if ((${#PKGS[@]})); then apt_install "${PKGS[@]}"; fi
# Debian's nodejs may be too old (Debian 12: 18): check the node that is now on PATH
for g in "$@"; do
	if [[ $g == node ]]; then
		PKGS=() WHY=() NODE_OLD=""
		check_node
		if [[ -n $NODE_OLD ]]; then node_from_npm; fi
	fi
done
exit 0
