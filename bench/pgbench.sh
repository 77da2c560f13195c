#!/usr/bin/env bash
# Warden proxy-overhead benchmark: pgbench -S against PostgreSQL directly, through PgBouncer
# (session mode) and through Warden, interleaved, and a Markdown table of the results.
# See bench/README.md for the knobs. Everything it starts lives in $BENCH_TMP and is stopped on
# exit unless KEEP=1.
set -euo pipefail

# ------------------------------------------------------------------ knobs
DURATION="${DURATION:-15}"            # seconds per measured pgbench run
WARMUP="${WARMUP:-20}"                # seconds of warm-up through Warden
WARMUP_OTHERS="${WARMUP_OTHERS:-$(( WARMUP < 5 ? WARMUP : 5 ))}"  # warm-up through direct/pgbouncer
WARMUP_MODE="${WARMUP_MODE:-$(( WARMUP < 15 ? WARMUP : 15 ))}"     # then per other (mode, clients) cell through each Warden
SETTLE="${SETTLE:-3}"                 # seconds of unmeasured run of the same cell before each measured run
ROUNDS="${ROUNDS:-1}"                 # repetitions of the whole matrix (median taken when > 1)
SCALE="${SCALE:-10}"                  # pgbench -i scale factor
MODES="${MODES:-simple extended prepared}"
# Warden's audit durability for this run: batched (default) or strict
AUDIT_DURABILITY="${AUDIT_DURABILITY:-batched}"
# h2 (embedded file store, the default) or postgres (a warden_audit database on the bench server)
AUDIT_STORE="${AUDIT_STORE:-h2}"
# session recording (on by default in Warden): on | off
RECORDING="${RECORDING:-on}"
CLIENTS="${CLIENTS:-1 8}"
TARGETS="${TARGETS:-direct pgbouncer warden}"
KEEP="${KEEP:-0}"                     # 1 = leave cluster, PgBouncer and Warden running

BENCH_TMP="${BENCH_TMP:-/tmp/warden-bench}"
BENCH_PGDATA="${BENCH_PGDATA:-$BENCH_TMP/pg}"
PG_PORT="${PG_PORT:-55432}"
PGBOUNCER_PORT="${PGBOUNCER_PORT:-56432}"
WARDEN_PORT="${WARDEN_PORT:-57432}"
# target "noaudit": the same Warden build and config in benchmark mode, statements not recorded
NOAUDIT_PORT="${NOAUDIT_PORT:-$(( WARDEN_PORT + 10 ))}"
WARDEN_START_TIMEOUT="${WARDEN_START_TIMEOUT:-60}"
WARDEN_JAVA_OPTS="${WARDEN_JAVA_OPTS:--Xmx256m}"

HOST=127.0.0.1
BENCH_USER=bench
BENCH_PASSWORD=bench
BENCH_DB=bench

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
RESULTS_DIR="${RESULTS_DIR:-$SCRIPT_DIR/results}"

SOCK_DIR="$BENCH_TMP/sock"
BOUNCER_DIR="$BENCH_TMP/pgbouncer"
RUNS_DIR="$BENCH_TMP/runs"
WARDEN_LOG="$BENCH_TMP/warden.log"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

has_target() {
    local t
    for t in $TARGETS; do [[ "$t" == "$1" ]] && return 0; done
    return 1
}

for t in $TARGETS; do
    case "$t" in direct|pgbouncer|warden|noaudit) ;; *) die "unknown target '$t' (direct, pgbouncer, warden, noaudit)";; esac
done
for m in $MODES; do
    case "$m" in simple|extended|prepared|miss) ;; *) die "unknown mode '$m' (simple, extended, prepared, miss)";; esac
done
for v in DURATION WARMUP WARMUP_OTHERS WARMUP_MODE SETTLE ROUNDS SCALE PG_PORT PGBOUNCER_PORT WARDEN_PORT NOAUDIT_PORT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
for c in $CLIENTS; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "CLIENTS entries must be positive integers"; done
(( ROUNDS >= 1 )) || die "ROUNDS must be >= 1"
(( DURATION >= 1 )) || die "DURATION must be >= 1"

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

target_port() {
    case "$1" in
        direct) echo "$PG_PORT";;
        pgbouncer) echo "$PGBOUNCER_PORT";;
        warden) echo "$WARDEN_PORT";;
        noaudit) echo "$NOAUDIT_PORT";;
    esac
}

