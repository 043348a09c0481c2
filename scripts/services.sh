#!/usr/bin/env bash
# Make sure the Postgres, Redis (and RabbitMQ, when it is the broker) that Taskscore is
# configured for answer, starting project-local ones (under .local/) when nothing runs on a
# local address.
#
#   scripts/services.sh [ensure]   check, start what is missing, create the database
#   scripts/services.sh status     report, start nothing (exit 1 if something is down)
#   scripts/services.sh stop       stop only the project-local servers this script started
#   scripts/services.sh rabbitmqctl ARGS...
#                                  rabbitmqctl against the RabbitMQ node serving CELERY_BROKER_URL
#                                  (the project-local one when it runs, else the default node)
#
# Reads DATABASE_URL (default postgres://postgres@127.0.0.1:5432/taskscore), REDIS_URL
# (default redis://127.0.0.1:6379/0) and CELERY_BROKER_URL (a redis URL on another
# host/port is ensured too; so is an amqp:// one: RabbitMQ, started from rabbitmq-server).
# Project-local data: .local/postgres/{data,postgres.log}, .local/redis/redis-PORT.{pid,log},
# .local/rabbitmq/{mnesia,log,rabbitmq.conf,rabbitmq.pid} (node taskscore-<hash>@localhost,
# run as the invoking user, its Erlang cookie in .local/rabbitmq).
# As root, Postgres runs as the `postgres` system user; if that user cannot reach the
# checkout (e.g. under /root or a 0700 temp dir), the cluster lives in /tmp/taskscore-pg-<hash>.
# A server it must start whose binaries are missing is installed by scripts/system-deps.sh
# (as root on Debian: the Debian package, its own service neither started nor enabled), or
# that script says which package to install and this one exits 1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOCAL="$ROOT/.local"
REDIS_DIR="$LOCAL/redis"
RMQ_DIR="$LOCAL/rabbitmq"
WAIT_SECS="${SERVICES_WAIT_SECS:-20}"

