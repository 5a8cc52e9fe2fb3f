//! TLB maintenance across CPUs.
//!
//! Kernel mappings: after changing one that other CPUs may have cached, `shootdown`
//! tells them to drop it (TLB_VECTOR IPI) and waits until every one has.
//!
//! User address spaces: each CPU records the page-table root it has loaded
//! (`LOADED`). Switching is lazy: a CPU keeps a process's root loaded after the
//! process stops running there (the kernel half is the same in every root). A space
//! that changes its own mappings flushes only the CPU it runs on; another CPU that
//! still holds the root is made to reload it before the space runs there again
//! (`mm::uspace`), and must stop using it before its tables are freed (`release`).
//!
//! Cross-CPU requests must be made with interrupts enabled: a CPU waiting for
//! acknowledgements must itself be able to take another CPU's request, or two of
//! them deadlock.

use crate::arch::percpu::MAX_CPUS;
use crate::arch::{apic, irq, trap};
use core::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::{PhysAddr, VirtAddr};

static LOCK: spin::Mutex<()> = spin::Mutex::new(());
static ADDR: AtomicU64 = AtomicU64::new(0);
static KIND: AtomicU8 = AtomicU8::new(FLUSH_PAGE);
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// Shootdowns performed (counted in `metrics`).
pub use crate::metrics::SHOOTDOWNS;

/// Request: drop the kernel mapping of page ADDR.
const FLUSH_PAGE: u8 = 0;
/// Request: if root ADDR is loaded, switch to the kernel's.
const LEAVE_ROOT: u8 = 1;

/// Page-table root loaded on each CPU (0 until the first switch: the kernel's).
static LOADED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static KERNEL_ROOT: AtomicU64 = AtomicU64::new(0);

/// Installs the IPI handler. After `paging::init_kernel`.
pub fn init() {
    KERNEL_ROOT.store(super::paging::kernel_root(), Ordering::Relaxed);
    trap::set_handler(apic::TLB_VECTOR, |_| {
        let addr = ADDR.load(Ordering::Acquire);
        match KIND.load(Ordering::Acquire) {
            FLUSH_PAGE => x86_64::instructions::tlb::flush(VirtAddr::new(addr)),
            _ => leave_if_loaded(addr),
        }
        PENDING.fetch_sub(1, Ordering::AcqRel);
        apic::eoi();
    });
}

/// Flushes `va` on this CPU and every other online CPU.
pub fn shootdown(va: u64) -> Result<(), &'static str> {
    x86_64::instructions::tlb::flush(VirtAddr::new(va));
    broadcast(FLUSH_PAGE, va, |_| true).map(|_| ())
}

/// Sends request `kind` for `addr` to every other online CPU `select` picks and waits
/// for all of them. Returns how many were asked.
fn broadcast(kind: u8, addr: u64, select: impl Fn(usize) -> bool) -> Result<usize, &'static str> {
    let me = crate::arch::cpu_id();
    let targets = || {
        crate::arch::cpus::cpus().iter().enumerate().filter(move |(i, _)| *i != me && crate::arch::cpus::is_online(*i))
    };
    if targets().filter(|(i, _)| select(*i)).count() == 0 {
        return Ok(0);
    }
    if !irq::enabled() {
        return Err("TLB shootdown with interrupts disabled could deadlock");
    }
    let _g = LOCK.lock();
    // Re-evaluated under the lock: the set is what we send to, exactly.
    let mut mask = 0u64;
    for (i, _) in targets().filter(|(i, _)| select(*i)) {
        mask |= 1 << i;
    }
    let n = mask.count_ones() as usize;
    if n == 0 {
        return Ok(0);
    }
    ADDR.store(addr, Ordering::Release);
    KIND.store(kind, Ordering::Release);
    PENDING.store(n, Ordering::Release);
    for (i, c) in targets() {
        if mask & (1 << i) != 0 {
            apic::send_ipi(c.apic_id, apic::TLB_VECTOR);
        }
    }
    while PENDING.load(Ordering::Acquire) != 0 {
        core::hint::spin_loop();
    }
    SHOOTDOWNS.fetch_add(1, Ordering::Relaxed);
    Ok(n)
}

fn load_root(root: u64) {
    // Interrupts off: a LEAVE_ROOT request must see CR3 and LOADED agree.
    let was = irq::save_disable();
    // SAFETY: `root` is a PML4 whose kernel half equals the kernel's (every user root
    // copies it; the kernel-half entries never change), so the kernel keeps running
    // unchanged; a user root stays allocated while any CPU has it loaded (`release`).
    unsafe { Cr3::write(PhysFrame::containing_address(PhysAddr::new(root)), Cr3Flags::empty()) };
    LOADED[crate::arch::cpu_id()].store(root, Ordering::Release);
    irq::restore(was);
}

fn leave_if_loaded(root: u64) {
    if LOADED[crate::arch::cpu_id()].load(Ordering::Acquire) == root {
        load_root(KERNEL_ROOT.load(Ordering::Relaxed));
    }
}

/// Makes `root` this CPU's address space. With `fresh`, reloads it even if it is
/// already loaded (dropping whatever this CPU cached of it while it ran elsewhere).
pub(crate) fn switch_to(root: u64, fresh: bool) {
    if fresh || LOADED[crate::arch::cpu_id()].load(Ordering::Relaxed) != root {
        load_root(root);
    }
}

/// Flushes this CPU's cached translations of `va` (after changing a mapping of the
/// space it runs).
pub fn flush_local(va: u64) {
    x86_64::instructions::tlb::flush(VirtAddr::new(va));
}

/// Flushes all of this CPU's non-global translations.
pub fn flush_local_all() {
    x86_64::instructions::tlb::flush_all();
}

/// Makes every CPU that has `root` loaded switch to the kernel's tables and waits
/// for them, so `root`'s tables can be freed.
pub(crate) fn release(root: u64) -> Result<(), &'static str> {
    leave_if_loaded(root);
    broadcast(LEAVE_ROOT, root, |cpu| LOADED[cpu].load(Ordering::Acquire) == root).map(|_| ())
}
