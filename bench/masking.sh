#!/usr/bin/env bash
# Warden masking throughput: SELECT of a 1,000,000-row, 8-column table with 3 protected columns
# through Warden (masked) against the same query on an identical unprotected table through Warden,
# through a Warden target without masking, directly and through PgBouncer. Reports rows/s and the
# ratios masked/unmasked (Warden) and unmasked Warden/PgBouncer. See bench/README.md.
# Everything it starts lives in $BENCH_TMP and is stopped on exit unless KEEP=1.
set -euo pipefail

# ------------------------------------------------------------------ knobs
ROWS="${ROWS:-1000000}"               # rows in each bench table
TX="${TX:-3}"                         # full-table SELECTs per measured pgbench run
ROUNDS="${ROUNDS:-3}"                 # repetitions of the whole matrix (median per cell)
WARMUP_TX="${WARMUP_TX:-3}"           # full-table SELECTs through each Warden case before measuring
MODES="${MODES:-simple extended}"     # pgbench -M
KEEP="${KEEP:-0}"

BENCH_TMP="${BENCH_TMP:-/tmp/warden-bench-masking}"
BENCH_PGDATA="${BENCH_PGDATA:-$BENCH_TMP/pg}"
PG_PORT="${PG_PORT:-25532}"     # below the ephemeral range (32768-60999): a client socket cannot hold it
PGBOUNCER_PORT="${PGBOUNCER_PORT:-26532}"
WARDEN_PORT="${WARDEN_PORT:-27532}"   # and +1 for its HTTP port
WARDEN_START_TIMEOUT="${WARDEN_START_TIMEOUT:-90}"
WARDEN_JAVA_OPTS="${WARDEN_JAVA_OPTS:--Xmx512m}"

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
WARDEN_CONFIG="$BENCH_TMP/warden-masking.yaml"
WARDEN_LOG="$BENCH_TMP/warden.log"

log() { printf '[bench-masking %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

for v in ROWS TX ROUNDS WARMUP_TX PG_PORT PGBOUNCER_PORT WARDEN_PORT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
(( TX >= 1 && ROUNDS >= 1 && ROWS >= 1 )) || die "TX, ROUNDS and ROWS must be >= 1"
for m in $MODES; do case "$m" in simple|extended|prepared) ;; *) die "unknown mode '$m'";; esac; done

# postgres and pgbouncer refuse to run as root
if [[ "$(id -u)" == 0 ]]; then
    if [[ -z "${BENCH_OS_USER:-}" ]]; then
        if id postgres >/dev/null 2>&1; then BENCH_OS_USER=postgres; else
            BENCH_OS_USER=wardenbench
            id "$BENCH_OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$BENCH_OS_USER"
        fi
    fi
    as_server_user() { runuser -u "$BENCH_OS_USER" -- "$@"; }
else
    BENCH_OS_USER="$(id -un)"
    as_server_user() { "$@"; }
fi

PATH="$PATH:/usr/local/bin:/usr/sbin:/usr/lib/postgresql/15/bin"
for tool in initdb pg_ctl postgres psql pgbench; do command -v "$tool" >/dev/null || die "$tool not found on PATH"; done
if ! command -v pgbouncer >/dev/null; then
    log "installing pgbouncer"
    SUDO=(); [[ "$(id -u)" == 0 ]] || SUDO=(sudo)
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi

