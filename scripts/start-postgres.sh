#!/usr/bin/env bash
# Starts (once) a throwaway PostgreSQL server for the cost tracker and prints its URL:
#
#   DATABASE_URL=$(bash scripts/start-postgres.sh) npx vitest run test/cost-tracker.test.ts
#
# Idempotent: when a server already answers on 127.0.0.1:$PGPORT it only prints the URL.
# Otherwise it installs Debian's postgresql if no server binaries are under
# /usr/lib/postgresql/*/bin (as root, or through password-less sudo), creates a cluster in
# $CLIPFLOW_PG_DIR/data with initdb (as the postgres user when run as root: initdb refuses root),
# starts it with pg_ctl listening on 127.0.0.1 only, and creates the role and database.
#
# stdout: exactly one line, the DATABASE_URL. Everything else goes to stderr.
#
# The cluster is for tests and development: fsync is off, so an OS crash can lose it. Stop it
# with: pg_ctl -D "$CLIPFLOW_PG_DIR/data" stop (as the postgres user when it was started by root).
#
# Environment: PGPORT (default 54329), CLIPFLOW_PG_DIR (default /tmp/clipflow-pg),
# CLIPFLOW_PG_USER / CLIPFLOW_PG_PASSWORD / CLIPFLOW_PG_DB (default clipflow for all three).
set -euo pipefail

# Keep the real stdout on fd 3 for the URL; every other line any command prints goes to stderr.
exec 3>&1 1>&2

PORT="${PGPORT:-54329}"
BASE="${CLIPFLOW_PG_DIR:-/tmp/clipflow-pg}"
DB_USER="${CLIPFLOW_PG_USER:-clipflow}"
DB_PASSWORD="${CLIPFLOW_PG_PASSWORD:-clipflow}"
DB_NAME="${CLIPFLOW_PG_DB:-clipflow}"
URL="postgres://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${PORT}/${DB_NAME}"
DATA="$BASE/data"
SOCKET_DIR="$BASE/socket"
LOG_FILE="$BASE/postgres.log"
READY_MARK="$BASE/.clipflow-ready" # role and database exist in the cluster in $DATA
START_S=$SECONDS

# libpq settings of the caller must not redirect the admin commands below.
unset PGHOST PGHOSTADDR PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS PGDATA

