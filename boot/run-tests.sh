#!/usr/bin/env bash
# The test driver behind `make test`: host tests, then the kernel's in-QEMU tests at
# several CPU counts, then boots with bad input that must still give clear messages.
# Every QEMU run has a hard timeout. Ends with one line: `N passed, N failed`.
#
#   boot/run-tests.sh KERNEL INITRD
# Environment: SMP_LIST (default "1 2 4 8 16"), ACCEL (tcg|kvm), QEMU_TIMEOUT (default 120),
# LIMINE_DIR (also boot the Limine ISOs; see boot/iso-tests.sh).
set -uo pipefail
kernel=$1; initrd=$2
smp_list=${SMP_LIST:-1 2 4 8 16}
accel=${ACCEL:-tcg}
qtimeout=${QEMU_TIMEOUT:-120}
logdir=build/test-logs
mkdir -p "$logdir"
passed=0; failed=0; skipped=0; failures=()

pass() { passed=$((passed + $1)); }
fail() { failed=$((failed + $1)); failures+=("$2"); }

echo "== set-up (boot/ensure-deps.sh): a missing target is found, an installed one is not"
tc=$(mktemp); trap 'rm -f "$tc"' EXIT
chan=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
printf '[toolchain]\nchannel = "%s"\ntargets = ["x86_64-unknown-none", "mello-missing-target"]\n' "$chan" >"$tc"
dry=$(boot/ensure-deps.sh --dry-run --toolchain-file "$tc" build 2>&1)
if [ "$dry" = "would run: rustup target add --toolchain $chan mello-missing-target" ] &&
   [ "$(boot/ensure-deps.sh --dry-run build 2>&1)" = "nothing to install" ]; then
    echo "  ok"; pass 1
else
    echo "  dry run said: $dry"; fail 1 "ensure-deps did not report exactly the missing target"
fi

echo "== clippy (-D warnings, every unsafe block documented)"
lints=(-D warnings -W clippy::undocumented_unsafe_blocks -W unsafe_op_in_unsafe_fn)
if cargo clippy -q --all-targets -p executor -p kcore -p abi -p benches -- "${lints[@]}" >"$logdir/clippy.log" 2>&1 &&
   cargo clippy -q -p kernel -p hal -p usr --target x86_64-unknown-none --release -- "${lints[@]}" >>"$logdir/clippy.log" 2>&1; then
    echo "  ok"; pass 1
else
    grep -E '^(error|warning)' -A3 "$logdir/clippy.log" | head -20 | sed 's/^/  /'
    fail 1 "clippy (see $logdir/clippy.log)"
fi

echo "== host tests (cargo test)"
if cargo test -q 2>&1 | tee "$logdir/host.log"; then :; fi
hp=$(grep -Eo '[0-9]+ passed' "$logdir/host.log" | awk '{s+=$1} END {print s+0}')
hf=$(grep -Eo '[0-9]+ failed' "$logdir/host.log" | awk '{s+=$1} END {print s+0}')
if grep -q '^error' "$logdir/host.log" || ! grep -q 'test result' "$logdir/host.log"; then
    fail 1 "host tests did not build or run (see $logdir/host.log)"
fi
pass "$hp"; [ "$hf" -gt 0 ] && fail "$hf" "host tests: $hf failed"

echo "== loom models of the executor's state word and idle handshake (make test-loom)"
if make -s test-loom >"$logdir/loom.log" 2>&1; then
    lp=$(grep -Eo '[0-9]+ passed' "$logdir/loom.log" | awk '{s+=$1} END {print s+0}')
    echo "  ok ($lp models)"; pass "$lp"
else
    grep -E 'panicked|FAILED|error' "$logdir/loom.log" | head -5 | sed 's/^/  /'; fail 1 "loom models (see $logdir/loom.log)"
fi

echo "== the built usr/ programs pass the kernel's ELF checks (kcore usr_programs --ignored)"
if cargo test -q -p kcore --test usr_programs -- --ignored >"$logdir/usr-programs.log" 2>&1; then
    echo "  ok"; pass 1
else
    tail -5 "$logdir/usr-programs.log" | sed 's/^/  /'; fail 1 "usr programs check (see $logdir/usr-programs.log)"
fi

echo "== benchmark runner unit tests (benches/runner/test_*.py)"
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
if $py -m unittest discover -s benches/runner >"$logdir/runner.log" 2>&1; then :; fi
tail -3 "$logdir/runner.log" | sed 's/^/  /'
rn=$(sed -n 's/^Ran \([0-9]*\) tests\? .*/\1/p' "$logdir/runner.log")
rf=$(grep -Eo '(failures|errors)=[0-9]+' "$logdir/runner.log" | awk -F= '{s+=$2} END {print s+0}')
if [ -z "$rn" ]; then
    fail 1 "runner unit tests did not run (see $logdir/runner.log)"
else
    pass $((rn - rf)); [ "$rf" -gt 0 ] && fail "$rf" "runner unit tests: $rf failed (see $logdir/runner.log)"
fi

# qemu_run NAME SMP CMDLINE INITRD -> sets $out (log path) and $rc. The line typed
# into the serial console is what the kernel's serial_read test expects.
qemu_run() {
    out="$logdir/$1.log"
    SERIAL_INPUT=mello-serial-check SMP=$2 ACCEL=$accel TIMEOUT=$qtimeout \
        boot/qemu.sh "$kernel" "$4" "$3" >"$out" 2>&1
    rc=$?
}