# ------------------------------------------------------------------ OS user for the server processes
# postgres and pgbouncer refuse to run as root: when root, run them as an unprivileged user.
if [[ "$(id -u)" == 0 ]]; then
    if [[ -z "${BENCH_OS_USER:-}" ]]; then
        if id postgres >/dev/null 2>&1; then
            BENCH_OS_USER=postgres
        else
            BENCH_OS_USER=wardenbench
            id "$BENCH_OS_USER" >/dev/null 2>&1 \
                || useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_OS_USER"
        fi
    fi
    as_server_user() { runuser -u "$BENCH_OS_USER" -- "$@"; }
else
    BENCH_OS_USER="$(id -un)"
    as_server_user() { "$@"; }
fi

# ------------------------------------------------------------------ tools
PATH="$PATH:/usr/local/bin:/usr/sbin:/usr/lib/postgresql/15/bin"
for tool in initdb pg_ctl postgres psql pgbench; do
    command -v "$tool" >/dev/null || die "$tool not found on PATH"
done

if has_target pgbouncer && ! command -v pgbouncer >/dev/null; then
    log "installing pgbouncer"
    SUDO=()
    [[ "$(id -u)" == 0 ]] || SUDO=(sudo)
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
    command -v pgbouncer >/dev/null || die "pgbouncer still not found after apt-get install"
fi

# ------------------------------------------------------------------ cleanup
STARTED_PG=0
STARTED_BOUNCER=0
STARTED_PIDS=""

