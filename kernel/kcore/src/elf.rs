//! Validation of user-program ELF images before the kernel loads them.
//!
//! [`parse_user_elf`] accepts only what the loader can map safely: a static
//! (non-PIE) little-endian x86_64 `ET_EXEC` whose `PT_LOAD` segments lie in
//! user space, inside the file, on distinct pages, never both writable and
//! executable, with the entry point in an executable segment. Everything
//! else is an [`ElfError`]; no input makes it panic.
//!
//! Segments are checked at page granularity: after rounding each segment
//! out to whole pages, no two share a page. The loader can therefore map
//! each page with exactly one segment's permissions. (The linker script in
//! `usr/link.ld` page-aligns every segment.)
//!
//! The top of user space belongs to the stack: segments must end at or below
//! [`STACK_RESERVED`], which leaves [`STACK_GUARD_PAGES`] never-mapped pages
//! between the program and the lowest stack page, so a stack overflow faults
//! instead of running into program data, and the stack can always be mapped.

use abi::{PAGE_SIZE, USER_BASE, USER_TOP};
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;
use object::elf::{FileHeader64, ProgramHeader64, EM_X86_64, ET_EXEC, PF_R, PF_W, PF_X};
use object::elf::{PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_TLS};
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian;

/// Most `PT_LOAD` segments accepted.
pub const MAX_SEGMENTS: usize = 16;
/// Most program headers (of any type) accepted.
pub const MAX_PROGRAM_HEADERS: usize = 64;
/// Largest total memory size of all segments (page-rounded), in bytes.
pub const MAX_IMAGE_SIZE: u64 = 64 << 20;
/// One past the top of every program's stack (mapped by the kernel at exec).
pub const STACK_TOP: u64 = 0x0000_7fff_fff0_0000;
/// Stack size in pages (64 KiB).
pub const STACK_PAGES: u64 = 16;
/// Pages below the stack that are never mapped (the guard gap, 64 KiB).
pub const STACK_GUARD_PAGES: u64 = 16;
/// Lowest address of the region kept for the stack and its guard gap
/// (up to [`USER_TOP`]): every segment ends at or below it.
pub const STACK_RESERVED: u64 = STACK_TOP - (STACK_PAGES + STACK_GUARD_PAGES) * PAGE_SIZE;

/// Access permissions of a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentFlags {
    /// Readable (`PF_R`).
    pub read: bool,
    /// Writable (`PF_W`).
    pub write: bool,
    /// Executable (`PF_X`).
    pub exec: bool,
}

/// One loadable segment: `filesz` bytes from `file_offset` are copied to
/// `vaddr`, and the rest up to `memsz` is zero-filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First virtual address.
    pub vaddr: u64,
    /// Size in memory (`>= filesz`, `> 0`).
    pub memsz: u64,
    /// Offset of the initialised bytes in the file.
    pub file_offset: u64,
    /// Number of initialised bytes.
    pub filesz: u64,
    /// Permissions (never both `write` and `exec`).
    pub flags: SegmentFlags,
}

impl Segment {
    /// The virtual address range `vaddr..vaddr + memsz`.
    pub fn range(&self) -> Range<u64> {
        self.vaddr..self.vaddr.saturating_add(self.memsz)
    }

    /// The range rounded out to whole pages: the pages the loader maps.
    pub fn page_range(&self) -> Range<u64> {
        let start = self.vaddr & !(PAGE_SIZE - 1);
        let end = self.range().end.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        start..end
    }

    /// The initialised bytes of this segment in `image` (the bytes that were
    /// validated). Empty if `image` is not the validated file.
    pub fn file_data<'a>(&self, image: &'a [u8]) -> &'a [u8] {
        let (Ok(start), Ok(len)) = (
            usize::try_from(self.file_offset),
            usize::try_from(self.filesz),
        ) else {
            return &[];
        };
        start
            .checked_add(len)
            .and_then(|end| image.get(start..end))
            .unwrap_or(&[])
    }
}

/// A validated user program: where to start and what to map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserImage {
    /// Entry point (inside an executable segment).
    pub entry: u64,
    /// Loadable segments, sorted by address, on pairwise distinct pages.
    pub segments: Vec<Segment>,
}

impl UserImage {
    /// Total pages the loader must map.
    pub fn page_count(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| {
                let r = s.page_range();
                (r.end - r.start) / PAGE_SIZE
            })
            .sum()
    }
}

