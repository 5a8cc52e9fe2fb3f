# Limine ISO checks, sourced at the end of boot/run-tests.sh (uses its pass, fail,
# $logdir and $qtimeout). With LIMINE_DIR set (`make test LIMINE_DIR=...` builds the
# two ISOs first), boots under BIOS and under UEFI (OVMF):
#   - build/mello-test.iso, which boots the `test` entry at once: exit status 33 and
#     `kernel tests: N passed, 0 failed`;
#   - build/mello.iso, the menu ISO users get: its default `run` entry reaches /init.
# Both must show that the kernel read its base revision and command line from Limine.
# Always TCG: OVMF dies under the nested kvm_pvm, and these checks are about the loader.
# Without LIMINE_DIR, says plainly that the checks were skipped.

iso_menu=build/mello.iso
iso_test=build/mello-test.iso
ovmf=/usr/share/ovmf/OVMF.fd

# iso_boot NAME FIRMWARE ISO [UNTIL]: boots ISO (FIRMWARE bios|uefi) with 2 CPUs,
# types the serial test line once the kernel is up (not earlier: OVMF would eat it),
# and stops QEMU when the log matches UNTIL (extended regex). Sets $out and $rc
# (QEMU's status; 0 when stopped at UNTIL; 124 on timeout).
iso_boot() {
    local name=$1 fw=$2 iso=$3 until=${4:-} fifo typed=0 t=0 pid keep
    out="$logdir/$name.log"
    local args=(-machine q35 -accel tcg,thread=multi -cpu max -smp 2 -m 512M -no-reboot
                -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
                -cdrom "$iso")
    [ "$fw" = uefi ] && args+=(-bios "$ovmf")
    fifo=$(mktemp -u) && mkfifo "$fifo" || { rc=2; return; }
    exec {keep}<>"$fifo"  # held open so QEMU never sees end-of-file on its stdin
    timeout -k 5 "$qtimeout" qemu-system-x86_64 "${args[@]}" <"$fifo" >"$out" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 0.5; t=$((t + 1))
        if [ $typed = 0 ] && grep -aq 'limine: base revision' "$out"; then
            sleep 1; printf 'mello-serial-check\n' >&"$keep"; typed=1
        fi
        if [ -n "$until" ] && grep -Eq -- "$until" "$out"; then
            kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rc=0
            exec {keep}>&-; rm -f "$fifo"
            echo "  (stopped at '$until' after ~$((t / 2)) s)"
            return
        fi
    done
    wait "$pid"; rc=$?
    exec {keep}>&-; rm -f "$fifo"
}

# show REGEX: the log lines matching REGEX once the firmware's and Limine's terminal
# escape sequences (they share the serial port) are stripped.
show() {
    sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g' "$out" | grep -aE -- "$1" | sed 's/^/  /'
}

if [ -z "${LIMINE_DIR:-}" ]; then
    echo "== Limine ISO: SKIPPED (LIMINE_DIR is not set). The ISO was not built or booted;"
    echo "   run 'make test LIMINE_DIR=/path/to/limine-binary-release' to check it (README.md)."
else
    for fw in bios uefi; do
        echo "== Limine ISO, $fw, test entry ($iso_test, TCG, timeout ${qtimeout}s)"
        if [ ! -f "$iso_test" ] || [ ! -f "$iso_menu" ]; then
            fail 1 "Limine ISO ($fw): $iso_test or $iso_menu missing (make test builds them when LIMINE_DIR is set)"
            continue
        fi
        if [ "$fw" = uefi ] && [ ! -f "$ovmf" ]; then
            fail 1 "Limine ISO (uefi): $ovmf missing: apt-get install -y ovmf"
            continue
        fi
        iso_boot "iso-$fw-test" "$fw" "$iso_test"
        show '^(limine:|mello:|kernel tests:|test .*FAIL|!!!|FATAL)'
        line=$(grep -E '^kernel tests: [0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
        kp=$(echo "$line" | awk '{print $3}'); kf=$(echo "$line" | awk '{print $5}')
        if [ "$rc" = 33 ] && [ -n "$line" ] && [ "$kf" = 0 ] && grep -aq 'limine: base revision' "$out"; then
            echo "  ok ($kp kernel tests passed)"; pass 1
        else
            fail 1 "Limine ISO ($fw, test entry): exit status $rc (want 33), '${line:-no test summary}' (log: $out)"
        fi

        echo "== Limine ISO, $fw, default entry: boots to /init ($iso_menu)"
        iso_boot "iso-$fw-run" "$fw" "$iso_menu" '^init: started'
        show '^(limine:|mello:|FATAL)|started /init'
        if [ "$rc" = 0 ] && grep -q 'Limine boot' "$out" && grep -q 'command line from' "$out"; then
            echo "  ok"; pass 1
        else
            fail 1 "Limine ISO ($fw, run entry): /init not reached, exit status $rc (log: $out)"
        fi
    done
fi
