//! Trap dispatch: every interrupt and exception arrives here from arch/trap.S.
//!
//! Exceptions from kernel code either resume at a registered fixup (fault-tolerant
//! reads, user copies) or panic with a full report. Interrupt vectors call the
//! handler registered for them with `set_handler`.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

core::arch::global_asm!(concat!(include_str!("regs.S"), include_str!("trap.S")), options(att_syntax));
core::arch::global_asm!(include_str!(concat!(env!("OUT_DIR"), "/trap_stubs.S")), options(att_syntax));

/// Registers saved on every trap, lowest address first (matches arch/trap.S).
#[repr(C)]
#[derive(Clone, Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Exception names, indexed by vector.
pub const EXCEPTION_NAMES: [&str; 32] = [
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "device not available", "double fault", "coprocessor overrun",
    "invalid TSS", "segment not present", "stack fault", "general protection",
    "page fault", "reserved", "x87 FPU error", "alignment check", "machine check",
    "SIMD exception", "virtualization", "control protection", "reserved", "reserved",
    "reserved", "reserved", "reserved", "reserved", "hypervisor injection",
    "VMM communication", "security", "reserved",
];

/// An interrupt handler: runs with interrupts off, must send EOI itself if needed.
pub type Handler = fn(&mut TrapFrame);

static HANDLERS: [AtomicUsize; 256] = [const { AtomicUsize::new(0) }; 256];

/// Installs `handler` for interrupt `vector` (32..=255).
pub fn set_handler(vector: u8, handler: Handler) {
    assert!(vector >= 32, "vectors below 32 are exceptions");
    HANDLERS[vector as usize].store(handler as usize, Ordering::Release);
}

static NMI_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Installs `handler` for NMIs from kernel code (the watchdog's); without one an
/// NMI is a fatal exception like any other.
pub fn set_nmi_handler(handler: Handler) {
    NMI_HANDLER.store(handler as usize, Ordering::Release);
}

/// Fault details recorded when a fixup resumes execution (read by `probe_*`).
static LAST_FIXUP_ADDR: AtomicU64 = AtomicU64::new(0);
static LAST_FIXUP_CODE: AtomicU64 = AtomicU64::new(0);
/// How many kernel faults were resolved by a fixup (counted in `metrics`).
pub use crate::metrics::FIXUPS_TAKEN;

/// The page fault a fixup swallowed: faulting address and error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub addr: u64,
    pub code: u64,
}

extern "C" {
    static __ex_table_start: [u64; 0];
    static __ex_table_end: [u64; 0];
    fn arch_probe_read_u64(addr: u64, out: *mut u64) -> u32;
    fn arch_probe_write_u64(addr: u64, value: u64) -> u32;
}

fn fixup_for(rip: u64) -> Option<u64> {
    // SAFETY: the linker script brackets .ex_table with these symbols; the table is
    // an array of (u64, u64) pairs in read-only memory for the kernel's lifetime.
    let table = unsafe {
        let start = __ex_table_start.as_ptr();
        let len = (__ex_table_end.as_ptr() as usize - start as usize) / 8;
        core::slice::from_raw_parts(start, len)
    };
    table.chunks_exact(2).find(|p| p[0] == rip).map(|p| p[1])
}

/// Reads a u64 at `addr`, returning the page fault instead of dying on one.
pub fn probe_read(addr: u64) -> Result<u64, Fault> {
    let mut out = 0u64;
    // SAFETY: the routine's only memory access that can fault is covered by an
    // ex_table fixup; `out` is a valid local.
    let failed = unsafe { arch_probe_read_u64(addr, &mut out) };
    if failed == 0 { Ok(out) } else { Err(last_fault()) }
}

/// Whether a test write to `addr` can touch no Rust object: the kernel half, and
/// either the test scratch range or a page the kernel tables do not map writable
/// (there the write can only fault).
fn probe_target_ok(addr: u64) -> bool {
    use crate::mm::{paging, SCRATCH_END, SCRATCH_START};
    use x86_64::structures::paging::PageTableFlags as F;
    addr >= 0xffff_8000_0000_0000
        && ((SCRATCH_START..SCRATCH_END).contains(&addr)
            || !paging::translate_kernel(addr).is_some_and(|(_, f)| f.contains(F::WRITABLE)))
}

/// Writes a u64 at `addr`, returning the page fault instead of dying on one. For
/// tests and diagnostics: `addr` must be in the kernel's scratch range
/// (`mm::SCRATCH_START..`) or not mapped writable, else nothing is written and the
/// result is a fault with error code `u64::MAX`.
pub fn probe_write(addr: u64, value: u64) -> Result<(), Fault> {
    if !probe_target_ok(addr) {
        return Err(Fault { addr, code: u64::MAX });
    }
    // SAFETY: as for `probe_read`; the target is scratch memory (only tests map it,
    // and no Rust reference covers it) or is not writable, so the write faults.
    let failed = unsafe { arch_probe_write_u64(addr, value) };
    if failed == 0 { Ok(()) } else { Err(last_fault()) }
}

