//! 4-level page tables: the kernel's own tables (built at boot from `BootInfo`) and
//! the primitives address spaces are made of (map, unmap, translate, W^X audit).
//!
//! Every kernel-half PML4 entry (256..512) is allocated at boot and never changes, so
//! a process address space shares the kernel half by copying those 256 entries once.

use super::{frame, phys, PAGE};
use crate::boot::BootInfo;
use crate::sync::IrqMutex;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::mapper::{MapToError, TranslateResult};
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as F, PhysFrame, Size2MiB, Size4KiB,
    Translate,
};
use x86_64::{PhysAddr, VirtAddr};


/// Frames for page tables come zeroed from the frame allocator.
pub struct TableFrames;

// SAFETY: returns frames that are allocated (owned by the caller from now on) and zeroed.
unsafe impl FrameAllocator<Size4KiB> for TableFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame> {
        frame::alloc_zeroed().map(|pa| PhysFrame::containing_address(PhysAddr::new(pa)))
    }
}

/// Why a mapping failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    OutOfMemory,
    AlreadyMapped,
    HugePageInTheWay,
    /// A scratch mapping asked for outside the scratch range.
    OutsideScratch,
}

impl<S: x86_64::structures::paging::PageSize> From<MapToError<S>> for MapError {
    fn from(e: MapToError<S>) -> Self {
        match e {
            MapToError::FrameAllocationFailed => MapError::OutOfMemory,
            MapToError::PageAlreadyMapped(_) => MapError::AlreadyMapped,
            MapToError::ParentEntryHugePage => MapError::HugePageInTheWay,
        }
    }
}

/// A page-table root (physical address of a PML4) and operations on it. The caller
/// guarantees exclusive access (each root is behind a lock).
pub struct Tables {
    pml4: u64,
}

impl Tables {
    /// Wraps an existing PML4.
    pub(crate) const fn from_root(pml4: u64) -> Tables {
        Tables { pml4 }
    }

    /// Physical address of the PML4 (for CR3).
    pub fn root(&self) -> u64 {
        self.pml4
    }

    fn mapper(&mut self) -> OffsetPageTable<'_> {
        // SAFETY: `pml4` is a page-table root reachable through the HHDM; `&mut self`
        // (the caller holds this root's lock) makes this the only live reference.
        unsafe {
            let table = &mut *(phys::to_virt(self.pml4) as *mut PageTable);
            OffsetPageTable::new(table, VirtAddr::new(phys::hhdm()))
        }
    }

    /// The PML4 itself, for walking and for copying the kernel half.
    pub(crate) fn pml4(&mut self) -> &mut PageTable {
        // SAFETY: as for `mapper`.
        unsafe { &mut *(phys::to_virt(self.pml4) as *mut PageTable) }
    }

    /// Maps one 4 KiB page. Intermediate tables get `parent` flags.
    pub(crate) fn map(&mut self, va: u64, pa: u64, flags: F, parent: F) -> Result<(), MapError> {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
        let fr = PhysFrame::containing_address(PhysAddr::new(pa));
        // SAFETY: the caller owns `pa` (or maps device/loader memory on purpose) and
        // `va` is unmapped (map_to checks), so no existing reference is invalidated.
        let flush = unsafe { self.mapper().map_to_with_table_flags(page, fr, flags, parent, &mut TableFrames) }?;
        flush.ignore(); // a new mapping has no stale TLB entry
        Ok(())
    }

    fn map_2m(&mut self, va: u64, pa: u64, flags: F) -> Result<(), MapError> {
        let page = Page::<Size2MiB>::containing_address(VirtAddr::new(va));
        let fr = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(pa));
        // SAFETY: as for `map`; only used while building the HHDM.
        let flush = unsafe {
            self.mapper().map_to_with_table_flags(page, fr, flags, F::PRESENT | F::WRITABLE, &mut TableFrames)
        }?;
        flush.ignore();
        Ok(())
    }

    /// Unmaps one 4 KiB page, returning the frame it mapped. Flushes this CPU's TLB
    /// entry; other CPUs need a shootdown if they may have used it.
    pub(crate) fn unmap(&mut self, va: u64) -> Option<u64> {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
        let (fr, flush) = self.mapper().unmap(page).ok()?;
        flush.flush();
        Some(fr.start_address().as_u64())
    }

    /// Physical address and flags `va` maps to, if any.
    pub fn translate(&mut self, va: u64) -> Option<(u64, F)> {
        match self.mapper().translate(VirtAddr::new(va)) {
            TranslateResult::Mapped { frame, offset, flags } => Some((frame.start_address().as_u64() + offset, flags)),
            _ => None,
        }
    }
}

