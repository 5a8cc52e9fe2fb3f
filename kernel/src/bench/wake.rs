//! Wake-up latency of the executor: timer wakes, same-CPU wakes, and cross-CPU wakes
//! to an idle (halted) or a busy CPU. All samples are TSC cycles.
//!
//! - `timer_wake`: a task on the quiet CPU sleeps until an absolute TSC deadline
//!   (`sleep_until`, 50..150 us ahead, jittered). Start: the deadline itself. Stop:
//!   `rdtsc` at the start of the task's poll in which the sleep completed (the first
//!   poll after the timer fired). Covers LAPIC timer programming error and interrupt
//!   delivery to a halted CPU, the loop's timer firing, the re-queue and the poll.
//! - `wake_same_cpu`: tasks A and B on one CPU bounce a baton. Start: `rdtsc` in A
//!   just before `wake()` of B's waker. Stop: `rdtsc` at the start of B's next poll. Covers
//!   the wake (enqueue), the rest of A's poll, the loop and B's dispatch.
//! - `wake_cross_idle`: A on CPU 0 wakes B on CPU 1 while CPU 1 is idle. Between
//!   samples A sleeps 100 us so that CPU 1 runs out of work and idles as the idle policy
//!   (`idle=` tunable) says: halted (the wake sends a RESCHEDULE IPI and ends the `hlt`)
//!   or polling (the wake is seen by the poll loop, no IPI). Start/stop as above, on two
//!   CPUs. Covers the enqueue, the IPI and halt exit or the poll, and the dispatch. Only
//!   samples whose wake found CPU 1 idle are kept; how many found it halted and how many
//!   polling is printed, with the count of the others.
//! - `wake_cross_busy`: the same, but CPU 1 also runs a task that yields in a loop, so
//!   it never halts and the wake is just a push onto its queue (no IPI). Samples whose
//!   wake did send a notification (CPU 1 idle after all) are dropped and counted.
//!
//! Operation (`BCOUNTS ops`), warm-up included: `timer_wake`, one sleep; the others,
//! one wake (two per round: the measured pass and the one back).

use super::{quiet_cpu, report, BenchResult, XorShift};
use crate::arch::cpu::rdtsc;
use crate::arch::time;
use crate::sched::{block_on, exec, spawn_on};
use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::Poll;
use core::time::Duration;
use futures_util::task::AtomicWaker;

const TIMER_SAMPLES: usize = 3000;
const SAME_SAMPLES: usize = 10_000;
const CROSS_SAMPLES: usize = 4000;
const WARMUP: usize = 200;
/// Pause between cross-CPU samples: long enough for the wakee's CPU to halt.
const CROSS_GAP: Duration = Duration::from_micros(100);

/// A baton passed between two tasks: the passer stamps the TSC right before `wake()`.
struct Baton {
    stamp: AtomicU64,
    waker: AtomicWaker,
}

impl Baton {
    const fn new() -> Self {
        Baton { stamp: AtomicU64::new(0), waker: AtomicWaker::new() }
    }

    fn reset(&self) {
        self.stamp.store(0, Ordering::Relaxed);
        self.waker.take();
    }

    /// Stamps the TSC, then wakes the task waiting in `take`.
    fn pass(&self) {
        self.stamp.store(rdtsc(), Ordering::Release);
        self.waker.wake();
    }

    /// Waits for the baton. `Some(cycles)` from the passer's stamp to the TSC read at
    /// the start of the poll that found it; `None` if the baton arrived during that very
    /// poll (no wake-to-poll latency to measure: not a sample).
    async fn take(&self) -> Option<u64> {
        poll_fn(|cx| {
            let now = rdtsc();
            self.waker.register(cx.waker());
            // Acquire: pairs with `pass`'s Release (we see what the passer wrote).
            match self.stamp.swap(0, Ordering::Acquire) {
                0 => Poll::Pending,
                s if s > now => Poll::Ready(None),
                s => Poll::Ready(Some(now - s)),
            }
        })
        .await
    }
}

/// `timer_wake`: see the module docs.
pub fn timer_wake() -> BenchResult {
    let v = block_on(spawn_on(quiet_cpu(), async {
        let mut out = Vec::with_capacity(TIMER_SAMPLES);
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for i in 0..WARMUP + TIMER_SAMPLES {
            let deadline = rdtsc() + time::ns_to_cycles(50_000 + rng.next() % 100_000);
            let mut sleep = core::pin::pin!(executor::sleep_until(deadline));
            // The TSC at the start of the poll that completes the sleep.
            let woke = poll_fn(|cx| {
                let now = rdtsc();
                sleep.as_mut().poll(cx).map(|()| now)
            })
            .await;
            if i >= WARMUP {
                // Never negative in practice (the task is only woken once the timer
                // fired, at or after the deadline); saturate rather than wrap.
                out.push(woke.saturating_sub(deadline));
            }
        }
        out
    }));
    report("timer_wake", "cycles", &v);
    Ok((WARMUP + TIMER_SAMPLES) as u64)
}

