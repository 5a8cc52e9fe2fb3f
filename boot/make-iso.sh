#!/usr/bin/env bash
# Builds a hybrid BIOS/UEFI ISO with Limine from a Limine binary release.
#   boot/make-iso.sh LIMINE_DIR KERNEL INITRD OUT.iso [ENTRY]
# LIMINE_DIR is a Limine binary release (e.g. the v8.2.0-binary tag of the Limine
# repository), containing limine-bios.sys, limine-bios-cd.bin, limine-uefi-cd.bin,
# BOOTX64.EFI and the `limine` host tool (or limine.c to build it). Needs xorriso.
# ENTRY (optional): the 1-based boot/limine.conf entry to boot at once, without the
# menu's timeout (`make test` builds build/mello-test.iso with entry 2, the tests).
# Nothing built here goes into the repository: Limine's files stay the user's.
set -euo pipefail
limine=${1:-}; kernel=$2; initrd=$3; out=$4; entry=${5:-}

if [ -z "$limine" ]; then
    cat >&2 <<MSG
error: make iso needs a Limine binary release: make iso LIMINE_DIR=/path/to/limine
  Limine is not packaged for Debian; get a binary release (e.g. the v8.2.0-binary tag
  of https://github.com/limine-bootloader/limine) on a machine with internet access.
  The directory must hold limine-bios.sys, limine-bios-cd.bin, limine-uefi-cd.bin,
  BOOTX64.EFI and limine.c (or a built 'limine' tool). See docs/architecture.md,
  "Booting with Limine".
MSG
    exit 2
fi
for f in limine-bios.sys limine-bios-cd.bin limine-uefi-cd.bin BOOTX64.EFI; do
    [ -f "$limine/$f" ] || { echo "error: $limine/$f not found (is LIMINE_DIR a Limine binary release?)" >&2; exit 2; }
done
command -v xorriso >/dev/null || { echo "error: xorriso not found: apt-get install -y xorriso" >&2; exit 2; }
case "$entry" in ''|[1-9]|[1-9][0-9]) ;; *) echo "error: ENTRY must be an entry number, got '$entry'" >&2; exit 2 ;; esac

# run STEP CMD...: runs a tool quietly; on failure shows everything it printed.
run() {
    local step=$1 log; shift
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        echo "error: $step failed: $*" >&2
        sed 's/^/  /' "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

tool="$limine/limine"
if [ ! -x "$tool" ]; then
    [ -f "$limine/limine.c" ] || { echo "error: no limine tool or limine.c in $limine" >&2; exit 2; }
    # Built once per limine.c (named by its checksum, so another release gets its own).
    tool=build/limine-tool-$(cksum <"$limine/limine.c" | cut -d' ' -f1)
    mkdir -p build
    [ -x "$tool" ] || run "building the limine tool" cc -O2 -std=c99 -I"$limine" "$limine/limine.c" -o "$tool"
fi

root=$(mktemp -d build/iso-root.XXXXXX)
built=0
trap 'rm -rf "$root"; [ $built = 1 ] || rm -f "$out"' EXIT  # no half-built ISO left behind
mkdir -p "$root/boot/limine" "$root/EFI/BOOT"
cp "$kernel" "$root/boot/kernel"
cp "$initrd" "$root/boot/initrd.cpio"
if [ -n "$entry" ]; then
    # Boot ENTRY at once: drop the menu's timeout and any default_entry line.
    { echo "timeout: 0"; echo "default_entry: $entry"
      grep -Ev '^(timeout|default_entry):' boot/limine.conf; } >"$root/boot/limine/limine.conf"
else
    cp boot/limine.conf "$root/boot/limine/limine.conf"
fi
cp "$limine"/limine-bios.sys "$limine"/limine-bios-cd.bin "$limine"/limine-uefi-cd.bin "$root/boot/limine/"
cp "$limine/BOOTX64.EFI" "$root/EFI/BOOT/"
rm -f "$out"
run "xorriso" xorriso -as mkisofs -R -r -J -b boot/limine/limine-bios-cd.bin -no-emul-boot \
    -boot-load-size 4 -boot-info-table -hfsplus -apm-block-size 2048 \
    --efi-boot boot/limine/limine-uefi-cd.bin -efi-boot-part --efi-boot-image \
    --protective-msdos-label "$root" -o "$out"
run "limine bios-install" "$tool" bios-install "$out"
built=1
echo "built $out${entry:+ (boots entry $entry at once)}"
if [ -z "$entry" ]; then
    echo "boot it (BIOS): qemu-system-x86_64 -machine q35 -smp 8 -m 512M -serial stdio -cdrom $out"
    echo "  UEFI: add -bios /usr/share/ovmf/OVMF.fd -accel tcg,thread=multi (OVMF fails under the nested kvm_pvm)"
fi
