//! Host tests for the initrd reader and writer.

use super::*;
use crate::testutil::Rng;

fn sample() -> Vec<u8> {
    newc::write(&[
        ("init", b"\x7fELF init"),
        ("hello", b"hi!"),
        ("empty", b""),
        ("t_ipc", &[9; 1000]),
    ])
    .unwrap()
}

/// A raw header, for building archives the writer would not produce.
fn header(mode: u32, filesize: usize, namesize: usize) -> Vec<u8> {
    let f = [
        1,
        mode,
        0,
        0,
        1,
        0,
        filesize as u32,
        0,
        0,
        0,
        0,
        namesize as u32,
        0,
    ];
    let mut h = b"070701".to_vec();
    for x in f {
        h.extend_from_slice(format!("{x:08x}").as_bytes());
    }
    h
}

fn raw_entry(out: &mut Vec<u8>, mode: u32, name: &[u8], data: &[u8]) {
    out.extend(header(mode, data.len(), name.len() + 1));
    out.extend_from_slice(name);
    out.push(0);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out.extend_from_slice(data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn trailer(out: &mut Vec<u8>) {
    raw_entry(out, 0, TRAILER.as_bytes(), b"");
}

#[test]
fn round_trip() {
    let a = sample();
    assert_eq!(a.len() % 4, 0);
    let rd = Initrd::parse(&a).unwrap();
    let files: Vec<(&str, &[u8])> = rd.iter().collect();
    assert_eq!(files.len(), 4);
    assert_eq!(files[0], ("init", &b"\x7fELF init"[..]));
    assert_eq!(files[1], ("hello", &b"hi!"[..]));
    assert_eq!(files[2], ("empty", &b""[..]));
    assert_eq!(files[3].1.len(), 1000);
    for p in ["/init", "init", "./init", "//init"] {
        assert_eq!(rd.find(p), Some(&b"\x7fELF init"[..]), "{p}");
    }
    assert_eq!(rd.find("/nope"), None);
    assert_eq!(rd.find(""), None);
    assert_eq!(rd.find("/init/"), None);
    assert!(rd.entries().iter().all(|e| e.mode == S_IFREG | 0o755));
    // An empty archive is just the trailer.
    let empty = newc::write(&[]).unwrap();
    assert_eq!(Initrd::parse(&empty).unwrap().iter().count(), 0);
    // Trailing padding (cpio pads to 512 bytes) is ignored.
    let mut padded = a.clone();
    padded.resize(a.len().next_multiple_of(512), 0);
    assert_eq!(Initrd::parse(&padded).unwrap().iter().count(), 4);
}

#[test]
fn directories_and_dot_slash_names() {
    // What `find . | cpio -o -H newc` produces: "." and "./"-prefixed names.
    let mut a = Vec::new();
    raw_entry(&mut a, S_IFDIR | 0o755, b".", b"");
    raw_entry(&mut a, S_IFDIR | 0o755, b"./bin", b"");
    raw_entry(&mut a, S_IFREG | 0o644, b"./bin/sh", b"shell");
    raw_entry(&mut a, S_IFREG | 0o644, b"/abs", b"x");
    trailer(&mut a);
    let rd = Initrd::parse(&a).unwrap();
    assert_eq!(rd.entries().len(), 4);
    assert_eq!(
        rd.iter().collect::<Vec<_>>(),
        vec![("bin/sh", &b"shell"[..]), ("abs", &b"x"[..])]
    );
    assert_eq!(rd.find("/bin/sh"), Some(&b"shell"[..]));
    assert_eq!(rd.find("bin"), None, "directories are not files");
    assert_eq!(rd.find("abs"), Some(&b"x"[..]));
}

#[test]
fn writer_rejects_unrepresentable_entries() {
    assert_eq!(
        newc::write(&[("", b"")]),
        Err(InitrdError::Unrepresentable { index: 0 })
    );
    assert_eq!(
        newc::write(&[("a", b""), ("b\0c", b"")]),
        Err(InitrdError::Unrepresentable { index: 1 })
    );
    assert_eq!(
        newc::write(&[(TRAILER, b"")]),
        Err(InitrdError::Unrepresentable { index: 0 })
    );
}

#[test]
fn rejects_malformed_archives() {
    let a = sample();
    assert_eq!(Initrd::parse(&[]).unwrap_err(), InitrdError::MissingTrailer);
    assert_eq!(
        Initrd::parse(b"0707").unwrap_err(),
        InitrdError::Truncated { offset: 0 }
    );
    let mut b = a.clone();
    b[5] = b'9';
    assert_eq!(
        Initrd::parse(&b).unwrap_err(),
        InitrdError::BadMagic { offset: 0 }
    );
    let mut b = a.clone();
    b[6 + 8 * 6 + 3] = b'g'; // filesize
    assert_eq!(
        Initrd::parse(&b).unwrap_err(),
        InitrdError::BadField {
            offset: 0,
            field: "filesize"
        }
    );
    let mut b = a.clone();
    b[6 + 8 * 11 + 7] = b'2'; // namesize 5 ("init\0") -> 2: no NUL at the end
    assert_eq!(
        Initrd::parse(&b).unwrap_err(),
        InitrdError::BadName { offset: 0 }
    );
    let mut b = a.clone();
    b[6 + 8 * 11 + 7] = b'1'; // namesize 1: empty name
    assert_eq!(
        Initrd::parse(&b).unwrap_err(),
        InitrdError::BadName { offset: 0 }
    );
    let mut b = a.clone();
    b[6 + 8 * 6..6 + 8 * 7].copy_from_slice(b"FFFFFFFF"); // huge filesize
    assert_eq!(
        Initrd::parse(&b).unwrap_err(),
        InitrdError::OutOfBounds { offset: 0 }
    );
    let mut b = a.clone();
    b[6 + 8 * 11..6 + 8 * 12].copy_from_slice(b"FFFFFFFF"); // huge namesize
    assert_eq!(
        Initrd::parse(&b).unwrap_err(),
        InitrdError::OutOfBounds { offset: 0 }
    );
    let mut n = Vec::new();
    raw_entry(&mut n, S_IFREG, b"\xff\xfe", b"x");
    trailer(&mut n);
    assert_eq!(
        Initrd::parse(&n).unwrap_err(),
        InitrdError::BadName { offset: 0 }
    );
    // No trailer.
    let mut n = Vec::new();
    raw_entry(&mut n, S_IFREG, b"a", b"x");
    assert_eq!(Initrd::parse(&n).unwrap_err(), InitrdError::MissingTrailer);
    assert!(!InitrdError::MissingTrailer.to_string().is_empty());
}

#[test]
fn every_truncation_is_an_error() {
    let a = sample();
    let trailer_start = a.len() - align4(HEADER_LEN + TRAILER.len() + 1).unwrap();
    for len in 0..a.len() {
        let r = Initrd::parse(&a[..len]);
        // Cutting only the trailer's final padding still leaves a complete trailer.
        if len > trailer_start + HEADER_LEN + TRAILER.len() {
            assert!(r.is_ok(), "len {len}");
        } else {
            assert!(r.is_err(), "len {len}");
        }
    }
}

#[test]
fn garbage_never_panics() {
    let base = sample();
    let mut rng = Rng::new(5);
    for round in 0..20_000 {
        let mut b = if round % 4 == 0 {
            (0..rng.below(300)).map(|_| rng.next() as u8).collect()
        } else {
            base.clone()
        };
        for _ in 0..1 + rng.below(3) {
            if b.is_empty() {
                break;
            }
            let i = rng.below(b.len() as u64) as usize;
            b[i] = match rng.below(3) {
                0 => b"0123456789abcdefFGx\0"[rng.below(20) as usize],
                1 => rng.next() as u8,
                _ => b[i] ^ 1,
            };
        }
        if let Ok(rd) = Initrd::parse(&b) {
            for (name, data) in rd.iter() {
                assert!(!name.contains('\0'));
                assert!(data.len() <= b.len());
            }
        }
    }
}

#[test]
fn reads_gnu_cpio_output() {
    // `printf '.\nbin\nbin/sh\ninit\n' | cpio -o -H newc --reproducible`
    let a = include_bytes!("gnu-cpio.bin");
    let rd = Initrd::parse(a).unwrap();
    assert_eq!(rd.entries().len(), 4);
    assert_eq!(
        rd.iter().collect::<Vec<_>>(),
        vec![("bin/sh", &b"shell"[..]), ("init", &b"\x7fELFinit"[..])]
    );
    assert_eq!(rd.find("/init"), Some(&b"\x7fELFinit"[..]));
}