: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/taskscore}"
: "${REDIS_URL:=redis://127.0.0.1:6379/0}"
: "${CELERY_BROKER_URL:=}"

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die() { printf '%s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
with_timeout() { local s=$1; shift; if have timeout; then timeout "$s" "$@"; else "$@"; fi; }
is_local() { case "$1" in 127.0.0.1 | localhost | ::1) return 0 ;; esac; return 1; }
hostport() { if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi; }
listen_addr() { if [[ $1 == ::1 ]]; then echo ::1; else echo 127.0.0.1; fi; }
# shellcheck disable=SC2016  # $0 and $1 belong to the inner bash, which expands them
tcp_open() { with_timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }
pretty() { case "$1" in "$ROOT"/*) printf '%s' "${1#"$ROOT"/}" ;; *) printf '%s' "$1" ;; esac; }
proc_name() { if [[ -r /proc/$1/comm ]]; then cat "/proc/$1/comm"; else ps -p "$1" -o comm= 2>/dev/null; fi; }
# group message -> install a missing server's package (root on Debian), else say what to install
need() {
	"$ROOT/scripts/system-deps.sh" install "$1" 9>&- && return 0
	die "$2"
}

# ---------------------------------------------------------------- URL parsing (one python3 call)
parse_urls() {
	local parsed
	parsed="$(TS_DB="$DATABASE_URL" TS_REDIS="$REDIS_URL" TS_BROKER="$CELERY_BROKER_URL" TS_ROOT="$ROOT" \
		python3 -I -c '
import hashlib, os, shlex, sys
from urllib.parse import parse_qs, unquote, urlsplit

def emit(k, v):
    print("%s=%s" % (k, shlex.quote("" if v is None else str(v))))

def split(name, url):
    try:
        u = urlsplit(url.strip())
        return u, u.port
    except ValueError as e:
        sys.exit("services.sh: cannot parse %s: %s" % (name, e))

def creds(u):
    return unquote(u.username or ""), unquote(u.password or "")

u, port = split("DATABASE_URL", os.environ["TS_DB"])
q = parse_qs(u.query)
host = unquote(u.hostname or "") or q.get("host", [""])[0]
user, pw = creds(u)
emit("PG_SCHEME", u.scheme.lower())
emit("PG_HOST", host)
emit("PG_PORT", port or q.get("port", ["5432"])[0])
emit("PG_USER", user or q.get("user", ["postgres"])[0])
emit("PG_PASS", pw or q.get("password", [""])[0])
emit("PG_DB", unquote(u.path.lstrip("/")) or q.get("dbname", [""])[0])
emit("PG_SSLMODE", q.get("sslmode", [""])[0])

u, port = split("REDIS_URL", os.environ["TS_REDIS"])
rhost, rport = u.hostname or "localhost", port or 6379
user, pw = creds(u)
emit("RD_SCHEME", u.scheme.lower())
emit("RD_HOST", rhost); emit("RD_PORT", rport); emit("RD_USER", user); emit("RD_PASS", pw)

norm = lambda h: "127.0.0.1" if h in ("localhost", "127.0.0.1") else h
kind = "none"
broker = os.environ["TS_BROKER"].split(";")[0].strip()
if broker:
    u, port = split("CELERY_BROKER_URL", broker)
    s = u.scheme.lower()
    bhost = u.hostname or "localhost"
    user, pw = creds(u)
    emit("BR_VHOST", unquote(u.path[1:]) if len(u.path) > 1 else "/")
    if s in ("redis", "rediss"):
        bport = port or 6379
        kind = "same" if (norm(bhost), bport) == (norm(rhost), rport) else "redis"
    elif s in ("amqp", "amqps", "pyamqp", "librabbitmq"):
        bport = port or (5671 if s == "amqps" else 5672)
        kind = "amqp"
    else:
        bport, kind = "", "other"
    emit("BR_SCHEME", s); emit("BR_HOST", bhost); emit("BR_PORT", bport)
    emit("BR_USER", user); emit("BR_PASS", pw)
emit("BR_KIND", kind)
emit("ROOT_HASH", hashlib.sha1(os.environ["TS_ROOT"].encode()).hexdigest()[:10])
')" || exit 1
	eval "$parsed"
	RMQ_NODE="taskscore-$ROOT_HASH@localhost"
}

# ---------------------------------------------------------------- locking (only on the slow path)
LOCKED=""
take_lock() {
	[[ -n $LOCKED ]] && return 0
	mkdir -p "$LOCAL"
	chmod a+rx "$LOCAL" 2>/dev/null || true # the postgres user may need to traverse it
	[[ -e $LOCAL/.gitignore ]] || printf '*\n' >"$LOCAL/.gitignore"
	if have flock; then
		exec 9>>"$LOCAL/services.lock"
		flock -w 120 9 || die "services.sh: timed out waiting for another services.sh (lock $LOCAL/services.lock)"
	fi
	LOCKED=1
}

# ---------------------------------------------------------------- Postgres
PG_RUNAS="" # system user that owns/runs the project-local cluster when we are root
PG_BASE=""  # folder holding data/, postgres.log and the socket
PG_BIN=""

pg_hargs() { # connection host args for client tools
	if [[ -n $PG_HOST ]]; then printf '%s\0' -h "$PG_HOST"; fi
	printf '%s\0' -p "$PG_PORT"
}

# 0 = accepting connections, 1 = answers but not ready yet, 2 = nothing answers
pg_probe() {
	if have pg_isready; then
		local rc=0 args=()
		[[ -n $PG_HOST ]] && args=(-h "$PG_HOST")
		with_timeout 5 pg_isready -q ${args[@]+"${args[@]}"} -p "$PG_PORT" -t 3 || rc=$?
		case $rc in 0) return 0 ;; 1) return 1 ;; *) return 2 ;; esac
	fi
	[[ -n $PG_HOST && $PG_HOST != /* ]] || return 2 # cannot probe a Unix socket without pg_isready
	tcp_open "$PG_HOST" "$PG_PORT" && return 0
	return 2
}

pg_wait() { # wait until Postgres accepts connections
	local deadline=$((SECONDS + WAIT_SECS))
	until pg_probe; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

pg_where() {
	if [[ -z $PG_HOST ]]; then
		printf 'local socket, port %s' "$PG_PORT"
	elif [[ $PG_HOST == /* ]]; then
		printf 'socket %s, port %s' "$PG_HOST" "$PG_PORT"
	else hostport "$PG_HOST" "$PG_PORT"; fi
}

run_pg() { # run a Postgres server tool as the cluster owner (Postgres refuses to run as root)
	if [[ -z $PG_RUNAS ]]; then
		"$@"
	elif have runuser; then
		(cd / && PATH="$PATH:/usr/bin:/bin" LC_ALL=C runuser -u "$PG_RUNAS" -- "$@")
	else
		(cd / && PATH="$PATH:/usr/bin:/bin" LC_ALL=C su "$PG_RUNAS" -s /bin/bash -c "$(printf '%q ' "$@")")
	fi
}

pg_install_hint() {
	die "postgres: nothing answers at $(pg_where), and no Postgres server binaries (initdb, pg_ctl) were found.
  Install them:  apt-get install postgresql     (Debian/Ubuntu)
                 brew install postgresql@16      (macOS)
  or point DATABASE_URL at a running server."
}

pg_need_bins() { # install the server binaries when none are there (or say how, and exit)
	# system-deps.sh knows where each platform keeps the server binaries
	"$ROOT/scripts/system-deps.sh" check postgres >/dev/null 2>&1 && return 0
	need postgres "postgres: nothing answers at $(pg_where), and no Postgres server binaries (initdb, pg_ctl) are installed
  to start a project-local one (macOS: brew install postgresql@16); or point DATABASE_URL at a running server."
}

pg_major_of() { # bindir -> major version
	local v
	v="$("$1/pg_ctl" --version 2>/dev/null | awk '{print $3}')" || return 1
	v="${v%%[!0-9]*}"
	[[ -n $v ]] && printf '%s' "$v"
}

pg_find_bin() { # [major] -> sets PG_BIN (exact major if given, else the highest version)
	local want=${1:-} d m best="" bestm=-1 cands=()
	if have pg_ctl && have initdb; then
		d="$(command -v pg_ctl)"
		d="$(readlink -f "$d" 2>/dev/null || printf '%s' "$d")"
		cands+=("${d%/*}")
	fi
	for d in /usr/lib/postgresql/*/bin /usr/pgsql-*/bin /opt/homebrew/opt/postgresql@*/bin \
		/usr/local/opt/postgresql@*/bin /opt/homebrew/opt/postgresql/bin /usr/local/opt/postgresql/bin; do
		[[ -x $d/pg_ctl && -x $d/initdb ]] && cands+=("$d")
	done
	for d in ${cands[@]+"${cands[@]}"}; do
		m="$(pg_major_of "$d")" || continue
		[[ -z $PG_RUNAS ]] || run_pg test -x "$d/pg_ctl" || continue # must be usable by that user
		if [[ -n $want ]]; then
			[[ $m == "$want" ]] && { PG_BIN=$d; return 0; }
		elif ((m > bestm)); then best=$d bestm=$m; fi
	done
	[[ -n $best ]] && { PG_BIN=$best; return 0; }
	return 1
}

