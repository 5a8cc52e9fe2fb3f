//! Host tests for ELF validation: a hand-built valid image, each rejection,
//! and mutation fuzzing.

use super::*;
use crate::testutil::Rng;

const PT_GNU_STACK: u32 = 0x6474_e551;

/// One program header for [`build`]: (type, flags, offset, vaddr, filesz, memsz).
type Ph = (u32, u32, u64, u64, u64, u64);

const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

/// Builds an ELF64 little-endian x86_64 image with the given program
/// headers, followed by `body_len` bytes of filler.
fn build(e_type: u16, entry: u64, phdrs: &[Ph], body_len: usize) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&e_type.to_le_bytes());
    b.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    b.extend_from_slice(&1u32.to_le_bytes()); // e_version
    b.extend_from_slice(&entry.to_le_bytes());
    b.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    b.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    b.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    b.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    b.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    b.extend_from_slice(&(phdrs.len() as u16).to_le_bytes());
    b.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    b.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    b.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    assert_eq!(b.len(), 64);
    for &(ty, flags, off, vaddr, filesz, memsz) in phdrs {
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&flags.to_le_bytes());
        for v in [off, vaddr, vaddr, filesz, memsz, 0x1000] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.extend((0..body_len).map(|i| i as u8));
    b
}

const TEXT: Ph = (1, R | X, 0x100, 0x40_1000, 0x40, 0x40);
const RODATA: Ph = (1, R, 0x140, 0x40_2000, 0x20, 0x20);
const DATA: Ph = (1, R | W, 0x160, 0x40_3000, 0x10, 0x2000);
const STACK: Ph = (PT_GNU_STACK, R | W, 0, 0, 0, 0);

fn valid() -> Vec<u8> {
    build(2, 0x40_1000, &[TEXT, RODATA, DATA, STACK], 0x200)
}

fn with(phdrs: &[Ph]) -> Result<UserImage, ElfError> {
    parse_user_elf(&build(2, 0x40_1000, phdrs, 0x200))
}

#[test]
fn accepts_a_valid_image() {
    let bytes = valid();
    let img = parse_user_elf(&bytes).unwrap();
    assert_eq!(img.entry, 0x40_1000);
    assert_eq!(img.segments.len(), 3);
    let text = img.segments[0];
    assert_eq!(
        text,
        Segment {
            vaddr: 0x40_1000,
            memsz: 0x40,
            file_offset: 0x100,
            filesz: 0x40,
            flags: SegmentFlags {
                read: true,
                write: false,
                exec: true
            },
        }
    );
    assert_eq!(text.file_data(&bytes), &bytes[0x100..0x140]);
    assert_eq!(text.page_range(), 0x40_1000..0x40_2000);
    let data = img.segments[2];
    assert!(data.flags.write && !data.flags.exec);
    assert_eq!(data.page_range(), 0x40_3000..0x40_5000);
    assert_eq!(img.page_count(), 4);
    assert_eq!(data.file_data(&[]), &[] as &[u8]);
}

#[test]
fn segments_come_back_sorted_and_empty_ones_are_skipped() {
    let empty: Ph = (1, R, 0, 0x50_0000, 0, 0);
    let img = with(&[DATA, empty, RODATA, TEXT]).unwrap();
    let addrs: Vec<u64> = img.segments.iter().map(|s| s.vaddr).collect();
    assert_eq!(addrs, vec![0x40_1000, 0x40_2000, 0x40_3000]);
}

#[test]
fn parses_at_an_unaligned_offset() {
    // Files inside a cpio initrd are only 4-byte aligned.
    let bytes = valid();
    let mut buf = vec![0u8; 3];
    buf.extend_from_slice(&bytes);
    assert!(parse_user_elf(&buf[3..]).is_ok());
}

#[test]
fn rejects_bad_headers() {
    let v = valid();
    assert_eq!(parse_user_elf(&[]), Err(ElfError::Truncated));
    assert_eq!(parse_user_elf(&v[..63]), Err(ElfError::Truncated));
    let mut b = v.clone();
    b[1] = b'X';
    assert_eq!(parse_user_elf(&b), Err(ElfError::BadMagic));
    let mut b = v.clone();
    b[4] = 1;
    assert_eq!(parse_user_elf(&b), Err(ElfError::NotElf64));
    let mut b = v.clone();
    b[5] = 2;
    assert_eq!(parse_user_elf(&b), Err(ElfError::NotLittleEndian));
    let mut b = v.clone();
    b[6] = 0;
    assert_eq!(parse_user_elf(&b), Err(ElfError::BadHeader));
    let mut b = v.clone();
    b[18] = 3; // EM_386
    assert_eq!(parse_user_elf(&b), Err(ElfError::WrongMachine(3)));
    let pie = build(3, 0x40_1000, &[TEXT], 0x200);
    assert_eq!(parse_user_elf(&pie), Err(ElfError::NotExecutable(3)));
    let mut b = v.clone();
    b[54] = 55; // e_phentsize
    assert!(matches!(
        parse_user_elf(&b),
        Err(ElfError::BadProgramHeaders(_))
    ));
    // Program headers past the end of the file.
    let b = build(2, 0x40_1000, &[TEXT, RODATA, DATA], 0x200);
    assert!(matches!(
        parse_user_elf(&b[..64 + 56 * 2]),
        Err(ElfError::BadProgramHeaders(_))
    ));
    // e_phnum = 0xffff (PN_XNUM) with no section headers.
    let mut b = v.clone();
    b[56] = 0xff;
    b[57] = 0xff;
    assert!(matches!(
        parse_user_elf(&b),
        Err(ElfError::BadProgramHeaders(_))
    ));
}

