//! A per-CPU, lock-free async executor for the kernel (`no_std` + `alloc`), tested on the host.
//!
//! # What it is
//!
//! Every CPU runs [`Executor::run`]: it polls its own run queues (High, then Normal, then
//! Low), fires its own expired timers, steals from other CPUs when it has nothing to do
//! (a swappable [`StealPolicy`]), and otherwise idles: it polls for a while or halts at once
//! through [`Platform::idle`], as a swappable [`IdlePolicy`] decides. A task is
//! one allocation (a header with atomic state bits and a refcount, plus the future), and
//! its [`Waker`](core::task::Waker) is a pointer to that header: cloning, waking and dropping
//! a waker never allocate nor take a lock, so `wake()` is safe from interrupt handlers.
//!
//! # Principles
//!
//! - Hot paths are lock-free: a wake is one CAS, one queue push and, only when the target
//!   CPU is halted, one notification (an IPI in the kernel).
//! - No lost wake-ups: a CPU announces it is going to sleep (`sleeping` flag, SeqCst) and
//!   re-checks its queues with interrupts off before halting; a waker pushes, then looks at
//!   the flag. See `handshake.rs` (`SleepFlag`), `executor.rs` (`kick`) and `run.rs`
//!   (`idle`); model-checked with loom (`tests/loom_idle.rs`).
//! - A task is never polled twice at once; a wake during a poll re-queues it exactly once
//!   after the poll. The state machine is drawn in `task.rs`; each of its numbered
//!   transitions is one method of `state::State`, model-checked in `tests/loom_state.rs`.
//! - The machine is behind [`Platform`]: the kernel implements it with the LAPIC, IPIs and
//!   the TSC; the host (feature `std`, module `host`) with threads, condition variables and
//!   `Instant`.
//! - Instrumentation is built in: per-CPU counters of every event and a wake-latency
//!   [`Log2Histogram`] (time from `wake()` to the start of the next poll, one wake in 16
//!   timed: [`Executor::set_latency_sample`]), read with [`Executor::stats`], and a
//!   scheduler trace hook ([`trace`]: events to a sink the platform installs; off costs
//!   one relaxed load and a branch per event site).
//!
//! # Example (host)
//!
//! ```
//! use core::time::Duration;
//! use executor::host::{wait_for, HostRuntime};
//!
//! let rt = HostRuntime::new(2); // two threads play CPUs 0 and 1
//! let exec = rt.executor();
//! let h = exec.spawn_on(1, async move {
//!     executor::sleep(Duration::from_millis(1)).await;
//!     let child = exec.spawn(async { 20 }); // home = CPU 1, migratable
//!     child.await + 1
//! });
//! assert_eq!(wait_for(h, Duration::from_secs(10)), Some(21));
//! assert_eq!(exec.stats(1).completed, 2);
//! ```
//!
//! In the kernel: implement [`Platform`], `Executor::new(&PLATFORM, ncpus)` once, and on
//! every CPU call `exec.run(cpu, &|| false)`.
//!
//! `unsafe` lives only in `task.rs` (the task allocation), `waker.rs` (raw wakers),
//! `mpsc.rs` and `local.rs` (intrusive run queues through the task header),
//! `join.rs` (reading the typed output), `run.rs` (calling a task's poll and drop through
//! its vtable), `timeout.rs` (one pin projection), `policy.rs` (the swappable policy
//! pointer) and `context.rs` (a global pointer to the running executor in the kernel);
//! each block states its invariant in a `// SAFETY:` comment.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]

extern crate alloc;

mod context;
mod executor;
mod handshake;
mod hist;
pub mod idle;
mod join;
mod local;
mod mpsc;
mod policy;
mod queue;
mod run;
mod state;
mod stats;
mod sync;
mod task;
mod timeout;
mod timer;
pub mod trace;
mod waker;
mod yield_now;

#[cfg(any(test, feature = "std"))]
pub mod host;

/// Internals for the loom models in `tests/loom_*.rs`; exists only under `--cfg loom`.
#[cfg(loom)]
#[doc(hidden)]
pub mod model {
    pub use crate::handshake::SleepFlag;
    pub use crate::state::*;
}

