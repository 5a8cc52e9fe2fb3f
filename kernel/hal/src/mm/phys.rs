//! Access to physical memory through the higher-half direct map (HHDM).
//!
//! Everything here that takes a physical address is the HAL's own: the kernel above
//! reaches physical memory through `frame::Frame`, `uspace::AddressSpace` copies and
//! the boot-time views below ([`initrd`]).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static HHDM: AtomicU64 = AtomicU64::new(0xffff_8000_0000_0000);
static HHDM_SET: AtomicBool = AtomicBool::new(false);

/// Sets the HHDM offset: once, by the boot entry, before anything reads physical
/// memory. A second call panics (moving the direct map under running code would
/// make every physical access wrong).
pub fn set_hhdm(offset: u64) {
    assert!(!HHDM_SET.swap(true, Ordering::Relaxed), "the HHDM offset is set once, at boot");
    HHDM.store(offset, Ordering::Relaxed);
}

/// The HHDM offset.
pub fn hhdm() -> u64 {
    HHDM.load(Ordering::Relaxed)
}

/// Virtual address of physical `pa` in the HHDM.
pub fn to_virt(pa: u64) -> u64 {
    pa + hhdm()
}

/// Reads a u32 at physical `pa`.
pub(crate) fn read_u32(pa: u64) -> u32 {
    // SAFETY: callers pass addresses of loader structures or RAM that the HHDM maps
    // (checked by the boot code); unaligned-safe read, no Rust object aliases it.
    unsafe { core::ptr::read_unaligned(to_virt(pa) as *const u32) }
}

/// Reads a u64 at physical `pa`.
pub(crate) fn read_u64(pa: u64) -> u64 {
    // SAFETY: as for `read_u32`.
    unsafe { core::ptr::read_unaligned(to_virt(pa) as *const u64) }
}

/// A byte view of physical memory that stays valid and unchanged for the kernel's
/// lifetime: loader structures, the initrd (its frames are never handed out).
pub(crate) fn bytes(pa: u64, len: usize) -> &'static [u8] {
    // SAFETY: callers pass ranges the HHDM maps and the frame allocator never hands
    // out (boot modules, loader data), so nothing writes them while this lives.
    unsafe { core::slice::from_raw_parts(to_virt(pa) as *const u8, len) }
}

/// Zeroes the 4 KiB frame at `pa`.
pub(crate) fn zero_frame(pa: u64) {
    // SAFETY: `pa` is a frame the caller owns (fresh from the frame allocator).
    unsafe { core::ptr::write_bytes(to_virt(pa) as *mut u8, 0, 4096) }
}

/// Mutable view of a frame the caller owns exclusively.
pub(crate) fn frame_mut(pa: u64) -> &'static mut [u8; 4096] {
    // SAFETY: the caller owns the frame (allocated, not shared), so no alias exists.
    unsafe { &mut *(to_virt(pa) as *mut [u8; 4096]) }
}

/// Copies bytes out of the allocated frame at `pa` (`offset + buf.len() <= 4096`).
pub(crate) fn copy_from_frame(pa: u64, offset: usize, buf: &mut [u8]) {
    debug_assert!(offset + buf.len() <= 4096);
    // SAFETY: the caller holds a reference to the frame (a `Frame` or a mapping in an
    // address space it borrows), so the frame is allocated RAM the HHDM maps. No
    // Rust reference covers frame contents (they are only ever copied in and out,
    // and ring 3 may write them at any time), so a raw copy aliases nothing.
    unsafe { core::ptr::copy_nonoverlapping((to_virt(pa) + offset as u64) as *const u8, buf.as_mut_ptr(), buf.len()) }
}

/// Copies bytes into the allocated frame at `pa` (`offset + data.len() <= 4096`).
pub(crate) fn copy_to_frame(pa: u64, offset: usize, data: &[u8]) {
    debug_assert!(offset + data.len() <= 4096);
    // SAFETY: as for `copy_from_frame`.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), (to_virt(pa) + offset as u64) as *mut u8, data.len()) }
}

/// The initrd's bytes, if the loader passed one. The range was checked and reserved
/// by `mm::init` (never handed out by the frame allocator), so it is immutable for
/// the kernel's lifetime.
pub fn initrd() -> Option<&'static [u8]> {
    super::boot_ranges().initrd.map(|(pa, len)| bytes(pa, len as usize))
}
