#!/usr/bin/env bash
# Builds a hybrid BIOS/UEFI ISO with Limine from a Limine binary release.
#   boot/make-iso.sh LIMINE_DIR KERNEL INITRD OUT.iso
# LIMINE_DIR is a checkout of a Limine binary release (e.g. the v8.x-binary branch),
# containing limine-bios.sys, limine-bios-cd.bin, limine-uefi-cd.bin, BOOTX64.EFI and
# the `limine` host tool (or limine.c to build it). Needs xorriso.
set -euo pipefail
limine=${1:-}; kernel=$2; initrd=$3; out=$4

if [ -z "$limine" ]; then
    cat >&2 <<MSG
error: make iso needs a Limine binary release: make iso LIMINE_DIR=/path/to/limine
  Limine is not packaged for Debian; get a binary release (the v8.x-binary branch of
  the Limine repository) on a machine with internet access. The directory must hold
  limine-bios.sys, limine-bios-cd.bin, limine-uefi-cd.bin, BOOTX64.EFI and limine.c
  (or a built 'limine' tool). See docs/architecture.md, "Booting with Limine".
MSG
    exit 2
fi
for f in limine-bios.sys limine-bios-cd.bin limine-uefi-cd.bin BOOTX64.EFI; do
    [ -f "$limine/$f" ] || { echo "error: $limine/$f not found (is LIMINE_DIR a Limine binary release?)" >&2; exit 2; }
done
command -v xorriso >/dev/null || { echo "error: xorriso not found: apt-get install -y xorriso" >&2; exit 2; }

tool="$limine/limine"
if [ ! -x "$tool" ]; then
    [ -f "$limine/limine.c" ] || { echo "error: no limine tool or limine.c in $limine" >&2; exit 2; }
    tool=build/limine-tool
    mkdir -p build
    cc -O2 -std=c99 "$limine/limine.c" -o "$tool"
fi

root=build/iso-root
rm -rf "$root"
mkdir -p "$root/boot/limine" "$root/EFI/BOOT"
cp "$kernel" "$root/boot/kernel"
cp "$initrd" "$root/boot/initrd.cpio"
cp boot/limine.conf "$root/boot/limine/limine.conf"
cp "$limine"/limine-bios.sys "$limine"/limine-bios-cd.bin "$limine"/limine-uefi-cd.bin "$root/boot/limine/"
cp "$limine/BOOTX64.EFI" "$root/EFI/BOOT/"
xorriso -as mkisofs -R -r -J -b boot/limine/limine-bios-cd.bin -no-emul-boot -boot-load-size 4 \
    -boot-info-table -hfsplus -apm-block-size 2048 --efi-boot boot/limine/limine-uefi-cd.bin \
    -efi-boot-part --efi-boot-image --protective-msdos-label "$root" -o "$out" 2>/dev/null
"$tool" bios-install "$out" 2>/dev/null
echo "built $out"
echo "boot it: qemu-system-x86_64 -machine q35 -smp 8 -m 512M -serial stdio -cdrom $out"
echo "  (UEFI: add -bios /usr/share/ovmf/OVMF.fd; not under the nested kvm_pvm)"
