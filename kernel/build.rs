//! Build script: links with boot/kernel.ld. (The interrupt entry stubs are generated
//! by the HAL's build script, kernel/hal/build.rs.)

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let script = format!("{dir}/../boot/kernel.ld");
    println!("cargo:rustc-link-arg-bins=-T{script}");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    // The PVH entry lives in the HAL's rlib and nothing in Rust calls it: make the
    // linker pull it in (the ELF entry, limine_entry, is pulled by ENTRY()).
    println!("cargo:rustc-link-arg-bins=--undefined=pvh_start");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-changed=build.rs");
}
