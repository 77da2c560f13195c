#!/usr/bin/env bash
# CPU time per thread (grouped by name) of a running JVM over an interval, from /proc — to see what a
# Warden spends per statement while pgbench drives it (docs/performance.md, run 8).
#   bench/threadcpu.sh PID SECONDS
# Prints user and system clock ticks (1/100 s on Linux) per thread name, busiest first; divide by the
# transactions pgbench completed in the same interval for a per-statement figure.
set -euo pipefail
pid="${1:?usage: threadcpu.sh PID SECONDS}"
secs="${2:?usage: threadcpu.sh PID SECONDS}"
[[ -d "/proc/$pid/task" ]] || { echo "no process $pid" >&2; exit 1; }
snap() {
    local t name stat
    for t in /proc/"$pid"/task/*; do
        name="$(cat "$t/comm" 2>/dev/null)" || continue
        stat="$(cat "$t/stat" 2>/dev/null)" || continue
        stat="${stat##*) }"              # fields after "(comm) "
        # shellcheck disable=SC2086
        set -- $stat                     # $12 = utime, $13 = stime (fields 14 and 15 of stat)
        echo "${t##*/} ${name// /_} ${12} ${13}"
    done | sort
}
a="$(snap)"
sleep "$secs"
b="$(snap)"
join <(echo "$a") <(echo "$b") | awk '{
    u = $6 - $3; s = $7 - $4; name = $2; sub(/[0-9]+$/, "", name); U[name] += u; S[name] += s
} END { for (n in U) if (U[n] + S[n] > 0) printf "%-28s user %6d  sys %6d  ticks\n", n, U[n], S[n] }' \
    | sort -k3,3nr -k5,5nr
