#!/usr/bin/env bash
# The shell, driven as a person would: boots `run` mode with QEMU's serial console
# reading from a FIFO, types each command once the prompt is back, and checks what
# the shell printed. Ends with `poweroff`, whose QEMU exit status (33) it checks.
# The whole run has a hard timeout.
#
#   boot/shell-tests.sh KERNEL INITRD
# Environment: SMP (default 2), ACCEL (tcg|kvm), SHELL_TIMEOUT (whole run, default
# 240 s), STEP_TIMEOUT (one command, default 30 s), LOG (default
# build/test-logs/shell.log).
# A second, short boot without the isa-debug-exit device checks ACPI S5 power-off.
# Prints one line per check and a closing `shell tests: N passed, N failed`; exits
# non-zero if any failed.
set -uo pipefail
kernel=$1; initrd=$2
smp=${SMP:-2}
total_timeout=${SHELL_TIMEOUT:-240}
step_timeout=${STEP_TIMEOUT:-30}
log=${LOG:-build/test-logs/shell.log}
mkdir -p "$(dirname "$log")"
: >"$log"
prompt='mello$ '
passed=0; failed=0

dir=$(mktemp -d)
fifo=$dir/serial-in
mkfifo "$fifo"
# TIMEOUT=0: qemu.sh hands QEMU our stdin (the FIFO); the timeout here is the hard one.
SMP=$smp TIMEOUT=0 timeout -k 5 "$total_timeout" boot/qemu.sh "$kernel" "$initrd" run <"$fifo" >"$log" 2>&1 &
qemu=$!
exec 3>"$fifo"   # opening the write end lets QEMU's open of the read end finish
cleanup() { exec 3>&-; kill "$qemu" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

ok() { echo "  ok: $1"; passed=$((passed + 1)); }
bad() { echo "  FAILED: $1"; failed=$((failed + 1)); }

prompts() { grep -o -F "$prompt" "$log" 2>/dev/null | wc -l; }

# wait_prompts N: waits until the log holds at least N prompts (or the step times out).
wait_prompts() {
    local deadline=$((SECONDS + step_timeout))
    while [ "$(prompts)" -lt "$1" ]; do
        [ $SECONDS -ge $deadline ] && return 1
        kill -0 "$qemu" 2>/dev/null || return 1
        sleep 0.2
    done
}

# type_line TEXT [EXTRA]: types TEXT and Enter at the prompt, waits for the next
# prompt (EXTRA more if the line editor redraws the prompt), and leaves what the
# shell printed meanwhile in $seg.
type_line() {
    local text=$1 extra=${2:-0} n off
    n=$(prompts); off=$(stat -c %s "$log")
    printf '%s\r' "$text" >&3
    wait_prompts $((n + 1 + extra)) || echo "  (no prompt after '${text:0:40}' within ${step_timeout}s)"
    seg=$(tail -c +$((off + 1)) "$log" | tr -d '\r')
}

# expect DESCRIPTION PATTERN: the last command's output matches PATTERN (ERE).
expect() {
    if grep -Eq -- "$2" <<<"$seg"; then ok "$1"; else bad "$1 (wanted /$2/; got: $(head -c 400 <<<"$seg" | tr '\n' '|'))"; fi
}

echo "== shell: boots to a prompt (-smp $smp)"
if wait_prompts 1; then ok "prompt"; else bad "no prompt within ${step_timeout}s (log: $log)"; fi

type_line "ps"
expect "ps shows init" '^ +1 +0 .* /init$'
expect "ps shows the shell" '^ +[0-9]+ +1 .* /sh$'

type_line "hello a b"
expect "hello prints its first argument" 'argv\[1\] = "a"'
expect "hello prints its second argument" 'argv\[2\] = "b"'

type_line "spin &"
pid=$(grep -Eo '^\[[0-9]+\] [0-9]+' <<<"$seg" | awk '{print $2}' | head -1)
expect "spin starts in the background" '^\[1\] [0-9]+'
type_line "nice ${pid:-0} low"
expect "nice" "priority low"
type_line "pin ${pid:-0} 0"
expect "pin" "affinity 0"
sleep 1
type_line "ps"
expect "ps shows the background spin, low priority, pinned to cpu0" "^ +${pid:-x} +[0-9]+ +[a-z]+ +0 low +cpu0 .*/spin$"
type_line "kill ${pid:-0}"
expect "kill sends SIGTERM" "sent SIGTERM to ${pid:-x}"
type_line "wait"
expect "the killed job is reported" "killed by SIGTERM +spin \(pid ${pid:-x}\)"
type_line "kill 99999"
expect "kill of a missing pid says so" "no process 99999"
type_line "kill 1"
expect "init may not be killed" "1 may not be killed"

n=$(prompts); off=$(stat -c %s "$log")
printf 'spin\r' >&3
sleep 2
printf '\003' >&3
wait_prompts $((n + 1)) || echo "  (no prompt after Ctrl-C)"
seg=$(tail -c +$((off + 1)) "$log" | tr -d '\r')
expect "Ctrl-C stops the foreground program" 'spin \(pid [0-9]+\): killed by SIGINT'

type_line "top -n 1"
rows=$(awk '/^CPU +polls/ {on=1; next} /^ +PID +CPU%/ {on=0} on && /^ *[0-9]+ +[0-9]+/ {n++} END {print n+0}' <<<"$seg")
if [ "$rows" = "$smp" ]; then ok "top -n 1 prints one row per CPU ($rows)"; else bad "top -n 1 printed $rows CPU rows, expected $smp: $(tr '\n' '|' <<<"$seg" | head -c 600)"; fi
expect "top lists the busiest processes" '^ +[0-9]+ +[0-9]+\.[0-9] +[a-z]+ +[0-9]+ /'

type_line "frobnicate"
expect "an unknown command is refused" 'frobnicate: unknown command'
type_line "$(head -c 10000 /dev/zero | tr '\0' x)"
# (10000 bytes typed; a slow guest, e.g. under the nested kvm_pvm, may lose some of
# them in the UART: any count over the limit is the answer we want.)
expect "a 10,000-character line is refused" 'line too long \([0-9]+ bytes; at most 255\)'
type_line "echo still alive"
expect "the shell lives on" '^still alive$'
type_line $'\033[A' 1
expect "up arrow recalls the last line" '^still alive$'
type_line $'echo abX\177c'
expect "backspace" '^abc$'
type_line $'junk\025echo fine' 1
expect "Ctrl-U" '^fine$'

type_line "set slice_hz=50"
expect "set a tunable" '^ok: slice_hz=50'
type_line "get"
expect "get shows it" '^slice_hz=50$'
type_line "set nonsense=1"
expect "set refuses an unknown tunable" '^sh: set: .*nonsense'
type_line "ls"
expect "ls lists the programs" 'hello +'
type_line "mem"
expect "mem" 'KiB free'
type_line "uptime"
expect "uptime" "$smp CPUs"

printf 'poweroff\r' >&3
exec 3>&-
wait "$qemu"; rc=$?
if [ "$rc" = 33 ]; then ok "poweroff ends QEMU with status 33"; else bad "QEMU exit status $rc after poweroff, expected 33 (124: timed out; log: $log)"; fi
grep -q 'KERNEL PANIC' "$log" && bad "kernel panic (log: $log)"

# Without isa-debug-exit, poweroff goes through ACPI S5: QEMU exits 0.
echo "== shell: poweroff through ACPI S5 (no isa-debug-exit device)"
exec 3>&-
SMP=$smp TIMEOUT=0 DEBUG_EXIT=0 timeout -k 5 $((2 * step_timeout)) boot/qemu.sh "$kernel" "$initrd" run <"$fifo" >"$log.acpi" 2>&1 &
qemu=$!
exec 3>"$fifo"
log_main=$log; log=$log.acpi
wait_prompts 1 || echo "  (no prompt)"
printf 'poweroff\r' >&3
exec 3>&-
wait "$qemu"; rc=$?
log=$log_main
if [ "$rc" = 0 ] && grep -q 'power off' "$log.acpi"; then ok "ACPI S5 power-off ends QEMU with status 0"; else bad "QEMU exit status $rc after an ACPI poweroff, expected 0 (log: $log.acpi)"; fi

echo "shell tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
