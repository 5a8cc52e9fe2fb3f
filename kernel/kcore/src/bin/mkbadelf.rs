//! Host tool: writes the hostile ELF files of `kcore::elf::hostile` into a
//! directory, as `bad_<name>`, for the test initrd. Each must be refused by the
//! kernel's ELF checks for its own reason; this tool checks that before writing.
//!
//! `mkbadelf OUTDIR` — exit status 1 on any error, with a message on stderr.
//! Build: `cargo build -p kcore --features std --bin mkbadelf --release`.

use kcore::elf::{hostile, parse_user_elf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        eprintln!("usage: mkbadelf OUTDIR");
        return ExitCode::from(1);
    };
    match write_all(dir) {
        Ok(n) => {
            println!("mkbadelf: wrote {n} hostile ELF files to {dir}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("mkbadelf: {msg}");
            ExitCode::from(1)
        }
    }
}

fn write_all(dir: &str) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    // Old files from an earlier list must not linger in the initrd.
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{dir}: {e}"))? {
        let path = entry.map_err(|e| format!("{dir}: {e}"))?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(hostile::PREFIX)) {
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let all = hostile::all();
    for h in &all {
        let got = parse_user_elf(&h.bytes);
        if !matches!(got, Err(e) if hostile::matches(h.expect, e)) {
            return Err(format!("{}{}: refused as {:?}, expected {:?}", hostile::PREFIX, h.name, got.err(), h.expect));
        }
        let path = format!("{dir}/{}{}", hostile::PREFIX, h.name);
        std::fs::write(&path, &h.bytes).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(all.len())
}