#[test]
fn rejects_bad_segments() {
    assert_eq!(with(&[]), Err(ElfError::NoLoadSegments));
    assert_eq!(with(&[STACK]), Err(ElfError::NoLoadSegments));
    assert_eq!(with(&[TEXT, (3, R, 0, 0, 0, 0)]), Err(ElfError::Dynamic));
    assert_eq!(with(&[TEXT, (2, R, 0, 0, 0, 0)]), Err(ElfError::Dynamic));
    assert_eq!(
        with(&[TEXT, (7, R, 0, 0, 0, 0)]),
        Err(ElfError::ThreadLocalStorage)
    );
    let e = |i| ElfError::FileSizeExceedsMemSize { index: i };
    assert_eq!(
        with(&[TEXT, (1, R, 0x140, 0x40_2000, 0x21, 0x20)]),
        Err(e(1))
    );
    let outside = |i| ElfError::OutsideFile { index: i };
    assert_eq!(
        with(&[(1, R | X, 0x100, 0x40_1000, 0x1000, 0x1000)]),
        Err(outside(0))
    );
    assert_eq!(
        with(&[(1, R | X, u64::MAX, 0x40_1000, 2, 2)]),
        Err(outside(0))
    );
    let user = |i| ElfError::OutsideUserSpace { index: i };
    assert_eq!(with(&[(1, R | X, 0x100, 0, 0x40, 0x40)]), Err(user(0)));
    assert_eq!(with(&[(1, R | X, 0x100, 0xfff, 0x40, 0x40)]), Err(user(0)));
    assert_eq!(
        with(&[(1, R | X, 0x100, 0xffff_ffff_8000_0000, 0x40, 0x40)]),
        Err(user(0))
    );
    assert_eq!(
        with(&[(1, R | X, 0x100, USER_TOP - 0x20, 0x40, 0x40)]),
        Err(user(0))
    );
    assert_eq!(
        with(&[(1, R | X, 0x100, u64::MAX - 0x10, 0x40, 0x40)]),
        Err(user(0))
    );
    assert_eq!(
        with(&[(1, R | X, 0x100, 0x40_1000, 0x40, u64::MAX)]),
        Err(user(0))
    );
    assert_eq!(
        with(&[(1, R | W | X, 0x100, 0x40_1000, 0x40, 0x40)]),
        Err(ElfError::WritableAndExecutable { index: 0 })
    );
    // Same page, different segments.
    assert_eq!(
        with(&[TEXT, (1, R, 0x140, 0x40_1800, 0x20, 0x20)]),
        Err(ElfError::Overlap {
            first: 0x40_1000,
            second: 0x40_1800
        })
    );
    assert_eq!(
        with(&[TEXT, (1, R, 0x140, 0x40_0000, 0x20, 0x2000)]),
        Err(ElfError::Overlap {
            first: 0x40_0000,
            second: 0x40_1000
        })
    );
    assert_eq!(
        with(&[TEXT, (1, R | W, 0, 0x50_0000, 0, MAX_IMAGE_SIZE)]),
        Err(ElfError::TooLarge)
    );
    assert!(with(&[TEXT, (1, R | W, 0, 0x50_0000, 0, MAX_IMAGE_SIZE - 0x1000)]).is_ok());
    let many: Vec<Ph> = (0..=MAX_SEGMENTS as u64)
        .map(|i| (1, R | X, 0x100, 0x40_0000 + i * 0x1000, 0x10, 0x10))
        .collect();
    assert_eq!(
        with(&many),
        Err(ElfError::TooManySegments(MAX_SEGMENTS + 1))
    );
    let notes: Vec<Ph> = (0..=MAX_PROGRAM_HEADERS)
        .map(|_| (4, R, 0, 0, 0, 0))
        .collect();
    assert_eq!(
        with(&notes),
        Err(ElfError::TooManySegments(MAX_PROGRAM_HEADERS + 1))
    );
}

#[test]
fn rejects_bad_entry() {
    for entry in [0, 0x40_0fff, 0x40_1040, 0x40_2000, 0x40_3000, u64::MAX] {
        let b = build(2, entry, &[TEXT, RODATA, DATA], 0x200);
        assert_eq!(parse_user_elf(&b), Err(ElfError::BadEntry(entry)));
    }
    let b = build(2, 0x40_103f, &[TEXT], 0x200);
    assert!(parse_user_elf(&b).is_ok());
}