/// Writes `value` at `addr` with no fault fixup: a fault here is a kernel bug and
/// panics. Exists for the self-test that checks how such a bug is reported; does
/// nothing unless `addr` is an unmapped kernel-half address.
#[inline(never)]
pub fn unrecoverable_write(addr: u64, value: u64) {
    if addr < 0xffff_8000_0000_0000 || crate::mm::paging::translate_kernel(addr).is_some() {
        return;
    }
    // SAFETY: `addr` is in the kernel half and unmapped (checked just above), so the
    // write faults before touching memory.
    unsafe { core::ptr::write_volatile(addr as *mut u64, value) }
}

fn last_fault() -> Fault {
    Fault { addr: LAST_FIXUP_ADDR.load(Ordering::Relaxed), code: LAST_FIXUP_CODE.load(Ordering::Relaxed) }
}

/// Decodes a page-fault error code for humans.
pub fn describe_pf(code: u64) -> &'static str {
    match (code & 1 != 0, code & 2 != 0, code & 4 != 0, code & 16 != 0) {
        (_, _, _, true) => "instruction fetch",
        (false, false, _, _) => "read of unmapped page",
        (false, true, _, _) => "write to unmapped page",
        (true, false, _, _) => "read protection violation",
        (true, true, _, _) => "write protection violation",
    }
}

/// Kernel-mode traps (arch/trap.S). Traps from ring 3 never come here: they return
/// to the task that entered ring 3 (arch/user.rs).
#[no_mangle]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    if frame.vector < 32 {
        exception(frame);
    } else {
        dispatch_interrupt(frame);
    }
}

/// Runs the handler of interrupt `frame.vector` (interrupts disabled).
pub fn dispatch_interrupt(frame: &mut TrapFrame) {
    let v = frame.vector as usize;
    let h = HANDLERS.get(v).map_or(0, |h| h.load(Ordering::Acquire));
    if h == 0 {
        log::warn!("unexpected interrupt vector {v}");
        return;
    }
    // SAFETY: only `set_handler` stores into HANDLERS, always a valid `Handler`.
    let handler: Handler = unsafe { core::mem::transmute::<usize, Handler>(h) };
    handler(frame);
}

fn exception(frame: &mut TrapFrame) {
    let v = frame.vector as usize;
    if v == 2 {
        let h = NMI_HANDLER.load(Ordering::Acquire);
        if h != 0 {
            // SAFETY: only `set_nmi_handler` stores into NMI_HANDLER, always a valid `Handler`.
            let handler: Handler = unsafe { core::mem::transmute::<usize, Handler>(h) };
            return handler(frame);
        }
    }
    if v == 14 {
        let addr = super::cpu::cr2();
        if let Some(fix) = fixup_for(frame.rip) {
            LAST_FIXUP_ADDR.store(addr, Ordering::Relaxed);
            LAST_FIXUP_CODE.store(frame.error, Ordering::Relaxed);
            FIXUPS_TAKEN.fetch_add(1, Ordering::Relaxed);
            frame.rip = fix;
            return;
        }
        panic!(
            "page fault at {addr:#x} ({}, error {:#x}) rip {:#x} rsp {:#x}\n{}",
            describe_pf(frame.error), frame.error, frame.rip, frame.rsp, Regs(frame)
        );
    }
    panic!(
        "{} (vector {v}, error {:#x}) at rip {:#x} rsp {:#x}\n{}",
        EXCEPTION_NAMES[v], frame.error, frame.rip, frame.rsp, Regs(frame)
    );
}

/// Formats a frame's registers, four per line.
pub struct Regs<'a>(pub &'a TrapFrame);

impl core::fmt::Display for Regs<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let t = self.0;
        writeln!(f, "  rax {:016x} rbx {:016x} rcx {:016x} rdx {:016x}", t.rax, t.rbx, t.rcx, t.rdx)?;
        writeln!(f, "  rsi {:016x} rdi {:016x} rbp {:016x} r8  {:016x}", t.rsi, t.rdi, t.rbp, t.r8)?;
        writeln!(f, "  r9  {:016x} r10 {:016x} r11 {:016x} r12 {:016x}", t.r9, t.r10, t.r11, t.r12)?;
        writeln!(f, "  r13 {:016x} r14 {:016x} r15 {:016x} rfl {:016x}", t.r13, t.r14, t.r15, t.rflags)?;
        write!(f, "  cs {:#x} ss {:#x}", t.cs, t.ss)
    }
}
