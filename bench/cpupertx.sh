#!/usr/bin/env bash
# CPU time per transaction of every process on the machine (grouped: postgres, pgbench, pgbouncer,
# java, ...) while pgbench drives one port — to see where a proxy's cost goes, in µs of user and system
# time per transaction, which is steadier on a noisy machine than TPS (docs/performance.md, run 9).
#   bench/cpupertx.sh PORT SECONDS [MODE] [CLIENTS]
# Needs the bench cluster of bench/pgbench.sh (user/password/database bench) and something on PORT
# (55432 direct, 56432 PgBouncer, 57432 Warden with KEEP=1). Counts every process, so run it on an
# otherwise idle machine; "idle" is the machine's idle share over the interval (from /proc/stat).
set -euo pipefail
port="${1:?usage: cpupertx.sh PORT SECONDS [MODE] [CLIENTS]}"
secs="${2:?usage: cpupertx.sh PORT SECONDS [MODE] [CLIENTS]}"
mode="${3:-prepared}"
clients="${4:-8}"
hz="$(getconf CLK_TCK)"
snap() {
    local p c s
    for p in /proc/[0-9]*; do
        c="$(cat "$p/comm" 2>/dev/null)" || continue
        s="$(cat "$p/stat" 2>/dev/null)" || continue
        s="${s##*) }"
        # shellcheck disable=SC2086
        set -- $s
        echo "$c ${12} ${13}"
    done | awk '{n = $1; if (n ~ /^postgres/ || n ~ /^postmaster/) n = "postgres"; u[n] += $2; s[n] += $3}
                END { for (k in u) print k, u[k], s[k] }' | sort
}
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
jobs=1; [[ "$clients" -ge 2 ]] && jobs=2
PGPASSWORD=bench pgbench -n -S -T $((secs + 4)) -M "$mode" -c "$clients" -j "$jobs" -h 127.0.0.1 -p "$port" \
    -U bench bench >"$out" 2>&1 &
bench_pid=$!
sleep 2
cpu_a="$(head -1 /proc/stat)"
a="$(snap)"
sleep "$secs"
b="$(snap)"
cpu_b="$(head -1 /proc/stat)"
wait "$bench_pid" || { cat "$out" >&2; exit 1; }
tps="$(grep -o 'tps = [0-9.]*' "$out" | awk '{print $3}')"
echo "port $port, $mode, $clients clients: tps $tps"
join <(echo "$a") <(echo "$b") | awk -v tps="$tps" -v secs="$secs" -v hz="$hz" '
    { u = $4 - $2; s = $5 - $3
      if (u + s > 2) printf "  %-16s user %6.1f  sys %6.1f  µs per transaction\n", $1, u * 1e6 / hz / (tps * secs), s * 1e6 / hz / (tps * secs) }'
# /proc/stat "cpu" line: user nice system idle iowait irq softirq steal ...
echo "$cpu_a $cpu_b" | awk '{ for (i = 2; i <= 9; i++) { ta += $i; tb += $(i + 11) }
    printf "  idle %.0f %%\n", 100 * (($(16) + $(17)) - ($5 + $6)) / (tb - ta) }'
