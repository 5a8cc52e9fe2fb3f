//! Host tests: stealing moves only migratable tasks, `migrate` re-homes, policies swap.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{cpu, wait, Signal};
use executor::host::HostRuntime;
use executor::{task_info, Executor, NoSteal, SpawnOptions, StealHalf, StealPolicy};
use futures::future::poll_fn;

/// Record the CPU of every poll, checking that a task is polled only by its home CPU.
async fn record_polls(log: Arc<Mutex<Vec<usize>>>, rounds: usize, work: Duration) {
    let mut left = rounds;
    poll_fn(move |cx| {
        let info = task_info(cx.waker()).unwrap();
        assert_eq!(info.home, cpu(), "polled away from home");
        log.lock().unwrap().push(cpu());
        let t0 = Instant::now();
        while t0.elapsed() < work {
            std::hint::spin_loop();
        }
        left -= 1;
        if left == 0 {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

#[test]
fn stealing_moves_only_migratable_tasks() {
    let rt = HostRuntime::new(4);
    let exec = rt.executor();
    let pinned_log = Arc::new(Mutex::new(Vec::new()));
    let free_log = Arc::new(Mutex::new(Vec::new()));
    let (pl, fl) = (pinned_log.clone(), free_log.clone());
    let root = exec.spawn_on(0, async move {
        let mut hs = Vec::new();
        for i in 0..240 {
            let work = Duration::from_micros(100);
            hs.push(if i % 6 == 0 {
                exec.spawn_on(0, record_polls(pl.clone(), 4, work))
            } else {
                exec.spawn(record_polls(fl.clone(), 4, work)) // home = CPU 0, migratable
            });
        }
        for h in hs {
            h.await;
        }
    });
    wait("root", root);
    assert!(pinned_log.lock().unwrap().iter().all(|&c| c == 0), "a pinned task moved");
    let free = free_log.lock().unwrap();
    assert_eq!(free.len(), 200 * 4);
    assert!(free.iter().any(|&c| c != 0), "nothing was stolen");
    let steals: u64 = (1..4).map(|c| exec.stats(c).steals).sum();
    let moved_in: u64 = (1..4).map(|c| exec.stats(c).migrated_in).sum();
    assert!(steals > 0 && moved_in > 0);
    let all_in: u64 = (0..4).map(|c| exec.stats(c).migrated_in).sum();
    let all_out: u64 = (0..4).map(|c| exec.stats(c).migrated_out).sum();
    assert_eq!(all_in, all_out);
}

#[test]
fn migrate_rehomes_and_skips_pinned() {
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    exec.set_steal_policy(&NoSteal);
    // Block CPU 0 with a spinning task so that the next tasks stay queued there.
    let started = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let (s2, r2) = (started.clone(), release.clone());
    let blocker = exec.spawn_on(0, async move {
        s2.store(true, Ordering::SeqCst);
        while !r2.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    let sig = Arc::new(Signal::default());
    let mk = |pinned: bool| {
        let sig = sig.clone();
        let opts = SpawnOptions { cpu: Some(0), pinned, ..Default::default() };
        exec.spawn_with(opts, async move {
            let first = (cpu(), task_info_now().await.home);
            sig.wait(1).await;
            let second = (cpu(), task_info_now().await.home);
            (first, second)
        })
    };
    let pinned: Vec<_> = (0..5).map(|_| mk(true)).collect();
    let free: Vec<_> = (0..20).map(|_| mk(false)).collect();
    assert_eq!(exec.queued(0), 25);
    assert_eq!(exec.stealable(0), 20);
    assert_eq!(exec.migrate(0, 1, 8), 8);
    assert_eq!(exec.migrate(0, 1, 100), 12);
    assert_eq!(exec.migrate(0, 1, 100), 0, "pinned tasks must not move");
    assert_eq!((exec.stats(0).migrated_out, exec.stats(1).migrated_in), (20, 20));
    release.store(true, Ordering::SeqCst);
    wait("blocker", blocker);
    std::thread::sleep(Duration::from_millis(10));
    sig.raise(); // woken from a foreign thread: each goes to its (new) home
    for h in pinned {
        assert_eq!(wait("pinned", h), ((0, 0), (0, 0)));
    }
    for h in free {
        assert_eq!(wait("moved", h), ((1, 1), (1, 1)));
    }
}

/// The current task's info, from inside the task.
async fn task_info_now() -> executor::TaskInfo {
    poll_fn(|cx| Poll::Ready(task_info(cx.waker()).unwrap())).await
}

struct Counting(AtomicUsize);

impl StealPolicy for Counting {
    fn steal(&self, exec: &Executor, thief: usize) -> usize {
        self.0.fetch_add(1, Ordering::Relaxed);
        StealHalf.steal(exec, thief)
    }
}

#[test]
fn steal_policy_can_be_swapped() {
    static POLICY: Counting = Counting(AtomicUsize::new(0));
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    exec.set_steal_policy(&POLICY);
    let hs: Vec<_> = (0..50)
        .map(|_| exec.spawn(async { executor::sleep(Duration::from_micros(200)).await }))
        .collect();
    for h in hs {
        wait("task", h);
    }
    assert!(POLICY.0.load(Ordering::Relaxed) > 0, "custom policy never consulted");
}
