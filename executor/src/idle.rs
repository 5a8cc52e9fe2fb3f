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
        /// The poll was cut short: the CPU this one had just woken a task on ran nothing
        /// for [`STARVED_AFTER_US`] (its host was not running it: fewer free host cores
        /// than busy vCPUs), so the spin was taking host time from the CPU it waited on.
        starved: bool,
    },
}

/// A poll stops early, and the CPU halts, when the CPU it last woke a task on has run
/// nothing for this long since the poll began while that task waits there. A wake takes
/// 1-2 µs under TCG on an idle host; 20 µs without any progress means that CPU is not
/// running at all (or is halted and its host is slow to bring it back), and spinning can
/// only delay it further when the two share a host core.
pub const STARVED_AFTER_US: u64 = 20;

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
///
/// Unlike KVM, a guest cannot ask whether its host has a core to spare. It sees the
/// symptom instead: a poll cut short as `starved` (the CPU it waits on is not running).
/// One such poll proves little (a halted CPU whose host is slow to wake it looks the
/// same), but after 4 in a row with no poll catching work in between, the CPU stops
/// polling for a while: the window drops to 0 for 16 idle periods, doubling with each
/// further starved poll up to 2048, and grows again after that. A poll that catches
/// work clears the count. (Backing off at the first starved poll fed on itself on a
/// 2-core host: CPUs that stopped polling needed IPIs, whose slow delivery starved the
/// polls of others.) With QEMU's vCPUs on one host core, polling while
/// waiting for a reply keeps the replying vCPU off the core: one-way IPC took 105 µs
/// instead of 3.5 µs halting (docs/benchmarking.md).
pub struct Adaptive {
    /// Largest window, in microseconds.
    pub max_us: u64,
}

/// The adaptive policy's per-CPU state word: the window in µs (low 32 bits), idle periods
/// left without polling (bits 32..48) and starved polls since the last poll hit (bits
/// 48..56).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct AdaptiveState {
    window_us: u64,
    skip: u64,
    strikes: u64,
}

impl AdaptiveState {
    /// Starved polls (with no poll hit between them) before the first back-off.
    const BACK_OFF_AT: u64 = 4;
    const MAX_STRIKES: u64 = Self::BACK_OFF_AT + 7;
    /// Idle periods without polling at the first back-off (doubling with each strike).
    const FIRST_SKIP: u64 = 16;

    fn load(a: &AtomicU64) -> Self {
        let v = a.load(Relaxed);
        AdaptiveState { window_us: v & 0xffff_ffff, skip: (v >> 32) & 0xffff, strikes: (v >> 48) & 0xff }
    }

    fn store(self, a: &AtomicU64) {
        a.store(self.window_us.min(0xffff_ffff) | self.skip.min(0xffff) << 32 | self.strikes.min(0xff) << 48, Relaxed);
    }
}

impl Adaptive {
    fn grow_start(&self) -> u64 {
        (self.max_us / 16).max(1)
    }
}

impl IdlePolicy for Adaptive {
    fn window(&self, state: &AtomicU64, ticks_per_us: u64) -> u64 {
        let s = AdaptiveState::load(state);
        if s.skip > 0 {
            return 0;
        }
        s.window_us.saturating_mul(ticks_per_us)
    }

    fn record(&self, state: &AtomicU64, ticks_per_us: u64, outcome: IdleOutcome) {
        let mut s = AdaptiveState::load(state);
        match outcome {
            IdleOutcome::PollHit { .. } => s.strikes = 0,
            IdleOutcome::Halted { starved: true, .. } => {
                s.strikes = (s.strikes + 1).min(AdaptiveState::MAX_STRIKES);
                if s.strikes >= AdaptiveState::BACK_OFF_AT {
                    s.skip = AdaptiveState::FIRST_SKIP << (s.strikes - AdaptiveState::BACK_OFF_AT);
                    s.window_us = 0;
                }
            }
            IdleOutcome::Halted { .. } if s.skip > 0 => s.skip -= 1,
            IdleOutcome::Halted { halted, .. } => {
                let w = s.window_us;
                s.window_us = if halted <= self.max_us.saturating_mul(ticks_per_us) {
                    if w == 0 { self.grow_start() } else { (w * 2).min(self.max_us) }
                } else {
                    w / 2
                };
            }
        }
        s.store(state);
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
        let short = IdleOutcome::Halted { polled: 0, halted: 5 * tpu, starved: false };
        let long = IdleOutcome::Halted { polled: 0, halted: 1000 * tpu, starved: false };
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
    fn adaptive_backs_off_after_starved_polls() {
        let p = Adaptive { max_us: 160 };
        let s = AtomicU64::new(0);
        let tpu = 1000;
        let short = IdleOutcome::Halted { polled: 0, halted: 5 * tpu, starved: false };
        let starved = IdleOutcome::Halted { polled: 20 * tpu, halted: 5 * tpu, starved: true };
        let hit = IdleOutcome::PollHit { waited: 3 };
        for _ in 0..10 {
            p.record(&s, tpu, short);
        }
        assert_eq!(p.window(&s, tpu), 160 * tpu);
        // Three starved polls keep the window; a hit clears the count.
        for _ in 0..3 {
            p.record(&s, tpu, starved);
            assert_eq!(p.window(&s, tpu), 160 * tpu);
        }
        p.record(&s, tpu, hit);
        for _ in 0..3 {
            p.record(&s, tpu, starved);
        }
        assert_eq!(p.window(&s, tpu), 160 * tpu, "the hit reset the count");
        // The 4th in a row: no polling for 16 idle periods, however short their halts.
        p.record(&s, tpu, starved);
        for i in 0..16 {
            assert_eq!(p.window(&s, tpu), 0, "period {i} of the back-off polled");
            p.record(&s, tpu, short);
        }
        // Then it grows again from the start.
        assert_eq!(p.window(&s, tpu), 0);
        p.record(&s, tpu, short);
        assert_eq!(p.window(&s, tpu), 10 * tpu);
        // Each further starved poll doubles the back-off, up to 2048 periods.
        let skipped = |s: &AtomicU64| {
            let mut n = 0;
            while p.window(s, tpu) == 0 && n < 10_000 {
                p.record(s, tpu, short);
                n += 1;
            }
            n
        };
        p.record(&s, tpu, starved);
        assert_eq!(skipped(&s), 32 + 1, "fifth strike: 32 periods, then one to regrow");
        for _ in 0..10 {
            p.record(&s, tpu, starved);
        }
        assert_eq!(skipped(&s), 2048 + 1, "capped");
        // A poll that catches work clears the strikes.
        p.record(&s, tpu, hit);
        p.record(&s, tpu, starved);
        assert_eq!(p.window(&s, tpu), 10 * tpu, "one starved poll after a hit: no back-off");
    }

    #[test]
    fn fixed_policies() {
        let s = AtomicU64::new(0);
        assert_eq!(Halt.window(&s, 7), 0);
        assert_eq!(Poll { us: 50 }.window(&s, 7), 350);
        assert_eq!(Poll { us: u64::MAX }.window(&s, 7), u64::MAX);
    }
}
