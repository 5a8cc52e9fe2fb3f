//! Kernel logic that needs no hardware, unit-tested on the host.
//!
//! This is the kernel's "kerncore" (after Hubris): everything here is plain
//! safe Rust over `core` + `alloc`, built `no_std` for the kernel and with
//! `std` under `cargo test`, so it runs on the host with ordinary tests,
//! thread stress tests and mutation fuzzing.
//!
//! Principles:
//! - No `unsafe` at all (`forbid`), no hardware access, no globals.
//! - No function panics on any input: malformed input (a command line, an
//!   ELF image, an initrd, a user pointer) is an error value. Allocation on
//!   paths driven by user space uses `try_reserve`, so out-of-memory is an
//!   error too.
//! - Simple algorithms, bounded sizes taken from [`abi`].
//!
//! Modules: [`cmdline`] (kernel command line), [`ipc`] (IPC ports),
//! [`elf`] (user ELF validation), [`initrd`] (cpio newc archives),
//! [`uptr`] (user pointer range checks), [`lockorder`] (lock ranking model),
//! [`tunables`] (scheduler policies chosen at boot or run time),
//! [`trace`] (scheduler trace classes, records and per-CPU rings),
//! [`limine_boot`] (Limine handover rules per base revision),
//! [`s5`] (the ACPI soft-off sleep type, for power-off).

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod cmdline;
pub mod elf;
pub mod initrd;
pub mod ipc;
pub mod limine_boot;
pub mod lockorder;
pub mod s5;
pub mod tunables;
pub mod trace;
pub mod uptr;

#[cfg(test)]
mod testutil;
