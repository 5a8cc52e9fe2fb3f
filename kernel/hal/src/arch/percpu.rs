//! Per-CPU data reached through the GS base: `%gs:0` holds a pointer to the CPU's own
//! `PerCpu`, so `cpu_id()` is one load. Until a CPU sets GS, `cpu_id()` says 0.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use x86_64::registers::model_specific::{GsBase, KernelGsBase};
use x86_64::VirtAddr;

pub use crate::MAX_CPUS;

/// What each CPU keeps for itself. Field offsets used by assembly are fixed.
#[repr(C)]
pub struct PerCpu {
    /// Pointer to this struct (offset 0: `mov %gs:0, reg` yields `&PerCpu`).
    pub self_ptr: u64,
    /// Logical CPU index (offset 8).
    pub cpu_id: u64,
    /// Scratch for the syscall entry: user RSP (offset 16).
    pub user_rsp: u64,
    /// Kernel RSP saved by `arch_enter_user`, restored when ring 3 traps (offset 24).
    pub kernel_rsp: u64,
    /// The `UserContext` ring 3 is running on this CPU, if any (offset 32).
    pub user_ctx: u64,
    /// Address of this CPU's TSS.RSP0 slot, rewritten at each entry to ring 3 (offset 40).
    pub tss_rsp0: u64,
    /// The `UserContext` whose FPU/SSE state is live in this CPU's registers (0: none).
    pub fpu_live: core::sync::atomic::AtomicU64,
    /// Local APIC id.
    pub apic_id: core::sync::atomic::AtomicU32,
    /// Ranks of the ordered locks this CPU holds (bit per rank; see sync::order).
    pub locks_held: AtomicU64,
}

static READY: AtomicBool = AtomicBool::new(false);

/// Creates this CPU's `PerCpu` and points GS (and KERNEL_GS, for swapgs) at it.
pub fn init(cpu_id: usize, apic_id: u32) {
    let p = Box::leak(Box::new(PerCpu {
        self_ptr: 0,
        cpu_id: cpu_id as u64,
        user_rsp: 0,
        kernel_rsp: 0,
        user_ctx: 0,
        tss_rsp0: 0,
        fpu_live: core::sync::atomic::AtomicU64::new(0),
        apic_id: core::sync::atomic::AtomicU32::new(apic_id),
        locks_held: AtomicU64::new(0),
    }));
    p.self_ptr = p as *mut PerCpu as u64;
    GsBase::write(VirtAddr::new(p.self_ptr));
    KernelGsBase::write(VirtAddr::new(0));
    READY.store(true, Ordering::Release);
}

/// This CPU's logical index.
#[inline]
pub fn cpu_id() -> usize {
    if !READY.load(Ordering::Relaxed) {
        return 0;
    }
    let id: u64;
    // SAFETY: once READY, every CPU that runs kernel code has GS pointing at its
    // PerCpu (APs set it before anything logs), whose offset 8 is `cpu_id`.
    unsafe { core::arch::asm!("mov {}, gs:[8]", out(reg) id, options(nostack, readonly, preserves_flags)) };
    id as usize
}

/// This CPU's `PerCpu` (the HAL's: `fpu_live` is an address `save_fpu` writes to).
pub(crate) fn current() -> &'static PerCpu {
    let p: u64;
    // SAFETY: as for `cpu_id`; offset 0 is the struct's own address, and the struct
    // is leaked (lives forever).
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) p, options(nostack, readonly, preserves_flags));
        &*(p as *const PerCpu)
    }
}

/// Records where this CPU's TSS keeps RSP0 (set once, after `init` and the GDT).
pub(crate) fn set_tss_rsp0_slot(addr: u64) {
    let p = current() as *const PerCpu as *mut PerCpu;
    // SAFETY: only this CPU touches its PerCpu's plain fields (the assembly reads
    // them through %gs on the same CPU); no reference to this field exists.
    unsafe { core::ptr::addr_of_mut!((*p).tss_rsp0).write_volatile(addr) };
}

/// Records this CPU's APIC id once the APIC is up.
pub fn set_apic_id(id: u32) {
    current().apic_id.store(id, Ordering::Relaxed);
}

/// This CPU's held-locks mask, once per-CPU data exists.
pub(crate) fn locks_held() -> Option<&'static AtomicU64> {
    READY.load(Ordering::Relaxed).then(|| &current().locks_held)
}
