#!/usr/bin/env bash
# Makes sure this machine can build and boot the kernel. Run by every make target
# that builds or boots.
#
#   boot/ensure-deps.sh [--dry-run] [--toolchain-file FILE] [MODE...]
#
# MODE: build  the Rust toolchain, targets and components rust-toolchain.toml asks for
#       qemu   build + qemu-system-x86 (the default)
#       bench  qemu + python3 and python3-matplotlib (for Debian's /usr/bin/python3 where
#              it exists: the Makefile runs the benchmark runner with that one)
#       iso    qemu + xorriso and ovmf
#
# rustup installs a toolchain file's targets only when it installs the toolchain
# itself: a machine that already has the pinned toolchain without the bare-metal
# target stops at "can't find crate for `core`". So this script reads
# rust-toolchain.toml and adds whatever is missing with rustup. Debian packages are
# installed with apt-get when running as root; otherwise the exact command is printed.
# --dry-run installs nothing: it prints "would run: <command>" for each missing piece
# (make test checks that against a toolchain file naming a target that is absent).
set -euo pipefail
cd "$(dirname "$0")/.."

dry=0
tc_file=rust-toolchain.toml
modes=()
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry=1 ;;
        --toolchain-file) tc_file=$2; shift ;;
        build|qemu|bench|iso) modes+=("$1") ;;
        *) echo "ensure-deps: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
[ ${#modes[@]} -gt 0 ] || modes=(qemu)
want() { local m; for m in "${modes[@]}"; do [ "$m" = "$1" ] && return 0; done; return 1; }

missing=0
# act DESCRIPTION COMMAND...: run the command (or, with --dry-run, say it would).
act() {
    local what=$1; shift
    missing=1
    if [ $dry = 1 ]; then
        echo "would run: $*"
        return 0
    fi
    echo "ensure-deps: $what: $*"
    "$@"
}

# --- Rust: toolchain, targets and components named by rust-toolchain.toml ---
if ! command -v rustup >/dev/null 2>&1; then
    if command -v cargo >/dev/null 2>&1; then
        echo "warning: rustup not found; cannot check the pinned toolchain and target" >&2
    else
        echo "error: neither rustup nor cargo found. Install rustup (https://rustup.rs), then re-run make." >&2
        exit 1
    fi
else
    [ -f "$tc_file" ] || { echo "error: $tc_file not found" >&2; exit 2; }
    # toml_value KEY: the string after `KEY =`, or the items of a `KEY = [...]` list.
    toml_value() {
        sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$tc_file" | head -1 \
            | sed 's/#.*//; s/[][",]/ /g'
    }
    channel=$(toml_value channel | xargs)
    targets=$(toml_value targets)
    components=$(toml_value components)
    profile=$(toml_value profile | xargs)
    if [ -z "$channel" ]; then
        echo "error: $tc_file names no channel" >&2; exit 2
    fi
    if ! rustup toolchain list 2>/dev/null | grep -Eq "^$channel(-| |$)"; then
        # A fresh install brings the file's targets and components with it.
        args=(rustup toolchain install "$channel" --profile "${profile:-minimal}")
        for t in $targets; do args+=(--target "$t"); done
        for c in $components; do args+=(--component "$c"); done
        act "installing the pinned toolchain" "${args[@]}"
    else
        have_t=$(rustup target list --toolchain "$channel" --installed 2>/dev/null || true)
        for t in $targets; do
            grep -qx "$t" <<<"$have_t" || act "adding target $t" rustup target add --toolchain "$channel" "$t"
        done
        have_c=$(rustup component list --toolchain "$channel" --installed 2>/dev/null || true)
        for c in $components; do
            grep -Eq "^$c(-|$)" <<<"$have_c" || act "adding component $c" rustup component add --toolchain "$channel" "$c"
        done
    fi
fi

# --- Debian packages ---
pkgs=()
if want qemu || want bench || want iso; then
    command -v qemu-system-x86_64 >/dev/null 2>&1 || pkgs+=(qemu-system-x86)
fi
if want bench; then
    py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
    command -v "$py" >/dev/null 2>&1 || pkgs+=(python3)
    "$py" -c 'import matplotlib' >/dev/null 2>&1 || pkgs+=(python3-matplotlib)
fi
if want iso; then
    command -v xorriso >/dev/null 2>&1 || pkgs+=(xorriso)
    [ -f /usr/share/ovmf/OVMF.fd ] || pkgs+=(ovmf)
fi
if [ ${#pkgs[@]} -gt 0 ]; then
    if [ $dry = 1 ]; then
        missing=1
        echo "would run: apt-get install -y ${pkgs[*]}"
    elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "ensure-deps: installing ${pkgs[*]} from Debian packages..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null
        apt-get install -y -q "${pkgs[@]}" >/dev/null
        echo "ensure-deps: installed ${pkgs[*]}"
    else
        echo "error: missing ${pkgs[*]}. Install with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
        exit 1
    fi
fi
[ $dry = 1 ] && [ $missing = 0 ] && echo "nothing to install"
exit 0