# shellcheck disable=SC2012  # one known path; ls -ld is the portable owner (GNU and BSD stat differ)
owner_of() { ls -ld "$1" | awk '{print $3}'; }

pg_set_runas() {
	if ((EUID == 0)); then
		id -u postgres >/dev/null 2>&1 || die "postgres: running as root, and Postgres refuses to run as root, but there is no
  'postgres' system user to run it as. Create one (useradd --system --create-home postgres) or run as a normal user."
		PG_RUNAS=postgres
	fi
}

pg_choose_base() { # sets PG_BASE (PG_RUNAS must be set)
	local lbase="$LOCAL/postgres" tbase="/tmp/taskscore-pg-$ROOT_HASH"
	if [[ -f $lbase/data/PG_VERSION ]]; then
		PG_BASE=$lbase
	elif [[ -n $PG_RUNAS && -f $tbase/data/PG_VERSION ]]; then
		PG_BASE=$tbase
	elif [[ -z $PG_RUNAS ]]; then
		PG_BASE=$lbase
		mkdir -p "$PG_BASE"
	elif run_pg test -x "$ROOT" && mkdir -p "$lbase" && chown "$PG_RUNAS:" "$lbase" 2>/dev/null &&
		chmod 700 "$lbase" && run_pg test -w "$lbase"; then
		PG_BASE=$lbase
	else
		rmdir "$lbase" 2>/dev/null || true
		PG_BASE=$tbase
		say "postgres: the '$PG_RUNAS' user cannot reach $ROOT, so the project-local cluster goes in $tbase"
	fi
	if [[ $PG_BASE == "$tbase" ]]; then
		# shellcheck disable=SC2174  # only the project's own directory needs 700; its parent exists
		mkdir -p -m 700 "$tbase"
		[[ -d $tbase && ! -L $tbase ]] || die "postgres: $tbase is not a directory"
		case "$(owner_of "$tbase")" in
		root | "$PG_RUNAS") chown "$PG_RUNAS:" "$tbase" && chmod 700 "$tbase" ;;
		*) die "postgres: $tbase belongs to $(owner_of "$tbase"); remove it and retry" ;;
		esac
	fi
}