STARTED_PG=0; BOUNCER_PID=""; WARDEN_PID=""
cleanup() {
    local rc=$?
    set +e
    if [[ "$KEEP" == 1 ]]; then log "KEEP=1: leaving processes running in $BENCH_TMP"; exit "$rc"; fi
    if [[ -n "$WARDEN_PID" ]]; then
        kill "$WARDEN_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$WARDEN_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$WARDEN_PID" 2>/dev/null
    fi
    if [[ -s "$BOUNCER_DIR/pgbouncer.pid" ]]; then kill "$(cat "$BOUNCER_DIR/pgbouncer.pid")" 2>/dev/null; fi
    [[ "$STARTED_PG" == 1 ]] && as_server_user pg_ctl -D "$BENCH_PGDATA" -m fast -w stop >/dev/null
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$BENCH_TMP" "$RUNS_DIR"
chmod 755 "$BENCH_TMP"
rm -f "$RUNS_DIR"/*.log

# ------------------------------------------------------------------ PostgreSQL
psql_admin() { as_server_user psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" -U postgres -d "${PSQL_DB:-postgres}" "$@"; }

if [[ ! -f "$BENCH_PGDATA/PG_VERSION" ]]; then
    log "initdb $BENCH_PGDATA"
    mkdir -p "$BENCH_PGDATA"; chown "$BENCH_OS_USER" "$BENCH_PGDATA"; chmod 700 "$BENCH_PGDATA"
    as_server_user initdb -D "$BENCH_PGDATA" -U postgres -E UTF8 --locale=C --auth-local=trust \
        --auth-host=scram-sha-256 >"$BENCH_TMP/initdb.log" 2>&1 || { cat "$BENCH_TMP/initdb.log" >&2; die "initdb failed"; }
fi
mkdir -p "$SOCK_DIR"; chown "$BENCH_OS_USER" "$SOCK_DIR"
cat >"$BENCH_PGDATA/pg_hba.conf" <<EOF
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
EOF
cat >"$BENCH_PGDATA/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK_DIR'
password_encryption = 'scram-sha-256'
shared_buffers = '256MB'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
chown "$BENCH_OS_USER" "$BENCH_PGDATA/pg_hba.conf" "$BENCH_PGDATA/postgresql.auto.conf"
if ! as_server_user pg_ctl -D "$BENCH_PGDATA" status >/dev/null 2>&1; then
    port_open "$PG_PORT" && die "port $PG_PORT is already in use"
    touch "$BENCH_TMP/postgres.log"; chown "$BENCH_OS_USER" "$BENCH_TMP/postgres.log"
    log "starting PostgreSQL on $HOST:$PG_PORT"
    as_server_user pg_ctl -D "$BENCH_PGDATA" -l "$BENCH_TMP/postgres.log" -w -t 60 start >/dev/null || die "PostgreSQL failed to start"
    STARTED_PG=1
fi

psql_admin <<EOF
SET password_encryption = 'scram-sha-256';
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$BENCH_USER') THEN CREATE ROLE $BENCH_USER LOGIN; END IF;
END \$\$;
ALTER ROLE $BENCH_USER LOGIN PASSWORD '$BENCH_PASSWORD';
SELECT 'CREATE DATABASE $BENCH_DB OWNER $BENCH_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$BENCH_DB') \gexec
EOF

have=0
if [[ "$(PSQL_DB="$BENCH_DB" psql_admin -At -c "SELECT to_regclass('public.plain_rows') IS NOT NULL")" == t ]]; then
    have="$(PSQL_DB="$BENCH_DB" psql_admin -At -c "SELECT count(*) FROM plain_rows")"
fi
if [[ "$have" != "$ROWS" ]]; then
    log "creating masked_rows and plain_rows ($ROWS rows, 8 columns each)"
    as_server_user psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" <<EOF
DROP TABLE IF EXISTS masked_rows, plain_rows;
CREATE TABLE masked_rows AS
SELECT g AS id,
       lpad((100 + g % 800)::text, 3, '0') || '-' || lpad((10 + g % 90)::text, 2, '0') || '-' || lpad((1000 + g % 9000)::text, 4, '0') AS ssn,
       'user' || g || '@example.com' AS email,
       (4000000000000000 + g)::text AS pan,
       (ARRAY['Boston', 'Denver', 'Austin', 'Reno'])[1 + g % 4] AS city,
       (g % 100000) / 100.0 AS amount,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' AS created_at,
       'note ' || g AS note
  FROM generate_series(1, $ROWS) g;
CREATE TABLE plain_rows AS TABLE masked_rows;
VACUUM ANALYZE masked_rows;
VACUUM ANALYZE plain_rows;
EOF
fi

# ------------------------------------------------------------------ PgBouncer (session mode)
mkdir -p "$BOUNCER_DIR"; chown "$BENCH_OS_USER" "$BOUNCER_DIR"
port_open "$PGBOUNCER_PORT" && die "port $PGBOUNCER_PORT is already in use"
secret="$(psql_admin -At -c "SELECT rolpassword FROM pg_authid WHERE rolname = '$BENCH_USER'")"
printf '"%s" "%s"\n' "$BENCH_USER" "$secret" >"$BOUNCER_DIR/userlist.txt"
cat >"$BOUNCER_DIR/pgbouncer.ini" <<EOF
[databases]
$BENCH_DB = host=$HOST port=$PG_PORT dbname=$BENCH_DB
[pgbouncer]
listen_addr = $HOST
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BOUNCER_DIR/userlist.txt
pool_mode = session
server_tls_sslmode = disable
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
EOF
chown "$BENCH_OS_USER" "$BOUNCER_DIR/userlist.txt" "$BOUNCER_DIR/pgbouncer.ini"; chmod 600 "$BOUNCER_DIR/userlist.txt"
rm -f "$BOUNCER_DIR/pgbouncer.pid"
as_server_user pgbouncer -d "$BOUNCER_DIR/pgbouncer.ini" || die "PgBouncer failed to start"
for _ in $(seq 1 50); do port_open "$PGBOUNCER_PORT" && break; sleep 0.1; done
port_open "$PGBOUNCER_PORT" || { tail -n 5 "$BOUNCER_DIR/pgbouncer.log" >&2; die "PgBouncer is not listening"; }

# ------------------------------------------------------------------ Warden: one target with masking, one without
port_open "$WARDEN_PORT" && die "port $WARDEN_PORT is already in use"
[[ -f "$REPO_ROOT/target/warden.jar" ]] || (cd "$REPO_ROOT" && mvn -B -q -DskipTests package) || die "Warden build failed"
rm -rf "$BENCH_TMP/warden-audit"
target_body() {
    cat <<EOF
    host: $HOST
    port: $PG_PORT
    database: $BENCH_DB
    user: $BENCH_USER
    password: $BENCH_PASSWORD
    sslmode: disable
EOF
}
{
    echo "listen: { host: $HOST, port: $WARDEN_PORT }"
    echo "http: { port: $(( WARDEN_PORT + 1 )) }"
    echo "users:"
    echo "  - name: $BENCH_USER"
    echo "    password: $BENCH_PASSWORD"
    echo "targets:"
    echo "  $BENCH_DB:"
    target_body
    echo "    masking:                 # 3 of masked_rows' 8 columns; plain_rows is the same data, unprotected"
    echo "      columns:"
    echo "        public.masked_rows.ssn: ssn"
    echo "        public.masked_rows.email: email"
    echo "        public.masked_rows.pan: pan"
    echo "  ${BENCH_DB}_nomask:"
    target_body
    echo "audit:"
    echo "  store: $BENCH_TMP/warden-audit/audit"
} >"$WARDEN_CONFIG"
log "starting Warden on $HOST:$WARDEN_PORT (log: $WARDEN_LOG)"
# shellcheck disable=SC2086
(cd "$REPO_ROOT" && exec java $WARDEN_JAVA_OPTS ${WARDEN_EXTRA_OPTS:-} -jar target/warden.jar run --config "$WARDEN_CONFIG") >"$WARDEN_LOG" 2>&1 &
WARDEN_PID=$!
deadline=$(( SECONDS + WARDEN_START_TIMEOUT ))
until port_open "$WARDEN_PORT"; do
    kill -0 "$WARDEN_PID" 2>/dev/null || { tail -n 40 "$WARDEN_LOG" >&2; die "Warden exited"; }
    (( SECONDS < deadline )) || { tail -n 40 "$WARDEN_LOG" >&2; die "Warden did not listen in time"; }
    sleep 0.5
done

# ------------------------------------------------------------------ cases
export PGPASSWORD="$BENCH_PASSWORD"
# case name -> "port database table"
declare -A CASE=(
    [warden-masked]="$WARDEN_PORT $BENCH_DB masked_rows"
    [warden-unmasked]="$WARDEN_PORT $BENCH_DB plain_rows"
    [warden-nomask-target]="$WARDEN_PORT ${BENCH_DB}_nomask plain_rows"
    [direct]="$PG_PORT $BENCH_DB plain_rows"
    [pgbouncer]="$PGBOUNCER_PORT $BENCH_DB plain_rows"
)
CASES="${CASES:-warden-masked warden-unmasked warden-nomask-target direct pgbouncer}"

# run OUT CASE MODE TX
run() {
    local out="$1" port db table
    read -r port db table <<<"${CASE[$2]}"
    printf 'SELECT * FROM %s;\n' "$table" >"$BENCH_TMP/$table.sql"
    pgbench -n -f "$BENCH_TMP/$table.sql" -M "$3" -t "$4" -c 1 -h "$HOST" -p "$port" -U "$BENCH_USER" "$db" >"$out" 2>&1
}
parse_tps() { sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$1" | head -n 1; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# the masked result really is masked, the unmasked one is not
check="$(psql -X -At -h "$HOST" -p "$WARDEN_PORT" -U "$BENCH_USER" -d "$BENCH_DB" -c "SELECT ssn, email, pan, city FROM masked_rows WHERE id = 1")"
[[ "$check" == "***-**-1001|****@example.com|************0001|Denver" ]] || die "masked_rows not masked as expected: $check"
check="$(psql -X -At -h "$HOST" -p "$WARDEN_PORT" -U "$BENCH_USER" -d "$BENCH_DB" -c "SELECT ssn FROM plain_rows WHERE id = 1")"
[[ "$check" == "101-11-1001" ]] || die "plain_rows unexpectedly masked: $check"

for c in $CASES; do
    [[ "$c" == warden-* ]] || continue
    log "warm-up: $WARMUP_TX x SELECT * through $c"
    run "$RUNS_DIR/warmup-$c.log" "$c" extended "$WARMUP_TX" || { cat "$RUNS_DIR/warmup-$c.log" >&2; die "warm-up failed"; }
done

for (( r = 1; r <= ROUNDS; r++ )); do
    for mode in $MODES; do
        for c in $CASES; do
            out="$RUNS_DIR/r$r-$mode-$c.log"
            if run "$out" "$c" "$mode" "$TX" && [[ -n "$(parse_tps "$out")" ]]; then
                log "round $r $mode $c: $(awk -v t="$(parse_tps "$out")" -v n="$ROWS" 'BEGIN { printf "%.0f rows/s", t * n }')"
            else
                cat "$out" >&2; die "run $r $mode $c failed"
            fi
        done
    done
done

if [[ "$CASES" != "warden-masked warden-unmasked warden-nomask-target direct pgbouncer" ]]; then
    log "CASES restricted to '$CASES': no table (raw pgbench output in $RUNS_DIR)"
    exit 0
fi
TABLE="$BENCH_TMP/masking-table.md"
{
    echo "| mode | masked (Warden) rows/s | unmasked table (Warden, same target) rows/s | unmasked target (Warden) rows/s | direct rows/s | PgBouncer rows/s | masked / unmasked (Warden) | unmasked Warden / PgBouncer | Warden no-mask target / PgBouncer |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for mode in $MODES; do
        declare -A med=()
        for c in $CASES; do
            vals=()
            for (( r = 1; r <= ROUNDS; r++ )); do vals+=("$(parse_tps "$RUNS_DIR/r$r-$mode-$c.log")"); done
            med[$c]="$(median "${vals[@]}")"
        done
        awk -v mode="$mode" -v n="$ROWS" -v m="${med[warden-masked]}" -v u="${med[warden-unmasked]}" \
            -v t="${med[warden-nomask-target]}" -v d="${med[direct]}" -v b="${med[pgbouncer]}" 'BEGIN {
            printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |\n", mode, m * n, u * n, t * n, d * n, b * n, m / u, u / b, t / b }'
    done
} >"$TABLE"

mkdir -p "$RESULTS_DIR"
{
    echo "# Warden masking throughput"
    echo
    echo "Generated by \`bench/masking.sh\` on $(date -u '+%Y-%m-%d %H:%M:%S UTC'): ROWS=$ROWS, TX=$TX full-table SELECTs per run, ROUNDS=$ROUNDS (median), MODES=\"$MODES\"."
    echo "Each cell: \`pgbench -n -f <SELECT * FROM table> -M <mode> -t $TX -c 1\`; rows/s = pgbench tps x $ROWS."
    echo
    cat "$TABLE"
    echo
    echo "nproc $(nproc); $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); $(java -version 2>&1 | head -n 1); $(postgres --version); $(pgbouncer --version 2>&1 | head -n 1)"
} >"$RESULTS_DIR/masking-latest.md"
echo
cat "$TABLE"
log "written $RESULTS_DIR/masking-latest.md (raw pgbench output in $RUNS_DIR)"
