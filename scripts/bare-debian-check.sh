#!/usr/bin/env bash
# Prove the two commands from nothing: in a clean Debian root (debootstrap, minbase, plus only
# make, git and python3), with its own network namespace (its own 127.0.0.1: the host's Postgres,
# Redis and RabbitMQ are out of its reach; registries through NAT), as root:
#   1. `make run`, until the API's /healthz and the web app's /login answer 200, then stopped;
#   2. `scripts/services.sh ensure` with an amqp:// broker (installs and starts RabbitMQ), so that
#      the RabbitMQ tests run too (BARE_DEBIAN_AMQP=0 skips it);
#   3. `make test` (BARE_DEBIAN_STEPS=run: only step 1).
#
#   scripts/bare-debian-check.sh [check]    the whole proof (make bare-debian-check); exit 0 if both passed
#   scripts/bare-debian-check.sh shell [CMD...]
#                                           a shell (or CMD) in the last run's root (made if
#                                           missing), in the same kind of namespaces
#
# Linux, as root (debootstrap, nftables and iproute2 are installed with apt-get when missing).
# BARE_DEBIAN_DIR (default: ../bare-debian beside the checkout) holds base/ (the debootstrap
# output, reused), root/ (this run's copy of base/, made anew each run and kept afterwards for
# inspection) and logs/<time>/ (make-run.log, make-test.log, summary.txt).
# The repository is cloned from this checkout's HEAD (committed code only); BARE_DEBIAN_OVERLAY
# names work-tree files (paths relative to the checkout) copied over the clone.
# BARE_DEBIAN_CA_BUNDLE (default: the host's /etc/ssl/certs/ca-certificates.crt; empty: none) is
# given to pip and npm inside (PIP_CERT, NODE_EXTRA_CA_CERTS): a machine that reaches the
# registries through a TLS-inspecting proxy needs its CA, which a new root does not have.
# Others: BARE_DEBIAN_SUITE (bookworm), BARE_DEBIAN_MIRROR (http://deb.debian.org/debian),
# BARE_DEBIAN_NET (the veth pair's /30, e.g. 10.213.7; default: the first 10.213.X the host does
# not use, so that two runs can go at once), BARE_DEBIAN_RUN_TIMEOUT (3600 s: make run's
# installs and build until it answers), BARE_DEBIAN_TEST_TIMEOUT (10800 s).
# Everything is undone on exit, failure or signal: the mounts live in a private mount namespace
# and the processes in a PID namespace that die with it; the network namespace, the nftables table
# and net.ipv4.ip_forward are removed or restored by a trap.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DIR="${BARE_DEBIAN_DIR:-$(dirname "$ROOT")/bare-debian}"
SUITE="${BARE_DEBIAN_SUITE:-bookworm}"
MIRROR="${BARE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NET="${BARE_DEBIAN_NET:-}"
RUN_TIMEOUT="${BARE_DEBIAN_RUN_TIMEOUT:-3600}"
TEST_TIMEOUT="${BARE_DEBIAN_TEST_TIMEOUT:-10800}"
AMQP="${BARE_DEBIAN_AMQP:-1}"
STEPS="${BARE_DEBIAN_STEPS:-run test}"
CA_BUNDLE="${BARE_DEBIAN_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
[[ -z $CA_BUNDLE || -f $CA_BUNDLE ]] || CA_BUNDLE=""
OVERLAY="${BARE_DEBIAN_OVERLAY:-}"
BASE="$DIR/base"
R="$DIR/root"
TAG="tsb$$"
NS="taskscore-bare-$$"
VH="${TAG}h" VN="${TAG}n"
NFT_TABLE="taskscore_bare_$$"

