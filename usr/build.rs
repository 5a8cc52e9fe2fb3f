//! Links every `usr` program with `link.ld` (static image at 0x400000,
//! separate R / RX / RW segments) when building for the bare-metal target.

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target == "x86_64-unknown-none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
        println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
        // Static, non-PIE image; the kernel maps it at the linked addresses.
        println!("cargo:rustc-link-arg-bins=--no-pie");
        // Keep the initrd small: no DWARF in the programs (symbols stay).
        println!("cargo:rustc-link-arg-bins=--strip-debug");
    }
}
