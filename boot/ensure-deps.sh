#!/usr/bin/env bash
# Makes sure this machine can build and boot the kernel: rustup/cargo (the pinned
# toolchain and target come from rust-toolchain.toml on first use) and QEMU from
# Debian packages. Installs QEMU when running as root; otherwise prints the command.
set -euo pipefail
mode=${1:-}  # "iso": also xorriso; "bench": also python3

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found. Install rustup (https://rustup.rs), then re-run make." >&2
    exit 1
fi

pkgs=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || pkgs+=(qemu-system-x86)
if [ "$mode" = bench ]; then
    command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
fi
if [ "$mode" = iso ]; then
    command -v xorriso >/dev/null 2>&1 || pkgs+=(xorriso)
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${pkgs[*]} from Debian packages..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q "${pkgs[@]}" >/dev/null
    echo "installed ${pkgs[*]}"
else
    echo "error: missing ${pkgs[*]}. Install with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
    exit 1
fi
