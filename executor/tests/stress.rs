//! Host stress tests with real concurrency: wake storms (no lost wake-up), no double poll
//! under migration, cross-CPU ping-pong through the idle path, and a random mix.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{token_ring, wait, DropCount, NoDoublePoll, Rng, Signal};
use executor::host::HostRuntime;
use executor::{sleep, yield_now, Priority, SpawnOptions, StealOne};

#[test]
fn no_lost_wakeup_under_a_wake_storm() {
    wake_storm(false);
}

/// The same with pinned tasks (their intrusive MPSC queues), 50 per CPU, so that three
/// foreign threads push onto each CPU's pinned queue at once, racing with its own pops.
#[test]
fn no_lost_wakeup_under_a_wake_storm_of_pinned_tasks() {
    wake_storm(true);
}

fn wake_storm(pinned: bool) {
    const TASKS: usize = 200;
    const ROUNDS: u64 = 200;
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    let signals: Arc<Vec<Signal>> = Arc::new((0..TASKS).map(|_| Signal::default()).collect());
    let handles: Vec<_> = (0..TASKS)
        .map(|i| {
            let s = signals.clone();
            let opts = SpawnOptions { cpu: pinned.then_some(i % 4), pinned, ..Default::default() };
            exec.spawn_with(opts, async move {
                // Wait for every raise, one at a time, so each needs its own wake.
                for n in 1..=ROUNDS {
                    s[i].wait(n).await;
                }
            })
        })
        .collect();
    // Three foreign threads raise every signal ROUNDS times in total, in random order,
    // pausing now and then so that CPUs go idle and halt between wakes.
    let wakers: Vec<_> = (0..3u64)
        .map(|t| {
            let s = signals.clone();
            std::thread::spawn(move || {
                let mut rng = Rng::new(t + 1);
                let mine: Vec<usize> = (0..TASKS).filter(|i| i % 3 == t as usize).collect();
                for round in 0..ROUNDS {
                    for &i in &mine {
                        s[i].raise();
                    }
                    if round % 16 == 0 {
                        std::thread::sleep(Duration::from_micros(rng.below(300)));
                    }
                }
            })
        })
        .collect();
    wakers.into_iter().for_each(|t| t.join().unwrap());
    for h in handles {
        wait("storm task", h);
    }
    let wakes: u64 = (0..4).map(|c| exec.stats(c).wakes).sum();
    assert!(wakes > 0);
}

#[test]
fn ping_pong_ring_across_cpus() {
    // A token goes round 4 pinned tasks, one per CPU: every hop is a cross-CPU wake of a
    // CPU that has most likely halted meanwhile.
    const HOPS: u64 = 20_000;
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    let sig: Arc<Vec<Signal>> = Arc::new((0..4).map(|_| Signal::default()).collect());
    let hs = token_ring(exec, sig.clone(), 4, HOPS);
    sig[0].raise();
    for h in hs {
        wait("ring", h);
    }
    let notifies: u64 = (0..4).map(|c| exec.stats(c).notifies_sent).sum();
    assert!(notifies > 0, "idle CPUs were never notified");
    eprintln!("ring: {HOPS} hops, {notifies} notifies, {} halts", rt.platform().halts());
}

#[test]
fn never_polled_twice_at_once_under_migration() {
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    exec.set_steal_policy(&StealOne);
    let stop = Arc::new(AtomicBool::new(false));
    let sig: Arc<Vec<Signal>> = Arc::new((0..64).map(|_| Signal::default()).collect());
    let handles: Vec<_> = (0..64usize)
        .map(|i| {
            let sig = sig.clone();
            let f = NoDoublePoll::new(async move {
                for n in 1..=300 {
                    sig[i].wait(n).await;
                    if n % 7 == 0 {
                        yield_now().await;
                    }
                }
            });
            exec.spawn_with(SpawnOptions { cpu: Some(i % 2), ..Default::default() }, f)
        })
        .collect();
    // A balancer thread shuffling tasks between CPUs, and wakers waking from everywhere.
    let balancer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut rng = Rng::new(99);
            let mut moved = 0;
            while !stop.load(Ordering::Relaxed) {
                let (a, b) = (rng.below(4) as usize, rng.below(4) as usize);
                moved += exec.migrate(a, b, 1 + rng.below(4) as usize);
                std::thread::yield_now();
            }
            moved
        })
    };
    let wakers: Vec<_> = (0..2u64)
        .map(|t| {
            let sig = sig.clone();
            std::thread::spawn(move || {
                for _ in 0..300 {
                    for i in (t as usize..64).step_by(2) {
                        sig[i].raise();
                    }
                }
            })
        })
        .collect();
    wakers.into_iter().for_each(|t| t.join().unwrap());
    for h in handles {
        wait("migrating task", h);
    }
    stop.store(true, Ordering::Relaxed);
    let moved = balancer.join().unwrap();
    let migrated: u64 = (0..4).map(|c| exec.stats(c).migrated_in).sum();
    assert!(migrated >= moved as u64);
}