cleanup() {
    local rc=$?
    set +e
    if [[ "$KEEP" == 1 ]]; then
        log "KEEP=1: leaving processes running (cluster $BENCH_PGDATA, files in $BENCH_TMP)"
        exit "$rc"
    fi
    local wpid
    for wpid in $STARTED_PIDS; do
        log "stopping Warden (pid $wpid)"
        kill "$wpid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$wpid" 2>/dev/null
    done
    rm -f "$BENCH_TMP/warden.pid" "$BENCH_TMP/noaudit.pid"
    if [[ "$STARTED_BOUNCER" == 1 && -s "$BOUNCER_DIR/pgbouncer.pid" ]]; then
        local bpid
        bpid="$(cat "$BOUNCER_DIR/pgbouncer.pid")"
        log "stopping PgBouncer (pid $bpid)"
        kill "$bpid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.2; done
    fi
    if [[ "$STARTED_PG" == 1 ]]; then
        log "stopping PostgreSQL ($BENCH_PGDATA)"
        as_server_user pg_ctl -D "$BENCH_PGDATA" -m fast -w stop >/dev/null
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$BENCH_TMP" "$RUNS_DIR"
chmod 755 "$BENCH_TMP"
rm -f "$RUNS_DIR"/*.log

# ------------------------------------------------------------------ PostgreSQL
psql_admin() {
    # superuser over the unix socket (trust)
    as_server_user psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" -U postgres -d "${PSQL_DB:-postgres}" "$@"
}

if [[ -f "$BENCH_PGDATA/PG_VERSION" ]] && as_server_user pg_ctl -D "$BENCH_PGDATA" status >/dev/null 2>&1; then
    log "reusing running cluster $BENCH_PGDATA"
else
    if [[ ! -f "$BENCH_PGDATA/PG_VERSION" ]]; then
        log "initdb $BENCH_PGDATA"
        mkdir -p "$BENCH_PGDATA"
        chown "$BENCH_OS_USER" "$BENCH_PGDATA"
        chmod 700 "$BENCH_PGDATA"
        as_server_user initdb -D "$BENCH_PGDATA" -U postgres -E UTF8 --locale=C \
            --auth-local=trust --auth-host=scram-sha-256 >"$BENCH_TMP/initdb.log" 2>&1 \
            || { cat "$BENCH_TMP/initdb.log" >&2; die "initdb failed"; }
    fi
    mkdir -p "$SOCK_DIR"
    chown "$BENCH_OS_USER" "$SOCK_DIR"
    cat >"$BENCH_PGDATA/pg_hba.conf" <<EOF
# written by bench/pgbench.sh
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
EOF
    cat >"$BENCH_PGDATA/postgresql.auto.conf" <<EOF
# written by bench/pgbench.sh
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK_DIR'
password_encryption = 'scram-sha-256'
max_connections = 100
shared_buffers = '256MB'
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
    chown "$BENCH_OS_USER" "$BENCH_PGDATA/pg_hba.conf" "$BENCH_PGDATA/postgresql.auto.conf"
    port_open "$PG_PORT" && die "port $PG_PORT is already in use"
    touch "$BENCH_TMP/postgres.log"
    chown "$BENCH_OS_USER" "$BENCH_TMP/postgres.log"
    log "starting PostgreSQL on $HOST:$PG_PORT"
    as_server_user pg_ctl -D "$BENCH_PGDATA" -l "$BENCH_TMP/postgres.log" -w -t 60 start >/dev/null \
        || { tail -n 30 "$BENCH_TMP/postgres.log" >&2; die "PostgreSQL failed to start"; }
    STARTED_PG=1
fi
# a reused cluster may have been started with another socket directory: ask it
SOCK_DIR="$(sed -n '5p' "$BENCH_PGDATA/postmaster.pid")"
[[ -n "$SOCK_DIR" ]] || die "cluster $BENCH_PGDATA does not listen on a unix socket"
PG_PORT="$(sed -n '4p' "$BENCH_PGDATA/postmaster.pid")"

psql_admin <<EOF
SET password_encryption = 'scram-sha-256';
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$BENCH_USER') THEN
    CREATE ROLE $BENCH_USER LOGIN;
  END IF;
END
\$\$;
ALTER ROLE $BENCH_USER LOGIN PASSWORD '$BENCH_PASSWORD';
SELECT 'CREATE DATABASE $BENCH_DB OWNER $BENCH_USER'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$BENCH_DB') \gexec
EOF

current_scale=0
if [[ "$(PSQL_DB="$BENCH_DB" psql_admin -At -c "SELECT to_regclass('public.pgbench_branches') IS NOT NULL")" == t ]]; then
    current_scale="$(PSQL_DB="$BENCH_DB" psql_admin -At -c "SELECT count(*) FROM pgbench_branches")"
fi
if [[ "$current_scale" != "$SCALE" ]]; then
    log "pgbench -i -s $SCALE (current: $current_scale)"
    as_server_user pgbench -i -q -s "$SCALE" -h "$SOCK_DIR" -p "$PG_PORT" -U "$BENCH_USER" "$BENCH_DB" \
        >"$BENCH_TMP/pgbench-init.log" 2>&1 || { cat "$BENCH_TMP/pgbench-init.log" >&2; die "pgbench -i failed"; }
else
    log "database $BENCH_DB already initialised at scale $SCALE"
fi
PSQL_DB="$BENCH_DB" psql_admin -c "VACUUM ANALYZE"

# ------------------------------------------------------------------ PgBouncer
if has_target pgbouncer; then
    mkdir -p "$BOUNCER_DIR"
    chown "$BENCH_OS_USER" "$BOUNCER_DIR"
    bouncer_pid=""
    [[ -s "$BOUNCER_DIR/pgbouncer.pid" ]] && bouncer_pid="$(cat "$BOUNCER_DIR/pgbouncer.pid")"
    if [[ -n "$bouncer_pid" ]] && kill -0 "$bouncer_pid" 2>/dev/null && port_open "$PGBOUNCER_PORT"; then
        # a PgBouncer left from an earlier run (KEEP=1) can hold a broken pool (clients answered
        # query_wait_timeout): reuse it only if it runs a query now, otherwise start a fresh one
        if PGPASSWORD="$BENCH_PASSWORD" PGCONNECT_TIMEOUT=5 timeout 10 psql -X -q -At -h "$HOST" -p "$PGBOUNCER_PORT" \
                -U "$BENCH_USER" -d "$BENCH_DB" -c "SELECT 1" >/dev/null 2>&1; then
            log "reusing running PgBouncer (pid $bouncer_pid)"
        else
            log "PgBouncer (pid $bouncer_pid) does not answer a query; stopping it and starting a fresh one"
            kill "$bouncer_pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$bouncer_pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$bouncer_pid" 2>/dev/null || true
            bouncer_pid=""
        fi
    fi
    if [[ -n "$bouncer_pid" ]]; then
        :
    else
        port_open "$PGBOUNCER_PORT" && die "port $PGBOUNCER_PORT is already in use"
        # The SCRAM secret lets PgBouncer check the client's SCRAM proof and reuse it to log in upstream.
        secret="$(psql_admin -At -c "SELECT rolpassword FROM pg_authid WHERE rolname = '$BENCH_USER'")"
        [[ "$secret" == SCRAM-SHA-256* ]] || die "role $BENCH_USER has no SCRAM secret"
        printf '"%s" "%s"\n' "$BENCH_USER" "$secret" >"$BOUNCER_DIR/userlist.txt"
        cat >"$BOUNCER_DIR/pgbouncer.ini" <<EOF
; written by bench/pgbench.sh
[databases]
$BENCH_DB = host=$HOST port=$PG_PORT dbname=$BENCH_DB

[pgbouncer]
listen_addr = $HOST
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BOUNCER_DIR/userlist.txt
pool_mode = session
default_pool_size = 20
max_client_conn = 200
max_db_connections = 50
server_tls_sslmode = disable
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
        chown "$BENCH_OS_USER" "$BOUNCER_DIR/userlist.txt" "$BOUNCER_DIR/pgbouncer.ini"
        chmod 600 "$BOUNCER_DIR/userlist.txt"
        rm -f "$BOUNCER_DIR/pgbouncer.pid"
        log "starting PgBouncer on $HOST:$PGBOUNCER_PORT"
        as_server_user pgbouncer -d "$BOUNCER_DIR/pgbouncer.ini" \
            || { tail -n 30 "$BOUNCER_DIR/pgbouncer.log" >&2 || true; die "PgBouncer failed to start"; }
        STARTED_BOUNCER=1
        for _ in $(seq 1 50); do port_open "$PGBOUNCER_PORT" && break; sleep 0.1; done
        port_open "$PGBOUNCER_PORT" || { tail -n 30 "$BOUNCER_DIR/pgbouncer.log" >&2; die "PgBouncer is not listening"; }
    fi
fi

# ------------------------------------------------------------------ Warden
show_warden_log() {
    if [[ -s "$WARDEN_LOG" ]]; then
        log "last lines of $WARDEN_LOG:"
        tail -n 40 "$WARDEN_LOG" | sed 's/^/    | /' >&2
    else
        log "$WARDEN_LOG is empty"
    fi
}

# start_warden NAME PORT EXTRA_JAVA_OPTS: writes NAME's config (its own audit store and recordings) and
# starts it, or reuses one still running from KEEP=1
start_warden() {
    local name="$1" port="$2" extra="$3" config="$BENCH_TMP/$1-bench.yaml" logf="$BENCH_TMP/$1.log"
    local pidfile="$BENCH_TMP/$1.pid" pid="" store_yaml deadline rc
    WARDEN_LOG="$logf"
    [[ -s "$pidfile" ]] && pid="$(cat "$pidfile")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && port_open "$port"; then
        log "reusing running $name (pid $pid)"
        return
    fi
    port_open "$port" && die "port $port is already in use"
    if [[ ! -f "$REPO_ROOT/target/warden.jar" ]]; then
        log "building Warden (mvn -B -q -DskipTests package)"
        (cd "$REPO_ROOT" && mvn -B -q -DskipTests package) || die "Warden build failed"
    fi
    # a fresh audit store per run: a store grown over many runs measures H2's file size, not Warden
    rm -rf "$BENCH_TMP/$name-audit-$AUDIT_DURABILITY" "$BENCH_TMP/$name-recordings"
    if [[ "$AUDIT_STORE" == postgres ]]; then
        psql_admin -c "DROP DATABASE IF EXISTS ${name}_audit" >/dev/null
        psql_admin -c "CREATE DATABASE ${name}_audit OWNER $BENCH_USER" >/dev/null
        store_yaml="  store:
    url: jdbc:postgresql://$HOST:$PG_PORT/${name}_audit
    user: $BENCH_USER
    password: $BENCH_PASSWORD"
    else
        store_yaml="  store: $BENCH_TMP/$name-audit-$AUDIT_DURABILITY/audit"
    fi
    cat >"$config" <<EOF
# written by bench/pgbench.sh
listen:
  host: $HOST
  port: $port
users:
  - name: $BENCH_USER
    password: $BENCH_PASSWORD          # hashed to a SCRAM verifier at load
targets:
  $BENCH_DB:
    host: $HOST
    port: $PG_PORT
    database: $BENCH_DB
    user: $BENCH_USER
    password: $BENCH_PASSWORD
    sslmode: disable
http:
  port: $(( port + 1 ))
audit:
$store_yaml
  durability: $AUDIT_DURABILITY
  batchWindow: ${AUDIT_BATCH_WINDOW:-5ms}
recording:
  enabled: $( [[ "$RECORDING" == on ]] && echo true || echo false )
  directory: $BENCH_TMP/$name-recordings
EOF
    log "starting $name on $HOST:$port (log: $logf)"
    # shellcheck disable=SC2086  # WARDEN_JAVA_OPTS is a list of JVM flags
    (cd "$REPO_ROOT" && exec java $WARDEN_JAVA_OPTS $extra -jar target/warden.jar run --config "$config") \
        >"$logf" 2>&1 &
    pid=$!
    STARTED_PIDS="${STARTED_PIDS:-} $pid"
    echo "$pid" >"$pidfile"
    deadline=$(( SECONDS + WARDEN_START_TIMEOUT ))
    until port_open "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rc=0
            wait "$pid" || rc=$?
            log "$name exited with status $rc before listening on port $port"
            show_warden_log
            die "$name failed to start"
        fi
        if (( SECONDS >= deadline )); then
            log "$name not listening on port $port after ${WARDEN_START_TIMEOUT}s"
            show_warden_log
            die "$name failed to start"
        fi
        sleep 0.5
    done
    log "$name is up (pid $pid)"
}

if has_target noaudit; then
    start_warden noaudit "$NOAUDIT_PORT" "-Dwarden.benchmark.unrecordedStatements=true"
fi
if has_target warden; then
    start_warden warden "$WARDEN_PORT" ""
fi

# ------------------------------------------------------------------ running pgbench
export PGPASSWORD="$BENCH_PASSWORD"

jobs_for() { if (( $1 >= 2 )); then echo 2; else echo 1; fi; }

# Mode "miss": every transaction is a new query shape (a random column alias), so Warden's
# analysis and policy caches miss every time: the cost of parsing + rules on each statement.
MISS_SCRIPT="$BENCH_TMP/miss.sql"
printf '%s\n' "\\set aid random(1, $(( 100000 * SCALE )))" '\set n random(1, 1000000000)' \
    'SELECT abalance AS c:n FROM pgbench_accounts WHERE aid = :aid;' >"$MISS_SCRIPT"

# run_pgbench OUTFILE TARGET SECONDS MODE CLIENTS  (miss mode also writes per-transaction logs OUTFILE.tx.*)
run_pgbench() {
    local out="$1" target="$2" secs="$3" mode="$4" clients="$5" port
    port="$(target_port "$target")"
    if [[ "$mode" == miss ]]; then
        rm -f "$out".tx.*
        pgbench -n -f "$MISS_SCRIPT" -M simple -T "$secs" -c "$clients" -j "$(jobs_for "$clients")" \
            -l --log-prefix="$out.tx" -h "$HOST" -p "$port" -U "$BENCH_USER" "$BENCH_DB" >"$out" 2>&1
    else
        pgbench -n -S -T "$secs" -M "$mode" -c "$clients" -j "$(jobs_for "$clients")" \
            -h "$HOST" -p "$port" -U "$BENCH_USER" "$BENCH_DB" >"$out" 2>&1
    fi
}

# 99th percentile of the per-transaction latencies (µs) in OUTFILE.tx.* (pgbench -l, column 3)
p99() {
    cat "$1".tx.* 2>/dev/null | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int(NR * 0.99)] }'
}

warm_up() {
    local target secs mode clients
    for target in $TARGETS; do
        if [[ "$target" == warden || "$target" == noaudit ]]; then secs="$WARMUP"; else secs="$WARMUP_OTHERS"; fi
        (( secs > 0 )) || continue
        log "warm-up: ${secs}s through $target"
        run_pgbench "$RUNS_DIR/warmup-$target.log" "$target" "$secs" prepared 8 \
            || { cat "$RUNS_DIR/warmup-$target.log" >&2; die "warm-up through $target failed"; }
        # every other (mode, clients) cell takes the JIT through code or branches the prepared 8-client
        # warm-up never ran: after run 12 the first 12 s of simple mode after a prepared-only warm-up ran at
        # ~70 % of the later TPS, and after run 22 the first 12 s at 1 client after an 8-client warm-up spent
        # 8 µs per transaction in the C2 compiler thread (0.4-1.6 µs in the rounds after)
        if [[ "$target" == warden || "$target" == noaudit ]] && (( WARMUP_MODE > 0 )); then
            for mode in $MODES; do
                for clients in $CLIENTS; do
                    [[ "$mode" == prepared && "$clients" == 8 ]] && continue
                    log "warm-up: ${WARMUP_MODE}s through $target, $mode, $clients client(s)"
                    run_pgbench "$RUNS_DIR/warmup-$target-$mode-c$clients.log" "$target" "$WARMUP_MODE" "$mode" "$clients" \
                        || { cat "$RUNS_DIR/warmup-$target-$mode-c$clients.log" >&2; die "warm-up through $target ($mode, $clients) failed"; }
                done
            done
        fi
    done
}

# the value after "tps = " / "latency average = " in a pgbench output file, or empty
parse_tps() { sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$1" | head -n 1; }
parse_lat() { sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$1" | head -n 1; }

# median of the numbers given as arguments (empty if none)
median() {
    (( $# > 0 )) || { echo ""; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# records the audit writer has committed so far (from Warden's /health), or empty
audit_written() {
    curl -s --max-time 2 "http://$HOST:$(( WARDEN_PORT + 1 ))/health" 2>/dev/null \
        | sed -n 's/.*"written":\([0-9]*\).*/\1/p'
}