/// The kernel's page tables (the root every address space copies its upper half from).
static KERNEL: IrqMutex<Tables> = IrqMutex::ranked(Tables::from_root(0), crate::sync::order::KERNEL_TABLES);

/// Runs `f` with the kernel tables locked.
pub(crate) fn with_kernel<R>(f: impl FnOnce(&mut Tables) -> R) -> R {
    f(&mut KERNEL.lock())
}

/// Physical address and flags the kernel tables map `va` to, if any.
pub fn translate_kernel(va: u64) -> Option<(u64, F)> {
    with_kernel(|t| t.translate(va))
}

/// A frame mapped into the kernel's scratch range (`mm::SCRATCH_START..SCRATCH_END`),
/// for in-kernel tests of paging and TLB shootdown. The mapping holds the frame;
/// unmapping (or dropping) removes it from every CPU's TLB before the frame goes back.
pub struct ScratchMapping {
    va: u64,
    frame: Option<super::frame::Frame>,
}

impl ScratchMapping {
    /// Maps `frame` at the page `va` of the scratch range, read-only or writable (never
    /// executable).
    pub fn new(va: u64, frame: super::frame::Frame, writable: bool) -> Result<ScratchMapping, MapError> {
        if !va.is_multiple_of(PAGE) || !(super::SCRATCH_START..super::SCRATCH_END).contains(&va) {
            return Err(MapError::OutsideScratch);
        }
        let flags = if writable { F::PRESENT | F::WRITABLE | F::NO_EXECUTE } else { F::PRESENT | F::NO_EXECUTE };
        with_kernel(|t| t.map(va, frame.pa(), flags, F::PRESENT | F::WRITABLE))?;
        Ok(ScratchMapping { va, frame: Some(frame) })
    }

    /// The mapped virtual address.
    pub fn va(&self) -> u64 {
        self.va
    }

    /// Unmaps the page, shoots it down on every CPU and gives the frame back. Err
    /// (the frame stays mapped) if the shootdown cannot run (interrupts disabled).
    pub fn unmap(mut self) -> Result<super::frame::Frame, &'static str> {
        self.remove()?;
        Ok(self.frame.take().expect("frame held until unmapped"))
    }

    fn remove(&mut self) -> Result<(), &'static str> {
        if !crate::arch::irq::enabled() {
            return Err("unmapping a scratch page needs interrupts on (TLB shootdown)");
        }
        with_kernel(|t| t.unmap(self.va));
        super::tlb::shootdown(self.va)
    }
}

impl Drop for ScratchMapping {
    fn drop(&mut self) {
        if self.frame.is_some() && self.remove().is_err() {
            // Some CPU may still reach the frame through its TLB: leak it.
            core::mem::forget(self.frame.take());
        }
    }
}

/// Physical address of the kernel PML4.
pub fn kernel_root() -> u64 {
    KERNEL.lock().root()
}

extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __kernel_end: u8;
}

/// Virtual bounds of the kernel image sections: (text, rodata, data+bss).
pub fn kernel_sections() -> [(u64, u64); 3] {
    #[allow(unused_unsafe)]
    // SAFETY: only the addresses of linker-script symbols are taken, never read.
    unsafe {
        [
            (&raw const __text_start as u64, &raw const __text_end as u64),
            (&raw const __rodata_start as u64, &raw const __rodata_end as u64),
            (&raw const __data_start as u64, &raw const __kernel_end as u64),
        ]
    }
}

/// Merges physical ranges (4 KiB-rounded) into sorted disjoint ones.
fn merge_ranges(ranges: &mut [(u64, u64)], n: usize) -> usize {
    let r = &mut ranges[..n];
    r.sort_unstable_by_key(|x| x.0);
    let mut out = 0;
    for i in 0..n {
        let (s, e) = r[i];
        if out > 0 && s <= r[out - 1].1 {
            r[out - 1].1 = r[out - 1].1.max(e);
        } else {
            r[out] = (s, e);
            out += 1;
        }
    }
    out
}

