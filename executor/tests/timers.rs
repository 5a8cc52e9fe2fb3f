//! Host tests: timers fire in deadline order and never early; `timeout`; idle CPUs wake
//! for their timers (no periodic tick).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{wait, Rng};
use executor::host::HostRuntime;
use executor::{sleep, sleep_until, timeout, Elapsed, Platform};
use futures::future::pending;

#[test]
fn timers_fire_in_deadline_order_never_early() {
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    let ms = exec.duration_to_ticks(Duration::from_millis(1));
    // (deadline, first poll time, completion time), in completion order.
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let root = exec.spawn_on(0, async move {
        let mut rng = Rng::new(7);
        let base = exec.now() + 100 * ms;
        let mut hs = Vec::new();
        for _ in 0..300 {
            let deadline = base + rng.below(150 * ms);
            let l = l.clone();
            hs.push(exec.spawn_on(0, async move {
                let first = exec.now();
                sleep_until(deadline).await;
                let done = exec.now();
                l.lock().unwrap().push((deadline, first, done));
            }));
        }
        for h in hs {
            h.await;
        }
    });
    wait("timers", root);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 300);
    let mut last = 0;
    for &(deadline, first, done) in log.iter() {
        assert!(done >= deadline, "fired {} ticks early", deadline - done);
        // Deadline order, except for a task first polled after its deadline (e.g. if the
        // machine stalled the CPU thread for 100 ms): it rightly completes at once.
        if first < deadline {
            assert!(deadline >= last, "out of order: {deadline} after {last}");
            last = deadline;
        }
    }
    assert!(exec.stats(0).timers_fired > 0);
}

#[test]
fn sleeps_on_every_cpu_never_early() {
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    let hs: Vec<_> = (0..400u64)
        .map(|i| {
            exec.spawn_on((i % 4) as usize, async move {
                let d = Duration::from_micros(100 + (i * 37) % 20_000);
                let t0 = Instant::now();
                sleep(d).await;
                assert!(t0.elapsed() >= d, "early by {:?}", d - t0.elapsed());
            })
        })
        .collect();
    for h in hs {
        wait("sleeper", h);
    }
}

#[test]
fn timeout_elapses_or_passes_through() {
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    let h = exec.spawn(async {
        let t0 = Instant::now();
        let r = timeout(pending::<u32>(), Duration::from_millis(20)).await;
        assert_eq!(r, Err(Elapsed));
        assert!(t0.elapsed() >= Duration::from_millis(20));
        let r = timeout(async { sleep(Duration::from_millis(2)).await; 5 }, Duration::from_secs(10)).await;
        assert_eq!(r, Ok(5));
        // The abandoned 10 s timer is unregistered when the Timeout is dropped.
        let t0 = Instant::now();
        let r = timeout(async { 6 }, Duration::ZERO).await;
        assert_eq!(r, Ok(6), "ready output wins over an elapsed deadline");
        t0.elapsed()
    });
    assert!(wait("timeout", h) < Duration::from_secs(5));
}

#[test]
fn idle_cpus_wake_for_their_own_deadline() {
    // Every CPU idle (halted) with one pending timer: the deadline alone must wake it.
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    std::thread::sleep(Duration::from_millis(20)); // let all CPUs halt
    let halts_before = rt.platform().halts();
    let hs: Vec<_> = (0..4)
        .map(|c| {
            exec.spawn_on(c, async move {
                for _ in 0..5 {
                    sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();
    for h in hs {
        wait("idle timer", h);
    }
    assert!(rt.platform().halts() > halts_before, "CPUs never halted while waiting");
    for c in 0..4 {
        assert_eq!(exec.stats(c).timers_fired, 5);
    }
    // Timers moved out of the heap as they fired: a late poll sees the deadline passed.
    let p = rt.platform();
    assert!(p.now() > 0 && p.ticks_per_second() == 1_000_000_000);
}

#[test]
fn dropping_a_sleep_unregisters_it() {
    let rt = HostRuntime::new(1);
    let exec = rt.executor();
    let h = exec.spawn(async {
        for _ in 0..100 {
            let _ = timeout(sleep(Duration::from_secs(3600)), Duration::from_micros(50)).await;
        }
    });
    wait("timeouts", h);
    assert_eq!(exec.pending_timers(0), 0, "the one-hour sleeps are still registered");
    let h = exec.spawn(async {
        let mut s = Box::pin(sleep(Duration::from_secs(3600)));
        assert!(futures::poll!(s.as_mut()).is_pending()); // registers
        let n = exec.pending_timers(0);
        drop(s);
        (n, exec.pending_timers(0))
    });
    assert_eq!(wait("probe", h), (1, 0));
}

#[test]
fn sleep_inside_combinators_with_their_own_wakers() {
    use futures::stream::{FuturesUnordered, StreamExt};
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    let h = exec.spawn(async {
        // FuturesUnordered polls each child with a waker of its own.
        let mut set: FuturesUnordered<_> = (0..20u64)
            .rev()
            .map(|i| async move {
                sleep(Duration::from_millis(i)).await;
                i
            })
            .collect();
        let mut order = Vec::new();
        while let Some(i) = set.next().await {
            order.push(i);
        }
        order
    });
    let mut order = wait("unordered", h);
    order.sort();
    assert_eq!(order, (0..20).collect::<Vec<_>>());
}
