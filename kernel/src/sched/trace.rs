//! The scheduler trace: per-CPU lock-free rings (`kcore::trace::ring`) of TSC-stamped
//! events, off unless `trace=<classes>` is on the command line (or a test turns it on).
//!
//! Two sources feed the rings: the executor, through the [`TraceSink`] installed with
//! `Executor::set_trace` (poll begin/end, wake, timers fired, steal, migrate, idle
//! poll), and the kernel's own event sites, which call [`event`] (IPIs, halts, timer
//! interrupts, system calls, ring 3). When off, each site costs one relaxed load of
//! [`MASK`] (or of the executor's mask) and a branch. [`dump`] prints the rings as
//! `TRACE` lines at the end of a bench or test run; `benches/runner/trace.py` turns
//! them into a Perfetto (Chrome JSON) trace and a report.

#[allow(dead_code)]
pub mod tests;

use super::exec;
use crate::arch::{cpu::rdtsc, cpu_id, time};
use crate::{kprintln, smp};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use executor::trace::class;
use executor::{Event, TraceSink};
use kcore::trace::{self as fmt, ring::Ring, Classes, Kind, Line, Record};

// One mask for both halves: the command line's classes are the executor's bits.
const _: () = assert!(
    fmt::POLL == class::POLL
        && fmt::WAKE == class::WAKE
        && fmt::IPI == class::IPI
        && fmt::IDLE == class::IDLE
        && fmt::TIMER == class::TIMER
        && fmt::SYSCALL == class::SYSCALL
        && fmt::USER == class::USER
        && fmt::STEAL == class::STEAL
);

/// Records kept per CPU (the newest; older ones are overwritten). 32 bytes each.
pub const CAPACITY: usize = 16384;

/// Classes the kernel's own event sites record (the executor keeps its own copy).
static MASK: AtomicU32 = AtomicU32::new(0);
/// One ring per CPU, allocated the first time tracing is switched on.
static RINGS: spin::Once<Vec<Ring>> = spin::Once::new();
/// Task names seen in polls; a `PollBegin` record carries the index.
static NAMES: [spin::Once<&'static str>; 64] = [const { spin::Once::new() }; 64];

/// The executor's events go to the calling CPU's ring.
struct KernelSink;

static SINK: KernelSink = KernelSink;

impl TraceSink for KernelSink {
    fn record(&self, ev: Event) {
        let (kind, task, a, b) = match ev {
            Event::PollBegin { task, name } => (Kind::PollBegin, task.get(), intern(name), 0),
            Event::PollEnd { task, ready } => (Kind::PollEnd, task.get(), ready as u32, 0),
            Event::Wake { task, target } => (Kind::Wake, task.get(), target as u32, 0),
            Event::TimersFired { count } => (Kind::TimersFired, 0, count as u32, 0),
            Event::Steal => (Kind::Steal, 0, 0, 0),
            Event::Migrate { task, from, to } => {
                (Kind::Migrate, task.get(), from as u32, to as u32)
            }
            Event::IdlePollBegin => (Kind::IdlePollBegin, 0, 0, 0),
            Event::IdlePollEnd => (Kind::IdlePollEnd, 0, 0, 0),
        };
        record(kind, task, a, b);
    }
}

/// The index of `name` in [`NAMES`] (added if new; 63 = "other" when full). Only
/// task polls call it, never interrupt handlers, so `call_once` cannot deadlock.
fn intern(name: &'static str) -> u32 {
    for (i, slot) in NAMES.iter().enumerate() {
        let n = slot.call_once(|| name);
        if core::ptr::eq(*n, name) || *n == name {
            return i as u32;
        }
    }
    NAMES.len() as u32 - 1
}

// The executor's class bits and the command line's (`kcore::trace`) are the same
// numbers, so that `enable` can hand one mask to both: checked here, where both are seen.
const _: () = {
    use executor::trace::class as e;
    use kcore::trace as k;
    assert!(e::POLL == k::POLL && e::WAKE == k::WAKE && e::IPI == k::IPI && e::IDLE == k::IDLE);
    assert!(e::TIMER == k::TIMER && e::SYSCALL == k::SYSCALL && e::USER == k::USER && e::STEAL == k::STEAL);
};

/// Switches tracing to `classes` (0 = off) for both the kernel and the executor.
pub fn enable(classes: Classes) {
    if !classes.is_empty() {
        RINGS.call_once(|| (0..smp::count()).map(|_| Ring::new(CAPACITY)).collect());
    }
    MASK.store(classes.0, Ordering::Relaxed);
    exec().set_trace(classes.0, Some(&SINK));
}

/// The classes being recorded.
pub fn classes() -> Classes {
    Classes(MASK.load(Ordering::Relaxed))
}

/// Records a kernel event of `kind` on this CPU if its class is on: when off, one
/// relaxed load and a not-taken branch.
#[inline(always)]
pub fn event(kind: Kind, task: u64, a: u32, b: u32) {
    if MASK.load(Ordering::Relaxed) & kind.class() != 0 {
        record(kind, task, a, b);
    }
}

/// [`event`] for the task being polled on this CPU (system calls, ring 3).
#[inline(always)]
pub fn task_event(kind: Kind, a: u32, b: u32) {
    if MASK.load(Ordering::Relaxed) & kind.class() != 0 {
        let task = exec().current_task(cpu_id()).map_or(0, |t| t.get());
        record(kind, task, a, b);
    }
}

#[cold]
#[inline(never)]
fn record(kind: Kind, task: u64, a: u32, b: u32) {
    if let Some(ring) = RINGS.get().and_then(|r| r.get(cpu_id())) {
        ring.push(&Record {
            tsc: rdtsc(),
            kind,
            task,
            a,
            b,
        });
    }
}

/// Records pushed on `cpu` so far (0 before tracing was ever on).
pub fn pushed(cpu: usize) -> u64 {
    RINGS.get().and_then(|r| r.get(cpu)).map_or(0, Ring::pushed)
}

/// `cpu`'s records from sequence number `from` on that are still kept (see
/// `Ring::read_from`).
pub fn read(cpu: usize, from: u64) -> Vec<Record> {
    RINGS
        .get()
        .and_then(|r| r.get(cpu))
        .map_or(Vec::new(), |r| r.read_from(from).0)
}

/// Stops tracing and prints every ring, oldest record first, between a `TRACEINFO`
/// and a `TRACEDONE` line (format: `kcore::trace::Line`; names as `TRACENAME`).
/// Nothing if tracing is off.
pub fn dump() {
    let was = classes();
    let Some(rings) = RINGS.get().filter(|_| !was.is_empty()) else {
        return;
    };
    enable(Classes(0));
    kprintln!(
        "TRACEINFO tsc_hz={} cpus={} classes={was} capacity={CAPACITY}",
        time::tsc_hz(),
        rings.len()
    );
    for (i, n) in NAMES.iter().enumerate() {
        if let Some(n) = n.get() {
            kprintln!("TRACENAME {i} {n}");
        }
    }
    let mut lost = 0;
    for (cpu, ring) in rings.iter().enumerate() {
        let (records, l) = ring.read_from(0);
        lost += l;
        for r in &records {
            kprintln!("{}", Line { cpu, record: r });
        }
    }
    kprintln!("TRACEDONE lost={lost}");
}