/// Builds the kernel's tables (HHDM over RAM with 2 MiB pages where possible, the
/// image by section permissions, every kernel-half PDPT preallocated) and switches
/// CR3 to them. The loader's identity map is gone afterwards.
pub(crate) fn init_kernel(info: &BootInfo) -> Result<(), &'static str> {
    let root = frame::alloc_zeroed().ok_or("out of memory for the kernel PML4")?;
    let mut t = Tables::from_root(root);
    for i in 256..512 {
        let pdpt = frame::alloc_zeroed().ok_or("out of memory for kernel PDPTs")?;
        t.pml4()[i].set_addr(PhysAddr::new(pdpt), F::PRESENT | F::WRITABLE);
    }
    // HHDM: RAM-like regions plus the low 1 MiB (firmware tables, AP trampoline).
    let mut ranges = [(0u64, 0u64); crate::boot::MAX_REGIONS + 1];
    let mut n = 0;
    ranges[n] = (0, 1 << 20);
    n += 1;
    for r in info.regions().iter().filter(|r| r.kind.is_ram_like()) {
        ranges[n] = (r.start & !4095, (r.end() + 4095) & !4095);
        n += 1;
    }
    let n = merge_ranges(&mut ranges, n);
    let hhdm = phys::hhdm();
    let data = F::PRESENT | F::WRITABLE | F::NO_EXECUTE;
    for &(s, e) in &ranges[..n] {
        let mut pa = s;
        while pa < e {
            if pa % (2 << 20) == 0 && e - pa >= (2 << 20) {
                t.map_2m(hhdm + pa, pa, data | F::HUGE_PAGE).map_err(|_| "mapping the HHDM failed")?;
                pa += 2 << 20;
            } else {
                t.map(hhdm + pa, pa, data, F::PRESENT | F::WRITABLE).map_err(|_| "mapping the HHDM failed")?;
                pa += PAGE;
            }
        }
    }
    let [text, rodata, rw] = kernel_sections();
    let to_phys = |va: u64| va - info.kernel_virt + info.kernel_phys;
    for (range, flags) in [(text, F::PRESENT), (rodata, F::PRESENT | F::NO_EXECUTE), (rw, data)] {
        let mut va = range.0;
        while va < range.1 {
            t.map(va, to_phys(va), flags, F::PRESENT | F::WRITABLE).map_err(|_| "mapping the kernel image failed")?;
            va += PAGE;
        }
    }
    *KERNEL.lock() = Tables::from_root(root);
    // SAFETY: the new tables map everything the kernel uses from here on: its image
    // (same virtual addresses), the current stack (kernel .bss on PVH, HHDM on
    // Limine), and all RAM through the same HHDM offset.
    unsafe { Cr3::write(PhysFrame::containing_address(PhysAddr::new(root)), Cr3Flags::empty()) };
    Ok(())
}

/// Counts leaf mappings in the kernel half that are both writable and executable.
pub fn wx_violations() -> usize {
    let k = KERNEL.lock();
    let hhdm = phys::hhdm();
    let mut bad = 0;
    let walk = |table_pa: u64| -> &'static PageTable {
        // SAFETY: reading a page table through the HHDM while the kernel lock is held.
        unsafe { &*((table_pa + hhdm) as *const PageTable) }
    };
    let pml4 = walk(k.root());
    for e4 in pml4.iter().skip(256).filter(|e| e.flags().contains(F::PRESENT)) {
        for e3 in walk(e4.addr().as_u64()).iter().filter(|e| e.flags().contains(F::PRESENT)) {
            if e3.flags().contains(F::HUGE_PAGE) {
                bad += is_wx(e3.flags()) as usize;
                continue;
            }
            for e2 in walk(e3.addr().as_u64()).iter().filter(|e| e.flags().contains(F::PRESENT)) {
                if e2.flags().contains(F::HUGE_PAGE) {
                    bad += is_wx(e2.flags()) as usize;
                    continue;
                }
                for e1 in walk(e2.addr().as_u64()).iter().filter(|e| e.flags().contains(F::PRESENT)) {
                    bad += is_wx(e1.flags()) as usize;
                }
            }
        }
    }
    bad
}

fn is_wx(f: F) -> bool {
    f.contains(F::WRITABLE) && !f.contains(F::NO_EXECUTE)
}

/// Maps `len` bytes of device memory at physical `pa` uncached, returning its
/// virtual address (in the MMIO region; never unmapped).
pub(crate) fn map_mmio(pa: u64, len: u64) -> Result<u64, MapError> {
    use core::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(super::MMIO_START);
    let first = pa & !4095;
    let pages = (pa + len - first).div_ceil(PAGE);
    let base = NEXT.fetch_add((pages + 1) * PAGE, Ordering::Relaxed);
    let flags = F::PRESENT | F::WRITABLE | F::NO_EXECUTE | F::NO_CACHE | F::WRITE_THROUGH;
    with_kernel(|t| {
        for i in 0..pages {
            t.map(base + i * PAGE, first + i * PAGE, flags, F::PRESENT | F::WRITABLE)?;
        }
        Ok(base + (pa - first))
    })
}
