//! TLB shootdown: after changing a kernel mapping other CPUs may have cached, tell
//! them to drop it (TLB_VECTOR IPI) and wait until every one has.
//!
//! Must be called with interrupts enabled: a CPU waiting for acknowledgements must
//! itself be able to take another CPU's shootdown IPI, or two shootdowns deadlock.

use crate::arch::{apic, irq, trap};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use x86_64::VirtAddr;

static LOCK: spin::Mutex<()> = spin::Mutex::new(());
static ADDR: AtomicU64 = AtomicU64::new(0);
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// Shootdowns performed.
pub static SHOOTDOWNS: AtomicU64 = AtomicU64::new(0);

/// Installs the IPI handler.
pub fn init() {
    trap::set_handler(apic::TLB_VECTOR, |_| {
        x86_64::instructions::tlb::flush(VirtAddr::new(ADDR.load(Ordering::Acquire)));
        PENDING.fetch_sub(1, Ordering::AcqRel);
        apic::eoi();
    });
}

/// Flushes `va` on this CPU and every other online CPU.
pub fn shootdown(va: u64) -> Result<(), &'static str> {
    x86_64::instructions::tlb::flush(VirtAddr::new(va));
    let me = crate::arch::cpu_id();
    let others: usize = crate::smp::cpus().iter().enumerate().filter(|(i, c)| *i != me && c.online.load(Ordering::Acquire)).count();
    if others == 0 {
        return Ok(());
    }
    if !irq::enabled() {
        return Err("TLB shootdown with interrupts disabled could deadlock");
    }
    let _g = LOCK.lock();
    ADDR.store(va, Ordering::Release);
    PENDING.store(others, Ordering::Release);
    for (i, c) in crate::smp::cpus().iter().enumerate() {
        if i != me && c.online.load(Ordering::Acquire) {
            apic::send_ipi(c.apic_id, apic::TLB_VECTOR);
        }
    }
    while PENDING.load(Ordering::Acquire) != 0 {
        core::hint::spin_loop();
    }
    SHOOTDOWNS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
