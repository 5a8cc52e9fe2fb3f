//! The ring-3 runtime: program entry, raw system calls, safe wrappers,
//! console output, and a small test harness for the ring-3 test programs.
//!
//! A program is a file in `src/bin/` that looks like this:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use usr::*;
//! entry!(main);
//! fn main(args: Args) -> i32 {
//!     println!("hello from {}", args.get(0).unwrap_or("?"));
//!     0
//! }
//! ```
//!
//! # Entry contract with the kernel
//!
//! The kernel starts a program at `_start` (the ELF entry) in ring 3 with
//! `rsp` pointing into a mapped user stack, `rdi = argc` and `rsi = argv`,
//! where `argv` points to `argc` [`abi::UserStr`]s (`{ptr: u64, len: u64}`)
//! whose bytes stay mapped for the life of the process (normally on the
//! stack above `rsp`). `_start` clears `rbp` (ending frame-pointer chains),
//! aligns `rsp` to 16 bytes and calls [`rt::start`], which runs `main` and
//! passes its return value to `exit`. Other registers need not be zero.
//!
//! Programs are built for `x86_64-unknown-none`: no SSE/x87 code is
//! generated (soft-float), and no thread-local storage is used.

#![no_std]
#![warn(missing_docs)]

pub use abi;
pub use abi::wait::{exited, killed_by, SIGFPE, SIGILL, SIGKILL, SIGSEGV};
pub use abi::{CpuStats, Errno, Priority, ProcInfo, Stats, UserStr, AFFINITY_ANY};

pub mod args;
pub mod ctl;
pub mod io;
pub mod line;
pub mod rt;
pub mod sys;
pub mod syscall;
pub mod test;
pub mod tsc;

pub use args::Args;
pub use ctl::*;
pub use sys::*;

/// Declares the program's `main(args: Args) -> i32` and its `_start`.
///
/// Use exactly once per program, at the top level of the binary crate.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        extern "C" fn __usr_entry(argc: u64, argv: *const $crate::abi::UserStr) -> ! {
            // SAFETY: called only from `_start` below, with the registers the
            // kernel set up as documented in the `usr` crate (argc, argv).
            unsafe { $crate::rt::start(argc, argv, $main) }
        }

        core::arch::global_asm!(
            ".globl _start",
            ".type _start, @function",
            "_start:",
            "xor ebp, ebp",
            "and rsp, -16",
            "call {entry}",
            "ud2",
            ".size _start, . - _start",
            entry = sym __usr_entry,
        );
    };
}