#[test]
fn random_mix_keeps_invariants() {
    // ~2.5 s of random spawns, wakes, sleeps, yields and cancels from CPUs and foreign
    // threads. Invariants: no double poll (NoDoublePoll asserts), every future dropped
    // exactly once, every output of an uncancelled task delivered exactly once.
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    let drops = DropCount::default();
    let made = Arc::new(AtomicUsize::new(0));
    let outputs = Arc::new(AtomicU64::new(0));
    let expected = Arc::new(AtomicU64::new(0));
    let sig: Arc<Vec<Signal>> = Arc::new((0..32).map(|_| Signal::default()).collect());
    let end = Instant::now() + Duration::from_millis(2500);
    // Raises every signal each millisecond, so that a driver waiting for a task that waits
    // for a signal always makes progress (the drivers' own raises are random).
    let done = Arc::new(AtomicBool::new(false));
    let kicker = {
        let (done, sig) = (done.clone(), sig.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                sig.iter().for_each(Signal::raise);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let drivers: Vec<_> = (0..3u64)
        .map(|t| {
            let (drops, made, outputs, expected, sig) =
                (drops.clone(), made.clone(), outputs.clone(), expected.clone(), sig.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::new(1000 + t);
                let mut live = Vec::new();
                while Instant::now() < end {
                    match rng.below(10) {
                        0..=4 => {
                            let token = drops.token();
                            made.fetch_add(1, Ordering::Relaxed);
                            let (s, kind, id) = (sig.clone(), rng.below(5), rng.below(32) as usize);
                            let opts = SpawnOptions {
                                priority: [Priority::High, Priority::Normal, Priority::Low]
                                    [rng.below(3) as usize],
                                cpu: Some(rng.below(4) as usize),
                                pinned: rng.below(2) == 0,
                                name: "mix",
                            };
                            let value = rng.next() >> 8;
                            let f = NoDoublePoll::new(async move {
                                let _token = token;
                                match kind {
                                    0 => sleep(Duration::from_micros(value % 2000)).await,
                                    1 => yield_now().await,
                                    2 => {
                                        let n = s[id].count() + 1;
                                        s[id].wait(n).await
                                    }
                                    3 => {
                                        exec.spawn(async move { value }).await;
                                    }
                                    _ => {}
                                }
                                value
                            });
                            live.push((exec.spawn_with(opts, f), value));
                        }
                        5..=6 => sig[rng.below(32) as usize].raise(),
                        7 if !live.is_empty() => {
                            let (h, _) = live.swap_remove(rng.below(live.len() as u64) as usize);
                            h.cancel();
                        }
                        8 if !live.is_empty() => {
                            let (h, v) = live.swap_remove(rng.below(live.len() as u64) as usize);
                            expected.fetch_add(v, Ordering::Relaxed);
                            outputs.fetch_add(wait("mix task", h), Ordering::Relaxed);
                        }
                        _ => std::thread::sleep(Duration::from_micros(rng.below(50))),
                    }
                }
                for (h, v) in live {
                    expected.fetch_add(v, Ordering::Relaxed);
                    outputs.fetch_add(wait("mix tail", h), Ordering::Relaxed);
                }
            })
        })
        .collect();
    drivers.into_iter().for_each(|t| t.join().unwrap());
    done.store(true, Ordering::Relaxed);
    kicker.join().unwrap();
    assert_eq!(outputs.load(Ordering::Relaxed), expected.load(Ordering::Relaxed));
    // Cancelled tasks are dropped asynchronously by their CPU: wait for all of them.
    drops.wait_for(made.load(Ordering::Relaxed));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drops.get(), made.load(Ordering::Relaxed), "a future was dropped twice");
    let stats: Vec<_> = (0..4).map(|c| exec.stats(c)).collect();
    eprintln!(
        "mix: {} tasks, polls {}, cancelled {}, steals {}, timers {}",
        made.load(Ordering::Relaxed),
        stats.iter().map(|s| s.polls).sum::<u64>(),
        stats.iter().map(|s| s.cancelled).sum::<u64>(),
        stats.iter().map(|s| s.steals).sum::<u64>(),
        stats.iter().map(|s| s.timers_fired).sum::<u64>(),
    );
}
