//! x86_64 primitives: every `unsafe` that touches the CPU lives under this module.
//!
//! The rest of the kernel calls the safe functions here; each `unsafe` block states
//! the invariant that makes it sound in a `// SAFETY:` comment.

pub mod ap;
pub mod apic;
pub mod backtrace;
pub mod cpu;
pub mod cpus;
pub mod entry;
pub mod gdt;
pub mod idt;
pub mod io;
pub mod ioapic;
pub mod irq;
pub mod percpu;
pub mod qemu;
pub mod time;
pub mod trap;
pub mod user;
pub mod vectors;

/// Stops this CPU for good (interrupts off, `hlt` in a loop).
pub fn halt_forever() -> ! {
    loop {
        irq::disable();
        x86_64::instructions::hlt();
    }
}

pub use percpu::cpu_id;

/// Switches to `stack` and calls `f(arg)` there; never returns.
pub fn switch_stack(stack: &crate::mm::stack::KernelStack, f: extern "C" fn(u64) -> !, arg: u64) -> ! {
    let top = stack.top();
    // SAFETY: `top` is the top of a mapped kernel stack (only `stack::alloc` makes a
    // `KernelStack`); the old stack is abandoned (nothing on it is referenced again
    // because `f` never returns).
    unsafe {
        core::arch::asm!(
            "mov rsp, {top}",
            "xor ebp, ebp",
            "call {f}",
            "ud2",
            top = in(reg) top,
            f = in(reg) f,
            in("rdi") arg,
            options(noreturn)
        )
    }
}
