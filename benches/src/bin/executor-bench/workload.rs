//! The benchmark workloads, written once against plain futures so that every executor runs
//! exactly the same code: spawn+join loops, a ping-pong baton, a foreign-thread waker.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::task::AtomicWaker;

/// Nanoseconds since the first call (one clock for every thread).
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Spawned tasks are joined in batches of this many.
pub const BATCH: usize = 1000;

/// Spawn `tasks` trivial tasks through `spawn`, in batches, awaiting each batch.
pub async fn spawn_join_loop<H, S>(tasks: usize, spawn: S) -> u64
where
    H: Future<Output = u64>,
    S: Fn(u64) -> H,
{
    let mut done = 0;
    let mut sum = 0;
    let mut batch = Vec::with_capacity(BATCH);
    while done < tasks {
        let n = BATCH.min(tasks - done);
        batch.extend((0..n as u64).map(&spawn));
        for h in batch.drain(..) {
            sum += h.await;
        }
        done += n;
    }
    sum
}

/// A one-slot baton: `send` stamps the time and wakes; `recv` resolves to the latency from
/// that stamp to the poll that sees it (wake → poll, the executor's wake latency).
#[derive(Default)]
pub struct Baton {
    stamp: AtomicU64,
    full: AtomicBool,
    waker: AtomicWaker,
}

impl Baton {
    pub fn send(&self) {
        self.stamp.store(now_ns(), Ordering::Relaxed);
        self.full.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub fn recv(&self) -> Recv<'_> {
        Recv(self)
    }

    fn take(&self) -> Option<u64> {
        if self.full.swap(false, Ordering::Acquire) {
            Some(now_ns().saturating_sub(self.stamp.load(Ordering::Relaxed)))
        } else {
            None
        }
    }
}

pub struct Recv<'a>(&'a Baton);

impl Future for Recv<'_> {
    type Output = u64;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if let Some(l) = self.0.take() {
            return Poll::Ready(l);
        }
        self.0.waker.register(cx.waker());
        match self.0.take() {
            Some(l) => Poll::Ready(l),
            None => Poll::Pending,
        }
    }
}

/// Two batons, A→B and B→A.
#[derive(Clone, Default)]
pub struct PingPong {
    ab: Arc<Baton>,
    ba: Arc<Baton>,
}

impl PingPong {
    /// The side that serves first. Returns its latency samples (B→A wakes).
    pub async fn ping(self, rounds: usize) -> Vec<u64> {
        let mut v = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            self.ab.send();
            v.push(self.ba.recv().await);
        }
        v
    }

    /// The answering side. Returns its latency samples (A→B wakes).
    pub async fn pong(self, rounds: usize) -> Vec<u64> {
        let mut v = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            v.push(self.ab.recv().await);
            self.ba.send();
        }
        v
    }
}

/// A task woken `rounds` times by a foreign thread (see [`drive`]).
pub async fn woken_from_outside(rounds: usize, baton: Arc<Baton>, ack: Arc<AtomicU64>) -> Vec<u64> {
    let mut v = Vec::with_capacity(rounds);
    for i in 0..rounds {
        v.push(baton.recv().await);
        ack.store(i as u64 + 1, Ordering::Release);
    }
    v
}

/// The foreign thread's side: pause (so the target's worker goes idle), wake, wait for the
/// acknowledgement, repeat.
pub fn drive(rounds: usize, baton: Arc<Baton>, ack: Arc<AtomicU64>, pause_ns: u64) {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let until = now_ns() + pause_ns / 2 + x % pause_ns.max(1);
        while now_ns() < until {
            std::hint::spin_loop();
        }
        baton.send();
        while ack.load(Ordering::Acquire) <= i as u64 {
            std::hint::spin_loop();
        }
    }
}

/// Exact percentiles of a sample set.
#[derive(Copy, Clone, Debug, Default)]
pub struct Summary {
    pub samples: usize,
    pub min: u64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl Summary {
    pub fn of(mut v: Vec<u64>) -> Summary {
        if v.is_empty() {
            return Summary::default();
        }
        v.sort_unstable();
        let at = |p: f64| v[((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Summary { samples: v.len(), min: v[0], p50: at(50.0), p99: at(99.0), max: v[v.len() - 1] }
    }
}