pg_local_pid() { # pid of the running project-local postmaster in $1 (a data dir), if any
	local pid
	[[ -f $1/postmaster.pid ]] || return 1
	pid="$(head -n 1 "$1/postmaster.pid" 2>/dev/null)" || return 1
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

pg_start_local() { # sets PG_HOW
	local data log sock opts out
	pg_choose_base
	data="$PG_BASE/data" log="$PG_BASE/postgres.log"
	if [[ -f $data/PG_VERSION ]]; then
		local major
		major="$(cat "$data/PG_VERSION")"
		pg_find_bin "$major" || die "postgres: the project-local cluster in $data was made by PostgreSQL $major,
  whose server binaries are missing. Install them (apt-get install postgresql-$major) or remove $data."
	else
		pg_find_bin || pg_install_hint
	fi

	if pg_local_pid "$data" >/dev/null; then
		local port
		port="$(sed -n 4p "$data/postmaster.pid")"
		if [[ $port != "$PG_PORT" ]]; then
			say "postgres: project-local cluster is running on port $port; restarting it on port $PG_PORT"
			run_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
		fi
	fi

	if ! pg_local_pid "$data" >/dev/null; then
		if [[ ! -f $data/PG_VERSION ]]; then
			if [[ -d $data ]] && [[ -n "$(ls -A "$data")" ]]; then
				die "postgres: $data exists but holds no cluster; remove it and retry"
			fi
			out="$(run_pg "$PG_BIN/initdb" -D "$data" -A trust -U "$PG_USER" -E UTF8 --locale=C 2>&1)" ||
				die "postgres: initdb failed:
$out"
		fi
		touch "$log"
		[[ -n $PG_RUNAS ]] && chown "$PG_RUNAS:" "$log"
		sock=$PG_BASE
		((${#sock} + 20 > 100)) && sock="" # socket path would be too long; TCP only
		opts="-h $(listen_addr "$PG_HOST") -p $PG_PORT -k '$sock'"
		# 9>&-: the server must not inherit (and so hold) the lock
		out="$(run_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -o "$opts" -w -t 30 start 2>&1 9>&-)" ||
			die "postgres: could not start the project-local cluster in $data:
$out
--- $log (last lines)
$(tail -n 15 "$log" 2>/dev/null)"
	fi
	pg_wait || die "postgres: the project-local cluster did not answer at $(pg_where) within ${WAIT_SECS}s; see $log"
	PG_HOW="started project-local in $(pretty "$PG_BASE")"
}

pg_ensure_db() {
	[[ -z $PG_DB || $PG_DB == postgres || $PG_DB == template1 ]] && return 0
	[[ -n $PG_PASS ]] && export PGPASSWORD="$PG_PASS"
	[[ -n $PG_SSLMODE ]] && export PGSSLMODE="$PG_SSLMODE"
	local out="" err="" maint a hargs=()
	while IFS= read -r -d '' a; do hargs+=("$a"); done < <(pg_hargs)
	if have psql; then
		for maint in postgres template1; do
			if out="$(printf '%s\n' "SELECT 1 FROM pg_database WHERE datname = :'db';" |
				PGCONNECT_TIMEOUT=5 psql -X -q -At -v ON_ERROR_STOP=1 -v db="$PG_DB" \
					"${hargs[@]}" -U "$PG_USER" -d "$maint" 2>&1)"; then
				err=""
				break
			fi
			[[ -z $err ]] && err=$out
		done
		[[ -z $err ]] || die "postgres: cannot connect to check database '$PG_DB':
$err"
		[[ $out == 1 ]] && return 0
		if ! err="$(printf '%s\n' "SELECT format('CREATE DATABASE %I', :'db') \\gexec" |
			psql -X -q -At -v ON_ERROR_STOP=1 -v db="$PG_DB" "${hargs[@]}" -U "$PG_USER" -d "$maint" 2>&1)"; then
			[[ $err == *"already exists"* ]] && return 0 # created concurrently
			die "postgres: could not create database '$PG_DB':
$err"
		fi
		say "postgres: created database $PG_DB"
		return 0
	fi

	local py="$ROOT/.venv/bin/python" rc=0
	if [[ -x $py ]]; then
		err="$(TS_HOST="$PG_HOST" TS_PORT="$PG_PORT" TS_USER="$PG_USER" TS_DB="$PG_DB" "$py" -I -c '
import os, sys
try:
    import psycopg as driver
    extra = {"autocommit": True}
except ImportError:
    try:
        import psycopg2 as driver
        extra = {}
    except ImportError:
        sys.exit(3)
e = os.environ
db = e["TS_DB"]
conn = err = None
for maint in ("postgres", "template1"):
    kw = dict(port=e["TS_PORT"], user=e["TS_USER"], dbname=maint, connect_timeout=5, **extra)
    if e["TS_HOST"]:
        kw["host"] = e["TS_HOST"]
    try:
        conn = driver.connect(**kw)
        break
    except Exception as ex:
        err = err or ex
if conn is None:
    sys.exit("cannot connect to check the database: %s" % err)
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
if cur.fetchone():
    sys.exit(0)
try:
    cur.execute("CREATE DATABASE \"%s\"" % db.replace("\"", "\"\""))
except Exception as ex:
    if "already exists" in str(ex):
        sys.exit(0)
    sys.exit("could not create database %r: %s" % (db, ex))
sys.exit(10)
' 2>&1)" || rc=$?
		case $rc in
		0) return 0 ;;
		10) say "postgres: created database $PG_DB"; return 0 ;;
		3) ;;
		*) die "postgres: $err" ;;
		esac
	fi
	warn "postgres: cannot check that database '$PG_DB' exists (no psql, and no psycopg in .venv);
  install postgresql-client or create the venv first"
}

