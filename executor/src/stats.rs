//! Per-CPU instrumentation: relaxed atomic counters and the snapshot type `CpuStats`.
//!
//! Counters written only by the CPU's own loop sit on one cache line; counters that other
//! CPUs bump when they wake or hand tasks to this CPU sit on another, so remote wakers do
//! not bounce the owner's hot line.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::hist::Log2Histogram;

/// Counters written only by the CPU itself (its loop, or its own wakes), with `bump_local`.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct LocalCounters {
    pub polls: AtomicU64,
    /// Wakes issued on this CPU for tasks homed here.
    pub local_wakes: AtomicU64,
    /// Next task-id sequence number for spawns issued on this CPU.
    pub next_id: AtomicU64,
    /// Tasks spawned on this CPU with this CPU as their home.
    pub local_spawns: AtomicU64,
    pub completed: AtomicU64,
    pub cancelled: AtomicU64,
    pub steals: AtomicU64,
    pub timers_fired: AtomicU64,
    pub idles: AtomicU64,
    /// Idle periods that ended in a halt, and the ticks spent halted.
    pub halts: AtomicU64,
    pub halt_ticks: AtomicU64,
    /// Ticks spent polling while idle, and polls that found work before their window ended.
    pub poll_ticks: AtomicU64,
    pub poll_hits: AtomicU64,
    /// Polls cut short because the CPU they waited on made no progress (see `idle`).
    pub polls_starved: AtomicU64,
}

/// Counters any CPU may bump (wakes and hand-overs to this CPU), with `bump`.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct SharedCounters {
    pub remote_wakes: AtomicU64,
    pub notifies: AtomicU64,
    pub spawned: AtomicU64,
    pub migrated_in: AtomicU64,
    pub migrated_out: AtomicU64,
}

/// Add one, relaxed: statistics, not synchronisation.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// Add one to a counter that only the calling CPU writes: a plain load and store, no locked
/// instruction. (In the kernel an interrupt on the same CPU that bumps the same counter
/// between the two may lose one count; these are statistics.)
/// Returns the new value.
pub(crate) fn bump_local(c: &AtomicU64) -> u64 {
    add_local(c, 1)
}

/// Add `n` to a counter that only the calling CPU writes (see `bump_local`); returns the
/// new value.
pub(crate) fn add_local(c: &AtomicU64, n: u64) -> u64 {
    let v = c.load(Relaxed).wrapping_add(n);
    c.store(v, Relaxed);
    v
}

/// A CPU's instrumentation.
#[derive(Default)]
pub(crate) struct Stats {
    pub local: LocalCounters,
    pub shared: SharedCounters,
    pub wake_latency: Log2Histogram,
}

/// Summary of a latency histogram, in platform ticks (`Platform::now` units).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Smallest sample.
    pub min: u64,
    /// Median (upper bound of its log2 bucket).
    pub p50: u64,
    /// 99th percentile (upper bound of its log2 bucket).
    pub p99: u64,
    /// Largest sample.
    pub max: u64,
}

impl LatencySummary {
    /// Summarise `h`.
    pub fn of(h: &Log2Histogram) -> Self {
        LatencySummary {
            count: h.count(),
            min: h.min(),
            p50: h.percentile(50.0),
            p99: h.percentile(99.0),
            max: h.max(),
        }
    }
}

/// A snapshot of one CPU's counters (see [`Executor::stats`](crate::Executor::stats)).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuStats {
    /// Polls of task futures on this CPU.
    pub polls: u64,
    /// Wakes that scheduled a task whose home is this CPU (no-op wakes are not counted).
    pub wakes: u64,
    /// Of `wakes`, those issued from another CPU (or a foreign thread).
    pub remote_wakes: u64,
    /// Notifications (RESCHEDULE IPIs) sent to this CPU because it was idle.
    pub notifies_sent: u64,
    /// Successful steal attempts by this CPU (each may move several tasks).
    pub steals: u64,
    /// Tasks moved to this CPU by `migrate` (stealing or a balancer).
    pub migrated_in: u64,
    /// Tasks moved away from this CPU by `migrate`.
    pub migrated_out: u64,
    /// Tasks spawned with this CPU as their home.
    pub spawned: u64,
    /// Tasks whose future completed on this CPU.
    pub completed: u64,
    /// Tasks whose future was dropped unfinished on this CPU (cancelled or abandoned).
    pub cancelled: u64,
    /// Timers that expired and woke their task on this CPU.
    pub timers_fired: u64,
    /// Idle periods: times this CPU found nothing to run and entered `idle`.
    pub idles: u64,
    /// Idle periods that ended in a halt (`Platform::idle` was allowed to halt).
    pub halts: u64,
    /// Platform ticks spent halted.
    pub halt_ticks: u64,
    /// Platform ticks spent polling before halting (the idle policy's cost in CPU time).
    pub poll_ticks: u64,
    /// Idle periods in which work (a wake, a timer) arrived while polling: each saved a
    /// halt and, for a remote wake, an IPI.
    pub poll_hits: u64,
    /// Idle periods whose poll was cut short because a CPU this one had just woken ran
    /// nothing for [`STARVED_AFTER_US`](crate::idle::STARVED_AFTER_US): its host was
    /// not running it, so the spin only took host time from it.
    pub polls_starved: u64,
    /// Approximate run-queue length at the time of the snapshot.
    pub queued: usize,
    /// Wake latency: from the `wake()` that scheduled a task to the start of its next poll,
    /// in platform ticks.
    pub wake_latency: LatencySummary,
}

impl Stats {
    pub(crate) fn snapshot(&self, queued: usize) -> CpuStats {
        let l = &self.local;
        let s = &self.shared;
        CpuStats {
            polls: l.polls.load(Relaxed),
            wakes: l.local_wakes.load(Relaxed) + s.remote_wakes.load(Relaxed),
            remote_wakes: s.remote_wakes.load(Relaxed),
            notifies_sent: s.notifies.load(Relaxed),
            steals: l.steals.load(Relaxed),
            migrated_in: s.migrated_in.load(Relaxed),
            migrated_out: s.migrated_out.load(Relaxed),
            spawned: l.local_spawns.load(Relaxed) + s.spawned.load(Relaxed),
            completed: l.completed.load(Relaxed),
            cancelled: l.cancelled.load(Relaxed),
            timers_fired: l.timers_fired.load(Relaxed),
            idles: l.idles.load(Relaxed),
            halts: l.halts.load(Relaxed),
            halt_ticks: l.halt_ticks.load(Relaxed),
            poll_ticks: l.poll_ticks.load(Relaxed),
            poll_hits: l.poll_hits.load(Relaxed),
            polls_starved: l.polls_starved.load(Relaxed),
            queued,
            wake_latency: LatencySummary::of(&self.wake_latency),
        }
    }
}