# the pid of a proxy target's process (pgbouncer, warden, noaudit), or empty
target_pid() {
    case "$1" in
        pgbouncer) cat "$BOUNCER_DIR/pgbouncer.pid" 2>/dev/null ;;
        warden | noaudit) cat "$BENCH_TMP/$1.pid" 2>/dev/null ;;
    esac
}

# user and system CPU clock ticks a process has used so far, all its threads ("utime stime"), or empty
proc_ticks() {
    local s
    [[ -n "$1" ]] || return 0
    s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
    s="${s##*) }"                    # fields after "(comm) ": utime and stime are the 12th and 13th
    # shellcheck disable=SC2086
    set -- $s
    echo "${12} ${13}"
}

# CPU clock ticks (user + system) the JIT compiler threads of a JVM have used so far, or empty
jit_ticks() {
    local t c s sum=0
    [[ -n "$1" && -d "/proc/$1/task" ]] || return 0
    for t in /proc/"$1"/task/*; do
        c="$(cat "$t/comm" 2>/dev/null)" || continue
        [[ "$c" == C1\ Compiler* || "$c" == C2\ Compiler* ]] || continue
        s="$(cat "$t/stat" 2>/dev/null)" || continue
        s="${s##*) }"
        # shellcheck disable=SC2086
        set -- $s
        sum=$(( sum + ${12} + ${13} ))
    done
    echo "$sum"
}

# the transactions pgbench completed in an output file, or empty
parse_tx() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$1" | head -n 1; }

CLK_TCK="$(getconf CLK_TCK)"

warm_up

FAILURES=0
total=0
for _ in $MODES; do for _ in $CLIENTS; do for _ in $TARGETS; do total=$(( total + 1 )); done; done; done
total=$(( total * ROUNDS ))
n=0
for (( round = 1; round <= ROUNDS; round++ )); do
    for mode in $MODES; do
        for clients in $CLIENTS; do
            for target in $TARGETS; do
                n=$(( n + 1 ))
                out="$RUNS_DIR/r$round-$mode-c$clients-$target.log"
                log "[$n/$total] round $round: $mode, $clients client(s), $target (${DURATION}s)"
                tpid="$(target_pid "$target")"
                if (( SETTLE > 0 )); then
                    run_pgbench "$out.settle" "$target" "$SETTLE" "$mode" "$clients" || true
                fi
                [[ "$target" == warden ]] && written_before="$(audit_written)"
                ticks_before="$(proc_ticks "$tpid")"
                jit_before="$(jit_ticks "$tpid")"
                if run_pgbench "$out" "$target" "$DURATION" "$mode" "$clients" \
                        && [[ -n "$(parse_tps "$out")" && -n "$(parse_lat "$out")" ]]; then
                    log "        tps $(parse_tps "$out"), latency $(parse_lat "$out") ms"
                    ticks_after="$(proc_ticks "$tpid")"
                    jit_after="$(jit_ticks "$tpid")"
                    if [[ -n "$ticks_before" && -n "$ticks_after" && -n "$(parse_tx "$out")" ]]; then
                        # µs of CPU (user, system) the proxy process spent per transaction in this run, and
                        # for a JVM the part of it its JIT compiler threads spent (0 for PgBouncer)
                        echo "$ticks_before $ticks_after $(parse_tx "$out") ${jit_before:-0} ${jit_after:-0}" | awk -v hz="$CLK_TCK" \
                            '{ j = $7 - $6; if (j < 0) j = 0
                               printf "%.2f %.2f %.2f\n", ($3 - $1) * 1e6 / hz / $5, ($4 - $2) * 1e6 / hz / $5, j * 1e6 / hz / $5 }' >"$out.cpu"
                        log "        $target CPU per transaction: $(awk '{ print "user " $1 " µs, system " $2 " µs, JIT compiler " $3 " µs" }' "$out.cpu")"
                    fi
                    if [[ "$target" == warden && -n "$written_before" ]]; then
                        written_after="$(audit_written)"
                        if [[ -n "$written_after" ]]; then
                            echo "$(( (written_after - written_before) / DURATION ))" >"$out.audit-rate"
                            log "        audit writer: $(cat "$out.audit-rate") records/s"
                        fi
                    fi
                else
                    FAILURES=$(( FAILURES + 1 ))
                    log "        FAILED; output:"
                    sed 's/^/        | /' "$out" >&2
                fi
            done
        done
    done
done

# ------------------------------------------------------------------ table
# collect VALUE for (mode, clients, target) over rounds, print the median (or empty)
stat() {
    local kind="$1" mode="$2" clients="$3" target="$4" vals=() f v round
    for (( round = 1; round <= ROUNDS; round++ )); do
        f="$RUNS_DIR/r$round-$mode-c$clients-$target.log"
        [[ -f "$f" ]] || continue
        case "$kind" in
            tps) v="$(parse_tps "$f")" ;;
            lat) v="$(parse_lat "$f")" ;;
            cpu) v="$(awk '{ print $1 + $2 }' "$f.cpu" 2>/dev/null)" ;;
            jit) v="$(awk '{ print $3 + 0 }' "$f.cpu" 2>/dev/null)" ;;
            nojit) v="$(awk '{ print $1 + $2 - $3 }' "$f.cpu" 2>/dev/null)" ;;
        esac
        [[ -n "$v" ]] && vals+=("$v")
    done
    median "${vals[@]+"${vals[@]}"}"
}

TABLE="$BENCH_TMP/table.md"
{
    if [[ " $MODES " == *" miss "* ]]; then
        for clients in $CLIENTS; do
            line="miss, $clients client(s), p99 latency (µs, round 1):"
            for target in $TARGETS; do
                line="$line $target $(p99 "$RUNS_DIR/r1-miss-c$clients-$target.log")"
            done
            echo "$line"
        done
        echo
    fi
    echo "| mode | clients | direct TPS | pgbouncer TPS | warden TPS | warden/pgbouncer TPS | warden/direct TPS | direct lat ms | pgbouncer lat ms | warden lat ms | added latency warden (µs, warden−direct) | added latency pgbouncer (µs) | added ratio (warden added / pgbouncer added) | noaudit TPS | warden/noaudit TPS | noaudit/pgbouncer TPS |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for mode in $MODES; do
        for clients in $CLIENTS; do
            awk -v mode="$mode" -v clients="$clients" \
                -v dt="$(stat tps "$mode" "$clients" direct)" \
                -v bt="$(stat tps "$mode" "$clients" pgbouncer)" \
                -v wt="$(stat tps "$mode" "$clients" warden)" \
                -v dl="$(stat lat "$mode" "$clients" direct)" \
                -v bl="$(stat lat "$mode" "$clients" pgbouncer)" \
                -v wl="$(stat lat "$mode" "$clients" warden)" \
                -v nt="$(stat tps "$mode" "$clients" noaudit)" '
                function tps(x)      { return x == "" ? "–" : sprintf("%.0f", x) }
                function lat(x)      { return x == "" ? "–" : sprintf("%.3f", x) }
                function ratio(a, b) { return (a == "" || b == "" || b + 0 <= 0) ? "–" : sprintf("%.2f", a / b) }
                function added(x)    { return (x == "" || dl == "") ? "" : (x - dl) * 1000 }
                function us(x)       { return x == "" ? "–" : sprintf("%.0f", x) }
                BEGIN {
                    wa = added(wl); ba = added(bl)
                    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                        mode, clients, tps(dt), tps(bt), tps(wt), ratio(wt, bt), ratio(wt, dt),
                        lat(dl), lat(bl), lat(wl), us(wa), us(ba), ratio(wa, ba), tps(nt), ratio(wt, nt), ratio(nt, bt)
                }'
        done
    done
    cpu_targets=""
    for target in pgbouncer noaudit warden; do
        has_target "$target" && cpu_targets="$cpu_targets $target"
    done
    if [[ -n "$cpu_targets" ]]; then
        echo
        echo "CPU time of the proxy process per transaction, user + system, µs (from /proc/PID/stat over each run, all threads; steadier than TPS on a noisy machine). The JIT compiler columns are the part of it the JVM's C1/C2 compiler threads spent (/proc/PID/task/*/stat); \"without the JIT compiler\" subtracts that part from each side:"
        echo
        header="| mode | clients |"; rule="|---|---:|"
        for target in $cpu_targets; do header="$header $target |"; rule="$rule---:|"; done
        jvm_targets=""
        for target in noaudit warden; do
            has_target "$target" && jvm_targets="$jvm_targets $target"
        done
        for target in $jvm_targets; do header="$header $target JIT compiler |"; rule="$rule---:|"; done
        if has_target warden && has_target noaudit; then
            header="$header audit (warden − noaudit) | audit without the JIT compiler |"; rule="$rule---:|---:|"
        fi
        echo "$header"; echo "$rule"
        for mode in $MODES; do
            for clients in $CLIENTS; do
                line="| $mode | $clients |"
                for target in $cpu_targets; do
                    v="$(stat cpu "$mode" "$clients" "$target")"
                    line="$line $( [[ -n "$v" ]] && printf '%.1f' "$v" || echo –) |"
                done
                for target in $jvm_targets; do
                    v="$(stat jit "$mode" "$clients" "$target")"
                    line="$line $( [[ -n "$v" ]] && printf '%.1f' "$v" || echo –) |"
                done
                if has_target warden && has_target noaudit; then
                    for kind in cpu nojit; do
                        w="$(stat "$kind" "$mode" "$clients" warden)"; a="$(stat "$kind" "$mode" "$clients" noaudit)"
                        line="$line $( [[ -n "$w" && -n "$a" ]] && awk -v w="$w" -v a="$a" 'BEGIN { printf "%.1f", w - a }' || echo –) |"
                    done
                fi
                echo "$line"
            done
        done
    fi
} >"$TABLE"