pg_ensure() {
	case $PG_SCHEME in
	postgres | postgresql | pgsql | postgis | postgres+* | postgresql+*) ;;
	*)
		say "postgres: skipped (DATABASE_URL is a ${PG_SCHEME:-non-postgres} URL)"
		return 0
		;;
	esac
	local rc=0 PG_HOW="already running"
	pg_probe || rc=$?
	if ((rc == 1)); then pg_wait || rc=2; fi # starting up or shutting down
	if ((rc == 2)); then
		[[ -n $PG_HOST && $PG_HOST != /* ]] || die "postgres: nothing answers on the $(pg_where).
  Start Postgres, or use a TCP URL (e.g. postgres://postgres@127.0.0.1:5432/taskscore) so this
  script can start a project-local one."
		is_local "$PG_HOST" || die "postgres: nothing answers at $(pg_where) (not a local address, so not starting one)"
		pg_need_bins # before pg_set_runas: Debian's package makes the postgres user
		pg_set_runas
		pg_find_bin || pg_install_hint
		take_lock
		if pg_probe; then PG_HOW="already running"; else pg_start_local; fi
	fi
	say "postgres: up at $(pg_where) ($PG_HOW)"
	pg_ensure_db
}

# ---------------------------------------------------------------- Redis
redis_ping() { # host port user pass scheme -> 0 if it answers PONG
	local h=$1 p=$2 user=$3 pass=$4 scheme=$5 out
	if [[ $scheme == rediss ]]; then
		tcp_open "$h" "$p"
		return
	fi
	if have redis-cli; then
		local args=(-h "$h" -p "$p")
		[[ -n $user && -n $pass ]] && args+=(--user "$user")
		out="$(REDISCLI_AUTH="$pass" with_timeout 3 redis-cli "${args[@]}" ping 2>/dev/null)" || true
		[[ $out == PONG ]]
		return
	fi
	# shellcheck disable=SC2016  # the script's $1.. belong to the inner bash
	with_timeout 4 bash -c '
LC_ALL=C
h=$1 p=$2 user=$3 pass=$4
exec 3<>"/dev/tcp/$h/$p" || exit 1
if [ -n "$pass" ]; then
  if [ -n "$user" ]; then
    printf "*3\r\n\$4\r\nAUTH\r\n\$%d\r\n%s\r\n\$%d\r\n%s\r\n" "${#user}" "$user" "${#pass}" "$pass" >&3
  else
    printf "*2\r\n\$4\r\nAUTH\r\n\$%d\r\n%s\r\n" "${#pass}" "$pass" >&3
  fi
  IFS= read -r -t 3 line <&3 || exit 1
fi
printf "PING\r\n" >&3
IFS= read -r -t 3 line <&3 || exit 1
case $line in +PONG*) exit 0 ;; esac
exit 1' _ "$h" "$p" "$user" "$pass" 2>/dev/null
}

redis_pid_alive() { # pidfile -> 0 if it names a running redis-server
	local pid
	[[ -f $1 ]] || return 1
	pid="$(cat "$1" 2>/dev/null)" || return 1
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
		[[ "$(proc_name "$pid")" == *redis* ]]
}

redis_ensure() { # label host port user pass scheme
	local label=$1 h=$2 p=$3 user=$4 pass=$5 scheme=$6 how="already running"
	case $scheme in redis | rediss) ;; *)
		say "$label: skipped (${scheme:-unknown} URL)"
		return 0
		;;
	esac
	if ! redis_ping "$h" "$p" "$user" "$pass" "$scheme"; then
		is_local "$h" || die "$label: nothing answers at $(hostport "$h" "$p") (not a local address, so not starting one)"
		[[ $scheme == redis ]] || die "$label: nothing answers at $(hostport "$h" "$p"), and this script does not start TLS (rediss://) servers"
		have redis-server || need redis "$label: nothing answers at $(hostport "$h" "$p"), and redis-server is not installed
  to start a project-local one (macOS: brew install redis); or point REDIS_URL at a running server."
		take_lock
		if redis_ping "$h" "$p" "$user" "$pass" "$scheme"; then
			:
		else
			local pidf="$REDIS_DIR/redis-$p.pid" logf="$REDIS_DIR/redis-$p.log" extra=()
			mkdir -p "$REDIS_DIR"
			if [[ -n $pass ]]; then
				extra=(--requirepass "$pass")
				[[ -n $user && $user != default ]] &&
					extra+=(--user "$user" on ">$pass" '~*' '&*' '+@all')
			fi
			if ! redis_pid_alive "$pidf"; then
				# shellcheck disable=SC2094  # redis appends its log; we append our own error to it
				redis-server --daemonize yes --bind "$(listen_addr "$h")" --port "$p" --save "" --appendonly no \
					--dir "$REDIS_DIR" --logfile "$logf" --pidfile "$pidf" ${extra[@]+"${extra[@]}"} \
					</dev/null >>"$logf" 2>&1 9>&- || die "$label: redis-server failed to start:
$(tail -n 15 "$logf" 2>/dev/null)"
			fi
			local deadline=$((SECONDS + WAIT_SECS))
			until redis_ping "$h" "$p" "$user" "$pass" "$scheme"; do
				((SECONDS < deadline)) || die "$label: the project-local redis did not answer at $(hostport "$h" "$p") within ${WAIT_SECS}s:
$(tail -n 15 "$logf" 2>/dev/null)"
				sleep 0.1
			done
			how="started project-local in $(pretty "$REDIS_DIR")"
		fi
	fi
	say "$label: up at $(hostport "$h" "$p") ($how)"
}

# ---------------------------------------------------------------- RabbitMQ (an amqp:// broker)
RMQ_NODE="" # the project-local node's name (set by parse_urls)

rmq_bin() { # the real rabbitmq-server/rabbitmqctl: Debian's /usr/sbin ones switch to the
	# `rabbitmq` user and its cookie when run as root, and refuse other users
	if [[ -x /usr/lib/rabbitmq/bin/$1 ]]; then
		printf '%s' "/usr/lib/rabbitmq/bin/$1"
	else
		command -v "$1"
	fi
}

RMQ_VARS=()
rmq_vars() { # sets RMQ_VARS: the project-local node's environment (its files, name, cookie)
	local port=${BR_PORT:-5672} dist
	dist=$((port + 20000))
	((dist <= 65535)) || dist=$((port - 20000))
	RMQ_VARS=(HOME="$RMQ_DIR" RABBITMQ_NODENAME="$RMQ_NODE" RABBITMQ_DIST_PORT="$dist"
		RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf" RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
		RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
		RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins" RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia"
		RABBITMQ_LOG_BASE="$RMQ_DIR/log" RABBITMQ_PID_FILE="$RMQ_DIR/rabbitmq.pid"
		ERL_EPMD_ADDRESS="$(listen_addr "${BR_HOST:-127.0.0.1}")")
}

rmq_env() { # run a command in the project-local node's environment
	rmq_vars
	env "${RMQ_VARS[@]}" "$@"
}

rmq_pid() { # pid of the running project-local node, if any
	local pid
	[[ -f $RMQ_DIR/rabbitmq.pid ]] || return 1
	pid="$(cat "$RMQ_DIR/rabbitmq.pid" 2>/dev/null)" || return 1
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
		[[ "$(proc_name "$pid")" == *beam* ]] && printf '%s' "$pid"
}

rmq_stop_local() {
	local pid
	pid="$(rmq_pid)" || return 1
	if ! rmq_env "$(rmq_bin rabbitmqctl)" -q -n "$RMQ_NODE" stop "$RMQ_DIR/rabbitmq.pid" >/dev/null 2>&1; then
		kill "$pid" 2>/dev/null || true
	fi
	local deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	rm -f "$RMQ_DIR/rabbitmq.pid"
}

rmq_start_local() { # sets how
	local server log="$RMQ_DIR/startup.log"
	server="$(rmq_bin rabbitmq-server)" || die "celery broker: nothing answers at $(hostport "$BR_HOST" "$BR_PORT"), and rabbitmq-server is not installed.
  Install it:  apt-get install rabbitmq-server   (Debian/Ubuntu)
               brew install rabbitmq             (macOS)
  or point CELERY_BROKER_URL at a running broker (or at Redis)."
	mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
	chmod 700 "$RMQ_DIR"
	if rmq_pid >/dev/null && [[ "$(cat "$RMQ_DIR/port" 2>/dev/null)" != "$BR_PORT" ]]; then
		say "celery broker: project-local RabbitMQ runs on port $(cat "$RMQ_DIR/port" 2>/dev/null); restarting it on port $BR_PORT"
		rmq_stop_local || true
	fi
	if ! rmq_pid >/dev/null; then
		# Its own files only: not /etc/rabbitmq's node name, listeners or plugins. The default user
		# (the URL's, else guest, which RabbitMQ admits on loopback only) is made on first boot.
		{
			printf 'listeners.tcp.1 = %s:%s\n' "$(listen_addr "$BR_HOST")" "$BR_PORT"
			if [[ -n $BR_USER && $BR_USER != guest ]]; then
				printf 'default_user = %s\ndefault_pass = %s\n' "$BR_USER" "$BR_PASS"
			fi
			[[ $BR_VHOST == / ]] || printf 'default_vhost = %s\n' "$BR_VHOST"
		} >"$RMQ_DIR/rabbitmq.conf"
		: >"$RMQ_DIR/rabbitmq-env.conf"
		printf '[].\n' >"$RMQ_DIR/enabled_plugins"
		printf '%s\n' "$BR_PORT" >"$RMQ_DIR/port"
		# exec, not a function call: the server must hold none of this script's descriptors (9>&-:
		# the lock; a function's redirections would leave saved copies of them open)
		rmq_vars
		(cd "$RMQ_DIR" && exec setsid env "${RMQ_VARS[@]}" "$server" </dev/null >>"$log" 2>&1 9>&- &)
	fi
	local wait=$((WAIT_SECS > 60 ? WAIT_SECS : 60)) # an Erlang node boots in seconds, not at once
	local deadline=$((SECONDS + wait))
	until tcp_open "$BR_HOST" "$BR_PORT"; do
		((SECONDS < deadline)) || die "celery broker: the project-local RabbitMQ did not answer at $(hostport "$BR_HOST" "$BR_PORT") within ${wait}s:
$(tail -n 15 "$log" 2>/dev/null)
--- $(pretty "$RMQ_DIR/log") (last lines)
$(tail -n 15 "$RMQ_DIR/log/$RMQ_NODE.log" 2>/dev/null)"
		sleep 0.3
	done
	how="started project-local in $(pretty "$RMQ_DIR"), node $RMQ_NODE"
}

rabbitmq_ensure() {
	local how="already running"
	if ! tcp_open "$BR_HOST" "$BR_PORT"; then
		is_local "$BR_HOST" || die "celery broker: nothing answers at $(hostport "$BR_HOST" "$BR_PORT") (not a local address, so not starting one)"
		[[ $BR_SCHEME != amqps ]] || die "celery broker: nothing answers at $(hostport "$BR_HOST" "$BR_PORT"), and this script does not start TLS (amqps://) brokers"
		rmq_bin rabbitmq-server >/dev/null || need rabbitmq "celery broker: nothing answers at $(hostport "$BR_HOST" "$BR_PORT"), and rabbitmq-server is not installed
  to start a project-local one (macOS: brew install rabbitmq); or point CELERY_BROKER_URL at a running broker (or at Redis)."
		take_lock
		if ! tcp_open "$BR_HOST" "$BR_PORT"; then rmq_start_local; fi
	fi
	say "celery broker: RabbitMQ ($BR_SCHEME) up at $(hostport "$BR_HOST" "$BR_PORT") ($how)"
}

broker_ensure() {
	case $BR_KIND in
	redis) redis_ensure "celery broker" "$BR_HOST" "$BR_PORT" "$BR_USER" "$BR_PASS" "$BR_SCHEME" ;;
	amqp) rabbitmq_ensure ;;
	esac
}

cmd_rabbitmqctl() { # the node serving the broker URL: the project-local one when it runs there
	[[ $BR_KIND == amqp ]] || die "services.sh rabbitmqctl: CELERY_BROKER_URL is not an amqp:// URL"
	if rmq_pid >/dev/null && [[ "$(cat "$RMQ_DIR/port" 2>/dev/null)" == "$BR_PORT" ]]; then
		rmq_env "$(rmq_bin rabbitmqctl)" -n "$RMQ_NODE" "$@"
	else
		have rabbitmqctl || die "services.sh rabbitmqctl: rabbitmqctl is not installed"
		rabbitmqctl "$@"
	fi
}

# ---------------------------------------------------------------- status / stop
cmd_status() {
	local ok=0 rc=0 base data pid pidf
	case $PG_SCHEME in
	postgres | postgresql | pgsql | postgis | postgres+* | postgresql+*)
		pg_probe || rc=$?
		case $rc in
		0) say "postgres: up at $(pg_where)" ;;
		1) say "postgres: starting or stopping at $(pg_where)"; ok=1 ;;
		*) say "postgres: down at $(pg_where)"; ok=1 ;;
		esac
		;;
	*) say "postgres: skipped (DATABASE_URL is a ${PG_SCHEME:-non-postgres} URL)" ;;
	esac
	for base in "$LOCAL/postgres" "/tmp/taskscore-pg-$ROOT_HASH"; do
		data="$base/data"
		[[ -f $data/PG_VERSION ]] || continue
		if pid="$(pg_local_pid "$data")"; then
			say "  project-local cluster in $(pretty "$base"): running (pid $pid, port $(sed -n 4p "$data/postmaster.pid"))"
		else
			say "  project-local cluster in $(pretty "$base"): stopped"
		fi
	done
	redis_status "redis" "$RD_HOST" "$RD_PORT" "$RD_USER" "$RD_PASS" "$RD_SCHEME" || ok=1
	if [[ $BR_KIND == redis ]]; then
		redis_status "celery broker" "$BR_HOST" "$BR_PORT" "$BR_USER" "$BR_PASS" "$BR_SCHEME" || ok=1
	elif [[ $BR_KIND == amqp ]]; then
		if tcp_open "$BR_HOST" "$BR_PORT"; then
			say "celery broker: RabbitMQ ($BR_SCHEME) up at $(hostport "$BR_HOST" "$BR_PORT")"
		else
			say "celery broker: RabbitMQ ($BR_SCHEME) down at $(hostport "$BR_HOST" "$BR_PORT")"
			ok=1
		fi
	fi
	if pid="$(rmq_pid)"; then
		say "  project-local rabbitmq node $RMQ_NODE on port $(cat "$RMQ_DIR/port" 2>/dev/null): running (pid $pid)"
	fi
	for pidf in "$REDIS_DIR"/redis-*.pid; do
		redis_pid_alive "$pidf" || continue
		pid="$(cat "$pidf")"
		pidf="${pidf##*/redis-}"
		say "  project-local redis on port ${pidf%.pid}: running (pid $pid)"
	done
	return $ok
}