log() { echo "start-postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }
done_with() { log "$1 ($((SECONDS - START_S)) s)"; echo "$URL" >&3; exit 0; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "PGPORT=$PORT is not a port number"
[[ "$DB_USER$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ ]] || die "CLIPFLOW_PG_USER and CLIPFLOW_PG_DB must be lower-case identifiers"
[[ "$DB_PASSWORD" != *"'"* ]] || die "CLIPFLOW_PG_PASSWORD must not contain a single quote"

IS_ROOT=0
[[ "$(id -u)" == 0 ]] && IS_ROOT=1

# The newest server under /usr/lib/postgresql, or the version the existing cluster was made by.
find_bin_dir() {
  if [[ -f "$DATA/PG_VERSION" ]]; then
    local version dir
    version="$(cat "$DATA/PG_VERSION")"
    dir="/usr/lib/postgresql/$version/bin"
    if [[ -x "$dir/postgres" ]]; then echo "$dir"; return 0; fi
    return 1
  fi
  local candidate best=""
  for candidate in /usr/lib/postgresql/*/bin; do
    [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" && -x "$candidate/postgres" ]] || continue
    best="$(printf '%s\n%s\n' "$best" "$candidate" | sed '/^$/d' | sort -V | tail -n 1)"
  done
  [[ -n "$best" ]] && echo "$best"
}

pg_isready_cmd() {
  local dir
  if dir="$(find_bin_dir 2>/dev/null)" && [[ -x "$dir/pg_isready" ]]; then echo "$dir/pg_isready"; return 0; fi
  command -v pg_isready 2>/dev/null
}

# 0 when something that speaks PostgreSQL answers on 127.0.0.1:$PORT (or, without pg_isready,
# when anything accepts a TCP connection there).
answers() {
  local isready rc=0
  if isready="$(pg_isready_cmd)"; then
    "$isready" -q -h 127.0.0.1 -p "$PORT" -t 3 || rc=$?
    [[ $rc == 0 || $rc == 1 ]] # 1: answering but still starting up
  else
    (exec 9<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
  fi
}

wait_until_accepting() {
  local isready i
  isready="$(pg_isready_cmd)" || return 0
  for ((i = 0; i < 120; i++)); do
    "$isready" -q -h 127.0.0.1 -p "$PORT" -t 2 && return 0
    sleep 0.5
  done
  return 1
}

# Runs a command as the cluster's owner: postgres when we are root, else ourselves.
as_owner() {
  if ((IS_ROOT)); then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"
    else su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

# The port our own cluster was started on, if it runs.
own_cluster_port() {
  [[ -f "$DATA/postmaster.pid" ]] && sed -n 4p "$DATA/postmaster.pid"
}

ensure_role_and_database() {
  local bin="$1"
  log "ensuring role $DB_USER and database $DB_NAME"
  "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" -U postgres -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
  ELSE
    ALTER ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')
\gexec
SQL
  # The URL itself must work: TCP on 127.0.0.1 with the password.
  PGPASSWORD="$DB_PASSWORD" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -d "$URL" -c 'SELECT 1' >/dev/null \
    || die "the server is up but $URL does not accept a connection"
  touch "$READY_MARK"
}

install_postgresql() {
  local sudo=()
  if ((!IS_ROOT)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n)
    else die "no PostgreSQL server under /usr/lib/postgresql/*/bin and not root: install Debian's postgresql (sudo apt-get install postgresql) or set DATABASE_URL to a server you have"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "no PostgreSQL server under /usr/lib/postgresql/*/bin and no apt-get: install PostgreSQL's server binaries or set DATABASE_URL to a server you have"
  log "installing Debian's postgresql (once; typically well under a minute)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
}

mkdir -p "$(dirname "$BASE")"
mkdir -p -m 0755 "$BASE" # the postgres user must be able to reach data/ inside it
# One caller at a time sets the cluster up: parallel CI steps or test files may all ask at once.
if command -v flock >/dev/null 2>&1; then
  exec 8>"$BASE/.lock"
  flock 8
fi

if answers; then
  if [[ "$(own_cluster_port)" == "$PORT" && ! -f "$READY_MARK" ]]; then
    # Our cluster, from a run that stopped before creating the role or the database.
    BIN="$(find_bin_dir)" || die "cannot find the binaries of the cluster in $DATA"
    wait_until_accepting || die "the server on 127.0.0.1:$PORT does not accept connections"
    ensure_role_and_database "$BIN"
  fi
  wait_until_accepting || die "a server answers on 127.0.0.1:$PORT but does not accept connections"
  done_with "a server already answers on 127.0.0.1:$PORT"
fi

if ! BIN="$(find_bin_dir)"; then
  if [[ -f "$DATA/PG_VERSION" ]]; then
    die "the cluster in $DATA was made by PostgreSQL $(cat "$DATA/PG_VERSION"), whose binaries are not under /usr/lib/postgresql: install that version or remove $BASE"
  fi
  install_postgresql
  BIN="$(find_bin_dir)" || die "postgresql was installed but no server binaries are under /usr/lib/postgresql/*/bin"
fi
log "using $BIN"

if ((IS_ROOT)); then
  id postgres >/dev/null 2>&1 || die "running as root, but there is no postgres user to run the server as (Debian's postgresql package creates it)"
  as_owner test -x "$BASE" 2>/dev/null \
    || die "the postgres user cannot reach $BASE: choose a CLIPFLOW_PG_DIR outside root's private folders"
fi

mkdir -p "$SOCKET_DIR"
touch "$LOG_FILE"
if ((IS_ROOT)); then chown postgres:postgres "$SOCKET_DIR" "$LOG_FILE"; fi

if [[ ! -f "$DATA/PG_VERSION" ]]; then
  [[ ! -e "$DATA" ]] || die "$DATA exists but holds no cluster: remove it and run again"
  log "creating a cluster in $DATA"
  rm -f "$READY_MARK"
  rm -rf "$DATA.tmp"
  mkdir -p "$DATA.tmp"
  if ((IS_ROOT)); then chown postgres:postgres "$DATA.tmp"; fi
  # Made aside and moved into place, so a run cut short never leaves a half-made cluster.
  as_owner "$BIN/initdb" -D "$DATA.tmp" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
  as_owner tee -a "$DATA.tmp/postgresql.conf" >/dev/null <<CONF

# clipflow: a throwaway server for tests and development (scripts/start-postgres.sh)
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  mv "$DATA.tmp" "$DATA"
fi

cluster_runs() { as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
if cluster_runs; then
  running_port="$(own_cluster_port)"
  [[ "$running_port" == "$PORT" ]] \
    || die "the cluster in $DATA already runs, on port $running_port, not $PORT: use that PGPORT, or stop it with pg_ctl -D $DATA stop"
  # On our port but it did not answer: starting up, recovering, or a server that just died
  # (its pid lingers until reaped). Wait for one or the other.
  for ((i = 0; i < 60; i++)); do
    if answers && wait_until_accepting; then
      [[ -f "$READY_MARK" ]] || ensure_role_and_database "$BIN"
      done_with "PostgreSQL is ready on 127.0.0.1:$PORT"
    fi
    cluster_runs || break
    sleep 0.5
  done
  if cluster_runs; then
    tail -n 20 "$LOG_FILE" >&2 || true
    die "the cluster in $DATA runs but does not answer on 127.0.0.1:$PORT: see $LOG_FILE, or stop it with pg_ctl -D $DATA stop"
  fi
fi

# The server must inherit no descriptor beyond 0-2: holding our stdout (fd 3) would keep a
# caller's $(...) waiting forever, and holding the lock (fd 8) would block every later run.
start_server() (
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd="${fd##*/}"
    if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -w -t 60 \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -k '$SOCKET_DIR'" start >/dev/null
)

log "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG_FILE)"
if ! start_server; then
  tail -n 20 "$LOG_FILE" >&2 || true
  die "PostgreSQL did not start (is port $PORT taken by another program?)"
fi
wait_until_accepting || { tail -n 20 "$LOG_FILE" >&2 || true; die "PostgreSQL started but does not accept connections on 127.0.0.1:$PORT"; }

ensure_role_and_database "$BIN"
done_with "PostgreSQL is ready on 127.0.0.1:$PORT"
