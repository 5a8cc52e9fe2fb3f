#!/bin/sh
# Instructions per operation of each executor's single-thread hot paths, under callgrind
# (deterministic, unlike wall-clock time on a shared host).
#
#   benches/scripts/callgrind-ops.sh [EXEC...]     (default: all five executors)
#
# For each executor and workload it runs `executor-bench --only EXEC WORKLOAD N` at N and
# 2N and prints (Ir(2N) - Ir(N)) / N: set-up and tear-down cancel out.
#   spawn:    instructions per task spawned, polled to completion and joined (1 thread)
#   pingpong: instructions per round = 2 same-thread wakes + 2 polls (+ the baton's 2
#             clock reads, the same code for every executor)
#   ipc:      ours only: instructions per round trip of an 8-byte message through a
#             kcore::ipc port table (2 sends + 2 receives + 2 wakes + 2 polls); minus
#             pingpong, what the kernel's IPC path costs beyond the wakes
set -eu
cd "$(dirname "$0")/../.."
cargo build --release -q -p benches --bin executor-bench
BIN=target/release/executor-bench
OUT=${TMPDIR:-/tmp}/callgrind-ops.$$
mkdir -p "$OUT"
execs=${*:-ours tokio-current tokio-multi async-executor localpool}
ir() { # EXEC WORKLOAD N -> total instructions
    f="$OUT/$1.$2.$3"
    valgrind --tool=callgrind --callgrind-out-file="$f" "$BIN" --only "$1" "$2" "$3" >/dev/null 2>&1
    awk '/^totals:/ {print $2}' "$f"
}
printf '%-16s %12s %12s\n' executor 'Ir/spawn' 'Ir/pingpong'
for e in $execs; do
    s1=$(ir "$e" spawn 20000); s2=$(ir "$e" spawn 40000)
    p1=$(ir "$e" pingpong 10000); p2=$(ir "$e" pingpong 20000)
    printf '%-16s %12.1f %12.1f\n' "$e" "$(echo "($s2 - $s1) / 20000" | bc -l)" "$(echo "($p2 - $p1) / 10000" | bc -l)"
    if [ "$e" = ours ]; then
        i1=$(ir ours ipc 10000); i2=$(ir ours ipc 20000)
        printf '%-16s %12s %12.1f   (Ir per IPC round trip)\n' "ours ipc" - "$(echo "($i2 - $i1) / 10000" | bc -l)"
    fi
done
rm -rf "$OUT"