/// `wake_same_cpu`: see the module docs.
pub fn wake_same_cpu() -> BenchResult {
    static PING: Baton = Baton::new();
    static PONG: Baton = Baton::new();
    PING.reset();
    PONG.reset();
    let cpu = quiet_cpu();
    let total = WARMUP + SAME_SAMPLES;
    // B first, so it is waiting when A first passes.
    let b = spawn_on(cpu, async move {
        let mut out = Vec::with_capacity(SAME_SAMPLES);
        let mut raced = 0usize;
        for i in 0..total {
            match PING.take().await {
                Some(c) if i >= WARMUP => out.push(c),
                Some(_) => {}
                None => raced += 1,
            }
            PONG.pass();
        }
        (out, raced)
    });
    let a = spawn_on(cpu, async move {
        for _ in 0..total {
            PING.pass();
            PONG.take().await;
        }
    });
    block_on(a);
    let (v, raced) = block_on(b);
    if raced > 0 {
        crate::kprintln!("# wake_same_cpu: {raced} rounds found the baton already passed (not samples)");
    }
    report("wake_same_cpu", "cycles", &v);
    Ok(2 * total as u64)
}

/// `wake_cross_idle`: see the module docs.
pub fn wake_cross_idle() -> BenchResult {
    cross("wake_cross_idle", false)
}

/// `wake_cross_busy`: see the module docs.
pub fn wake_cross_busy() -> BenchResult {
    cross("wake_cross_busy", true)
}

/// How a cross-CPU wake found the wakee's CPU.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Found {
    /// Halted: the wake sent it a RESCHEDULE IPI.
    Halted,
    /// Idle and polling: its poll loop found the task, no IPI.
    Polling,
    /// Running something else (neither of the above).
    Busy,
}

/// Waker A on CPU 0, wakee B on CPU 1; with `busy`, CPU 1 also runs a yield loop.
fn cross(name: &str, busy: bool) -> BenchResult {
    static PING: Baton = Baton::new();
    static PONG: Baton = Baton::new();
    static STOP: AtomicBool = AtomicBool::new(false);
    PING.reset();
    PONG.reset();
    STOP.store(false, Ordering::Relaxed);
    let (waker_cpu, wakee_cpu) = (0, 1);
    let total = WARMUP + CROSS_SAMPLES;
    let spinner = busy.then(|| {
        spawn_on(wakee_cpu, async {
            let mut n = 0u64;
            while !STOP.load(Ordering::Relaxed) {
                executor::yield_now().await;
                n += 1;
            }
            n
        })
    });
    let b = spawn_on(wakee_cpu, async move {
        let mut out = Vec::with_capacity(total);
        for _ in 0..total {
            out.push(PING.take().await);
            PONG.pass();
        }
        out
    });
    let a = spawn_on(waker_cpu, async move {
        // How each wake found CPU 1: halted (it was notified) or polling (its poll loop
        // found the task), or neither (busy).
        let mut found = Vec::with_capacity(total);
        for _ in 0..total {
            executor::sleep(CROSS_GAP).await;
            let before = exec().stats(wakee_cpu);
            PING.pass();
            PONG.take().await;
            let after = exec().stats(wakee_cpu);
            found.push(if after.notifies_sent != before.notifies_sent {
                Found::Halted
            } else if after.poll_hits != before.poll_hits {
                Found::Polling
            } else {
                Found::Busy
            });
        }
        found
    });
    let found = block_on(a);
    let got = block_on(b);
    STOP.store(true, Ordering::Relaxed);
    let yields = spinner.map(block_on);
    let (mut kept, mut wrong_state, mut raced) = (Vec::with_capacity(CROSS_SAMPLES), 0usize, 0usize);
    let (mut halted, mut polling) = (0usize, 0usize);
    for (s, f) in got.iter().zip(&found).skip(WARMUP) {
        match s {
            None => raced += 1,
            Some(_) if (*f == Found::Busy) != busy => wrong_state += 1,
            Some(c) => {
                halted += usize::from(*f == Found::Halted);
                polling += usize::from(*f == Found::Polling);
                kept.push(*c)
            }
        }
    }
    let want = if busy {
        alloc::string::String::from("CPU 1 busy, no IPI")
    } else {
        alloc::format!("CPU 1 idle: {halted} halted and woken by IPI, {polling} found polling")
    };
    crate::kprintln!(
        "# {name}: kept {} of {CROSS_SAMPLES} samples ({want}); dropped {wrong_state} where CPU 1 was {}, {raced} raced{}",
        kept.len(),
        if busy { "idle" } else { "not idle" },
        yields.map_or(alloc::string::String::new(), |y| alloc::format!("; spinner yielded {y} times"))
    );
    if kept.len() < CROSS_SAMPLES / 2 {
        return Err(alloc::format!("only {} of {CROSS_SAMPLES} samples had the intended CPU state", kept.len()));
    }
    report(name, "cycles", &kept);
    Ok(2 * total as u64)
}
