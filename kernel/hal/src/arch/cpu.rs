//! CPU identification and control registers: features read once, policy set once.

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};

/// Executes CPUID.
pub fn cpuid(leaf: u32, sub: u32) -> [u32; 4] {
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86_64 CPU and has no side effects.
    let r = unsafe { core::arch::x86_64::__cpuid_count(leaf, sub) };
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// Reads the time-stamp counter.
#[inline(always)]
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC is unprivileged unless CR4.TSD, which we never set.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The CPU features the kernel chooses code paths by.
#[derive(Clone, Copy, Debug, Default)]
pub struct Features {
    pub nx: bool,
    pub smep: bool,
    pub smap: bool,
    pub x2apic: bool,
    pub tsc_deadline: bool,
}

impl Features {
    /// Reads the features of the calling CPU.
    pub fn detect() -> Features {
        let l1 = cpuid(1, 0);
        let max = cpuid(0, 0)[0];
        let l7 = if max >= 7 { cpuid(7, 0) } else { [0; 4] };
        let max_ext = cpuid(0x8000_0000, 0)[0];
        let e1 = if max_ext >= 0x8000_0001 { cpuid(0x8000_0001, 0) } else { [0; 4] };
        Features {
            nx: e1[3] & (1 << 20) != 0,
            smep: l7[1] & (1 << 7) != 0,
            smap: l7[1] & (1 << 20) != 0,
            x2apic: l1[2] & (1 << 21) != 0,
            tsc_deadline: l1[2] & (1 << 24) != 0,
        }
    }
}

/// Sets this CPU's protection policy: NX, write-protect, SMEP/SMAP where present, and
/// SSE usable by ring 3 (the kernel itself is soft-float and never touches SSE state).
/// Returns the features it saw. Fails if the CPU lacks NX, which W^X depends on.
pub fn init_cpu_policy() -> Result<Features, &'static str> {
    let f = Features::detect();
    if !f.nx {
        return Err("CPU has no NX (no-execute) bit; W^X cannot be enforced");
    }
    // SAFETY: setting NXE only makes the NO_EXECUTE page bit meaningful; no existing
    // mapping sets it yet on the PVH path, and Limine already runs with NXE.
    unsafe { Efer::update(|e| e.insert(EferFlags::NO_EXECUTE_ENABLE)) };
    let mut cr4 = Cr4::read();
    cr4.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE);
    if f.smep {
        cr4.insert(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION);
    }
    if f.smap {
        cr4.insert(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION);
    }
    // SAFETY: OSFXSR/OSXMMEXCPT enable SSE for user code; SMEP/SMAP forbid the kernel
    // from executing/accessing user pages, which it never does outside user-copy
    // helpers (there are no user mappings yet).
    unsafe { Cr4::write(cr4) };
    let mut cr0 = Cr0::read();
    cr0.insert(Cr0Flags::WRITE_PROTECT | Cr0Flags::MONITOR_COPROCESSOR);
    cr0.remove(Cr0Flags::EMULATE_COPROCESSOR);
    // SAFETY: WP makes read-only pages read-only for the kernel too (W^X); MP/EM
    // settings only select how x87/SSE instructions trap.
    unsafe { Cr0::write(cr0) };
    Ok(f)
}

/// Reads CR2, the faulting address of the last page fault.
pub fn cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}
