//! Scheduler-trace hooks: the executor reports its events (poll begin/end, wake,
//! timers fired, steal, migrate, idle-poll begin/end) to a [`TraceSink`] that the
//! platform installs with [`Executor::set_trace`]; the kernel records them in per-CPU
//! rings next to its own events (IPIs, halts, interrupts, system calls, ring 3).
//!
//! Cost when off: every event site is `if mask.load(Relaxed) & CLASS != 0 { .. }`, one
//! load of a word next to the executor's other read-mostly fields and a branch that is
//! always not-taken; building the event and calling the sink sit behind the branch, in
//! a cold out-of-line function. The mask is per executor, not global, so that host
//! tests (one executor each, many per process) do not see each other's events.
//!
//! For the idle policies: emit [`Event::IdlePollBegin`] when the loop starts polling its
//! queues instead of halting and [`Event::IdlePollEnd`] when it stops (work found, or it
//! gives up and halts), with `self.trace(class::IDLE, || Event::IdlePollBegin)` in `run.rs`.

use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use crate::executor::Executor;
use crate::task::TaskId;

/// Event classes: bits of the mask given to [`Executor::set_trace`]. The same numbers
/// as the kernel's `trace=` classes (`kcore::trace`); the kernel-only ones (IPI,
/// SYSCALL, USER) are listed so that a platform can use one mask for both.
pub mod class {
    /// [`Event::PollBegin`](super::Event::PollBegin), [`Event::PollEnd`](super::Event::PollEnd).
    pub const POLL: u32 = 1 << 0;
    /// [`Event::Wake`](super::Event::Wake).
    pub const WAKE: u32 = 1 << 1;
    /// RESCHEDULE IPIs (the platform's `notify` and its interrupt handler).
    pub const IPI: u32 = 1 << 2;
    /// Idle: the platform's halts, and [`Event::IdlePollBegin`](super::Event::IdlePollBegin)/`End`.
    pub const IDLE: u32 = 1 << 3;
    /// [`Event::TimersFired`](super::Event::TimersFired) (and the platform's timer interrupts).
    pub const TIMER: u32 = 1 << 4;
    /// System calls (kernel only).
    pub const SYSCALL: u32 = 1 << 5;
    /// Ring-3 entry and exit (kernel only).
    pub const USER: u32 = 1 << 6;
    /// [`Event::Steal`](super::Event::Steal), [`Event::Migrate`](super::Event::Migrate).
    pub const STEAL: u32 = 1 << 7;
}

/// Something the executor did, reported to the [`TraceSink`] on the CPU it happened on
/// (the sink asks its platform which CPU that is).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The loop starts polling `task`.
    PollBegin {
        /// The task.
        task: TaskId,
        /// Its name ([`SpawnOptions::name`](crate::SpawnOptions::name)).
        name: &'static str,
    },
    /// The poll of `task` returned.
    PollEnd {
        /// The task.
        task: TaskId,
        /// Whether its future completed.
        ready: bool,
    },
    /// A wake scheduled `task` (no-op wakes are not reported); `target` is the CPU whose
    /// queue it goes to. Its next `PollBegin` is the poll this wake caused.
    Wake {
        /// The task.
        task: TaskId,
        /// Its home CPU.
        target: usize,
    },
    /// The loop fired `count` expired timers (their wakes follow as `Wake` events).
    TimersFired {
        /// How many.
        count: usize,
    },
    /// This CPU stole work; the tasks it moved were reported as `Migrate` just before.
    Steal,
    /// A queued task moved from `from` to `to` (stealing or a balancer).
    Migrate {
        /// The task.
        task: TaskId,
        /// Its old home.
        from: usize,
        /// Its new home.
        to: usize,
    },
    /// The idle loop starts polling its queues (an idle policy's poll phase).
    IdlePollBegin,
    /// The idle poll phase ends.
    IdlePollEnd,
}

impl Event {
    /// The [`class`] bit that switches this event on.
    #[inline(always)]
    pub const fn class(&self) -> u32 {
        match self {
            Event::PollBegin { .. } | Event::PollEnd { .. } => class::POLL,
            Event::Wake { .. } => class::WAKE,
            Event::TimersFired { .. } => class::TIMER,
            Event::Steal | Event::Migrate { .. } => class::STEAL,
            Event::IdlePollBegin | Event::IdlePollEnd => class::IDLE,
        }
    }
}

/// Where trace events go. Called on the CPU the event happened on, possibly from an
/// interrupt handler (a wake), so it must not block or allocate.
pub trait TraceSink: Sync {
    /// Record `event`.
    fn record(&self, event: Event);
}

/// An executor's trace switch: the class mask and the sink.
pub(crate) struct Tracer {
    mask: AtomicU32,
    /// A leaked thin pointer to the sink (as for the steal policy); null = none.
    sink: AtomicPtr<&'static dyn TraceSink>,
}

