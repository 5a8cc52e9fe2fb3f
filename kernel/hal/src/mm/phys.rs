//! Access to physical memory through the higher-half direct map (HHDM).

use core::sync::atomic::{AtomicU64, Ordering};

static HHDM: AtomicU64 = AtomicU64::new(0xffff_8000_0000_0000);

/// Sets the HHDM offset (once, at boot, before anything reads physical memory).
pub fn set_hhdm(offset: u64) {
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
pub fn read_u32(pa: u64) -> u32 {
    // SAFETY: callers pass addresses of loader structures or RAM that the HHDM maps
    // (checked by the boot code); unaligned-safe read, no Rust object aliases it.
    unsafe { core::ptr::read_unaligned(to_virt(pa) as *const u32) }
}

/// Reads a u64 at physical `pa`.
pub fn read_u64(pa: u64) -> u64 {
    // SAFETY: as for `read_u32`.
    unsafe { core::ptr::read_unaligned(to_virt(pa) as *const u64) }
}

/// A byte view of physical memory that stays valid and unchanged for the kernel's
/// lifetime: loader structures, the initrd (its frames are never handed out).
pub fn bytes(pa: u64, len: usize) -> &'static [u8] {
    // SAFETY: callers pass ranges the HHDM maps and the frame allocator never hands
    // out (boot modules, loader data), so nothing writes them while this lives.
    unsafe { core::slice::from_raw_parts(to_virt(pa) as *const u8, len) }
}

/// Zeroes the 4 KiB frame at `pa`.
pub fn zero_frame(pa: u64) {
    // SAFETY: `pa` is a frame the caller owns (fresh from the frame allocator).
    unsafe { core::ptr::write_bytes(to_virt(pa) as *mut u8, 0, 4096) }
}

/// Mutable view of a frame the caller owns exclusively.
pub fn frame_mut(pa: u64) -> &'static mut [u8; 4096] {
    // SAFETY: the caller owns the frame (allocated, not shared), so no alias exists.
    unsafe { &mut *(to_virt(pa) as *mut [u8; 4096]) }
}
