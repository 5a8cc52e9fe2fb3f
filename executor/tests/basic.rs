//! Host tests: spawning and joining, cancellation, priorities, block_on, yield, stats.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use common::{cpu, wait, DropCount, Rng, Signal};
use executor::host::{HostPlatform, HostRuntime};
use executor::{task_info, yield_now, Priority, SpawnOptions};
use futures::future::{pending, poll_fn};

#[test]
fn every_output_arrives_exactly_once() {
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    let handles: Vec<_> = (0..2000u64).map(|i| exec.spawn(async move { i * 3 })).collect();
    let mut seen = HashSet::new();
    for h in handles {
        assert!(seen.insert(wait("join", h)));
    }
    assert_eq!(seen, (0..2000u64).map(|i| i * 3).collect());
    // Tasks spawning and joining tasks, on every CPU.
    let roots: Vec<_> = (0..4)
        .map(|c| {
            exec.spawn_on(c, async move {
                let kids: Vec<_> = (0..200u64).map(|i| exec.spawn(async move { i })).collect();
                let mut sum = 0;
                for k in kids {
                    sum += k.await;
                }
                sum
            })
        })
        .collect();
    for r in roots {
        assert_eq!(wait("root", r), 199 * 200 / 2);
    }
    let completed: u64 = (0..4).map(|c| exec.stats(c).completed).sum();
    assert_eq!(completed, 2000 + 4 + 800);
}

