//! User address spaces: one page-table root per process, the kernel half shared.
//!
//! The lower half (PML4 entries 0..256) belongs to the process and holds only 4 KiB
//! pages, each mapped with the user bit and exactly the permissions its owner asked
//! for (no page is both writable and executable). The upper half is the kernel's,
//! copied from the kernel PML4 at creation (those 256 entries never change).
//!
//! `fork` shares every page copy-on-write: writable pages become read-only with the
//! `COW` software bit in both spaces and the frame's reference count goes up. A write
//! fault on a COW page gets a private copy (or, if no one else holds the frame any
//! more, its write permission back): [`AddressSpace::handle_fault`].
//!
//! The kernel never dereferences user addresses. [`AddressSpace::copy_in`] and
//! [`AddressSpace::copy_out`] check every page (present, user, writable for a write)
//! and copy through the direct map, so a bad user pointer is an error code and SMAP
//! stays on with no exception.

use super::{frame, phys, tlb, PAGE};
use abi::{Errno, USER_BASE, USER_TOP};
use x86_64::structures::paging::page_table::PageTableEntry;
use x86_64::structures::paging::{PageTable, PageTableFlags as F};
use x86_64::PhysAddr;

/// Software PTE bit: this read-only page is writable after a private copy.
const COW: F = F::BIT_9;
/// Flags of intermediate user tables: the leaves decide the permissions.
const PARENT: F = F::PRESENT.union(F::WRITABLE).union(F::USER_ACCESSIBLE);

/// What a user page may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perm {
    /// Read only.
    R,
    /// Read and write.
    RW,
    /// Read and execute.
    RX,
}

impl Perm {
    fn flags(self) -> F {
        let base = F::PRESENT | F::USER_ACCESSIBLE;
        match self {
            Perm::R => base | F::NO_EXECUTE,
            Perm::RW => base | F::WRITABLE | F::NO_EXECUTE,
            Perm::RX => base,
        }
    }
}

/// A page just mapped by [`AddressSpace::map_zeroed`]; borrows the space, so the
/// page stays mapped (and its frame allocated) while it is written.
pub struct NewPage<'a> {
    pa: u64,
    _space: core::marker::PhantomData<&'a mut AddressSpace>,
}

impl NewPage<'_> {
    /// Copies `data` into the page at `offset`. Panics if it leaves the page.
    pub fn write(&self, offset: usize, data: &[u8]) {
        assert!(offset.checked_add(data.len()).is_some_and(|end| end <= PAGE as usize), "write beyond the page");
        phys::copy_to_frame(self.pa, offset, data);
    }
}

/// A process's page tables. Owned by the process's thread; dropping it frees every
/// user frame (by reference) and table.
pub struct AddressSpace {
    root: u64,
    /// CPU that last ran this space in ring 3 (`usize::MAX`: none yet).
    last_cpu: usize,
}

fn table(pa: u64) -> &'static mut PageTable {
    // SAFETY: `pa` is a page-table frame of a space the caller exclusively owns
    // (`&mut AddressSpace`), reached through the direct map; no other reference to it
    // lives beyond the caller's use.
    unsafe { &mut *(phys::to_virt(pa) as *mut PageTable) }
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 511) as usize
}

impl AddressSpace {
    /// An empty space (kernel half only).
    pub fn new() -> Result<AddressSpace, Errno> {
        let root = frame::alloc_zeroed().ok_or(Errno::NOMEM)?;
        let kernel = super::paging::kernel_root();
        let (dst, src) = (table(root), table(kernel));
        for i in 256..512 {
            dst[i] = src[i].clone();
        }
        Ok(AddressSpace { root, last_cpu: usize::MAX })
    }

    /// Loads this space on the current CPU (before entering ring 3). If it last ran
    /// on another CPU, whatever this CPU cached of it is stale: reload.
    pub fn activate(&mut self) {
        let me = crate::arch::cpu_id();
        tlb::switch_to(self.root, self.last_cpu != me);
        self.last_cpu = me;
    }