impl Tracer {
    pub(crate) const fn new() -> Tracer {
        Tracer {
            mask: AtomicU32::new(0),
            sink: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Passes `ev()` to the sink if `class` is on: when off, one relaxed load and a
    /// not-taken branch (the event is built only behind it, in a cold closure).
    #[inline(always)]
    pub(crate) fn emit(&self, class: u32, ev: impl FnOnce() -> Event) {
        // Relaxed: a stale mask only records or skips a few events around a switch.
        if self.mask.load(Ordering::Relaxed) & class != 0 {
            record(self, class, ev);
        }
    }
}

#[cold]
#[inline(never)]
fn record(t: &Tracer, class: u32, ev: impl FnOnce() -> Event) {
    let ev = ev();
    debug_assert_eq!(ev.class(), class, "{ev:?} traced under the wrong class");
    t.record(ev);
}

impl Tracer {
    fn record(&self, ev: Event) {
        // SAFETY: the pointer is null or a leaked box made in `set`, never freed.
        // Acquire pairs with the Release in `set`, so the box's contents are visible.
        if let Some(sink) = unsafe { self.sink.load(Ordering::Acquire).as_ref() } {
            sink.record(ev);
        }
    }

    fn set(&self, mask: u32, sink: Option<&'static dyn TraceSink>) {
        if let Some(s) = sink {
            // Leaks one pointer-sized box per call: tracing is switched a few times per boot.
            let boxed: *mut &'static dyn TraceSink =
                alloc::boxed::Box::into_raw(alloc::boxed::Box::new(s));
            self.sink.store(boxed, Ordering::Release);
        }
        self.mask.store(mask, Ordering::Relaxed);
    }
}

impl Executor {
    /// Switch tracing: report events of the [`class`]es in `mask` (0 = off) to `sink`
    /// (`None` keeps the sink installed before). Takes effect within a few events on
    /// every CPU.
    pub fn set_trace(&self, mask: u32, sink: Option<&'static dyn TraceSink>) {
        self.tracer.set(mask, sink);
    }

    /// The class mask last given to [`set_trace`](Executor::set_trace).
    pub fn trace_mask(&self) -> u32 {
        self.tracer.mask.load(Ordering::Relaxed)
    }

    /// Report `ev()` if `class` (which must be `ev().class()`) is on; see the module docs
    /// for the cost when off.
    #[inline(always)]
    pub(crate) fn trace(&self, class: u32, ev: impl FnOnce() -> Event) {
        self.tracer.emit(class, ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{wait_for, HostPlatform, HostRuntime};
    use crate::SpawnOptions;
    use std::sync::Mutex;
    use std::time::Duration;
    use std::vec::Vec;

    /// Records (cpu, event) pairs.
    struct Log(Mutex<Vec<(usize, Event)>>);

    impl TraceSink for Log {
        fn record(&self, event: Event) {
            let cpu = HostPlatform::current_cpu().unwrap_or(usize::MAX);
            self.0.lock().unwrap().push((cpu, event));
        }
    }

    /// A one-shot gate: `wait` is pending until `open`.
    #[derive(Default)]
    struct Gate {
        open: std::sync::atomic::AtomicBool,
        waker: futures_util::task::AtomicWaker,
    }

    impl Gate {
        fn open(&self) {
            self.open.store(true, Ordering::Release);
            self.waker.wake();
        }

        async fn wait(&self) {
            core::future::poll_fn(|cx| {
                self.waker.register(cx.waker());
                if self.open.load(Ordering::Acquire) {
                    core::task::Poll::Ready(())
                } else {
                    core::task::Poll::Pending
                }
            })
            .await
        }
    }

    fn log() -> &'static Log {
        Box::leak(Box::new(Log(Mutex::new(Vec::new()))))
    }

    #[test]
    fn off_by_default_and_records_nothing() {
        let rt = HostRuntime::new(2);
        let exec = rt.executor();
        let sink = log();
        exec.set_trace(0, Some(sink));
        assert_eq!(
            wait_for(exec.spawn_on(1, async { 5 }), Duration::from_secs(10)),
            Some(5)
        );
        assert!(sink.0.lock().unwrap().is_empty());
    }

    /// A wake from CPU 0 of a task homed on CPU 1 is reported on CPU 0, and the task's
    /// next poll on CPU 1; only the classes asked for are reported.
    #[test]
    fn cross_cpu_wake_then_poll() {
        let rt = HostRuntime::new(2);
        let exec = rt.executor();
        let sink = log();
        exec.set_trace(class::POLL | class::WAKE, Some(sink));
        let gate: &'static Gate = Box::leak(Box::new(Gate::default()));
        let opts = SpawnOptions {
            cpu: Some(1),
            pinned: true,
            name: "waiter",
            ..Default::default()
        };
        let waiter = exec.spawn_with(opts, gate.wait());
        std::thread::sleep(Duration::from_millis(20));
        let waker = exec.spawn_on(0, async move { gate.open() });
        assert_eq!(wait_for(waker, Duration::from_secs(10)), Some(()));
        assert_eq!(wait_for(waiter, Duration::from_secs(10)), Some(()));
        exec.set_trace(0, None);
        let ev = sink.0.lock().unwrap().clone();
        let id = ev
            .iter()
            .find_map(|(_, e)| match e {
                Event::PollBegin {
                    task,
                    name: "waiter",
                } => Some(*task),
                _ => None,
            })
            .expect("waiter polled");
        let wake = ev
            .iter()
            .position(|(c, e)| {
                *c == 0
                    && *e
                        == Event::Wake {
                            task: id,
                            target: 1,
                        }
            })
            .expect("wake of the waiter on cpu0");
        let polls: Vec<_> = ev[wake..]
            .iter()
            .filter(|(_, e)| matches!(e, Event::PollBegin { task, .. } if *task == id))
            .collect();
        assert_eq!(polls.first().map(|p| p.0), Some(1), "{ev:?}");
        assert!(ev.iter().any(|(c, e)| *c == 1
            && *e
                == Event::PollEnd {
                    task: id,
                    ready: true
                }));
        assert!(ev
            .iter()
            .all(|(_, e)| e.class() & (class::POLL | class::WAKE) != 0));
    }
}
