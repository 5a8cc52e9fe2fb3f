//! Physical frame allocator: a bitmap over the boot memory map, with per-frame
//! reference counts so copy-on-write pages can be shared between address spaces.
//!
//! Bit set = frame in use. Allocation scans from a rotating hint; frames handed to
//! user space are zeroed (`alloc_zeroed`). Counts of total and free frames are kept
//! exactly, which is what the leak tests compare.
//!
//! Outside the HAL a frame is a [`Frame`]: owned, freed when dropped, shared for
//! copy-on-write by [`Frame::share`], read and written only through copies. The
//! functions taking a raw physical address are the HAL's own.

use super::phys;
use crate::boot::{BootInfo, RegionKind};
use crate::sync::IrqMutex;
use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};

struct Bitmap {
    words: &'static mut [u64],
    frames: u64,
    hint: usize,
}

static BITMAP: IrqMutex<Option<Bitmap>> = IrqMutex::ranked(None, crate::sync::order::FRAMES);
static REFS: spin::Once<&'static [AtomicU16]> = spin::Once::new();
static TOTAL: AtomicU64 = AtomicU64::new(0);
static FREE: AtomicU64 = AtomicU64::new(0);

/// A physical range the allocator must never hand out.
pub(crate) type Reserved = (u64, u64);

fn align_up(x: u64) -> u64 {
    x.saturating_add(4095) & !4095
}

/// Builds the allocator from the memory map, keeping `reserved` ranges (kernel image,
/// initrd, low 1 MiB, ...) out. The bitmap and refcounts are carved from the first
/// usable region below 4 GiB large enough to hold them.
pub(crate) fn init(info: &BootInfo, reserved: &[Reserved]) -> Result<(), &'static str> {
    let top = info
        .regions()
        .iter()
        .filter(|r| r.kind == RegionKind::Usable)
        .map(|r| r.end())
        .max()
        .ok_or("memory map has no usable RAM")?;
    let frames = top / 4096;
    let bitmap_bytes = align_up(frames.div_ceil(64) * 8);
    let refs_bytes = align_up(frames * 2);
    let need = bitmap_bytes + refs_bytes;
    let overlaps = |s: u64, e: u64| reserved.iter().any(|&(rs, re)| s < re && rs < e);
    let home = info
        .regions()
        .iter()
        .filter(|r| r.kind == RegionKind::Usable)
        .map(|r| (align_up(r.start.max(1 << 20)), r.end() & !4095))
        .find(|&(s, e)| e > s && e - s >= need && e <= (4 << 30) && !overlaps(s, s + need))
        .ok_or("no usable region can hold the frame bitmap")?;
    let base = home.0;
    // SAFETY: [base, base+need) is usable RAM below 4 GiB (mapped by every loader's
    // HHDM), overlaps no reserved range, and is marked used below so it is never
    // handed out: these slices own it for the kernel's lifetime.
    let (words, refs) = unsafe {
        let w = core::slice::from_raw_parts_mut(phys::to_virt(base) as *mut u64, (bitmap_bytes / 8) as usize);
        let r = core::slice::from_raw_parts_mut(phys::to_virt(base + bitmap_bytes) as *mut u16, frames as usize);
        r.fill(0);
        (w, &*(r as *mut [u16] as *const [AtomicU16]))
    };
    words.fill(!0);
    let mut bm = Bitmap { words, frames, hint: 0 };
    for r in info.regions().iter().filter(|r| r.kind == RegionKind::Usable) {
        let (s, e) = (align_up(r.start), r.end() & !4095);
        let mut f = s / 4096;
        while f < e / 4096 {
            bm.set(f, false);
            f += 1;
        }
    }
    let mut keep = |s: u64, e: u64| {
        let mut f = s / 4096;
        while f < align_up(e) / 4096 && f < frames {
            bm.set(f, true);
            f += 1;
        }
    };
    keep(0, 1 << 20);
    keep(base, base + need);
    for &(s, e) in reserved {
        keep(s, e);
    }
    let free = bm.count_free();
    TOTAL.store(free, Ordering::Relaxed);
    FREE.store(free, Ordering::Relaxed);
    REFS.call_once(|| refs);
    *BITMAP.lock() = Some(bm);
    Ok(())
}

impl Bitmap {
    fn set(&mut self, f: u64, used: bool) {
        let (w, b) = ((f / 64) as usize, f % 64);
        if used {
            self.words[w] |= 1 << b;
        } else {
            self.words[w] &= !(1 << b);
        }
    }

    fn get(&self, f: u64) -> bool {
        self.words[(f / 64) as usize] & (1 << (f % 64)) != 0
    }

    fn count_free(&self) -> u64 {
        // Bits past `frames` in the last word stay set (init fills with ones).
        self.words.iter().map(|w| w.count_zeros() as u64).sum()
    }

