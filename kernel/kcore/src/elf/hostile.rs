//! Hostile ELF files: each is a valid user program ([`base`]) changed in one way
//! that [`parse_user_elf`](super::parse_user_elf) must refuse, paired with the
//! error it must give. The host tool `mkbadelf` writes them into the test initrd
//! as `bad_<name>`; the kernel's tests exec every one from ring 3, and the host
//! tests check each is refused for its own reason, which proves every file is
//! long enough to reach the check it is written for.

use super::{ElfError, MAX_PROGRAM_HEADERS, MAX_SEGMENTS, STACK_RESERVED, STACK_TOP};
use abi::{PAGE_SIZE, USER_TOP};
use alloc::vec;
use alloc::vec::Vec;

/// File-name prefix of the hostile files in the initrd.
pub const PREFIX: &str = "bad_";

/// One program header: (type, flags, offset, vaddr, filesz, memsz).
pub type Ph = (u32, u32, u64, u64, u64, u64);

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const PT_TLS: u32 = 7;
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

/// The valid program every hostile file starts from: text (R X), rodata (R)
/// and data+bss (R W) at 0x40_0000, entry at the start of the text.
const TEXT: Ph = (PT_LOAD, R | X, 0x1000, 0x40_1000, 0x100, 0x100);
const RODATA: Ph = (PT_LOAD, R, 0x1100, 0x40_2000, 0x40, 0x40);
const DATA: Ph = (PT_LOAD, R | W, 0x1140, 0x40_3000, 0x40, 0x2000);
const ENTRY: u64 = 0x40_1000;
/// Length of the base file (the text's bytes end at 0x1100, the data's at 0x1180).
const FILE_LEN: usize = 0x1200;

/// An ELF file under construction: header fields, program headers, length.
#[derive(Clone)]
pub struct Builder {
    /// The first four bytes (`\x7fELF`).
    pub magic: [u8; 4],
    /// `e_ident[EI_CLASS]`, `[EI_DATA]`, `[EI_VERSION]`.
    pub ident: [u8; 3],
    /// `e_type`.
    pub e_type: u16,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u16,
    /// `e_phnum`; `None`: the number of `phdrs`.
    pub phnum: Option<u16>,
    /// Program headers written at offset 64 (whatever `phoff` says).
    pub phdrs: Vec<Ph>,
    /// The file is padded (or truncated) to this length.
    pub len: usize,
}

/// The valid base program.
pub fn base() -> Builder {
    Builder {
        magic: *b"\x7fELF",
        ident: [2, 1, 1],
        e_type: 2,
        machine: 62,
        entry: ENTRY,
        phoff: 64,
        phentsize: 56,
        phnum: None,
        phdrs: vec![TEXT, RODATA, DATA],
        len: FILE_LEN,
    }
}