#[test]
fn errors_have_messages() {
    assert_eq!(
        ElfError::WritableAndExecutable { index: 2 }.to_string(),
        "segment 2: writable and executable (W^X)"
    );
    assert_eq!(
        ElfError::BadEntry(0x10).to_string(),
        "entry point 0x10 not in an executable segment"
    );
    assert_eq!(ElfError::TooLarge.to_string(), "image larger than 64 MiB");
}

#[test]
fn host_executable_is_rejected_cleanly() {
    // The test binary itself is a real (PIE, dynamically linked) ELF.
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let r = parse_user_elf(&exe);
    assert!(
        matches!(r, Err(ElfError::NotExecutable(3)) | Err(ElfError::Dynamic)),
        "{r:?}"
    );
}

/// Every accepted image satisfies the documented rules.
fn check_accepted(bytes: &[u8], img: &UserImage) {
    assert!(!img.segments.is_empty() && img.segments.len() <= MAX_SEGMENTS);
    let mut total = 0;
    for (i, s) in img.segments.iter().enumerate() {
        assert!(s.memsz > 0 && s.filesz <= s.memsz);
        assert!(s.vaddr >= USER_BASE && s.vaddr + s.memsz <= USER_TOP);
        assert!(!(s.flags.write && s.flags.exec));
        assert_eq!(s.file_data(bytes).len() as u64, s.filesz);
        total += s.page_range().end - s.page_range().start;
        if let Some(n) = img.segments.get(i + 1) {
            assert!(s.page_range().end <= n.page_range().start);
        }
    }
    assert!(total <= MAX_IMAGE_SIZE);
    assert!(img
        .segments
        .iter()
        .any(|s| s.flags.exec && s.range().contains(&img.entry)));
}

#[test]
fn mutation_fuzz_never_panics() {
    let base = valid();
    let mut rng = Rng::new(1);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..20_000 {
        let mut b = base.clone();
        for _ in 0..1 + rng.below(4) {
            let i = if rng.below(4) == 0 {
                rng.below(b.len() as u64) as usize
            } else {
                rng.below(64 + 56 * 4) as usize // header and program headers
            };
            b[i] = match rng.below(3) {
                0 => b[i] ^ (1 << rng.below(8)),
                1 => rng.next() as u8,
                _ => [0, 0xff, 0x40, 0x7f, 0x80][rng.below(5) as usize],
            };
        }
        if rng.below(10) == 0 {
            b.truncate(rng.below(b.len() as u64 + 1) as usize);
        }
        match parse_user_elf(&b) {
            Ok(img) => {
                ok += 1;
                check_accepted(&b, &img);
            }
            Err(e) => {
                err += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(ok > 100 && err > 100, "ok {ok} err {err}");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(2);
    for _ in 0..10_000 {
        let len = rng.below(400) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len >= 8 && rng.below(2) == 0 {
            b[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        }
        if let Ok(img) = parse_user_elf(&b) {
            check_accepted(&b, &img);
        }
    }
}

#[test]
fn hostile_files_are_refused_for_their_own_reason() {
    use super::hostile;
    assert!(parse_user_elf(&hostile::base().bytes()).is_ok(), "the base program must be valid");
    let all = hostile::all();
    assert!(all.len() >= 60, "only {} hostile files", all.len());
    let mut names = std::collections::HashSet::new();
    for h in &all {
        assert!(names.insert(h.name), "duplicate name {}", h.name);
        let got = parse_user_elf(&h.bytes);
        assert!(
            matches!(got, Err(e) if hostile::matches(h.expect, e)),
            "bad_{}: want {:?}, got {:?}",
            h.name,
            h.expect,
            got.map(|i| i.entry)
        );
    }
}

#[test]
fn segments_keep_a_guard_gap_below_the_stack() {
    // Ending exactly at the reserved region is fine; one byte more is not.
    let edge = STACK_RESERVED - 0x2000;
    assert!(with(&[TEXT, (1, R | W, 0x160, edge, 0x10, 0x2000)]).is_ok());
    assert_eq!(
        with(&[TEXT, (1, R | W, 0x160, edge, 0x10, 0x2001)]),
        Err(ElfError::OverlapsStack { index: 1 })
    );
    // The finding of issue 13: a writable segment on the stack's top page.
    assert_eq!(
        with(&[TEXT, (1, R | W, 0x160, 0x7fff_ffef_f000, 0x10, 0x1000)]),
        Err(ElfError::OverlapsStack { index: 1 })
    );
    // Directly against the stack (ending at its lowest page): no gap.
    let bottom = STACK_TOP - STACK_PAGES * 0x1000;
    assert_eq!(
        with(&[TEXT, (1, R | W, 0x160, bottom - 0x1000, 0x10, 0x1000)]),
        Err(ElfError::OverlapsStack { index: 1 })
    );
    assert_eq!(STACK_TOP - STACK_RESERVED, (STACK_PAGES + STACK_GUARD_PAGES) * 0x1000);
    assert!(ElfError::OverlapsStack { index: 3 }.to_string().contains("guard gap"));
}
