//! Host tool: builds the initrd, and the kernel symbol table that goes in it.
//!
//! - `mkinitrd OUT FILE...` packs FILEs into a cpio newc archive at OUT,
//!   each under its base name (`target/.../release/init` → `init`, found by
//!   the kernel as `/init`).
//! - `mkinitrd --ksyms KERNEL OUT` writes the function symbols of the kernel
//!   ELF as text for panic backtraces: one `ADDR SIZE NAME` line per
//!   function (hex, sorted by address, names demangled without hashes).
//!
//! Exit status 1 on any error, with a message on stderr; OUT is written only
//! when every input was read. Build: `cargo build -p kcore --features std
//! --bin mkinitrd --release`.

use object::elf::{FileHeader64, SHT_SYMTAB, STT_FUNC};
use object::read::elf::{FileHeader, Sym};
use object::LittleEndian;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: mkinitrd OUT FILE...\n       mkinitrd --ksyms KERNEL OUT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--ksyms") => ksyms(&args[1..]),
        Some("-h" | "--help") => Ok(USAGE.to_string()),
        _ => initrd(&args),
    };
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("mkinitrd: {msg}");
            ExitCode::from(1)
        }
    }
}

fn initrd(args: &[String]) -> Result<String, String> {
    let [out, files @ ..] = args else {
        return Err(USAGE.into());
    };
    if files.is_empty() {
        return Err(format!("no input files given\n{USAGE}"));
    }
    let mut names = HashSet::new();
    let mut contents = Vec::new();
    for file in files {
        let name = Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{file}: no usable (UTF-8) file name"))?
            .to_string();
        if !names.insert(name.clone()) {
            return Err(format!("{file}: a file named '{name}' was already given"));
        }
        let data = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        contents.push((name, data));
    }
    let entries: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let archive = kcore::initrd::newc::write(&entries).map_err(|e| e.to_string())?;
    // Self-check: what we wrote must read back as the same files.
    let parsed =
        kcore::initrd::Initrd::parse(&archive).map_err(|e| format!("internal error: {e}"))?;
    if !parsed.iter().eq(entries.iter().copied()) {
        return Err("internal error: archive does not read back".into());
    }
    std::fs::write(out, &archive).map_err(|e| format!("{out}: {e}"))?;
    Ok(format!(
        "mkinitrd: wrote {out} ({} files, {} bytes)",
        entries.len(),
        archive.len()
    ))
}

fn ksyms(args: &[String]) -> Result<String, String> {
    let [kernel, out] = args else {
        return Err(USAGE.into());
    };
    let data = std::fs::read(kernel).map_err(|e| format!("{kernel}: {e}"))?;
    let mut syms = function_symbols(&data).map_err(|e| format!("{kernel}: {e}"))?;
    if syms.is_empty() {
        return Err(format!("{kernel}: no function symbols (stripped?)"));
    }
    syms.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    syms.dedup_by_key(|s| s.0);
    let mut text = String::new();
    for (addr, size, name) in &syms {
        let name = format!("{:#}", rustc_demangle::demangle(name));
        let name = name.replace(['\n', '\r'], " ");
        let _ = writeln!(text, "{addr:x} {size:x} {name}");
    }
    std::fs::write(out, &text).map_err(|e| format!("{out}: {e}"))?;
    Ok(format!("mkinitrd: wrote {out} ({} symbols)", syms.len()))
}

/// `(address, size, raw name)` of every defined function symbol.
fn function_symbols(data: &[u8]) -> Result<Vec<(u64, u64, String)>, &'static str> {
    let endian = LittleEndian;
    let header = FileHeader64::<LittleEndian>::parse(data).map_err(|_| "not a 64-bit ELF file")?;
    if !header.is_little_endian() {
        return Err("not a little-endian ELF file");
    }
    let sections = header
        .sections(endian, data)
        .map_err(|_| "bad section headers")?;
    let table = sections
        .symbols(endian, data, SHT_SYMTAB)
        .map_err(|_| "bad symbol table")?;
    let strings = table.strings();
    let mut out = Vec::new();
    for sym in table.iter() {
        if sym.st_type() != STT_FUNC || sym.is_undefined(endian) || sym.st_value(endian) == 0 {
            continue;
        }
        let Ok(name) = sym.name(endian, strings) else {
            continue;
        };
        let name = String::from_utf8_lossy(name).into_owned();
        out.push((sym.st_value(endian), sym.st_size(endian), name));
    }
    Ok(out)
}