impl Builder {
    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&self.magic);
        b.extend_from_slice(&self.ident);
        b.extend_from_slice(&[0; 9]);
        b.extend_from_slice(&self.e_type.to_le_bytes());
        b.extend_from_slice(&self.machine.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes()); // e_version
        b.extend_from_slice(&self.entry.to_le_bytes());
        b.extend_from_slice(&self.phoff.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        b.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        b.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
        b.extend_from_slice(&self.phentsize.to_le_bytes());
        let phnum = self.phnum.unwrap_or(self.phdrs.len() as u16);
        b.extend_from_slice(&phnum.to_le_bytes());
        b.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
        b.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
        b.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
        for &(ty, flags, off, vaddr, filesz, memsz) in &self.phdrs {
            b.extend_from_slice(&ty.to_le_bytes());
            b.extend_from_slice(&flags.to_le_bytes());
            for v in [off, vaddr, vaddr, filesz, memsz, PAGE_SIZE] {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        // Filler: `int3` everywhere, so a wrongly accepted entry traps.
        if b.len() < self.len {
            b.resize(self.len, 0xcc);
        }
        b.truncate(self.len);
        b
    }

    fn with(mut self, f: impl FnOnce(&mut Builder)) -> Builder {
        f(&mut self);
        self
    }

    /// The base with segment `i` replaced.
    fn seg(self, i: usize, ph: Ph) -> Builder {
        self.with(|b| b.phdrs[i] = ph)
    }

    /// The base with `ph` added.
    fn plus(self, ph: Ph) -> Builder {
        self.with(|b| b.phdrs.push(ph))
    }
}

/// One hostile file: its name (without [`PREFIX`]), bytes, and the error that
/// must refuse it.
pub struct Hostile {
    /// Name without the prefix.
    pub name: &'static str,
    /// The file.
    pub bytes: Vec<u8>,
    /// Why it must be refused.
    pub expect: ElfError,
}

/// Every hostile file, in a fixed order.
pub fn all() -> Vec<Hostile> {
    let stack_bottom = STACK_TOP - super::STACK_PAGES * PAGE_SIZE;
    let bad_phdrs = ElfError::BadProgramHeaders("");
    let user = |i| ElfError::OutsideUserSpace { index: i };
    let stack = |i| ElfError::OverlapsStack { index: i };
    let tiny = |n: usize| -> Vec<Ph> {
        (0..n as u64).map(|i| (PT_LOAD, R, 0x1100, 0x50_0000 + i * PAGE_SIZE, 1, 1)).collect()
    };
    let many = 3000usize;
    let cases: Vec<(&'static str, Builder, ElfError)> = vec![
        // Headers.
        ("empty", base().with(|b| b.len = 0), ElfError::Truncated),
        ("trunc_ident", base().with(|b| b.len = 16), ElfError::Truncated),
        ("trunc_header", base().with(|b| b.len = 63), ElfError::Truncated),
        ("magic", base().with(|b| b.magic = *b"\x7fELV"), ElfError::BadMagic),
        ("magic_zero", base().with(|b| b.magic = [0; 4]), ElfError::BadMagic),
        ("class32", base().with(|b| b.ident[0] = 1), ElfError::NotElf64),
        ("class_none", base().with(|b| b.ident[0] = 0), ElfError::NotElf64),
        ("big_endian", base().with(|b| b.ident[1] = 2), ElfError::NotLittleEndian),
        ("version", base().with(|b| b.ident[2] = 0), ElfError::BadHeader),
        ("machine_i386", base().with(|b| b.machine = 3), ElfError::WrongMachine(3)),
        ("machine_aarch64", base().with(|b| b.machine = 183), ElfError::WrongMachine(183)),
        ("type_rel", base().with(|b| b.e_type = 1), ElfError::NotExecutable(1)),
        ("type_dyn_pie", base().with(|b| b.e_type = 3), ElfError::NotExecutable(3)),
        ("type_core", base().with(|b| b.e_type = 4), ElfError::NotExecutable(4)),
        // The program-header table.
        ("phoff_past_end", base().with(|b| b.phoff = FILE_LEN as u64), bad_phdrs),
        ("phoff_overflow", base().with(|b| b.phoff = u64::MAX - 8), bad_phdrs),
        ("phentsize", base().with(|b| b.phentsize = 32), bad_phdrs),
        ("phdrs_truncated", base().with(|b| b.len = 64 + 56 * 2 + 20), bad_phdrs),
        ("phnum_zero", base().with(|b| b.phnum = Some(0)), ElfError::NoLoadSegments),
        ("phnum_huge", base().with(|b| b.phnum = Some(0xfffe)), ElfError::TooManySegments(0xfffe)),
        ("phnum_xnum", base().with(|b| b.phnum = Some(0xffff)), bad_phdrs),
        (
            "thousands_of_segments",
            base().with(|b| {
                b.phdrs.extend(tiny(many - 3));
                b.len = 64 + 56 * many + 0x2000;
            }),
            ElfError::TooManySegments(many),
        ),
        (
            "too_many_loads",
            base().with(|b| b.phdrs.extend(tiny(MAX_SEGMENTS + 1 - 3))),
            ElfError::TooManySegments(MAX_SEGMENTS + 1),
        ),
        (
            "too_many_headers",
            base().with(|b| b.phdrs.extend((0..MAX_PROGRAM_HEADERS - 2).map(|_| (PT_NOTE, R, 0, 0, 0, 0)))),
            ElfError::TooManySegments(MAX_PROGRAM_HEADERS + 1),
        ),
        ("no_loads", base().with(|b| b.phdrs = vec![(PT_NOTE, R, 0x1000, 0, 0x10, 0x10)]), ElfError::NoLoadSegments),
        ("empty_loads", base().with(|b| b.phdrs = vec![(PT_LOAD, R | X, 0x1000, ENTRY, 0, 0)]), ElfError::NoLoadSegments),
        // Where segments go.
        ("null_page", base().seg(1, (PT_LOAD, R, 0x1100, 0, 0x40, 0x40)), user(1)),
        ("near_null", base().seg(1, (PT_LOAD, R, 0x1100, 0xff0, 0x40, 0x40)), user(1)),
        ("kernel_half", base().seg(1, (PT_LOAD, R, 0x1100, 0xffff_8000_0000_0000, 0x40, 0x40)), user(1)),
        ("kernel_image", base().seg(1, (PT_LOAD, R, 0x1100, 0xffff_ffff_8000_0000, 0x40, 0x40)), user(1)),
        ("non_canonical", base().seg(1, (PT_LOAD, R, 0x1100, 0x0000_8000_0000_0000, 0x40, 0x40)), user(1)),
        ("non_canonical_high", base().seg(1, (PT_LOAD, R, 0x1100, 0x1234_5678_0000_0000, 0x40, 0x40)), user(1)),
        ("wrapping", base().seg(1, (PT_LOAD, R, 0x1100, 0xffff_ffff_ffff_f000, 0x40, 0x2000)), user(1)),
        ("crossing_user_top", base().seg(2, (PT_LOAD, R | W, 0x1140, USER_TOP - PAGE_SIZE, 0x40, 0x2000)), user(2)),
        ("last_user_page", base().seg(2, (PT_LOAD, R | W, 0x1140, USER_TOP - PAGE_SIZE, 0x40, 0x1000)), stack(2)),
        ("stack_top_page", base().seg(2, (PT_LOAD, R | W, 0x1140, STACK_TOP - PAGE_SIZE, 0x40, 0x1000)), stack(2)),
        ("stack_whole", base().seg(2, (PT_LOAD, R | W, 0x1140, stack_bottom, 0x40, STACK_TOP - stack_bottom)), stack(2)),
        ("stack_above", base().seg(2, (PT_LOAD, R | W, 0x1140, STACK_TOP, 0x40, 0x1000)), stack(2)),
        ("stack_guard_adjacent", base().seg(2, (PT_LOAD, R | W, 0x1140, stack_bottom - PAGE_SIZE, 0x40, 0x1000)), stack(2)),
        ("stack_guard_gap", base().seg(2, (PT_LOAD, R | W, 0x1140, STACK_RESERVED, 0x40, 0x1000)), stack(2)),
        ("stack_guard_byte", base().seg(2, (PT_LOAD, R | W, 0x1140, STACK_RESERVED - PAGE_SIZE, 0x40, 0x1001)), stack(2)),
        ("memsz_to_stack", base().seg(2, (PT_LOAD, R | W, 0x1140, 0x40_3000, 0x40, STACK_TOP - 0x40_3000)), stack(2)),
        ("overlap_same_page", base().seg(1, (PT_LOAD, R, 0x1100, 0x40_1800, 0x40, 0x40)), ElfError::Overlap { first: 0x40_1000, second: 0x40_1800 }),
        ("overlap_identical", base().plus(TEXT), ElfError::Overlap { first: ENTRY, second: ENTRY }),
        ("overlap_spanning", base().seg(1, (PT_LOAD, R, 0x1100, 0x40_0000, 0x40, 0x3000)), ElfError::Overlap { first: 0x40_0000, second: 0x40_1000 }),
        ("filesz_gt_memsz", base().seg(2, (PT_LOAD, R | W, 0x1140, 0x40_3000, 0x41, 0x40)), ElfError::FileSizeExceedsMemSize { index: 2 }),
        ("huge_memsz", base().seg(2, (PT_LOAD, R | W, 0x1140, 0x40_3000, 0x40, 1 << 40)), ElfError::TooLarge),
        ("memsz_max", base().seg(2, (PT_LOAD, R | W, 0x1140, 0x40_3000, 0x40, u64::MAX)), user(2)),
        // File data.
        ("data_past_end", base().seg(2, (PT_LOAD, R | W, 0x1140, 0x40_3000, 0x1000, 0x1000)), ElfError::OutsideFile { index: 2 }),
        ("offset_overflow", base().seg(2, (PT_LOAD, R | W, u64::MAX - 0x10, 0x40_3000, 0x40, 0x40)), ElfError::OutsideFile { index: 2 }),
        ("offset_past_end", base().seg(1, (PT_LOAD, R, FILE_LEN as u64, 0x40_2000, 1, 1)), ElfError::OutsideFile { index: 1 }),
        // Entry point.
        ("entry_zero", base().with(|b| b.entry = 0), ElfError::BadEntry(0)),
        ("entry_in_data", base().with(|b| b.entry = 0x40_3000), ElfError::BadEntry(0x40_3000)),
        ("entry_in_rodata", base().with(|b| b.entry = 0x40_2000), ElfError::BadEntry(0x40_2000)),
        ("entry_past_text", base().with(|b| b.entry = 0x40_1100), ElfError::BadEntry(0x40_1100)),
        ("entry_kernel", base().with(|b| b.entry = 0xffff_ffff_8000_0000), ElfError::BadEntry(0xffff_ffff_8000_0000)),
        ("entry_stack", base().with(|b| b.entry = STACK_TOP - 16), ElfError::BadEntry(STACK_TOP - 16)),
        // Permissions and kinds of program.
        ("wx_text", base().seg(0, (PT_LOAD, R | W | X, 0x1000, 0x40_1000, 0x100, 0x100)), ElfError::WritableAndExecutable { index: 0 }),
        ("wx_data", base().seg(2, (PT_LOAD, W | X, 0x1140, 0x40_3000, 0x40, 0x40)), ElfError::WritableAndExecutable { index: 2 }),
        ("interp", base().plus((PT_INTERP, R, 0x1100, 0x40_2000, 0x10, 0x10)), ElfError::Dynamic),
        ("interp_first", base().with(|b| b.phdrs.insert(0, (PT_INTERP, R, 0x1100, 0, 0x10, 0x10))), ElfError::Dynamic),
        ("dynamic", base().plus((PT_DYNAMIC, R | W, 0x1140, 0x40_3000, 0x10, 0x10)), ElfError::Dynamic),
        ("tls", base().plus((PT_TLS, R, 0x1100, 0x40_2000, 0x10, 0x10)), ElfError::ThreadLocalStorage),
    ];
    cases
        .into_iter()
        .map(|(name, b, expect)| Hostile { name, bytes: b.bytes(), expect })
        .collect()
}

/// Whether `got` is the refusal `want` asks for; a `BadProgramHeaders` want
/// matches any reason text.
pub fn matches(want: ElfError, got: ElfError) -> bool {
    match (want, got) {
        (ElfError::BadProgramHeaders(_), ElfError::BadProgramHeaders(_)) => true,
        (w, g) => w == g,
    }
}
