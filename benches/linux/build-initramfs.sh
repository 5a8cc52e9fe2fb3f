#!/usr/bin/env bash
# Builds the Linux comparison guest for `make bench-compare`:
#   build/linux/vmlinuz         Debian 12's kernel (the one linux-image-amd64 depends on)
#   build/linux/initramfs.cpio  busybox-static, /init (init.sh), the benchmarks of
#                               benches/linux/*.c compiled static into /bench/
# Downloads (.deb files) are cached in build/linux/debs/ and the extracted
# kernel and busybox in build/linux/, so re-runs need no network.
# LINUX_REFRESH=1 fetches the packages again (e.g. after a Debian kernel update).
#
# Exit status: 0 ok, 1 missing build tools (not root), 3 packages could not be
# downloaded (the runner then reports it and continues without Linux numbers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${LINUX_BUILD_DIR:-$root/build/linux}
mkdir -p "$out/debs" "$out/bin"

is_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=
apt_update() {
    if [ -z "$apt_updated" ] && is_root; then
        echo "apt-get update..." >&2
        apt-get update -q >/dev/null 2>&1 || true
        apt_updated=1
    fi
}

# 1. Build tools: gcc and static glibc (libc6-dev). dpkg-deb and apt-get are
# part of every Debian system; python3 runs the runner already.
pkgs=()
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || pkgs+=(libc6-dev)
if [ ${#pkgs[@]} -gt 0 ]; then
    if is_root; then
        echo "installing ${pkgs[*]}..." >&2
        apt_update
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null
    else
        echo "error: missing ${pkgs[*]}. Install with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
        exit 1
    fi
fi

# Downloads package $1 into build/linux/debs/ unless a .deb of it is cached.
# Prints the .deb's path.
fetch_deb() {
    local pkg=$1 deb
    deb=$(ls -t "$out/debs/${pkg}_"*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ] || [ -n "${LINUX_REFRESH:-}" ]; then
        echo "downloading $pkg..." >&2
        # apt-get download writes to the current directory; run it from a
        # world-writable temp dir so the _apt sandbox user can write there.
        local tmp
        tmp=$(mktemp -d)
        chmod 777 "$tmp"
        if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
            apt_update
            (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
        fi
        mv "$tmp"/*.deb "$out/debs/"
        rm -rf "$tmp"
        deb=$(ls -t "$out/debs/${pkg}_"*.deb | head -1)
    fi
    echo "$deb"
}

unavailable() {
    echo "error: could not download $1 from the Debian archive (offline? no apt sources?)." >&2
    echo "       The Linux comparison needs it once; afterwards build/linux/ caches it." >&2
    exit 3
}

# 2. The kernel: the exact package the linux-image-amd64 metapackage depends on.
if [ ! -s "$out/vmlinuz" ] || [ -n "${LINUX_REFRESH:-}" ]; then
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
    if [ -z "$kpkg" ]; then
        apt_update
        kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
    fi
    [ -n "$kpkg" ] || unavailable "linux-image-amd64 (apt-cache knows no such package)"
    deb=$(fetch_deb "$kpkg") || unavailable "$kpkg"
    echo "extracting the kernel from $(basename "$deb")..." >&2
    tmp=$(mktemp -d)
    # Only ./boot: the modules (~400 MB) are not needed, the guest uses none.
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
    cp "$tmp"/boot/vmlinuz-* "$out/vmlinuz"
    basename "$tmp"/boot/vmlinuz-* | sed 's/^vmlinuz-//' > "$out/vmlinuz.version"
    rm -rf "$tmp"
fi

# 3. busybox (static) for /init.
if [ ! -s "$out/busybox" ] || [ -n "${LINUX_REFRESH:-}" ]; then
    deb=$(fetch_deb busybox-static) || unavailable busybox-static
    tmp=$(mktemp -d)
    dpkg-deb -x "$deb" "$tmp"
    cp "$tmp/bin/busybox" "$out/busybox"
    rm -rf "$tmp"
fi

# 4. The benchmarks.
files=("init=$here/init.sh" "bin/busybox=$out/busybox")
for src in "$here"/*.c; do
    name=$(basename "$src" .c)
    bin="$out/bin/$name"
    if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "$here/common.h" -nt "$bin" ]; then
        gcc -static -O2 -pthread -Wall -Wextra -o "$bin" "$src"
    fi
    files+=("bench/$name=$bin")
done

# 5. The initramfs (newc cpio, written by mkcpio.py: no root needed for /dev/console).
python3 "$here/mkcpio.py" "$out/initramfs.cpio" "${files[@]}"
echo "linux guest: $out/vmlinuz ($(cat "$out/vmlinuz.version" 2>/dev/null)), $out/initramfs.cpio ($(( $(stat -c %s "$out/initramfs.cpio") / 1024 )) KiB)" >&2