pub use executor::{Executor, Priority, SpawnOptions, DEFAULT_LATENCY_SAMPLE};
pub use hist::Log2Histogram;
pub use idle::{IdleOutcome, IdlePolicy};
pub use join::JoinHandle;
pub use policy::{NoSteal, StealHalf, StealOne, StealPolicy};
pub use stats::{CpuStats, LatencySummary};
pub use task::TaskId;
pub use timeout::{timeout, Elapsed, Timeout};
pub use timer::{sleep, sleep_until, Sleep};
pub use trace::{Event, TraceSink};
pub use waker::{task_info, TaskInfo};
pub use yield_now::{yield_now, YieldNow};

/// What the executor needs from the machine.
///
/// The kernel implements it with the LAPIC (one-shot or TSC-deadline timer), RESCHEDULE
/// IPIs and the TSC; `host::HostPlatform` (feature `std`) implements it with threads.
pub trait Platform: Send + Sync + 'static {
    /// Index of the calling CPU, `0..num_cpus`. A value `>= num_cpus` means "not one of
    /// the executor's CPUs" (a foreign host thread): wakes from there count as remote and
    /// `spawn` from there picks a home CPU round-robin.
    fn cpu_id(&self) -> usize;

    /// Wake `cpu` from [`Platform::idle`] (the RESCHEDULE IPI). The executor calls it only
    /// when `cpu` has announced that it may halt, and never for the calling CPU itself.
    /// Must be safe to call from any context the executor's `wake()` is called from.
    fn notify(&self, cpu: usize);

    /// Called on an idle CPU. Must: disable interrupts, call `may_halt()`; if it returns
    /// true, atomically enable interrupts and halt (x86 `sti; hlt`) until an interrupt or a
    /// [`notify`](Platform::notify); else re-enable interrupts and return. This is the
    /// lost-wakeup-free idle protocol: a notify that arrives between the check and the halt
    /// stays pending and ends the halt at once. Spurious returns are fine.
    fn idle(&self, cpu: usize, may_halt: &dyn Fn() -> bool);

    /// Monotonic cycle counter (the TSC in the kernel), the same time base on every CPU.
    fn now(&self) -> u64;

    /// Frequency of [`now`](Platform::now), in ticks per second.
    fn ticks_per_second(&self) -> u64;

    /// Ask for an interrupt on THIS cpu at `deadline` (absolute, in `now()` units), or for
    /// none. The interrupt's handler must call
    /// [`Executor::timer_clobbered`](crate::Executor::timer_clobbered). Called by the executor on `cpu` itself, before idling, whenever its earliest
    /// timer deadline differs from the one it last asked for. A busy CPU checks its timers
    /// on every loop iteration, so it needs no tick.
    fn set_deadline(&self, cpu: usize, deadline: Option<u64>);

    /// Whether the caller runs in task context on the executor CPU `cpu_id()`: in that
    /// CPU's loop or a future it polls, not in an interrupt handler or anything else that
    /// can interrupt the loop. When true, a wake of a pinned task homed on this CPU goes
    /// to a private list with plain loads and stores (no locked instruction). Default
    /// false: every wake takes the lock-free queues, which is always correct. The host
    /// platform says true (its CPUs are threads; nothing interrupts them); a kernel may
    /// say true outside interrupt handlers (an interrupt-nesting count of zero).
    fn in_task_context(&self) -> bool {
        false
    }

    /// A task was queued on `cpu` by another CPU while `cpu` was not idle (no notify was
    /// needed). A platform whose CPUs can be busy outside the executor's loop for long
    /// (the kernel: a thread in ring 3, which returns to the loop only when it traps)
    /// interrupts `cpu` here so that it sees the task soon; the default does nothing.
    /// The caller has issued a SeqCst fence after its push (see `handshake.rs`): a flag
    /// the platform reads here pairs with one the busy CPU sets, then fences, before it
    /// last looks at its queues.
    fn poke(&self, cpu: usize) {
        let _ = cpu;
    }

    /// Called by [`Executor::run`] and [`Executor::block_on`] on the thread or CPU that is
    /// about to run `cpu`'s loop. The kernel knows its CPU already (default: nothing); the
    /// host platform records it in a thread-local so that `cpu_id()` answers `cpu`.
    fn enter_cpu(&self, cpu: usize) {
        let _ = cpu;
    }
}