    /// The leaf entry for `va`, creating the intermediate tables if `create`.
    fn entry(&mut self, va: u64, create: bool) -> Result<Option<&'static mut PageTableEntry>, Errno> {
        let mut t = table(self.root);
        for level in [4, 3, 2] {
            let e = &mut t[index(va, level)];
            if e.is_unused() {
                if !create {
                    return Ok(None);
                }
                let pa = frame::alloc_zeroed().ok_or(Errno::NOMEM)?;
                e.set_addr(PhysAddr::new(pa), PARENT);
            }
            t = table(e.addr().as_u64());
        }
        Ok(Some(&mut t[index(va, 1)]))
    }

    /// Maps a fresh zeroed page at `va` (page-aligned, user range, not mapped yet) and
    /// returns it, for filling in (whatever its user permissions).
    pub fn map_zeroed(&mut self, va: u64, perm: Perm) -> Result<NewPage<'_>, Errno> {
        if !va.is_multiple_of(PAGE) || !(USER_BASE..USER_TOP).contains(&va) {
            return Err(Errno::INVAL);
        }
        let e = self.entry(va, true)?.ok_or(Errno::NOMEM)?;
        if !e.is_unused() {
            return Err(Errno::INVAL);
        }
        let pa = frame::alloc_zeroed().ok_or(Errno::NOMEM)?;
        e.set_addr(PhysAddr::new(pa), perm.flags());
        Ok(NewPage { pa, _space: core::marker::PhantomData })
    }

    /// Whether `va` is mapped, and with what permission (COW pages count as RW).
    pub fn perm(&mut self, va: u64) -> Option<Perm> {
        let e = self.entry(va, false).ok()??;
        let f = e.flags();
        if !f.contains(F::PRESENT) {
            return None;
        }
        Some(if f.intersects(F::WRITABLE | COW) {
            Perm::RW
        } else if f.contains(F::NO_EXECUTE) {
            Perm::R
        } else {
            Perm::RX
        })
    }

    /// A copy-on-write duplicate (fork). Writable pages of both spaces become COW;
    /// read-only and executable pages are shared as they are.
    pub fn fork(&mut self) -> Result<AddressSpace, Errno> {
        let mut child = AddressSpace::new()?;
        let mut failed = None;
        self.for_each_leaf(&mut |va, e| {
            if failed.is_some() {
                return;
            }
            let mut f = e.flags();
            if f.contains(F::WRITABLE) {
                f = (f - F::WRITABLE) | COW;
                e.set_flags(f);
            }
            let pa = e.addr().as_u64();
            match child.entry(va, true) {
                Ok(Some(ce)) => {
                    frame::share(pa);
                    ce.set_addr(PhysAddr::new(pa), f);
                }
                _ => failed = Some(Errno::NOMEM),
            }
        });
        // Our own writable pages just became read-only: drop what this CPU cached.
        // (Other CPUs reload this space before running it: `activate`.)
        tlb::flush_local_all();
        match failed {
            // `child` is dropped here, returning every share it took.
            Some(e) => Err(e),
            None => Ok(child),
        }
    }

    /// Resolves a user page fault at `addr` if it is a write to a COW page. `false`
    /// means a genuine fault (the process is killed); Err means out of memory.
    pub fn handle_fault(&mut self, addr: u64, error: u64) -> Result<bool, Errno> {
        const PRESENT: u64 = 1;
        const WRITE: u64 = 2;
        if error & (PRESENT | WRITE) != PRESENT | WRITE || !(USER_BASE..USER_TOP).contains(&addr) {
            return Ok(false);
        }
        let va = addr & !(PAGE - 1);
        match self.entry(va, false)? {
            Some(e) if e.flags().contains(COW) => {
                self.break_cow(va)?;
                Ok(true)
            }
            // Already writable: another CPU's stale read-only entry; retry.
            Some(e) if e.flags().contains(F::PRESENT | F::WRITABLE) => {
                tlb::flush_local(va);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Gives the COW page at `va` a frame of its own, writable.
    fn break_cow(&mut self, va: u64) -> Result<(), Errno> {
        let e = self.entry(va, false)?.ok_or(Errno::FAULT)?;
        let old = e.addr().as_u64();
        let flags = (e.flags() - COW) | F::WRITABLE;
        if frame::ref_count(old) == 1 {
            // Everyone else already copied: the frame is ours alone.
            e.set_flags(flags);
        } else {
            let new = frame::alloc().ok_or(Errno::NOMEM)?;
            phys::copy_from_frame(old, 0, phys::frame_mut(new));
            e.set_addr(PhysAddr::new(new), flags);
            frame::free(old);
        }
        tlb::flush_local(va);
        Ok(())
    }

    /// Checks that `[addr, addr+len)` is mapped user memory, writable if `write`.
    pub fn check(&mut self, addr: u64, len: u64, write: bool) -> Result<(), Errno> {
        let range = kcore::uptr::check_user_range(addr, len)?;
        for page in kcore::uptr::pages_of(range) {
            match self.perm(page) {
                Some(Perm::RW) => {}
                Some(_) if !write => {}
                _ => return Err(Errno::FAULT),
            }
        }
        Ok(())
    }

    /// Copies user memory at `addr` into `buf`. Nothing is read unless all of it is
    /// mapped user memory.
    pub fn copy_in(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.check(addr, buf.len() as u64, false)?;
        for (va, range) in page_pieces(addr, buf.len()) {
            let off = (va % PAGE) as usize;
            let frame = self.frame_of(va)?;
            phys::copy_from_frame(frame, off, &mut buf[range]);
        }
        Ok(())
    }

    /// Copies `data` to user memory at `addr`, breaking copy-on-write where needed.
    /// Nothing is written unless all of it is writable user memory.
    pub fn copy_out(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.check(addr, data.len() as u64, true)?;
        for (va, range) in page_pieces(addr, data.len()) {
            let off = (va % PAGE) as usize;
            if self.entry(va, false)?.is_some_and(|e| e.flags().contains(COW)) {
                self.break_cow(va & !(PAGE - 1))?;
            }
            let frame = self.frame_of(va)?;
            phys::copy_to_frame(frame, off, &data[range]);
        }
        Ok(())
    }

    /// The frame `va` is mapped to (checked by the caller beforehand).
    fn frame_of(&mut self, va: u64) -> Result<u64, Errno> {
        Ok(self.entry(va, false)?.ok_or(Errno::FAULT)?.addr().as_u64())
    }

    /// Calls `f(va, leaf)` for every mapped user page.
    fn for_each_leaf(&mut self, f: &mut dyn FnMut(u64, &mut PageTableEntry)) {
        fn walk(pa: u64, level: u32, base: u64, f: &mut dyn FnMut(u64, &mut PageTableEntry)) {
            let t = table(pa);
            let span = 1u64 << (12 + 9 * (level - 1));
            let count = if level == 4 { 256 } else { 512 };
            for (i, e) in t.iter_mut().enumerate().take(count) {
                if e.is_unused() {
                    continue;
                }
                let va = base + i as u64 * span;
                if level == 1 {
                    f(va, e);
                } else {
                    walk(e.addr().as_u64(), level - 1, va, f);
                }
            }
        }
        walk(self.root, 4, 0, f);
    }

    /// Unmaps and frees (by reference) every user page and every user table, leaving
    /// an empty space (exec).
    pub fn clear(&mut self) {
        fn free_level(pa: u64, level: u32) {
            let t = table(pa);
            let count = if level == 4 { 256 } else { 512 };
            for e in t.iter_mut().take(count) {
                if e.is_unused() {
                    continue;
                }
                let child = e.addr().as_u64();
                if level > 1 {
                    free_level(child, level - 1);
                }
                frame::free(child);
                e.set_unused();
            }
        }
        free_level(self.root, 4);
        if self.last_cpu == crate::arch::cpu_id() {
            tlb::flush_local_all();
        }
        // Other CPUs reload before running this space (`activate` sees last_cpu).
        self.last_cpu = usize::MAX;
    }
}

/// Splits `[addr, addr+len)` at page boundaries: each piece's start address and its
/// range within the caller's buffer.
fn page_pieces(addr: u64, len: usize) -> impl Iterator<Item = (u64, core::ops::Range<usize>)> {
    let mut done = 0;
    core::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let va = addr + done as u64;
        let n = (PAGE - va % PAGE).min((len - done) as u64) as usize;
        let piece = (va, done..done + n);
        done += n;
        Some(piece)
    })
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        // No CPU may keep walking these tables once they are free.
        if let Err(e) = tlb::release(self.root) {
            // Only reachable with interrupts off, which no caller does; leaking the
            // tables is the safe way out.
            log::error!("address space {:#x} leaked: {e}", self.root);
            return;
        }
        self.clear();
        frame::free(self.root);
    }
}
