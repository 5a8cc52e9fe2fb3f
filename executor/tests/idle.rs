//! Host tests of the idle policies: no lost wake-up under any of them (wakes racing CPUs
//! that are going idle, polling or halting), polls bounded by their window (on a manual
//! clock, so exactly), and timers never early with a timer spin.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{token_ring, wait, Rng, Signal};
use executor::host::HostRuntime;
use executor::idle::{Adaptive, Halt, Poll};
use executor::{sleep_until, Executor, IdlePolicy, Platform};

/// Every policy the kernel offers, with windows small enough for a 2-core host.
fn policies() -> Vec<(&'static str, &'static dyn IdlePolicy)> {
    vec![
        ("halt", &Halt),
        ("poll:20", &Poll { us: 20 }),
        ("poll:500", &Poll { us: 500 }),
        ("adaptive:200", &Adaptive { max_us: 200 }),
    ]
}

#[test]
fn no_lost_wakeup_while_going_idle_under_each_policy() {
    for (name, policy) in policies() {
        let rt = HostRuntime::new(4);
        let exec = rt.executor();
        exec.set_idle_policy(policy);
        // A token goes round 4 pinned tasks (each hop a cross-CPU wake of a CPU that is
        // going idle, polling or halted), while a foreign thread raises a second signal
        // after random short pauses, so wakes land at every point of the idle path.
        const HOPS: u64 = 4_000;
        let sig: Arc<Vec<Signal>> = Arc::new((0..5).map(|_| Signal::default()).collect());
        let ring = token_ring(exec, sig.clone(), 4, HOPS);
        const RAISES: u64 = 2_000;
        let s = sig.clone();
        let listener = exec.spawn_on(3, async move { s[4].wait(RAISES).await });
        let s = sig.clone();
        let raiser = std::thread::spawn(move || {
            let mut rng = Rng::new(11);
            for _ in 0..RAISES {
                s[4].raise();
                let pause = rng.below(60);
                if pause > 0 {
                    std::thread::sleep(Duration::from_micros(pause));
                }
            }
        });
        sig[0].raise();
        for h in ring {
            wait(name, h);
        }
        wait(name, listener);
        raiser.join().unwrap();
        let total = |f: fn(executor::CpuStats) -> u64| (0..4).map(|c| f(exec.stats(c))).sum::<u64>();
        let (idles, halts, hits) = (total(|s| s.idles), total(|s| s.halts), total(|s| s.poll_hits));
        assert!(idles >= halts + hits, "{name}: {idles} idles < {halts} halts + {hits} poll hits");
        if name == "halt" {
            assert_eq!((hits, total(|s| s.poll_ticks)), (0, 0), "halt polled");
        }
        eprintln!("{name}: idles {idles} halts {halts} poll hits {hits} notifies {}", total(|s| s.notifies_sent));
    }
}

/// A one-CPU platform whose clock advances `STEP` ticks per read and whose "halt"
/// returns at once: the poll loop's bound can be checked exactly.
struct ManualClock {
    t: AtomicU64,
    halts: AtomicU64,
}

const STEP: u64 = 7;

