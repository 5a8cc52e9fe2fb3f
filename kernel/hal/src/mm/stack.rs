//! Kernel stacks with an unmapped guard page below each, so an overflow faults
//! instead of silently corrupting its neighbour.

use super::{frame, paging, PAGE, STACKS_START};
use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::structures::paging::PageTableFlags as F;

/// Virtual space per stack slot (stack + guard + gap).
const SLOT: u64 = 1 << 20;
static NEXT_SLOT: AtomicU64 = AtomicU64::new(0);

/// A kernel stack: `[bottom, top)` mapped, the page below `bottom` never mapped.
/// Only `alloc` makes one (stacks are never freed), so code that switches to a
/// `KernelStack` knows it is a real, mapped stack.
#[derive(Clone, Copy, Debug)]
pub struct KernelStack {
    bottom: u64,
    top: u64,
}

impl KernelStack {
    /// Lowest mapped address.
    pub fn bottom(&self) -> u64 {
        self.bottom
    }

    /// One past the highest mapped address (the initial stack pointer).
    pub fn top(&self) -> u64 {
        self.top
    }

    /// Address of the guard page.
    pub fn guard(&self) -> u64 {
        self.bottom - PAGE
    }
}

/// Allocates a stack of `pages` pages (at most 255) with a guard page below it.
pub fn alloc(pages: u64) -> Option<KernelStack> {
    assert!(pages > 0 && pages < SLOT / PAGE);
    let slot = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
    let top = STACKS_START + (slot + 1) * SLOT;
    let bottom = top - pages * PAGE;
    let flags = F::PRESENT | F::WRITABLE | F::NO_EXECUTE;
    for i in 0..pages {
        let pa = frame::alloc_zeroed()?;
        paging::with_kernel(|t| t.map(bottom + i * PAGE, pa, flags, F::PRESENT | F::WRITABLE)).ok()?;
    }
    Some(KernelStack { bottom, top })
}
