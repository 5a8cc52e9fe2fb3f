//! Cross-check: the real `usr/` programs (built by
//! `cargo build -p usr --target x86_64-unknown-none --release`) pass the kernel's ELF
//! checks and round-trip through an initrd. It needs that build, so plain `cargo test`
//! lists it as ignored; `make test` builds usr/ and then runs it with `--ignored`, where
//! a missing program is a failure.

use kcore::elf::parse_user_elf;
use kcore::initrd::{newc, Initrd};
use std::path::PathBuf;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn built_programs() -> Vec<(String, Vec<u8>)> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let out = target.join("x86_64-unknown-none/release");
    let Ok(dir) = std::fs::read_dir(workspace().join("usr/src/bin")) else {
        return Vec::new();
    };
    let mut progs = Vec::new();
    for entry in dir.flatten() {
        let path = entry.path();
        let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Ok(bytes) = std::fs::read(out.join(name)) {
            progs.push((name.to_string(), bytes));
        }
    }
    progs.sort();
    progs
}

#[test]
#[ignore = "needs the usr/ programs built; `make test` runs it with --ignored"]
fn built_usr_programs_are_loadable() {
    let progs = built_programs();
    let sources = std::fs::read_dir(workspace().join("usr/src/bin")).map_or(0, |d| d.count());
    assert!(sources > 0, "no usr/src/bin programs found");
    assert_eq!(
        progs.len(),
        sources,
        "only {} of {sources} usr programs are built (cargo build -p usr --target x86_64-unknown-none --release)",
        progs.len()
    );
    for (name, bytes) in &progs {
        let img = parse_user_elf(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(img.segments.iter().all(|s| s.vaddr >= 0x40_0000), "{name}");
        assert!(
            img.segments
                .iter()
                .all(|s| !(s.flags.write && s.flags.exec)),
            "{name}"
        );
        assert!(img.segments.iter().any(|s| s.flags.exec), "{name}");
    }
    let entries: Vec<(&str, &[u8])> = progs
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let archive = newc::write(&entries).unwrap();
    let rd = Initrd::parse(&archive).unwrap();
    for (name, bytes) in &progs {
        let data = rd.find(&format!("/{name}")).unwrap();
        assert_eq!(data, bytes.as_slice());
        // Inside the archive the image is only 4-byte aligned.
        assert!(parse_user_elf(data).is_ok(), "{name} from initrd");
    }
}
