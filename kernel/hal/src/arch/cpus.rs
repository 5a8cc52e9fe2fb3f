//! The CPUs the firmware listed: logical index → APIC id, and which are online.
//! CPU `i` is the i-th APIC id (the boot CPU is 0). Set once at boot (`smp`); read by
//! TLB shootdown, wakes and the scheduler.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// One CPU the MADT listed.
pub struct Cpu {
    pub apic_id: u32,
    pub online: AtomicBool,
}

static CPUS: spin::Once<Vec<Cpu>> = spin::Once::new();
static ONLINE: AtomicUsize = AtomicUsize::new(1);
/// Online CPUs as a bit mask: what TLB shootdown trusts. Private, so no safe code can
/// take a running CPU out of it (that CPU would keep stale translations of freed
/// frames); `Cpu::online` is the same fact for everyone else to read.
static ONLINE_MASK: AtomicU64 = AtomicU64::new(1);

/// Records the CPUs (APIC ids, boot CPU first), once; the boot CPU is online.
pub fn set(apic_ids: &[u32]) {
    CPUS.call_once(|| apic_ids.iter().map(|&apic_id| Cpu { apic_id, online: AtomicBool::new(false) }).collect());
    if let Some(c) = cpus().first() {
        c.online.store(true, Ordering::Release);
    }
}

/// All CPUs (index = logical CPU id).
pub fn cpus() -> &'static [Cpu] {
    CPUS.get().map_or(&[], |v| v.as_slice())
}

/// CPUs the MADT listed (online or not).
pub fn count() -> usize {
    cpus().len().max(1)
}

/// CPUs running the kernel.
pub fn online() -> usize {
    ONLINE.load(Ordering::Acquire)
}

/// Logical id of the CPU with `apic_id`.
pub fn index_of(apic_id: u32) -> Option<usize> {
    cpus().iter().position(|c| c.apic_id == apic_id)
}

/// Marks `cpu` online (an AP that finished its start-up). Each CPU counts once: a
/// second call for the same CPU, or one for a CPU the firmware did not list, is an
/// error and changes nothing.
pub fn mark_online(cpu: usize) -> Result<(), &'static str> {
    let c = cpus().get(cpu).filter(|_| cpu < crate::MAX_CPUS).ok_or("no such CPU")?;
    if ONLINE_MASK.fetch_or(1 << cpu, Ordering::AcqRel) & (1 << cpu) != 0 {
        return Err("that CPU is already online");
    }
    c.online.store(true, Ordering::Release);
    ONLINE.fetch_add(1, Ordering::AcqRel);
    Ok(())
}

/// Whether `cpu` is online, as TLB shootdown sees it.
pub(crate) fn is_online(cpu: usize) -> bool {
    cpu < crate::MAX_CPUS && ONLINE_MASK.load(Ordering::Acquire) & (1 << cpu) != 0
}