    fn alloc(&mut self) -> Option<u64> {
        let n = self.words.len();
        for i in 0..n {
            let w = (self.hint + i) % n;
            if self.words[w] != !0 {
                let b = (!self.words[w]).trailing_zeros() as u64;
                let f = w as u64 * 64 + b;
                if f >= self.frames {
                    continue;
                }
                self.words[w] |= 1 << b;
                self.hint = w;
                return Some(f * 4096);
            }
        }
        None
    }
}

/// Allocates one frame (contents undefined) with reference count 1.
pub(crate) fn alloc() -> Option<u64> {
    let pa = BITMAP.lock().as_mut()?.alloc()?;
    FREE.fetch_sub(1, Ordering::Relaxed);
    refs()[(pa / 4096) as usize].store(1, Ordering::Relaxed);
    Some(pa)
}

/// Allocates one zeroed frame: every frame that can reach user space comes from here.
pub(crate) fn alloc_zeroed() -> Option<u64> {
    let pa = alloc()?;
    phys::zero_frame(pa);
    Some(pa)
}

fn refs() -> &'static [AtomicU16] {
    REFS.get().expect("frame allocator initialised")
}

/// Adds a reference to an allocated frame (a copy-on-write share).
pub(crate) fn share(pa: u64) {
    refs()[(pa / 4096) as usize].fetch_add(1, Ordering::AcqRel);
}

/// Current reference count of a frame.
pub(crate) fn ref_count(pa: u64) -> u16 {
    refs()[(pa / 4096) as usize].load(Ordering::Acquire)
}

/// Drops a reference; the frame returns to the pool when the last one goes.
/// A free of a frame that is not allocated is reported and ignored.
pub(crate) fn free(pa: u64) {
    let f = pa / 4096;
    let Some(r) = refs().get(f as usize) else {
        log::error!("frame free: {pa:#x} is beyond physical memory");
        return;
    };
    let prev = r.fetch_sub(1, Ordering::AcqRel);
    if prev == 0 {
        r.store(0, Ordering::Relaxed);
        log::error!("frame free: {pa:#x} was not allocated (double free)");
        return;
    }
    if prev > 1 {
        return;
    }
    let mut g = BITMAP.lock();
    let bm = g.as_mut().expect("frame allocator initialised");
    if !bm.get(f) {
        log::error!("frame free: {pa:#x} already free");
        return;
    }
    bm.set(f, false);
    FREE.fetch_add(1, Ordering::Relaxed);
}

/// Frames the allocator manages.
pub fn total() -> u64 {
    TOTAL.load(Ordering::Relaxed)
}

/// Frames free right now.
pub fn free_count() -> u64 {
    FREE.load(Ordering::Relaxed)
}

/// One reference to an allocated physical frame. Dropping it drops the reference;
/// the frame returns to the pool with the last one. The only ways to get one are to
/// allocate it or to share one you hold, so safe code can neither name a frame it
/// does not own nor free one twice.
pub struct Frame {
    pa: u64,
}

impl Frame {
    /// Allocates a frame whose contents are whatever was there before.
    pub fn alloc() -> Option<Frame> {
        alloc().map(|pa| Frame { pa })
    }

    /// Allocates a zeroed frame.
    pub fn alloc_zeroed() -> Option<Frame> {
        alloc_zeroed().map(|pa| Frame { pa })
    }

    /// Another reference to the same frame (copy-on-write sharing).
    pub fn share(&self) -> Frame {
        share(self.pa);
        Frame { pa: self.pa }
    }

    /// The frame's physical address (to compare or print; it grants no access).
    pub fn pa(&self) -> u64 {
        self.pa
    }

    /// How many references the frame has.
    pub fn ref_count(&self) -> u16 {
        ref_count(self.pa)
    }

    /// Copies `buf.len()` bytes at `offset` in the frame into `buf`. Panics if the
    /// range leaves the frame.
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        assert!(offset.checked_add(buf.len()).is_some_and(|end| end <= 4096), "read beyond the frame");
        super::phys::copy_from_frame(self.pa, offset, buf);
    }

    /// Copies `data` into the frame at `offset`. Panics if the range leaves the frame.
    pub fn write(&self, offset: usize, data: &[u8]) {
        assert!(offset.checked_add(data.len()).is_some_and(|end| end <= 4096), "write beyond the frame");
        super::phys::copy_to_frame(self.pa, offset, data);
    }

    /// Reads the little-endian u64 at `offset`.
    pub fn read_u64(&self, offset: usize) -> u64 {
        let mut b = [0; 8];
        self.read(offset, &mut b);
        u64::from_le_bytes(b)
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        free(self.pa);
    }
}

impl core::fmt::Debug for Frame {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Frame({:#x})", self.pa)
    }
}