redis_status() {
	if redis_ping "$2" "$3" "$4" "$5" "$6"; then
		say "$1: up at $(hostport "$2" "$3")"
	else
		say "$1: down at $(hostport "$2" "$3")"
		return 1
	fi
}

cmd_stop() {
	local stopped=0 base data pid port pidf
	for base in "$LOCAL/postgres" "/tmp/taskscore-pg-$ROOT_HASH"; do
		data="$base/data"
		pid="$(pg_local_pid "$data")" || continue
		port="$(sed -n 4p "$data/postmaster.pid")"
		if ((EUID == 0)); then PG_RUNAS="$(owner_of "$data")"; fi
		[[ $PG_RUNAS == root ]] && PG_RUNAS=""
		if ! { pg_find_bin "$(cat "$data/PG_VERSION")" &&
			run_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null; }; then
			kill -INT "$pid" # fast shutdown
			local deadline=$((SECONDS + 30))
			while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
		fi
		say "postgres: stopped project-local cluster in $(pretty "$base") (port $port)"
		stopped=1
	done
	for pidf in "$REDIS_DIR"/redis-*.pid; do
		[[ -f $pidf ]] || continue
		if redis_pid_alive "$pidf"; then
			pid="$(cat "$pidf")"
			kill "$pid"
			local deadline=$((SECONDS + 15))
			while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
			port="${pidf##*/redis-}"
			say "redis: stopped project-local server on port ${port%.pid}"
			stopped=1
		fi
		rm -f "$pidf"
	done
	if pid="$(rmq_pid)"; then
		port="$(cat "$RMQ_DIR/port" 2>/dev/null)"
		BR_PORT=$port rmq_stop_local
		say "rabbitmq: stopped project-local node $RMQ_NODE (port $port)"
		stopped=1
	fi
	((stopped)) || say "services: no project-local servers running"
}

