//! The kernel heap: `buddy_system_allocator` over a region that grows on demand.
//!
//! When the buddy heap cannot satisfy a request, its rescue hook maps more frames at
//! the end of the heap region and adds them. Allocation runs with interrupts off,
//! because interrupt handlers wake tasks and a wake may allocate.

use super::{frame, paging, HEAP_MAX, HEAP_START, PAGE};
use crate::arch::irq;
use buddy_system_allocator::{Heap, LockedHeapWithRescue};
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::structures::paging::PageTableFlags as F;

/// Initial heap size.
const INITIAL: u64 = 8 << 20;
/// Minimum growth step.
const GROW_STEP: u64 = 4 << 20;

static MAPPED: AtomicU64 = AtomicU64::new(0);

struct KernelHeap(LockedHeapWithRescue<33>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(LockedHeapWithRescue::new(grow));

// SAFETY: delegates to a correct allocator; only adds interrupt masking around it.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let was = irq::save_disable();
        // SAFETY: forwarded contract.
        let p = unsafe { self.0.alloc(layout) };
        irq::restore(was);
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let was = irq::save_disable();
        // SAFETY: forwarded contract.
        unsafe { self.0.dealloc(ptr, layout) };
        irq::restore(was);
    }
}

/// Maps `bytes` more of heap at its end; returns the new range.
fn map_more(bytes: u64) -> Option<(u64, u64)> {
    let start = HEAP_START + MAPPED.load(Ordering::Relaxed);
    let end = start + bytes;
    if end > HEAP_START + HEAP_MAX {
        return None;
    }
    let flags = F::PRESENT | F::WRITABLE | F::NO_EXECUTE;
    let mut va = start;
    while va < end {
        let pa = frame::alloc()?;
        if paging::with_kernel(|t| t.map(va, pa, flags, F::PRESENT | F::WRITABLE)).is_err() {
            frame::free(pa);
            return None;
        }
        va += PAGE;
    }
    MAPPED.store(end - HEAP_START, Ordering::Relaxed);
    Some((start, end))
}

/// Rescue hook: grow by at least the request (rounded to the buddy order) and retry.
fn grow(heap: &mut Heap<33>, layout: &Layout) {
    let need = (layout.size().max(layout.align()) as u64).next_power_of_two() * 2;
    let bytes = need.max(GROW_STEP).next_multiple_of(PAGE);
    if let Some((s, e)) = map_more(bytes) {
        // SAFETY: [s, e) was just mapped RW and belongs to nothing else.
        unsafe { heap.add_to_heap(s as usize, e as usize) };
    }
}

/// Maps the initial heap. Needs the frame allocator and the kernel tables.
pub(crate) fn init() -> Result<(), &'static str> {
    let (s, e) = map_more(INITIAL).ok_or("out of memory for the initial kernel heap")?;
    // SAFETY: as in `grow`.
    unsafe { HEAP.0.lock().init(s as usize, (e - s) as usize) };
    Ok(())
}

/// Bytes of heap currently mapped.
pub fn mapped_bytes() -> u64 {
    MAPPED.load(Ordering::Relaxed)
}
