//! Raw system calls: the `syscall` instruction (and `int 0x80`) with the
//! number in `rax`, arguments in `rdi, rsi, rdx, r10, r8, r9`, result in
//! `rax` (negative = `-errno`). `syscall` clobbers `rcx` and `r11`.
//!
//! These are `unsafe`: the kernel reads and writes memory at whatever
//! addresses are passed. The safe wrappers are in [`crate::sys`].

use core::arch::asm;

/// System call with no arguments.
///
/// # Safety
/// The call must not make the kernel write memory Rust relies on.
#[inline(always)]
pub unsafe fn syscall0(nr: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call with one argument.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must suit the call.
#[inline(always)]
pub unsafe fn syscall1(nr: u64, a1: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call with two arguments.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must suit the call.
#[inline(always)]
pub unsafe fn syscall2(nr: u64, a1: u64, a2: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a1, in("rsi") a2,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call with three arguments.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must suit the call.
#[inline(always)]
pub unsafe fn syscall3(nr: u64, a1: u64, a2: u64, a3: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret,
             in("rdi") a1, in("rsi") a2, in("rdx") a3,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call with four arguments (the fourth in `r10`, not `rcx`).
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must suit the call.
#[inline(always)]
pub unsafe fn syscall4(nr: u64, a1: u64, a2: u64, a3: u64, a4: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret,
             in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call with five arguments.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must suit the call.
#[inline(always)]
pub unsafe fn syscall5(nr: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret,
             in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call with six arguments.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must suit the call.
#[inline(always)]
pub unsafe fn syscall6(nr: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64, a6: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret,
             in("rdi") a1, in("rsi") a2, in("rdx") a3, in("r10") a4, in("r8") a5, in("r9") a6,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call through the `int 0x80` gate, up to three arguments (same
/// registers as `syscall`). `rcx` and `r11` are treated as clobbered too.
///
/// # Safety
/// As for [`syscall0`]; pointer arguments must suit the call.
#[inline(always)]
pub unsafe fn int80_3(nr: u64, a1: u64, a2: u64, a3: u64) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the call's effects on memory.
    unsafe {
        asm!("int 0x80", inlateout("rax") nr as isize => ret,
             in("rdi") a1, in("rsi") a2, in("rdx") a3,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}
