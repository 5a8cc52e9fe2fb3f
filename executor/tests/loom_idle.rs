//! Loom model of the idle/kick handshake (`src/handshake.rs`, the very `SleepFlag` the
//! executor uses): a wake racing with a CPU going to sleep, under every idle policy.
//!
//! The CPU is modelled as `run.rs::idle` and the host platform are written: an idle
//! policy's poll phase (it looks at the queue `k` times with the flag clear; Halt is
//! k = 0, Poll and Adaptive some k > 0, which is all a policy can choose), then
//! `announce()`, then `Platform::idle`: under the CPU's lock ("interrupts off") halt on
//! the condition variable ("sti; hlt") unless notified or work is there, then `clear()`.
//! A waker pushes (an AcqRel read-modify-write, as both queues' pushes are) and then
//! notifies if `should_notify()`. A lost wake-up leaves the CPU waiting for ever, which
//! loom reports as a deadlock.
//!
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p executor --release --test loom_idle
#![cfg(loom)]

use executor::model::SleepFlag;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// The host platform's per-CPU state: `notified` under the lock, and the halt.
struct Cpu {
    notified: Mutex<bool>,
    cv: Condvar,
    sleeping: SleepFlag,
    queue: AtomicUsize,
}

impl Cpu {
    /// Tasks pushed so far (the queues' `is_empty` reads their ends with SeqCst loads).
    fn pushed(&self) -> usize {
        self.queue.load(Ordering::SeqCst)
    }

    /// `Executor::kick` after a push onto this CPU's queue.
    fn wake(&self) {
        self.queue.fetch_add(1, Ordering::AcqRel);
        if self.sleeping.should_notify() {
            *self.notified.lock().unwrap() = true; // HostPlatform::notify
            self.cv.notify_one();
        }
    }

    /// The CPU's loop until it has run `wakes` tasks, idling in between with a poll phase
    /// of `poll_checks` looks. `seen`: tasks it has popped; new work = `pushed() > seen`.
    fn run(&self, wakes: usize, poll_checks: usize) {
        let mut seen = 0;
        while seen < wakes {
            // tick(): pop and poll what is there.
            let pushed = self.pushed();
            if pushed > seen {
                seen = pushed;
                continue;
            }
            // Executor::idle: the policy's poll phase, flag clear.
            if (0..poll_checks).any(|_| self.pushed() > seen) {
                continue;
            }
            self.sleeping.announce();
            {
                // HostPlatform::idle: "cli", may_halt() (no new work), "sti; hlt".
                let mut notified = self.notified.lock().unwrap();
                if !*notified && self.pushed() == seen {
                    notified = self.cv.wait(notified).unwrap();
                }
                *notified = false;
            }
            self.sleeping.clear();
        }
    }
}

fn check(wakers: usize, poll_checks: usize) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(move || {
        let cpu = Arc::new(Cpu {
            notified: Mutex::new(false),
            cv: Condvar::new(),
            sleeping: SleepFlag::new(),
            queue: AtomicUsize::new(0),
        });
        let ts: Vec<_> = (0..wakers)
            .map(|_| {
                let cpu = cpu.clone();
                thread::spawn(move || cpu.wake())
            })
            .collect();
        cpu.run(wakers, poll_checks);
        ts.into_iter().for_each(|t| t.join().unwrap());
    });
}

/// Halt: no poll phase.
#[test]
fn no_lost_wake_with_halt() {
    check(1, 0);
}

/// Poll / Adaptive with a short window: one look before the halt path.
#[test]
fn no_lost_wake_with_a_one_look_poll() {
    check(1, 1);
}

/// Poll / Adaptive with a longer window.
#[test]
fn no_lost_wake_with_a_two_look_poll() {
    check(1, 2);
}

/// Two wakers racing for the one notify (the swap). IGNORED: loom reports a deadlock
/// here, and `loom_false_positive_store_buffering` below reduces its trace to a litmus
/// test whose outcome C++20's fence rules forbid (see there); on x86 both fences are
/// `mfence` and store buffering is impossible. The two-waker race is covered by the host
/// stress tests (`stress.rs`: wake storms from three threads, a 4-CPU ping-pong ring
/// through the halt path) instead. Run with `-- --ignored` to see loom's report.
#[test]
#[ignore = "loom false positive with two wakers, see loom_false_positive_store_buffering"]
fn no_lost_wake_with_two_wakers_and_halt() {
    check(2, 0);
}

/// The trace loom gives for two wakers, reduced: the idler announces, re-checks, clears,
/// announces again and re-checks; two wakers push and check the flag. Loom lets the
/// idler's last re-check miss the second push while that pusher's flag load misses the
/// second announcement. C++20 [atomics.order]: with SeqCst fences X (after the
/// announcement) and Y (after the push), either X precedes Y in S and the flag load
/// sees the announcement, or Y precedes X and the re-check sees the push. So loom's
/// outcome is not a real execution; this test documents it (it fails under loom 0.7.3).
#[test]
#[ignore = "documents a loom 0.7.3 false positive"]
fn loom_false_positive_store_buffering() {
    use loom::sync::atomic::fence;
    fn waker(q: &AtomicUsize, flag: &SleepFlag) -> bool {
        q.fetch_add(1, Ordering::AcqRel);
        flag.should_notify()
    }
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(|| {
        let flag = Arc::new(SleepFlag::new());
        let q = Arc::new(AtomicUsize::new(0));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let (f, q) = (flag.clone(), q.clone());
                thread::spawn(move || waker(&q, &f))
            })
            .collect();
        flag.announce();
        let r1 = q.load(Ordering::SeqCst);
        flag.clear();
        let r2 = q.load(Ordering::SeqCst);
        flag.announce();
        fence(Ordering::SeqCst); // (redundant: announce() ends with one)
        let r3 = q.load(Ordering::SeqCst);
        let n: Vec<bool> = ts.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(!(r1 == 1 && r2 == 1 && r3 == 1 && !n[0] && !n[1]), "r1={r1} r2={r2} r3={r3} n={n:?}");
    });
}
