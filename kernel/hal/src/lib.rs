//! mello's hardware abstraction layer: the one crate of the kernel with `unsafe`.
//!
//! What lives here is what cannot be written in safe Rust: the CPU (`arch`: entry
//! stubs, traps, GDT/IDT, APIC, per-CPU data, ring-3 entry), physical memory
//! (`mm`: frames, page tables, the heap, kernel stacks, TLB shootdown), the boot
//! entry that turns a loader's handover into a `BootInfo` (`boot`, `arch::entry`),
//! and the interrupt-safe lock the memory code needs (`sync`).
//!
//! Principles (Asterinas OSTD's, at our size):
//! - **Safe functions hand out no raw power.** No public function takes an arbitrary
//!   physical address and gives access to it, frees a frame by address, or writes an
//!   arbitrary I/O port or kernel address. Physical memory is reached through owned
//!   types ([`mm::frame::Frame`], freed on drop, reference-counted for copy-on-write)
//!   and copy APIs (`Frame::read/write`, `AddressSpace::copy_in/copy_out`).
//! - **Every `unsafe` block says why it is sound** in a `// SAFETY:` comment.
//! - **Calls go down only.** The HAL knows nothing of the kernel above it except the
//!   [`Entry`] the kernel registers at link time with [`entry!`] (its main, early
//!   console and fatal-error report). Counters the HAL bumps live in [`metrics`].
//!
//! The kernel crate on top says `#![deny(unsafe_code)]` (see kernel/src/main.rs).

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod arch;
pub mod boot;
pub mod metrics;
pub mod mm;
pub mod sync;

pub use arch::entry::Entry;

/// Most CPUs the kernel supports.
pub const MAX_CPUS: usize = 64;
