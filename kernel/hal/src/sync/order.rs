//! The kernel's lock order, checked at run time.
//!
//! Every `IrqMutex` that can be held together with another one has a class with a
//! rank; a CPU may only take a lock whose rank is above every lock it already holds.
//! The ranks (lowest first) are the documented order:
//!
//! | rank | lock | why it comes here |
//! |---|---|---|
//! | 5 | `PROCESSES` | the process table; nothing but the heap is taken under it (address spaces are freed outside it) |
//! | 10 | `KERNEL_TABLES` | heap growth maps pages while holding the heap lock, and maps allocate frames |
//! | 20 | `FRAMES` | taken under the kernel tables (page-table frames) |
//! | 30 | `FRAMEBUFFER` | console output, may follow any of the above in a log call |
//! | 40 | `SERIAL` | anything may log |
//! | 45 | `SERIAL_INPUT` | a leaf: the COM1 receive buffer, nothing is taken under it |
//!
//! The heap lock sits below all of these (buddy allocator's own spinlock; its rescue
//! path takes KERNEL_TABLES then FRAMES). IPC port locks are leaves (nothing is taken
//! under them, and wakers are called after unlocking). No lock is held across `.await`:
//! `IrqGuard` is `!Send`, so a future holding one cannot be spawned.
//!
//! The held set is a per-CPU bitmask (`PerCpu::locks_held`); the check is one load, a
//! compare and one store per lock, cheap enough to stay on in release builds.

use kcore::lockorder::{self, LockClass};

/// The process table.
pub const PROCESSES: LockClass = LockClass::new("process table", 5);
/// Kernel page tables.
pub const KERNEL_TABLES: LockClass = LockClass::new("kernel page tables", 10);
/// The physical frame bitmap.
pub const FRAMES: LockClass = LockClass::new("frame bitmap", 20);
/// The framebuffer console.
pub const FRAMEBUFFER: LockClass = LockClass::new("framebuffer console", 30);
/// COM1.
pub const SERIAL: LockClass = LockClass::new("serial port", 40);
/// COM1 input buffer (a leaf: taken by the receive interrupt and `read`).
pub const SERIAL_INPUT: LockClass = LockClass::new("serial input", 45);

const _: () = assert!(lockorder::classes_valid(&[PROCESSES, KERNEL_TABLES, FRAMES, FRAMEBUFFER, SERIAL, SERIAL_INPUT]));

/// Records that this CPU takes `class`; Err if that breaks the order.
pub fn acquire(class: &LockClass) -> Result<(), lockorder::LockOrderViolation> {
    let Some(held) = crate::arch::percpu::locks_held() else { return Ok(()) };
    let now = lockorder::acquire(held.load(core::sync::atomic::Ordering::Relaxed), class.rank)?;
    held.store(now, core::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// Records that this CPU released `class`.
pub fn release(class: &LockClass) {
    if let Some(held) = crate::arch::percpu::locks_held() {
        let v = held.load(core::sync::atomic::Ordering::Relaxed);
        held.store(lockorder::release(v, class.rank), core::sync::atomic::Ordering::Relaxed);
    }
}
