#!/usr/bin/env bash
# Boots the kernel in QEMU (PVH direct boot). Used by make run/test/bench/debug.
#
#   boot/qemu.sh KERNEL INITRD CMDLINE [extra qemu args...]
#
# Environment: SMP (CPUs, default 8), MEM (default 512M), ACCEL (tcg|kvm, default
# tcg), TIMEOUT (seconds; 0 = none, the default for interactive runs), SERIAL_INPUT
# (with TIMEOUT: a line typed into the serial console 1 s after start, once the
# kernel has set up the UART; for the read test), DEBUG_EXIT (default 1; 0 leaves out
# the isa-debug-exit device, so power-off must go through ACPI).
# Exit status: QEMU's (isa-debug-exit: 33 = success, 35 = failure), 124 on timeout.
set -uo pipefail
kernel=$1; initrd=$2; cmdline=$3; shift 3
smp=${SMP:-8}; mem=${MEM:-512M}; accel=${ACCEL:-tcg}; timeout_s=${TIMEOUT:-0}

case "$accel" in
    tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
    kvm)
        if [ ! -w /dev/kvm ]; then
            echo "error: ACCEL=kvm but /dev/kvm is missing or not writable" >&2
            exit 2
        fi
        accel_args=(-accel kvm -cpu host,-arch-capabilities) ;;  # nested kvm_pvm rejects that MSR
    *) echo "error: ACCEL must be tcg or kvm (got '$accel')" >&2; exit 2 ;;
esac

args=(-machine q35 "${accel_args[@]}" -smp "$smp" -m "$mem"
      -no-reboot -display none -serial mon:stdio
      -kernel "$kernel" -append "$cmdline")
[ "${DEBUG_EXIT:-1}" != 0 ] && args+=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
[ -n "$initrd" ] && args+=(-initrd "$initrd")

if [ "$timeout_s" != 0 ]; then
    exec timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 "${args[@]}" "$@" \
        < <(if [ -n "${SERIAL_INPUT:-}" ]; then sleep 1; printf '%s\n' "$SERIAL_INPUT"; fi)
else
    exec qemu-system-x86_64 "${args[@]}" "$@"
fi