/// Why an ELF image was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than an ELF header.
    Truncated,
    /// No `\x7fELF` magic.
    BadMagic,
    /// Not a 64-bit ELF.
    NotElf64,
    /// Not little-endian.
    NotLittleEndian,
    /// Unknown ELF version or otherwise unsupported header.
    BadHeader,
    /// Not for x86_64 (`e_machine` given).
    WrongMachine(u16),
    /// Not a static executable (`e_type` given; PIE and shared objects are
    /// `ET_DYN`).
    NotExecutable(u16),
    /// The program-header table is malformed (reason given).
    BadProgramHeaders(&'static str),
    /// More than [`MAX_PROGRAM_HEADERS`] program headers or
    /// [`MAX_SEGMENTS`] loadable segments (count given).
    TooManySegments(usize),
    /// Needs a dynamic linker (`PT_INTERP` or `PT_DYNAMIC`).
    Dynamic,
    /// Uses thread-local storage (`PT_TLS`), which the kernel does not set up.
    ThreadLocalStorage,
    /// No non-empty `PT_LOAD` segment.
    NoLoadSegments,
    /// Program header `index` has `p_filesz > p_memsz`.
    FileSizeExceedsMemSize {
        /// Program header index.
        index: usize,
    },
    /// Program header `index` refers to bytes beyond the end of the file.
    OutsideFile {
        /// Program header index.
        index: usize,
    },
    /// Program header `index` is not inside `[USER_BASE, USER_TOP)`.
    OutsideUserSpace {
        /// Program header index.
        index: usize,
    },
    /// Program header `index` reaches into the stack or the guard gap below it
    /// (above [`STACK_RESERVED`]).
    OverlapsStack {
        /// Program header index.
        index: usize,
    },
    /// Program header `index` is writable and executable.
    WritableAndExecutable {
        /// Program header index.
        index: usize,
    },
    /// Two segments share a page (their start addresses given).
    Overlap {
        /// Start of the lower segment.
        first: u64,
        /// Start of the segment that overlaps it.
        second: u64,
    },
    /// The segments need more than [`MAX_IMAGE_SIZE`] bytes.
    TooLarge,
    /// The entry point is not inside an executable segment.
    BadEntry(u64),
    /// Memory for the segment list could not be allocated.
    NoMemory,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ElfError::Truncated => f.write_str("file too short for an ELF header"),
            ElfError::BadMagic => f.write_str("not an ELF file (bad magic)"),
            ElfError::NotElf64 => f.write_str("not a 64-bit ELF file"),
            ElfError::NotLittleEndian => f.write_str("not a little-endian ELF file"),
            ElfError::BadHeader => f.write_str("unsupported ELF header"),
            ElfError::WrongMachine(m) => write!(f, "not an x86_64 program (e_machine {m})"),
            ElfError::NotExecutable(t) => {
                write!(
                    f,
                    "not a static executable (e_type {t}; PIE is not supported)"
                )
            }
            ElfError::BadProgramHeaders(why) => write!(f, "bad program headers: {why}"),
            ElfError::TooManySegments(n) => write!(f, "too many segments ({n})"),
            ElfError::Dynamic => f.write_str("dynamically linked programs are not supported"),
            ElfError::ThreadLocalStorage => f.write_str("thread-local storage is not supported"),
            ElfError::NoLoadSegments => f.write_str("no loadable segments"),
            ElfError::FileSizeExceedsMemSize { index } => {
                write!(f, "segment {index}: file size exceeds memory size")
            }
            ElfError::OutsideFile { index } => {
                write!(f, "segment {index}: data beyond end of file")
            }
            ElfError::OutsideUserSpace { index } => {
                write!(f, "segment {index}: address range outside user space")
            }
            ElfError::OverlapsStack { index } => write!(
                f,
                "segment {index}: reaches the user stack or its guard gap (above {STACK_RESERVED:#x})"
            ),
            ElfError::WritableAndExecutable { index } => {
                write!(f, "segment {index}: writable and executable (W^X)")
            }
            ElfError::Overlap { first, second } => {
                write!(f, "segments at {first:#x} and {second:#x} share a page")
            }
            ElfError::TooLarge => write!(f, "image larger than {} MiB", MAX_IMAGE_SIZE >> 20),
            ElfError::BadEntry(e) => write!(f, "entry point {e:#x} not in an executable segment"),
            ElfError::NoMemory => f.write_str("out of memory"),
        }
    }
}

type Header = FileHeader64<LittleEndian>;

