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

/// Scratch kernel range for in-kernel tests ([`paging::ScratchMapping`]).
pub const SCRATCH_START: u64 = 0xffff_d000_0000_0000;
/// End of the scratch range.
pub const SCRATCH_END: u64 = STACKS_START;

/// Physical ranges the boot handed over that the HAL keeps for the kernel's lifetime.
#[derive(Clone, Copy, Default)]
pub(crate) struct BootRanges {
    /// The initrd, reserved from the frame allocator.
    pub initrd: Option<(u64, u64)>,
    /// The framebuffer (physical address, bytes).
    pub framebuffer: Option<(u64, u64)>,
    /// The ACPI RSDP the loader reported.
    pub rsdp: Option<u64>,
}

static BOOT_RANGES: spin::Once<BootRanges> = spin::Once::new();
static FB_TAKEN: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

pub(crate) fn boot_ranges() -> BootRanges {
    BOOT_RANGES.get().copied().unwrap_or_default()
}

/// Brings up memory management, once, from the loader's handover: the frame
/// allocator (keeping the kernel image, the initrd and the low 1 MiB out of it), the
/// kernel's own page tables (CR3 switches to them) and the heap.
pub fn init(info: &crate::boot::BootInfo) -> Result<(), &'static str> {
    if BOOT_RANGES.is_completed() {
        return Err("memory management is initialised once");
    }
    let [_, _, rw] = paging::kernel_sections();
    let image_end = info.kernel_phys + (rw.1 - info.kernel_virt);
    let mut reserved = [(info.kernel_phys, image_end), (0, 0)];
    // The initrd must be RAM the loader described, outside the kernel image.
    let initrd = info.initrd.filter(|&(s, len)| {
        let end = s.saturating_add(len);
        let in_map = info.regions().iter().any(|r| r.kind.is_ram_like() && r.start <= s && end <= r.end());
        in_map && (end <= info.kernel_phys || s >= image_end)
    });
    if let Some((s, len)) = initrd {
        reserved[1] = (s, s.saturating_add(len));
    }
    BOOT_RANGES.call_once(|| BootRanges {
        initrd,
        framebuffer: info.framebuffer.map(|f| (f.phys, f.pitch as u64 * f.height as u64)),
        rsdp: info.rsdp,
    });
    frame::init(info, &reserved)?;
    paging::init_kernel(info)?;
    heap::init()
}

/// The boot framebuffer's pixels, through the HHDM (the framebuffer region is mapped
/// there like RAM). `pa` and `len_px` must describe the framebuffer the loader
/// reported; it is handed out once.
pub fn fb_pixels(pa: u64, len_px: usize) -> Result<&'static mut [u32], &'static str> {
    if !pa.is_multiple_of(4) || pa == 0 {
        return Err("framebuffer address is not usable");
    }
    let end = pa.checked_add(len_px as u64 * 4).ok_or("framebuffer size overflows")?;
    match boot_ranges().framebuffer {
        Some((fb, bytes)) if fb == pa && end <= fb.saturating_add(bytes) => {}
        _ => return Err("not the framebuffer the loader reported"),
    }
    if FB_TAKEN.swap(true, core::sync::atomic::Ordering::AcqRel) {
        return Err("the framebuffer is already in use");
    }
    for va in (phys::to_virt(pa)..phys::to_virt(end)).step_by(PAGE as usize) {
        if paging::with_kernel(|t| t.translate(va)).is_none() {
            return Err("framebuffer is not covered by the direct map");
        }
    }
    // SAFETY: the range is mapped (checked above), belongs to the display device, and
    // is handed out exactly once (the console owns it from here on).
    Ok(unsafe { core::slice::from_raw_parts_mut(phys::to_virt(pa) as *mut u32, len_px) })
}