say() { printf '[bare-debian %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[bare-debian] %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

[[ $(uname -s) == Linux ]] || die "needs Linux (network and mount namespaces)"
((EUID == 0)) || die "needs root (debootstrap, chroot, network namespaces): sudo $0 $*"
case $DIR in "$ROOT" | "$ROOT"/*) die "BARE_DEBIAN_DIR must be outside the checkout ($ROOT)" ;; esac

host_tools() {
	local pkgs=()
	have debootstrap || pkgs+=(debootstrap)
	have nft || pkgs+=(nftables)
	have ip || pkgs+=(iproute2)
	have unshare || pkgs+=(util-linux)
	((${#pkgs[@]})) || return 0
	have apt-get || die "install ${pkgs[*]}"
	say "installing on the host: ${pkgs[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

mounted_under() { # 0 if anything is mounted at or under $1 (in this mount namespace)
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# ---------------------------------------------------------------- the clean root
make_base() {
	[[ -f $BASE/.taskscore-base ]] && return 0
	if [[ ! -x $BASE/usr/bin/make ]]; then
		rm -rf --one-file-system "$BASE"
		mkdir -p "$DIR"
		say "debootstrap $SUITE (minbase + make, git, python3) into $BASE"
		debootstrap --variant=minbase --include=make,git,python3 "$SUITE" "$BASE" "$MIRROR" >"$DIR/debootstrap.log" 2>&1 ||
			die "debootstrap failed; see $DIR/debootstrap.log"
	fi
	# What Debian's installer writes and minbase leaves out: the suite's updates and security
	# archives, and /etc/hosts (RabbitMQ's node name needs localhost to resolve)
	printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s-security %s-security main\n' \
		"$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "${MIRROR%/debian}/debian" "$SUITE" >"$BASE/etc/apt/sources.list"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tbare-debian\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$BASE/etc/hosts"
	printf 'bare-debian\n' >"$BASE/etc/hostname"
	touch "$BASE/.taskscore-base"
}

make_root() {
	if [[ -e $R ]]; then
		mounted_under "$R" && die "something is still mounted under $R; unmount it first"
		rm -rf --one-file-system "$R"
	fi
	say "copying $BASE to $R"
	cp -a "$BASE" "$R"
	cp -L /etc/resolv.conf "$R/etc/resolv.conf" # this machine's resolver
	# The host's CA bundle, for pip and npm (PIP_CERT, NODE_EXTRA_CA_CERTS) when this machine
	# reaches the registries through a TLS-inspecting proxy whose CA only the host trusts
	if [[ -n $CA_BUNDLE ]]; then
		mkdir -p "$R/etc/ssl"
		cp -L "$CA_BUNDLE" "$R/etc/ssl/host-ca-bundle.pem"
	fi
	say "cloning $ROOT (HEAD $(git -C "$ROOT" rev-parse --short HEAD)) into /srv/taskscore"
	git clone -q "$ROOT" "$R/srv/taskscore"
	local f
	for f in $OVERLAY; do
		[[ -f $ROOT/$f ]] || die "BARE_DEBIAN_OVERLAY: no file $ROOT/$f"
		mkdir -p "$(dirname "$R/srv/taskscore/$f")"
		cp -p "$ROOT/$f" "$R/srv/taskscore/$f"
		say "overlay: $f (work tree)"
	done
	mkdir -p "$R/var/log/taskscore-bare"
}

# ---------------------------------------------------------------- network namespace + NAT
FWD_OLD=""
FWD_STATE=/run/taskscore-bare-check.ip_forward
NET_UP=""
other_runs() { ip netns list 2>/dev/null | awk '{print $1}' | grep -v "^$NS\$" | grep -q '^taskscore-bare-'; }
net_up() {
	local i
	if [[ -z $NET ]]; then # the first 10.213.X.0/30 no interface or route of the host uses
		for i in $(seq 1 250); do
			ip -4 route show | grep -q "^10\.213\.$i\." && continue
			ip -4 addr show | grep -q " 10\.213\.$i\." && continue
			NET="10.213.$i"
			break
		done
		[[ -n $NET ]] || die "no free 10.213.X.0/30 for the veth pair; set BARE_DEBIAN_NET"
	fi
	ip netns add "$NS"
	NET_UP=1
	ip link add "$VH" type veth peer name "$VN"
	ip link set "$VN" netns "$NS"
	ip addr add "$NET.1/30" dev "$VH"
	ip link set "$VH" up
	ip -n "$NS" addr add "$NET.2/30" dev "$VN"
	ip -n "$NS" link set "$VN" up
	ip -n "$NS" link set lo up
	ip -n "$NS" route add default via "$NET.1"
	FWD_OLD="$(cat /proc/sys/net/ipv4/ip_forward)"
	# The host's own value, kept for the last run to leave (another run's 1 is not it)
	other_runs || cat /proc/sys/net/ipv4/ip_forward >"$FWD_STATE"
	echo 1 >/proc/sys/net/ipv4/ip_forward
	# Masquerade what leaves for the registries; the host itself (its services) stays out of reach
	nft -f - <<EOF
table ip $NFT_TABLE {
	chain ns_postrouting { type nat hook postrouting priority srcnat; ip saddr $NET.2 oifname != "$VH" masquerade; }
	chain ns_forward { type filter hook forward priority filter; iifname "$VH" accept; oifname "$VH" ct state established,related accept; }
	chain ns_input { type filter hook input priority filter; iifname "$VH" ct state established,related accept; iifname "$VH" drop; }
}
EOF
	say "network namespace $NS: $NET.2 via $VH ($NET.1), NAT table ip $NFT_TABLE"
}

INNER_PID=""
# shellcheck disable=SC2329  # the trap calls it
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $INNER_PID ]] && kill -0 "$INNER_PID" 2>/dev/null; then
		say "stopping the clean root's processes"
		kill -TERM "$INNER_PID" 2>/dev/null || true
		local _
		for _ in $(seq 50); do kill -0 "$INNER_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$INNER_PID" 2>/dev/null || true
		wait "$INNER_PID" 2>/dev/null || true
	fi
	nft delete table ip "$NFT_TABLE" 2>/dev/null || true
	[[ -n $NET_UP ]] && { ip netns del "$NS" 2>/dev/null || true; }
	ip link del "$VH" 2>/dev/null || true
	# Put the host's ip_forward back, unless another run (its own namespace) still needs it on
	if [[ -n $FWD_OLD && -f $FWD_STATE ]] && ! other_runs; then
		cat "$FWD_STATE" >/proc/sys/net/ipv4/ip_forward
		rm -f "$FWD_STATE"
	fi
	say "cleaned up (netns, nftables table, ip_forward=$(cat /proc/sys/net/ipv4/ip_forward); mounts and processes died with their namespaces)"
	exit "$rc"
}

# Runs CMD in the clean root (exec: call it in a subshell or in the background): network namespace $NS, private mounts (/proc of a new PID namespace,
# /sys, /dev, /dev/pts, /dev/shm), a clean environment. When it ends (or is killed), every process
# it started and every mount goes with it.
in_root() {
	# shellcheck disable=SC2016  # expanded by the inner shell
	exec ip netns exec "$NS" unshare --mount --propagation private --pid --fork --kill-child \
		--mount-proc="$R/proc" /bin/bash -c '
set -e
R=$1; shift
mount -t sysfs sysfs "$R/sys"
mount --bind /dev "$R/dev"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
mount --bind "$R/dev/pts/ptmx" "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,size=4g tmpfs "$R/dev/shm"
exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
' _ "$R" "$@"
}

# ---------------------------------------------------------------- what runs inside
# shellcheck disable=SC2016  # the inner shell expands it
INNER='
set -uo pipefail
LOG=/var/log/taskscore-bare
cd /srv/taskscore
note() { printf "%s %s\n" "$(date +%H:%M:%S)" "$*" | tee -a "$LOG/summary.txt"; }
code() { python3 -c "import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except Exception as e:
    print(getattr(e, \"code\", 0))" "$1"; }
note "bare root: $(. /etc/os-release; echo "$PRETTY_NAME"), $(python3 -V), make $(make -v | sed -n "1s/.* //p"), git $(git --version | sed "s/.* //")"
note "before: node=$(command -v node || echo none) psql=$(command -v psql || echo none) redis-server=$(command -v redis-server || echo none) chromium=$(command -v chromium || echo none)"

# 1. make run, until the API and the web app answer
t0=$SECONDS
setsid make run >"$LOG/make-run.log" 2>&1 </dev/null &
RUN=$!
ok=""
while kill -0 "$RUN" 2>/dev/null && ((SECONDS - t0 < RUN_TIMEOUT)); do
	if [[ $(code http://127.0.0.1:8000/healthz) == 200 && $(code http://127.0.0.1:3000/login) == 200 ]]; then ok=1; break; fi
	sleep 5
done
if [[ -n $ok ]]; then
	note "make run: answering after $((SECONDS - t0)) s: /healthz $(code http://127.0.0.1:8000/healthz), /login $(code http://127.0.0.1:3000/login), /api/v2/docs $(code http://127.0.0.1:8000/api/v2/docs)"
	RUN_RC=0
else
	wait "$RUN"; rc=$?
	note "make run: FAILED (exit $rc or timeout after $((SECONDS - t0)) s); see make-run.log"
	RUN_RC=1
fi
kill -TERM -- "-$RUN" 2>/dev/null
for _ in $(seq 60); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.5; done
kill -KILL -- "-$RUN" 2>/dev/null
wait "$RUN" 2>/dev/null
note "make run: stopped; $(scripts/services.sh status 2>&1 | tr "\n" ";")"
note "after make run: node $(node -v 2>/dev/null) ($(command -v node)), npm $(npm -v 2>/dev/null), $(.venv/bin/python -V 2>&1)"
((RUN_RC == 0)) || exit 1

# 2. RabbitMQ as a configured broker (installs rabbitmq-server, starts a project-local node)
if [[ $AMQP == 1 && " $STEPS " == *" test "* ]]; then
	t0=$SECONDS
	if CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// scripts/services.sh ensure >"$LOG/services-amqp.log" 2>&1; then
		note "services.sh ensure (amqp): ok in $((SECONDS - t0)) s: $(tail -n 1 "$LOG/services-amqp.log")"
	else
		note "services.sh ensure (amqp): FAILED; see services-amqp.log"
		exit 1
	fi
fi

# 3. make test
[[ " $STEPS " == *" test "* ]] || { note "make test: skipped (BARE_DEBIAN_STEPS=$STEPS)"; exit 0; }
t0=$SECONDS
timeout "$TEST_TIMEOUT" make test >"$LOG/make-test.log" 2>&1 </dev/null
rc=$?
note "make test: exit $rc after $((SECONDS - t0)) s; $(grep -E "(passed|failed|error)" "$LOG/make-test.log" | tail -n 1)"
scripts/services.sh stop >>"$LOG/summary.txt" 2>&1
CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// scripts/services.sh stop >>"$LOG/summary.txt" 2>&1
exit "$rc"
'

main_check() {
	host_tools
	make_base
	make_root
	trap cleanup EXIT INT TERM
	net_up
	local start=$SECONDS rc=0 logs
	say "running make run, then make test, in the clean root (logs: $R/var/log/taskscore-bare/)"
	local ca=()
	[[ -z $CA_BUNDLE ]] || ca=(PIP_CERT=/etc/ssl/host-ca-bundle.pem NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca-bundle.pem)
	in_root /usr/bin/env RUN_TIMEOUT="$RUN_TIMEOUT" TEST_TIMEOUT="$TEST_TIMEOUT" AMQP="$AMQP" STEPS="$STEPS" \
		${ca[@]+"${ca[@]}"} /bin/bash -c "$INNER" &
	INNER_PID=$!
	wait "$INNER_PID" || rc=$?
	INNER_PID=""
	logs="$DIR/logs/$(date +%Y%m%d-%H%M%S)"
	mkdir -p "$logs"
	cp -a "$R/var/log/taskscore-bare/." "$logs/"
	cat "$logs/summary.txt" 2>/dev/null || true
	say "exit $rc after $((SECONDS - start)) s; logs in $logs; the root ($(du -sh "$R" | cut -f1)) stays in $R until the next run"
	return "$rc"
}

main_shell() {
	host_tools
	make_base
	[[ -d $R/srv/taskscore ]] || make_root
	trap cleanup EXIT INT TERM
	net_up
	if (($#)); then (in_root "$@"); else (in_root /bin/bash -l); fi
}

main() {
	case ${1:-check} in
	check) main_check ;;
	shell) shift && main_shell "$@" ;;
	-h | --help | help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" ;;
	*) die "usage: scripts/bare-debian-check.sh [check|shell [CMD...]]" ;;
	esac
}
# One line, read whole before it runs: editing this file during a run cannot derail it
main "$@"; exit