/// Validates `bytes` as a user program; see the module docs for the rules.
pub fn parse_user_elf(bytes: &[u8]) -> Result<UserImage, ElfError> {
    let header = parse_header(bytes)?;
    let endian = LittleEndian;
    let phnum = header
        .phnum(endian, bytes)
        .map_err(|_| ElfError::BadProgramHeaders("e_phnum overflow without a valid section 0"))?
        as usize;
    if phnum > MAX_PROGRAM_HEADERS {
        return Err(ElfError::TooManySegments(phnum));
    }
    let phdrs = header.program_headers(endian, bytes).map_err(|_| {
        ElfError::BadProgramHeaders("table entry size, offset or length out of range")
    })?;

    let mut segments: Vec<Segment> = Vec::new();
    for (index, ph) in phdrs.iter().enumerate() {
        let p_type = ph.p_type(endian);
        if p_type == PT_INTERP || p_type == PT_DYNAMIC {
            return Err(ElfError::Dynamic);
        }
        if p_type == PT_TLS {
            return Err(ElfError::ThreadLocalStorage);
        }
        if p_type != PT_LOAD {
            continue; // PT_NOTE, PT_GNU_STACK, PT_PHDR, ...: nothing to map
        }
        let Some(seg) = check_segment(ph, index, bytes.len())? else {
            continue;
        };
        if segments.len() >= MAX_SEGMENTS {
            return Err(ElfError::TooManySegments(segments.len() + 1));
        }
        segments.try_reserve(1).map_err(|_| ElfError::NoMemory)?;
        segments.push(seg);
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadSegments);
    }

    segments.sort_unstable_by_key(|s| s.vaddr);
    let mut total: u64 = 0;
    for (i, s) in segments.iter().enumerate() {
        let pages = s.page_range();
        total = total
            .checked_add(pages.end - pages.start)
            .ok_or(ElfError::TooLarge)?;
        if let Some(next) = segments.get(i + 1) {
            if next.page_range().start < pages.end {
                return Err(ElfError::Overlap {
                    first: s.vaddr,
                    second: next.vaddr,
                });
            }
        }
    }
    if total > MAX_IMAGE_SIZE {
        return Err(ElfError::TooLarge);
    }

    let entry = header.e_entry(endian);
    if !segments
        .iter()
        .any(|s| s.flags.exec && s.range().contains(&entry))
    {
        return Err(ElfError::BadEntry(entry));
    }
    Ok(UserImage { entry, segments })
}

/// Checks the identification bytes, machine and type.
fn parse_header(bytes: &[u8]) -> Result<&Header, ElfError> {
    use object::elf::{ELFCLASS64, ELFDATA2LSB, ELFMAG, EV_CURRENT};
    if bytes.len() < core::mem::size_of::<Header>() {
        return Err(ElfError::Truncated);
    }
    let ident = bytes.get(..16).ok_or(ElfError::Truncated)?;
    if ident[..4] != ELFMAG {
        return Err(ElfError::BadMagic);
    }
    if ident[4] != ELFCLASS64.0 {
        return Err(ElfError::NotElf64);
    }
    if ident[5] != ELFDATA2LSB.0 {
        return Err(ElfError::NotLittleEndian);
    }
    if ident[6] != EV_CURRENT.0 {
        return Err(ElfError::BadHeader);
    }
    let header = Header::parse(bytes).map_err(|_| ElfError::BadHeader)?;
    let endian = LittleEndian;
    let machine = header.e_machine(endian);
    if machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(machine.0));
    }
    let e_type = header.e_type(endian);
    if e_type != ET_EXEC {
        return Err(ElfError::NotExecutable(e_type.0));
    }
    Ok(header)
}

/// Checks one `PT_LOAD`; `Ok(None)` for an empty one (nothing to map).
fn check_segment(
    ph: &ProgramHeader64<LittleEndian>,
    index: usize,
    file_len: usize,
) -> Result<Option<Segment>, ElfError> {
    let endian = LittleEndian;
    let (vaddr, memsz) = (ph.p_vaddr(endian), ph.p_memsz(endian));
    let (file_offset, filesz) = (ph.p_offset(endian), ph.p_filesz(endian));
    let flags = ph.p_flags(endian).0;
    let flags = SegmentFlags {
        read: flags & PF_R.0 != 0,
        write: flags & PF_W.0 != 0,
        exec: flags & PF_X.0 != 0,
    };
    if filesz > memsz {
        return Err(ElfError::FileSizeExceedsMemSize { index });
    }
    let file_end = file_offset
        .checked_add(filesz)
        .ok_or(ElfError::OutsideFile { index })?;
    if filesz > 0 && file_end > file_len as u64 {
        return Err(ElfError::OutsideFile { index });
    }
    if memsz == 0 {
        return Ok(None);
    }
    let end = vaddr
        .checked_add(memsz)
        .ok_or(ElfError::OutsideUserSpace { index })?;
    if vaddr < USER_BASE || end > USER_TOP {
        return Err(ElfError::OutsideUserSpace { index });
    }
    if end > STACK_RESERVED {
        return Err(ElfError::OverlapsStack { index });
    }
    if flags.write && flags.exec {
        return Err(ElfError::WritableAndExecutable { index });
    }
    Ok(Some(Segment {
        vaddr,
        memsz,
        file_offset,
        filesz,
        flags,
    }))
}

pub mod hostile;
#[cfg(test)]
mod tests;
