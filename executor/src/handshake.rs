//! The idle/kick handshake that keeps a wake from being lost to a CPU going to sleep:
//! the per-CPU `sleeping` flag and the two SeqCst fences, in one place so that
//! `tests/loom_idle.rs` model-checks this very code (under `--cfg loom`).
//!
//! ```text
//!   waker:  push task        ; should_notify(): fence(SeqCst) ; sleeping? → swap(false) → notify
//!   idler:  announce(): sleeping = true ; fence(SeqCst) ; platform.idle(may_halt = queues empty)
//!           clear(): sleeping = false
//! ```
//!
//! With a SeqCst fence on both sides, at least one side sees the other's write (Dekker):
//! either the waker sees `sleeping` and notifies (a notify that lands before the halt
//! keeps it from halting: interrupts are off until `sti; hlt`), or the idler's re-check
//! sees the task. The swap makes only one waker pay for the notify per sleep. An idle
//! policy's poll phase runs before `announce()` with the flag clear, so it changes only
//! how often the queues are looked at first, never this pairing.

use crate::sync::atomic::{fence, AtomicBool, Ordering};

/// A CPU's "I may halt" flag.
pub struct SleepFlag(AtomicBool);

impl Default for SleepFlag {
    fn default() -> Self {
        Self::new()
    }
}

impl SleepFlag {
    /// Clear (the CPU is running).
    pub fn new() -> Self {
        SleepFlag(AtomicBool::new(false))
    }

    /// Idler, before its interrupts-off re-check of the queues: set the flag, then the
    /// SeqCst fence (the idler's half of the Dekker pairing).
    pub fn announce(&self) {
        self.0.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    /// Idler, after `Platform::idle` returned (halted or not).
    pub fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    /// Waker, after its push: the SeqCst fence (its half of the pairing), then whether
    /// it must notify the CPU. True for at most one waker per `announce`.
    pub fn should_notify(&self) -> bool {
        fence(Ordering::SeqCst);
        self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::Relaxed)
    }
}
