//! Ring 3: the `syscall` MSRs, the user context, and `enter_user`.
//!
//! A user thread is a kernel task that calls [`enter_user`] in a loop. `enter_user`
//! restores the thread's registers and FPU/SSE state from its [`UserContext`], drops to
//! ring 3, and returns to the calling task as soon as ring 3 traps — by `syscall`,
//! `int 0x80`, an interrupt or an exception — with every user register saved back into
//! the context and the cause as a [`Trap`]. The task handles it (a system call, a page
//! fault, a preemption) and decides when to enter again. See arch/user.S for the stack
//! and GS choreography.

use super::gdt::{USER_CS, USER_DS};
use super::trap::TrapFrame;
use super::{cpu, irq, trap};
use x86_64::registers::model_specific::{Efer, EferFlags, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::structures::gdt::SegmentSelector;
use core::sync::atomic::Ordering;
use x86_64::{PrivilegeLevel, VirtAddr};

core::arch::global_asm!(concat!(include_str!("regs.S"), include_str!("user.S")), options(att_syntax));

extern "C" {
    fn arch_enter_user(ctx: *mut UserContext);
    fn arch_syscall_entry();
}

pub use super::vectors::{INT80_VECTOR, SYSCALL_VECTOR};

/// RFLAGS a new user thread starts with: interrupts on, nothing else (bit 1 is fixed).
const INITIAL_RFLAGS: u64 = 0x202;
/// RFLAGS bits ring 3 may hold: CF PF AF ZF SF TF DF OF AC ID.
const USER_RFLAGS: u64 = 0x0024_0dd5;
/// First address above the canonical lower half.
const USER_HALF_END: u64 = 0x0000_8000_0000_0000;

/// A user thread's saved state: the trap frame (general registers, RIP, RSP, RFLAGS,
/// selectors, and what the last trap was) and the FXSAVE image of x87/SSE state.
/// Layout fixed by arch/user.S: frame at 0 (176 bytes), FXSAVE area at 176.
#[repr(C, align(64))]
pub struct UserContext {
    pub frame: TrapFrame,
    fpu: [u8; 512],
}

const _: () = assert!(core::mem::offset_of!(UserContext, fpu) == 176);
const _: () = assert!(core::mem::size_of::<TrapFrame>() == 176);

impl UserContext {
    /// A context that starts at `entry` with stack `rsp` and `rdi`/`rsi` = the two
    /// start-up arguments, default FPU state (all exceptions masked).
    pub fn new(entry: u64, rsp: u64, rdi: u64, rsi: u64) -> UserContext {
        let mut c = UserContext { frame: zero_frame(), fpu: [0; 512] };
        c.reset(entry, rsp, rdi, rsi);
        c
    }

    /// Replaces everything with a fresh start at `entry` (exec).
    pub fn reset(&mut self, entry: u64, rsp: u64, rdi: u64, rsi: u64) {
        self.forget_fpu();
        self.frame = zero_frame();
        self.frame.rip = entry;
        self.frame.rsp = rsp;
        self.frame.rdi = rdi;
        self.frame.rsi = rsi;
        self.frame.cs = USER_CS as u64;
        self.frame.ss = USER_DS as u64;
        self.frame.rflags = INITIAL_RFLAGS;
        self.fpu = [0; 512];
        self.fpu[0..2].copy_from_slice(&0x037fu16.to_le_bytes()); // FCW: x87 exceptions masked
        self.fpu[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR: SSE exceptions masked
    }

    /// A copy for a forked child (its registers are the parent's at the fork).
    pub fn duplicate(&mut self) -> UserContext {
        save_fpu();
        UserContext { frame: self.frame.clone(), fpu: self.fpu }
    }

    /// If this context's FPU state is live in this CPU's registers, drops that link
    /// without saving (the context is being reset or freed).
    pub fn forget_fpu(&mut self) {
        let me = self as *mut UserContext as u64;
        let _ = super::percpu::current().fpu_live.compare_exchange(me, 0, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// Lazy FPU/SSE switching. The kernel never touches x87/SSE registers (soft-float),
/// so a thread's FPU state can stay in the registers from its exit from ring 3 until
/// its task's poll ends: a system call that returns straight to ring 3 costs no
/// FXSAVE/FXRSTOR at all. The rule: whoever ends a poll of a user thread's task calls
/// `save_fpu` (`proc::thread` wraps the task so that it always does), so at the start
/// of any poll no state is live, and `enter_user` restores only when the context
/// entered is not the live one.
pub fn save_fpu() {
    let live = super::percpu::current().fpu_live.swap(0, Ordering::Relaxed);
    if live != 0 {
        // SAFETY: `live` is the UserContext entered last on this CPU in the current
        // poll; its owner has not dropped it (contexts call `forget_fpu` before being
        // freed) and the FXSAVE area is 16-byte aligned (align 64, offset 176).
        unsafe {
            core::arch::asm!("fxsave64 [{}]", in(reg) live + 176, options(nostack, preserves_flags));
        }
    }
}

impl Drop for UserContext {
    fn drop(&mut self) {
        self.forget_fpu();
    }
}

fn zero_frame() -> TrapFrame {
    TrapFrame {
        r15: 0, r14: 0, r13: 0, r12: 0, r11: 0, r10: 0, r9: 0, r8: 0, rbp: 0, rdi: 0, rsi: 0, rdx: 0,
        rcx: 0, rbx: 0, rax: 0, vector: 0, error: 0, rip: 0, cs: 0, rflags: 0, rsp: 0, ss: 0,
    }
}

/// Why ring 3 stopped running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// `syscall` or `int 0x80`: number in `frame.rax`, arguments in the ABI registers.
    Syscall,
    /// A device interrupt or IPI (already handled and acknowledged).
    Interrupt(u8),
    /// A CPU exception caused by the user code; `addr` is CR2 for a page fault.
    Exception { vector: u8, error: u64, addr: u64 },
}

/// Sets up `syscall`/`sysret` on this CPU and records its TSS.RSP0 slot (from
/// `gdt::init_cpu`). Once per CPU, after per-CPU data exists.
pub fn init_cpu(tss_rsp0_slot: super::gdt::Rsp0Slot) {
    super::percpu::set_tss_rsp0_slot(tss_rsp0_slot.0);
    // SAFETY: the selectors are the GDT layout STAR requires (gdt.rs), LSTAR is the
    // entry in arch/user.S, and FMASK clears IF/TF/DF/AC/NT so the entry runs with
    // interrupts off and a sane direction flag until it has switched stacks.
    unsafe {
        Star::write(
            SegmentSelector::new(4, PrivilegeLevel::Ring3),
            SegmentSelector::new(3, PrivilegeLevel::Ring3),
            SegmentSelector::new(1, PrivilegeLevel::Ring0),
            SegmentSelector::new(2, PrivilegeLevel::Ring0),
        )
        .expect("GDT layout fits STAR");
        LStar::write(VirtAddr::new(arch_syscall_entry as *const () as u64));
        SFMask::write(
            RFlags::INTERRUPT_FLAG
                | RFlags::TRAP_FLAG
                | RFlags::DIRECTION_FLAG
                | RFlags::ALIGNMENT_CHECK
                | RFlags::NESTED_TASK
                | RFlags::IOPL_HIGH
                | RFlags::IOPL_LOW,
        );
        Efer::update(|e| e.insert(EferFlags::SYSTEM_CALL_EXTENSIONS));
    }
}

/// Runs `ctx` in ring 3 until it traps, and says why (and whether the local timer
/// was reprogrammed). The caller must have this thread's address space loaded
/// (`mm::uspace`). The timer is made to fire no later than TSC value `timer` (the end
/// of the time slice or an earlier kernel timer), with interrupts off so it cannot
/// fire before ring 3 runs and be lost; one armed earlier is kept (`arm_timer_by`),
/// so the caller must expect an interrupt before `timer`. Interrupts are enabled on
/// return.
pub fn enter_user(ctx: &mut UserContext, timer: u64) -> (Trap, bool) {
    // The frame is the caller's to edit: whatever it says, ring 3 is where it goes,
    // with interrupts on, IOPL 0, and RIP/RSP in the lower half (so neither sysretq
    // nor iretq can fault in ring 0 on a non-canonical address).
    let f = &mut ctx.frame;
    f.cs = USER_CS as u64;
    f.ss = USER_DS as u64;
    f.rflags = (f.rflags & USER_RFLAGS) | INITIAL_RFLAGS;
    if f.rip >= USER_HALF_END {
        f.rip = 0;
    }
    if f.rsp >= USER_HALF_END {
        f.rsp = 0;
    }
    irq::disable();
    let rearmed = super::apic::arm_timer_by(timer);
    let me = ctx as *mut UserContext as u64;
    let pc = super::percpu::current();
    if pc.fpu_live.load(Ordering::Relaxed) != me {
        debug_assert_eq!(pc.fpu_live.load(Ordering::Relaxed), 0, "another thread's FPU state is live");
        // SAFETY: FXRSTOR from this context's aligned 512-byte area, which holds either
        // the default image (`reset`) or what FXSAVE stored; a malformed MXCSR cannot
        // come from ring 3 (FXSAVE wrote it), so this cannot fault.
        unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) ctx.fpu.as_ptr(), options(nostack, preserves_flags)) };
        pc.fpu_live.store(me, Ordering::Relaxed);
    }
    // SAFETY: `ctx` is a valid, exclusively borrowed context whose selectors are the
    // user ones (checked above; only this module writes them), so the iretq/sysretq
    // goes to ring 3 and nothing the user controls can reach ring 0. Interrupts are
    // off until the return to ring 3. arch_enter_user returns here, on this stack,
    // with callee-saved registers restored, when ring 3 traps.
    unsafe { arch_enter_user(ctx) };
    let addr = cpu::cr2();
    if ctx.frame.vector == 14 && unfinished_syscall(&ctx.frame, addr) {
        finish_syscall(&mut ctx.frame);
    }
    let v = ctx.frame.vector;
    let t = match v {
        SYSCALL_VECTOR => Trap::Syscall,
        v if v == INT80_VECTOR as u64 => Trap::Syscall,
        0..=31 => Trap::Exception { vector: v as u8, error: ctx.frame.error, addr },
        _ => {
            trap::dispatch_interrupt(&mut ctx.frame);
            Trap::Interrupt(v as u8)
        }
    };
    irq::enable();
    (t, rearmed)
}

/// How many `syscall`s the hypervisor left half-done in ring 3 (see [`unfinished_syscall`]).
pub use crate::metrics::SYSCALLS_FIXED_UP;

/// Page-fault error code bits: user mode, instruction fetch.
const PF_USER: u64 = 1 << 2;
const PF_FETCH: u64 = 1 << 4;

/// Whether a page fault from ring 3 is a `syscall` that the hypervisor only half
/// performed. The nested `kvm_pvm` hypervisor (its "native" mode for unmodified
/// guests) emulates a ring-3 `syscall` by loading RCX, R11, RFLAGS (masked by FMASK)
/// and RIP = LSTAR, but leaves the vCPU in user mode: the fetch at LSTAR then faults
/// as a user access to a supervisor page, and the fault comes in from ring 3 with
/// the syscall's registers in place. Real CPUs and TCG never do this. Ring 3 cannot
/// fake it by jumping to LSTAR: it always runs with IF set (IOPL is 0), and this
/// frame has IF clear because FMASK cleared it.
fn unfinished_syscall(frame: &TrapFrame, cr2: u64) -> bool {
    let lstar = arch_syscall_entry as *const () as u64;
    frame.error & (PF_USER | PF_FETCH) == PF_USER | PF_FETCH
        && frame.rip == lstar
        && cr2 == lstar
        && frame.rflags & RFlags::INTERRUPT_FLAG.bits() == 0
}

/// Turns the frame of an [`unfinished_syscall`] into the one `arch_syscall_entry`
/// would have built: RIP and RFLAGS are where `syscall` put them (RCX, R11),
/// sanitized in case they are not what the CPU would have saved (a return address
/// outside user space is left as the page fault, which kills the process).
fn finish_syscall(frame: &mut TrapFrame) {
    if frame.rcx >= USER_HALF_END {
        return;
    }
    SYSCALLS_FIXED_UP.fetch_add(1, Ordering::Relaxed);
    frame.rip = frame.rcx;
    frame.rflags = (frame.r11 & USER_RFLAGS) | INITIAL_RFLAGS;
    frame.vector = SYSCALL_VECTOR;
    frame.error = 0;
}

/// How many `int $0x80` system calls came in as #UD (see [`int80_from_ud`]).
pub use crate::metrics::INT80_FIXED_UP;

/// The nested `kvm_pvm` hypervisor raises #UD for `int $0x80` in ring 3 instead of
/// going through the DPL-3 gate (real CPUs and TCG do). Given a #UD frame from ring
/// 3 and the two bytes at its RIP (the caller reads them from the user's memory),
/// turns it into the `int $0x80` trap the CPU would have delivered and says whether
/// it did. Ring 3 gains nothing by faking this: it could have run `int $0x80`.
pub fn int80_from_ud(frame: &mut TrapFrame, insn: [u8; 2]) -> bool {
    if frame.vector != 6 || insn != [0xcd, INT80_VECTOR] {
        return false;
    }
    INT80_FIXED_UP.fetch_add(1, Ordering::Relaxed);
    frame.rip += 2;
    frame.vector = INT80_VECTOR as u64;
    frame.error = 0;
    true
}