impl Platform for ManualClock {
    fn cpu_id(&self) -> usize {
        0
    }
    fn notify(&self, _: usize) {}
    fn idle(&self, _: usize, may_halt: &dyn Fn() -> bool) {
        if may_halt() {
            self.halts.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn now(&self) -> u64 {
        self.t.fetch_add(STEP, Ordering::Relaxed)
    }
    fn ticks_per_second(&self) -> u64 {
        1_000_000_000 // 1000 ticks per µs
    }
    fn set_deadline(&self, _: usize, _: Option<u64>) {}
}

fn idle_periods(policy: &'static dyn IdlePolicy, periods: u64) -> (&'static Executor, executor::CpuStats) {
    let p: &'static ManualClock =
        Box::leak(Box::new(ManualClock { t: AtomicU64::new(1), halts: AtomicU64::new(0) }));
    let exec = Executor::new(p, 1);
    exec.set_idle_policy(policy);
    exec.run(0, &|| p.halts.load(Ordering::Relaxed) >= periods);
    (exec, exec.stats(0))
}

#[test]
fn polls_stay_bounded_by_their_window() {
    let window = 300 * 1000; // 300 µs in ticks
    let (_, s) = idle_periods(&Poll { us: 300 }, 10);
    assert_eq!(s.halts, 10);
    assert_eq!(s.poll_hits, 0);
    // Each period polls its whole window, and at most one clock step more.
    assert!(s.poll_ticks >= s.halts * window, "polled {} ticks over {} periods", s.poll_ticks, s.halts);
    assert!(s.poll_ticks <= s.idles * (window + STEP), "polled {} ticks over {} periods", s.poll_ticks, s.idles);

    let (_, s) = idle_periods(&Halt, 10);
    assert_eq!((s.halts, s.poll_ticks), (10, 0));

    // Adaptive: every "halt" here ends at once, so the window grows to its maximum and
    // never beyond.
    let (_, s) = idle_periods(&Adaptive { max_us: 64 }, 40);
    assert!(s.poll_ticks <= s.idles * (64 * 1000 + STEP));
    assert!(s.poll_ticks >= 30 * 64 * 1000, "the window did not grow: {}", s.poll_ticks);
}

/// A CPU that polls after waking a task on another CPU stops polling (and halts) once
/// that CPU has run nothing for `STARVED_AFTER_US`: here CPU 1's loop never runs at all,
/// as when the host does not run its vCPU. Without a wake to watch, it polls its window.
#[test]
fn a_poll_stops_when_the_cpu_it_woke_does_not_run() {
    use executor::idle::STARVED_AFTER_US;
    let p: &'static ManualClock =
        Box::leak(Box::new(ManualClock { t: AtomicU64::new(1), halts: AtomicU64::new(0) }));
    let exec = Executor::new(p, 2);
    exec.set_idle_policy(&Poll { us: 500 });
    // Spawned by the manual platform's only CPU, 0, onto CPU 1, whose loop never runs.
    let _never_runs = exec.spawn_on(1, async {});
    exec.run(0, &|| p.halts.load(Ordering::Relaxed) >= 1);
    let s = exec.stats(0);
    let limit = STARVED_AFTER_US * 1000;
    assert_eq!((s.halts, s.poll_hits, s.polls_starved), (1, 0, 1));
    assert!((limit..=limit + 2 * STEP).contains(&s.poll_ticks), "polled {} ticks, not ~{limit}", s.poll_ticks);

    // The next idle period has no new wake to watch: the whole 500 µs window.
    exec.run(0, &|| p.halts.load(Ordering::Relaxed) >= 2);
    let s2 = exec.stats(0);
    assert_eq!(s2.polls_starved, 1);
    assert!(s2.poll_ticks - s.poll_ticks >= 500 * 1000, "polled {} ticks", s2.poll_ticks - s.poll_ticks);
}

#[test]
fn timers_never_early_with_a_timer_spin_under_each_policy() {
    for (name, policy) in policies() {
        let rt = HostRuntime::new(2);
        let exec = rt.executor();
        exec.set_idle_policy(policy);
        exec.set_timer_spin(Duration::from_micros(300));
        let us = exec.duration_to_ticks(Duration::from_micros(1));
        let hs: Vec<_> = (0..100u64)
            .map(|i| {
                exec.spawn_on((i % 2) as usize, async move {
                    let deadline = exec.now() + (200 + (i * 37) % 2000) * us;
                    sleep_until(deadline).await;
                    let now = exec.now();
                    assert!(now >= deadline, "{name}: woke {} ticks early", deadline - now);
                })
            })
            .collect();
        for h in hs {
            wait(name, h);
        }
        assert!(exec.stats(0).timers_fired + exec.stats(1).timers_fired >= 100);
    }
}
