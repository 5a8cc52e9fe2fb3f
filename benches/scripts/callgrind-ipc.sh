#!/bin/sh
# Instructions per IPC round trip on the host, under callgrind (deterministic): what the
# kernel's IPC path (kcore::ipc, on our executor) costs beyond the two wakes of a round.
#
#   benches/scripts/callgrind-ipc.sh
#
# Runs `executor-bench --only ours ipc N` and `--only ours pingpong N` at N and 2N and
# prints (Ir(2N) - Ir(N)) / N for each: set-up and tear-down cancel out.
#   ipc:      one round = 2 sends + 2 receives of an 8-byte message + 2 wakes + 2 polls
#   pingpong: one round = 2 same-thread wakes + 2 polls (+ the baton's 2 clock reads)
set -eu
cd "$(dirname "$0")/../.."
cargo build --release -q -p benches --bin executor-bench
BIN=target/release/executor-bench
OUT=${TMPDIR:-/tmp}/callgrind-ipc.$$
mkdir -p "$OUT"
ir() { # WORKLOAD N -> total instructions
    f="$OUT/$1.$2"
    valgrind --tool=callgrind --callgrind-out-file="$f" "$BIN" --only ours "$1" "$2" >/dev/null 2>&1
    awk '/^totals:/ {print $2}' "$f"
}
i1=$(ir ipc 10000); i2=$(ir ipc 20000)
p1=$(ir pingpong 10000); p2=$(ir pingpong 20000)
printf '%-12s %12s\n' workload 'Ir/round'
printf '%-12s %12.1f\n' ipc "$(echo "($i2 - $i1) / 10000" | bc -l)"
printf '%-12s %12.1f\n' pingpong "$(echo "($p2 - $p1) / 10000" | bc -l)"
rm -rf "$OUT"