first_line() { "$@" 2>&1 | head -n 1 || true; }

mkdir -p "$RESULTS_DIR"
{
    echo "# Warden proxy overhead: pgbench -S (select-only)"
    echo
    echo "Generated by \`bench/pgbench.sh\` on $(date -u '+%Y-%m-%d %H:%M:%S UTC')."
    echo
    echo "Settings: DURATION=${DURATION}s per run, WARMUP=${WARMUP}s (Warden, then ${WARMUP_MODE}s per other mode and client count) / ${WARMUP_OTHERS}s (others), SETTLE=${SETTLE}s (unmeasured run of the same cell before each run)," \
        "ROUNDS=$ROUNDS$( (( ROUNDS > 1 )) && echo ' (median per cell)'), SCALE=$SCALE, MODES=\"$MODES\", CLIENTS=\"$CLIENTS\", TARGETS=\"$TARGETS\", AUDIT_DURABILITY=$AUDIT_DURABILITY, AUDIT_STORE=$AUDIT_STORE, RECORDING=$RECORDING."
    echo "Each cell: \`pgbench -n -S -T $DURATION -M <mode> -c <clients> -j <1|2> -h 127.0.0.1 -U bench bench\`;"
    echo "direct = PostgreSQL :$PG_PORT, pgbouncer = PgBouncer session mode :$PGBOUNCER_PORT, warden = Warden :$WARDEN_PORT; noaudit = the same Warden build and config started with -Dwarden.benchmark.unrecordedStatements=true (statements not recorded) :$NOAUDIT_PORT;"
    echo "for each (mode, clients) the targets run back to back. Latency = pgbench \"latency average\";"
    echo "added latency = target latency − direct latency. Mode miss: \`-M simple -f miss.sql\`, a new query shape (random column alias) every transaction, so Warden's analysis and rule caches always miss."
    echo
    cat "$TABLE"
    echo
    rates=""
    for f in "$RUNS_DIR"/r1-*-warden.log.audit-rate; do
        [[ -f "$f" ]] || continue
        cell="${f#"$RUNS_DIR"/r1-}"; cell="${cell%-warden.log.audit-rate}"
        rates="$rates $cell: $(cat "$f");"
    done
    if [[ -n "$rates" ]]; then
        echo "Audit writer, records committed per second during each Warden run (round 1; one record per statement, its outcome folded in when it arrives in time):$rates"
        echo
    fi
    echo "## Machine"
    echo
    echo "- nproc: $(nproc)"
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "- kernel: $(uname -r)"
    echo "- java: $(first_line java -version)"
    echo "- postgres: $(first_line postgres --version)"
    if command -v pgbouncer >/dev/null; then
        echo "- pgbouncer: $(first_line pgbouncer --version)"
    else
        echo "- pgbouncer: not installed"
    fi
    echo "- pgbench: $(first_line pgbench --version)"
    echo "- date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    if (( FAILURES > 0 )); then
        echo
        echo "**$FAILURES run(s) failed**; their cells show –."
    fi
} >"$RESULTS_DIR/latest.md"

echo
cat "$TABLE"
echo
log "written $RESULTS_DIR/latest.md (raw pgbench output in $RUNS_DIR)"
if (( FAILURES > 0 )); then
    die "$FAILURES pgbench run(s) failed"
fi