for smp in $smp_list; do
    name="kernel-smp$smp-$accel"
    echo "== in-QEMU tests: -smp $smp, accel $accel (timeout ${qtimeout}s)"
    # Under the nested kvm_pvm some tests run ~100x slower (a page-table walk with
    # interrupts off took over 5 s): give the hang watchdog a minute there.
    qemu_run "$name" "$smp" "test$([ "$accel" = kvm ] && echo ' watchdog=60000')" "$initrd"
    grep -E '^(test |kernel tests:|    \(|!!!|  #|    at )' "$out" | sed 's/^/  /'
    line=$(grep -E '^kernel tests: [0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
    kp=$(echo "$line" | awk '{print $3}'); kf=$(echo "$line" | awk '{print $5}'); ks=$(echo "$line" | awk '{print $7}')
    kp=${kp:-0}; kf=${kf:-0}; skipped=$((skipped + ${ks:-0}))
    pass "$kp"
    if [ "$rc" = 124 ]; then
        fail 1 "$name: QEMU timed out after ${qtimeout}s (log: $out)"
    elif [ "$rc" != 33 ]; then
        fail $((kf > 0 ? kf : 1)) "$name: QEMU exit status $rc, expected 33 (log: $out)"
    elif [ "$kf" != 0 ] || [ -z "$line" ]; then
        fail $((kf > 0 ? kf : 1)) "$name: $kf kernel tests failed"
    fi
done

# expect NAME DESCRIPTION WANT_RC CMDLINE INITRD PATTERN... : a boot that must end
# with WANT_RC and print every PATTERN (extended regex).
expect() {
    local name=$1 what=$2 want=$3 cmd=$4 rd=$5; shift 5
    echo "== boot check: $what"
    qemu_run "$name" 2 "$cmd" "$rd"
    local ok=1
    [ "$rc" = "$want" ] || { ok=0; echo "  exit status $rc, expected $want"; }
    for p in "$@"; do
        grep -Eq -- "$p" "$out" || { ok=0; echo "  missing output: $p"; }
    done
    if [ $ok = 1 ]; then echo "  ok"; pass 1; else fail 1 "$what (log: $out)"; fi
}

expect corrupt-cmdline "garbage command line still boots, with warnings" 33 \
    "test=mm::tests::frames log=shouty frobnicate ==" "$initrd" \
    "cmdline: .*shouty" "cmdline: .*frobnicate" "kernel tests: [1-9][0-9]* passed, 0 failed"
expect no-initrd "boot without an initrd says so" 33 "test=mm::tests::frames" "" \
    "no initrd" "kernel tests: [1-9][0-9]* passed, 0 failed"
expect deliberate-fault "an unhandled kernel page fault is reported, not a reboot loop" 35 \
    "test=deliberate::page_fault" "$initrd" \
    "KERNEL PANIC on cpu0: page fault at 0x" "write to unmapped page" "backtrace:" \
    "  #[0-9]+ +0xffffffff8[0-9a-f]+ .*deliberate"
expect deliberate-hang "a task that never returns from poll is reported by the watchdog" 35 \
    "test=deliberate::hang" "$initrd" \
    "WATCHDOG \(cpu0\): cpu1 made no progress for [0-9]+ ms: task #[0-9]+ has not returned from poll; interrupts on" \
    "WATCHDOG: cpu1 stuck for [0-9]+ ms in task 'deliberate-spin'" \
    "  #0  +0xffffffff8[0-9a-f]+ kernel::ktest::deliberate_spin" \
    "KERNEL PANIC on cpu1: watchdog: cpu1 hung"
expect deliberate-hang-irqs-off "interrupts left off too long are reported by the watchdog" 35 \
    "test=deliberate::hang_irqs_off" "$initrd" \
    "WATCHDOG \(cpu0\): cpu1 made no progress .*interrupts off" \
    "  #0  +0xffffffff8[0-9a-f]+ kernel::ktest::deliberate_spin" \
    "KERNEL PANIC on cpu1: watchdog: cpu1 hung .*interrupts off"
expect user-driven "a ring-3 program drives a test run and ends it with test_exit" 33 \
    "test=user:fuzz,seed=5,calls=200,procs=2" "$initrd" \
    "fuzz: seed=5 calls=200 procs=2" "test user \.\.\. ok" "kernel tests: 1 passed, 0 failed"
expect user-driven-missing "a missing ring-3 test driver fails the run" 35 \
    "test=user:no_such_program" "$initrd" \
    "test user \.\.\. FAILED: starting /no_such_program" "kernel tests: 0 passed, 1 failed"

# The Limine ISO under BIOS and UEFI when LIMINE_DIR is set (says so when skipped).
. boot/iso-tests.sh

echo "== the shell, typed at through the serial console (boot/shell-tests.sh)"
if SMP=2 ACCEL=$accel LOG="$logdir/shell.log" boot/shell-tests.sh "$kernel" "$initrd" >"$logdir/shell-summary.log" 2>&1; then :; fi
grep -E '^  (ok|FAILED)' "$logdir/shell-summary.log"
line=$(grep -E '^shell tests: [0-9]+ passed, [0-9]+ failed' "$logdir/shell-summary.log" | tail -1)
sp=$(echo "$line" | awk '{print $3}'); sf=$(echo "$line" | awk '{print $5}')
pass "${sp:-0}"
[ -z "$line" ] && fail 1 "shell tests did not finish (see $logdir/shell-summary.log)"
[ "${sf:-0}" -gt 0 ] && fail "$sf" "shell tests: $sf failed (log: $logdir/shell.log)"

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
