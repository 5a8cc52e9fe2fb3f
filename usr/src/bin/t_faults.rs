//! Ring-3 test: a faulting process dies with the right signal and nothing
//! else is affected. One child per fault kind; the parent checks
//! `killed_by` for each.

#![no_std]
#![no_main]

use core::arch::asm;
use core::sync::atomic::AtomicU64;
use usr::*;

entry!(main);

/// Writable data holding the bytes of `ud2`: with NX the jump faults
/// (SIGSEGV); without NX it would run `ud2` (SIGILL) and the test fails.
static DATA: AtomicU64 = AtomicU64::new(0x0b0f);

fn null_write() {
    // SAFETY: deliberately faults; the process is killed.
    unsafe { asm!("mov qword ptr [{0}], 1", in(reg) 0u64, options(nostack)) }
}
fn kernel_read() {
    // SAFETY: deliberately faults (kernel image, supervisor-only).
    unsafe {
        asm!("mov {0}, qword ptr [{1}]", out(reg) _, in(reg) 0xffff_ffff_8000_0000u64, options(nostack))
    }
}
fn invalid_opcode() {
    // SAFETY: deliberately faults.
    unsafe { asm!("ud2", options(nostack)) }
}
fn divide_by_zero() {
    // SAFETY: deliberately faults (#DE).
    unsafe {
        asm!("div {0}", in(reg) 0u64, inout("rax") 1u64 => _, inout("rdx") 0u64 => _, options(nostack))
    }
}
fn non_canonical() {
    // SAFETY: deliberately faults (#GP on a non-canonical address).
    unsafe {
        asm!("mov {0}, qword ptr [{1}]", out(reg) _, in(reg) 0x0000_8000_0000_0000u64, options(nostack))
    }
}
fn write_to_text() {
    // SAFETY: deliberately faults (text is read-only).
    unsafe {
        asm!("mov byte ptr [{0}], 0xcc", in(reg) write_to_text as *const () as usize, options(nostack))
    }
}
fn execute_data() {
    // SAFETY: deliberately faults (data is NX).
    unsafe { asm!("call {0}", in(reg) DATA.as_ptr(), clobber_abi("C")) }
}
fn privileged() {
    // SAFETY: deliberately faults (#GP: hlt in ring 3).
    unsafe { asm!("hlt", options(nostack)) }
}
fn stack_overflow() {
    // The depth check is never true (black_box hides that from the
    // compiler), so this recurses until the stack runs out.
    fn recurse(n: u64) -> u64 {
        let pad = core::hint::black_box([n; 64]);
        if core::hint::black_box(n) == u64::MAX {
            return pad[0];
        }
        recurse(pad[7].wrapping_add(1)).wrapping_add(pad[3])
    }
    core::hint::black_box(recurse(0));
}

const CASES: [(&str, fn(), u8); 9] = [
    ("null write (#PF)", null_write, SIGSEGV),
    ("kernel read (#PF)", kernel_read, SIGSEGV),
    ("ud2 (#UD)", invalid_opcode, SIGILL),
    ("divide by zero (#DE)", divide_by_zero, SIGFPE),
    ("non-canonical address (#GP)", non_canonical, SIGSEGV),
    ("write to text (#PF)", write_to_text, SIGSEGV),
    ("execute data (#PF, NX)", execute_data, SIGSEGV),
    ("hlt in ring 3 (#GP)", privileged, SIGSEGV),
    ("stack overflow (#PF)", stack_overflow, SIGSEGV),
];

fn main(_args: Args) -> i32 {
    for (name, fault, want) in CASES {
        match fork() {
            Ok(Fork::Child) => {
                fault();
                println!("  FAIL {name}: survived");
                exit(99)
            }
            Ok(Fork::Parent(child)) => match wait() {
                Ok((pid, status)) => {
                    check_eq!(pid, child);
                    check_eq!(killed_by(status), Some(want), "{name}: status {status:#x}");
                }
                Err(e) => check!(false, "{name}: wait: {e}"),
            },
            Err(e) => check!(false, "{name}: fork: {e}"),
        }
    }
    check!(getpid().is_ok(), "parent still fine");
    test::finish("t_faults")
}