#[test]
fn cancellation_frees_the_future() {
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    let drops = DropCount::default();

    // Idle (never-woken) tasks: cancel drops them on their CPU.
    let hs: Vec<_> = (0..100)
        .map(|_| {
            let t = drops.token();
            exec.spawn(async move {
                let _t = t;
                pending::<()>().await
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    for h in hs {
        assert!(h.cancel());
    }
    drops.wait_for(100);

    // Busy tasks (always yielding) cancelled mid-flight.
    let hs: Vec<_> = (0..50)
        .map(|_| {
            let t = drops.token();
            exec.spawn(async move {
                let _t = t;
                loop {
                    yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        assert!(h.cancel());
    }
    drops.wait_for(150);

    // Completed tasks: cancel reports false and drops the output.
    let h = exec.spawn({
        let t = drops.token();
        async move { t }
    });
    while !h.is_finished() {
        std::thread::yield_now();
    }
    assert!(!h.cancel());
    drops.wait_for(151);

    // Detached: the output is dropped when the task finishes.
    exec.spawn({
        let t = drops.token();
        async move { t }
    })
    .detach();
    drops.wait_for(152);

    // Abandoned: no handle, no waker left anywhere; the loop drops the future.
    drop(exec.spawn({
        let t = drops.token();
        async move {
            let _t = t;
            poll_fn(|_| Poll::<()>::Pending).await
        }
    }));
    drops.wait_for(153);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drops.get(), 153, "something dropped twice");
    // Counted right after each drop, by the CPU that dropped it.
    let cancelled = || (0..2).map(|c| exec.stats(c).cancelled).sum::<u64>();
    let end = std::time::Instant::now() + common::LIMIT;
    while cancelled() < 151 && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(cancelled(), 151);
}

#[test]
fn wake_during_poll_requeues_exactly_once() {
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let h = exec.spawn_on(1, poll_fn(move |cx| {
        if p.fetch_add(1, Ordering::SeqCst) > 0 {
            return Poll::Ready(());
        }
        for _ in 0..10 {
            cx.waker().wake_by_ref();
        }
        let w = cx.waker().clone();
        std::thread::spawn(move || w.wake()).join().unwrap(); // remote wake during the poll
        Poll::Pending
    }));
    wait("task", h);
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    assert_eq!(exec.stats(1).wakes, 1, "only the first wake schedules");
}

#[test]
fn strict_priorities_on_one_cpu() {
    let rt = HostRuntime::new(1);
    let exec = rt.executor();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    let root = exec.spawn(async move {
        let mut hs = Vec::new();
        for (i, prio) in [Priority::Low, Priority::Normal, Priority::High].iter().cycle().take(9).enumerate() {
            let o = o.clone();
            let prio = *prio;
            let opts = SpawnOptions { priority: prio, ..Default::default() };
            hs.push(exec.spawn_with(opts, async move { o.lock().unwrap().push((prio, i)) }));
        }
        for h in hs {
            h.await;
        }
    });
    wait("root", root);
    let got: Vec<Priority> = order.lock().unwrap().iter().map(|p| p.0).collect();
    use Priority::*;
    assert_eq!(got, [High, High, High, Normal, Normal, Normal, Low, Low, Low]);
}

#[test]
fn block_on_with_a_remote_cpu() {
    // CPU 0 is this thread (block_on), CPU 1 a thread running the loop.
    let (p, exec) = HostPlatform::executor(2);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let t = std::thread::spawn(move || exec.run(1, &|| s.load(Ordering::Acquire)));
    let sig = Arc::new(Signal::default());
    let out = exec.block_on(0, {
        let sig = sig.clone();
        async move {
            let mut total = 0;
            for i in 0..500u64 {
                // Remote task raises; block_on's future is woken from CPU 1.
                let s2 = sig.clone();
                let h = exec.spawn_on(1, async move {
                    s2.raise();
                    i
                });
                sig.wait(i + 1).await;
                total += h.await;
            }
            executor::sleep(Duration::from_millis(5)).await;
            total
        }
    });
    assert_eq!(out, 499 * 500 / 2);
    stop.store(true, Ordering::Release);
    executor::Platform::notify(p, 1);
    t.join().unwrap();
}

#[test]
fn yield_now_lets_others_run_and_stats_count() {
    let rt = HostRuntime::new(1);
    let exec = rt.executor();
    exec.set_latency_sample(1); // time every wake, so the histogram counts all 10
    let turns = Arc::new(Mutex::new(Vec::new()));
    let t = turns.clone();
    // The root spawns all three in one poll, so they start queued in order.
    let root = exec.spawn(async move {
        let hs: Vec<_> = (0..3)
            .map(|id| {
                let turns = t.clone();
                exec.spawn(async move {
                    for _ in 0..3 {
                        turns.lock().unwrap().push(id);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await;
        }
    });
    wait("root", root);
    assert_eq!(*turns.lock().unwrap(), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    let s = exec.stats(0);
    assert_eq!(s.completed, 4);
    // 4 polls per yielder; the root: its first poll, then one after the joins.
    assert_eq!(s.polls, 3 * 4 + 2);
    // 9 yields, plus the first join wake of the root (later ones find it scheduled).
    assert_eq!(s.wakes, 10);
    assert_eq!(s.wake_latency.count, 10);
    assert!(s.wake_latency.min <= s.wake_latency.p50 && s.wake_latency.p50 <= s.wake_latency.max);
}

#[test]
fn task_info_and_current_task() {
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    let opts = SpawnOptions { cpu: Some(1), pinned: true, name: "probe", priority: Priority::High };
    let h = exec.spawn_with(opts, poll_fn(move |cx| {
        let info = task_info(cx.waker()).unwrap();
        Poll::Ready((info, exec.current_task(cpu()), cpu()))
    }));
    let id = h.id().unwrap();
    let (info, current, on) = wait("probe", h);
    assert_eq!((info.id, info.name, info.home, info.cpu, info.pinned), (id, "probe", 1, 1, true));
    assert_eq!(info.priority, Priority::High);
    assert_eq!(current, Some(id));
    assert_eq!(on, 1);
    assert_eq!(exec.current_task(0), None);
}

#[test]
fn futures_util_combinators_work_inside_tasks() {
    use futures::channel::{mpsc, oneshot};
    use futures::{select, FutureExt, SinkExt, StreamExt};
    let rt = HostRuntime::new(3);
    let exec = rt.executor();
    let h = exec.spawn_on(0, async move {
        // join! of two sleeps on this CPU.
        let (a, b) = futures::join!(
            async { executor::sleep(Duration::from_millis(5)).await; 1 },
            async { executor::sleep(Duration::from_millis(2)).await; 2 }
        );
        // select! between a slow sleep and a oneshot fired by a task on another CPU.
        let (tx, rx) = oneshot::channel();
        exec.spawn_on(1, async move { tx.send(40).unwrap() }).detach();
        let mut slow = executor::sleep(Duration::from_secs(30)).fuse();
        let mut rx = rx.fuse();
        let c = select! {
            _ = slow => 0,
            v = rx => v.unwrap(),
        };
        // A stream fed from a third CPU.
        let (mut stx, srx) = mpsc::channel(4);
        exec.spawn_on(2, async move {
            for i in 0..100u32 {
                stx.send(i).await.unwrap();
            }
        })
        .detach();
        let sum: u32 = srx.map(|x| x * 2).fold(0, |acc, x| async move { acc + x }).await;
        a + b + c + sum
    });
    assert_eq!(wait("combinators", h), 1 + 2 + 40 + 2 * 4950);
}

#[test]
fn spawn_from_foreign_threads_round_robin() {
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    let count = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let count = count.clone();
            std::thread::spawn(move || {
                let mut rng = Rng::new(t);
                let hs: Vec<_> = (0..300)
                    .map(|_| {
                        let count = count.clone();
                        let spins = rng.below(200) as u32;
                        exec.spawn(async move {
                            common::spin(spins);
                            count.fetch_add(1, Ordering::Relaxed);
                        })
                    })
                    .collect();
                hs.into_iter().for_each(|h| wait("foreign", h));
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(count.load(Ordering::Relaxed), 900);
    let spawned: Vec<u64> = (0..4).map(|c| exec.stats(c).spawned).collect();
    assert!(spawned.iter().all(|&s| s > 0), "round-robin homes: {spawned:?}");
}

#[test]
fn wake_latency_is_sampled_but_every_wake_counted() {
    let rt = HostRuntime::new(1);
    let exec = rt.executor();
    exec.set_latency_sample(8);
    let root = exec.spawn(async {
        for _ in 0..64 {
            yield_now().await;
        }
    });
    wait("root", root);
    let s = exec.stats(0);
    assert_eq!(s.wakes, 64);
    assert_eq!(s.wake_latency.count, 8, "one wake in 8 is timed");
}

/// Tasks that keep yielding hand the turn to the other kind (pinned / migratable) at every
/// yield: a CPU-bound task must not hold a woken task of the other kind back for a batch.
#[test]
fn a_yielding_task_gives_the_other_kind_the_turn() {
    let rt = HostRuntime::new(1);
    let exec = rt.executor();
    let order = Arc::new(Mutex::new(Vec::new()));
    let root = exec.spawn_on(0, {
        let order = order.clone();
        async move {
            let yielder = |pinned: bool| {
                let order = order.clone();
                let opts = SpawnOptions { cpu: Some(0), pinned, ..Default::default() };
                exec.spawn_with(opts, async move {
                    for _ in 0..200 {
                        order.lock().unwrap().push(pinned);
                        yield_now().await;
                    }
                })
            };
            let (a, b) = (yielder(true), yielder(false));
            a.await;
            b.await;
        }
    });
    wait("root", root);
    let order = order.lock().unwrap();
    let longest = order.chunk_by(|a, b| a == b).map(<[bool]>::len).max().unwrap();
    assert!(longest <= 2, "one kind ran {longest} polls in a row while the other waited");
}

/// Pinned tasks a CPU wakes itself go to its private list, remote wakes to the shared
/// queue; the two alternate, so tasks that keep re-waking themselves locally cannot starve
/// a task woken from another thread (this hangs, and fails after `LIMIT`, if they do).
#[test]
fn local_wakes_do_not_starve_remote_ones() {
    let rt = HostRuntime::new(1);
    let exec = rt.executor();
    let done = Arc::new(AtomicUsize::new(0));
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let done = done.clone();
            exec.spawn_on(0, async move {
                let mut polls = 0u64;
                while done.load(Ordering::Acquire) == 0 {
                    yield_now().await; // a local wake, in task context: the private list
                    polls += 1;
                }
                polls
            })
        })
        .collect();
    let sig = Arc::new(Signal::default());
    let remote = exec.spawn_on(0, {
        let (sig, done) = (sig.clone(), done.clone());
        async move {
            for n in 1..=50 {
                sig.wait(n).await; // woken from the test thread: the shared queue
            }
            done.store(1, Ordering::Release);
        }
    });
    for _ in 0..50 {
        std::thread::sleep(Duration::from_micros(200));
        sig.raise();
    }
    wait("remotely woken task", remote);
    for h in spinners {
        assert!(wait("spinner", h) > 0);
    }
}
