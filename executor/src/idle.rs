//! Idle policies: what a CPU does between finding nothing to run and halting.
//!
//! An idle CPU may first *poll*: spin for a window, checking its own queues and timers,
//! and only then halt. A wake that lands while the target polls costs no IPI and no halt
//! exit (the waker sees `sleeping == false` and does not notify); a window that expires
//! unused burns CPU time, which on an oversubscribed host is taken from working vCPUs.
//! The policy chooses the window; the executor (`run.rs`, `Executor::idle`) does the
//! polling and keeps the halt path's no-lost-wake-up protocol unchanged.
//!
//! Write your own by implementing [`IdlePolicy`]; install it with
//! [`Executor::set_idle_policy`](crate::Executor::set_idle_policy).

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// How an idle period ended, fed back to the policy (on the idle CPU itself).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IdleOutcome {
    /// Work arrived while polling, `waited` ticks into the window.
    PollHit {
        /// Ticks from the start of the poll to the work.
        waited: u64,
    },
    /// The CPU halted (after polling for `polled` ticks, maybe 0) and the halt lasted
    /// `halted` ticks.
    Halted {
        /// Ticks spent polling before the halt.
        polled: u64,
        /// Ticks from the halt to its end.
        halted: u64,
    },
}

/// Chooses how long an idle CPU polls before it halts.
///
/// `state` is the CPU's own word of policy state (zero at start), read and written only
/// by that CPU, so Relaxed loads and stores suffice. Times are platform ticks;
/// `ticks_per_us` converts from microseconds.
pub trait IdlePolicy: Sync {
    /// The poll window for this idle period, in ticks (0: halt at once).
    fn window(&self, state: &AtomicU64, ticks_per_us: u64) -> u64;

    /// Learn from how the period ended (default: nothing).
    fn record(&self, state: &AtomicU64, ticks_per_us: u64, outcome: IdleOutcome) {
        let _ = (state, ticks_per_us, outcome);
    }
}

/// Halt at once (no polling): the lowest CPU cost, every cross-CPU wake needs an IPI.
pub struct Halt;

impl IdlePolicy for Halt {
    fn window(&self, _: &AtomicU64, _: u64) -> u64 {
        0
    }
}

/// Poll for a fixed window of `us` microseconds, then halt.
pub struct Poll {
    /// The window, in microseconds.
    pub us: u64,
}

impl IdlePolicy for Poll {
    fn window(&self, _: &AtomicU64, ticks_per_us: u64) -> u64 {
        self.us.saturating_mul(ticks_per_us)
    }
}

/// A per-CPU window that adapts, as KVM's halt-polling does: it grows (doubling, from
/// `max_us / 16`) when a halt ends within `max_us` (a poll that long would have caught
/// the wake) and shrinks (halving, to 0) when a halt lasts longer than `max_us` (the poll
/// before it was wasted). A poll that catches work keeps its window.
pub struct Adaptive {
    /// Largest window, in microseconds.
    pub max_us: u64,
}

impl Adaptive {
    fn grow_start(&self) -> u64 {
        (self.max_us / 16).max(1)
    }
}

impl IdlePolicy for Adaptive {
    fn window(&self, state: &AtomicU64, ticks_per_us: u64) -> u64 {
        state.load(Relaxed).saturating_mul(ticks_per_us)
    }

    fn record(&self, state: &AtomicU64, ticks_per_us: u64, outcome: IdleOutcome) {
        let IdleOutcome::Halted { halted, .. } = outcome else { return };
        let w = state.load(Relaxed);
        let max_ticks = self.max_us.saturating_mul(ticks_per_us);
        let next = if halted <= max_ticks {
            if w == 0 { self.grow_start() } else { (w * 2).min(self.max_us) }
        } else {
            w / 2
        };
        state.store(next, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_grows_on_short_halts_and_shrinks_on_long_ones() {
        let p = Adaptive { max_us: 160 };
        let s = AtomicU64::new(0);
        let tpu = 1000; // ticks per µs
        assert_eq!(p.window(&s, tpu), 0);
        let short = IdleOutcome::Halted { polled: 0, halted: 5 * tpu };
        let long = IdleOutcome::Halted { polled: 0, halted: 1000 * tpu };
        p.record(&s, tpu, short);
        assert_eq!(p.window(&s, tpu), 10 * tpu);
        for _ in 0..10 {
            p.record(&s, tpu, short);
        }
        assert_eq!(p.window(&s, tpu), 160 * tpu, "capped at max");
        p.record(&s, tpu, IdleOutcome::PollHit { waited: 3 });
        assert_eq!(p.window(&s, tpu), 160 * tpu, "a hit keeps the window");
        p.record(&s, tpu, long);
        assert_eq!(p.window(&s, tpu), 80 * tpu);
        for _ in 0..10 {
            p.record(&s, tpu, long);
        }
        assert_eq!(p.window(&s, tpu), 0, "shrinks to nothing");
    }

    #[test]
    fn fixed_policies() {
        let s = AtomicU64::new(0);
        assert_eq!(Halt.window(&s, 7), 0);
        assert_eq!(Poll { us: 50 }.window(&s, 7), 350);
        assert_eq!(Poll { us: u64::MAX }.window(&s, 7), u64::MAX);
    }
}
