//! Memory management: physical frames, page tables, the kernel heap, kernel stacks.
//!
//! Virtual layout (see docs/architecture.md for the table):
//! user below 0x0000_8000_0000_0000; HHDM at 0xffff_8000_0000_0000; heap at
//! 0xffff_c000_0000_0000; guarded stacks at 0xffff_e000_0000_0000; MMIO at
//! 0xffff_f000_0000_0000; the kernel image at 0xffff_ffff_8000_0000.

pub mod firmware;
pub mod frame;
pub mod heap;
pub mod paging;
pub mod phys;
pub mod stack;
pub mod tlb;
pub mod uspace;

/// Kernel heap region start.
pub const HEAP_START: u64 = 0xffff_c000_0000_0000;
/// Kernel heap maximum size.
pub const HEAP_MAX: u64 = 64 << 30;
/// Guarded kernel stack region start.
pub const STACKS_START: u64 = 0xffff_e000_0000_0000;
/// MMIO mapping region start.
pub const MMIO_START: u64 = 0xffff_f000_0000_0000;
/// Page size.
pub const PAGE: u64 = 4096;

/// The boot framebuffer's pixels, through the HHDM (the framebuffer region is mapped
/// there like RAM).
pub fn fb_pixels(pa: u64, len_px: usize) -> Result<&'static mut [u32], &'static str> {
    if pa % 4 != 0 || pa == 0 {
        return Err("framebuffer address is not usable");
    }
    let end = pa.checked_add(len_px as u64 * 4).ok_or("framebuffer size overflows")?;
    for va in (phys::to_virt(pa)..phys::to_virt(end)).step_by(PAGE as usize) {
        if paging::with_kernel(|t| t.translate(va)).is_none() {
            return Err("framebuffer is not covered by the direct map");
        }
    }
    // SAFETY: the range is mapped (checked above), belongs to the display device, and
    // is handed out exactly once (the console owns it from here on).
    Ok(unsafe { core::slice::from_raw_parts_mut(phys::to_virt(pa) as *mut u32, len_px) })
}
