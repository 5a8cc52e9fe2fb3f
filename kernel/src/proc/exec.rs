//! Loading a program: an ELF image from the initrd (checked by `kcore::elf`, which
//! uses the `object` crate) into an empty address space, and the start-up stack
//! with the arguments.
//!
//! User stack: `STACK_PAGES` pages ending at `STACK_TOP`, with nothing mapped in the
//! `STACK_GUARD_PAGES` below it (the guard gap: an overflow is a page fault, the
//! process dies with SIGSEGV). `kcore::elf` refuses any segment that reaches into the
//! stack or its gap, so mapping the stack cannot collide with the program. The
//! argument strings sit at the top, under them the array of `abi::UserStr` that
//! `rsi` points to at entry; `rdi` is the count.

use crate::mm::uspace::{AddressSpace, Perm};
use crate::mm::PAGE;
use abi::{Errno, UserStr, MAX_ARGS, MAX_ARG_BYTES, USER_STR_SIZE};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use kcore::elf::{parse_user_elf, ElfError};
pub use kcore::elf::{STACK_PAGES, STACK_TOP};

/// Images refused so far, each with its reason logged (tests count them).
pub static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Where a loaded program starts.
pub struct Start {
    pub entry: u64,
    pub rsp: u64,
    pub argc: u64,
    pub argv: u64,
}

/// Maps `image`'s segments and a stack with `argv` into `space` (which must be empty).
/// A malformed or hostile image is `NOEXEC` (with the reason logged), never a panic.
pub fn load(space: &mut AddressSpace, image: &[u8], argv: &[&[u8]]) -> Result<Start, Errno> {
    if argv.len() > MAX_ARGS || argv.iter().map(|a| a.len()).sum::<usize>() > MAX_ARG_BYTES {
        return Err(Errno::INVAL);
    }
    let img = parse_user_elf(image).map_err(|e| {
        log::warn!("exec: rejected ELF: {e}");
        REFUSED.fetch_add(1, Ordering::Relaxed);
        match e {
            ElfError::NoMemory => Errno::NOMEM,
            _ => Errno::NOEXEC,
        }
    })?;
    for seg in &img.segments {
        let perm = match (seg.flags.write, seg.flags.exec) {
            (true, _) => Perm::RW,
            (false, true) => Perm::RX,
            (false, false) => Perm::R,
        };
        let data = seg.file_data(image);
        for page in seg.page_range().step_by(PAGE as usize) {
            let new = space.map_zeroed(page, perm)?;
            // The part of the file that lands in this page; the rest stays zero (bss).
            let start = page.max(seg.vaddr);
            let end = (page + PAGE).min(seg.vaddr + data.len() as u64);
            if start < end {
                let src = &data[(start - seg.vaddr) as usize..(end - seg.vaddr) as usize];
                let off = (start - page) as usize;
                new.write(off, src);
            }
        }
    }
    for i in 0..STACK_PAGES {
        // The ELF checks keep segments off the stack, so only memory can run out here.
        space.map_zeroed(STACK_TOP - (i + 1) * PAGE, Perm::RW).inspect_err(|e| log::warn!("exec: mapping the stack: {e}"))?;
    }
    // Strings at the top, the UserStr array below them, 16-byte aligned.
    let mut sp = STACK_TOP;
    let mut strs = Vec::with_capacity(argv.len());
    for a in argv {
        sp -= a.len() as u64;
        space.copy_out(sp, a)?;
        strs.push(UserStr { ptr: sp, len: a.len() as u64 });
    }
    sp &= !15;
    sp -= (strs.len() * USER_STR_SIZE) as u64;
    sp &= !15;
    let argv_at = sp;
    let mut raw = Vec::with_capacity(strs.len() * USER_STR_SIZE);
    for s in &strs {
        raw.extend_from_slice(&s.ptr.to_le_bytes());
        raw.extend_from_slice(&s.len.to_le_bytes());
    }
    space.copy_out(argv_at, &raw)?;
    Ok(Start { entry: img.entry, rsp: argv_at - 16, argc: argv.len() as u64, argv: argv_at })
}