# ---------------------------------------------------------------- main
# Before starting anything: the server packages needed to start what does not answer, all at once
# (installed as root on Debian; else every missing package is named in one message).
preflight() {
	local groups=() rc=0
	case $PG_SCHEME in
	postgres | postgresql | pgsql | postgis | postgres+* | postgresql+*)
		pg_probe || rc=$?
		((rc == 2)) && [[ -n $PG_HOST ]] && is_local "$PG_HOST" && groups+=(postgres)
		;;
	esac
	if [[ $RD_SCHEME == redis ]] && is_local "$RD_HOST" && ! have redis-server &&
		! redis_ping "$RD_HOST" "$RD_PORT" "$RD_USER" "$RD_PASS" "$RD_SCHEME"; then
		groups+=(redis)
	fi
	if [[ $BR_KIND == redis && $BR_SCHEME == redis ]] && is_local "$BR_HOST" && ! have redis-server &&
		! redis_ping "$BR_HOST" "$BR_PORT" "$BR_USER" "$BR_PASS" "$BR_SCHEME"; then
		groups+=(redis)
	fi
	if [[ $BR_KIND == amqp && $BR_SCHEME != amqps ]] && is_local "$BR_HOST" &&
		! rmq_bin rabbitmq-server >/dev/null && ! tcp_open "$BR_HOST" "$BR_PORT"; then
		groups+=(rabbitmq)
	fi
	((${#groups[@]})) || return 0
	"$ROOT/scripts/system-deps.sh" install "${groups[@]}" 9>&- ||
		die "services: or point DATABASE_URL, REDIS_URL, CELERY_BROKER_URL at running servers
  (macOS: brew install postgresql@16 redis rabbitmq)"
}

cmd="${1:-ensure}"
case $cmd in
ensure)
	parse_urls
	preflight
	pg_ensure
	redis_ensure "redis" "$RD_HOST" "$RD_PORT" "$RD_USER" "$RD_PASS" "$RD_SCHEME"
	broker_ensure
	;;
status) parse_urls && cmd_status ;;
stop) parse_urls && cmd_stop ;;
rabbitmqctl) shift && parse_urls && cmd_rabbitmqctl "$@" ;;
-h | --help | help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" ;;
*) die "usage: scripts/services.sh [ensure|status|stop|rabbitmqctl ARGS...]" ;;
esac
