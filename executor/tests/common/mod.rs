//! Helpers shared by the host tests: a wake-counting signal, drop counters, a tiny RNG,
//! bounded waits.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use executor::host::{wait_for, HostPlatform};

/// Generous bound for anything a test waits on: a lost wake-up turns into a failure.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Wait for `f` from a non-executor thread, panicking after `LIMIT`.
pub fn wait<F: Future>(what: &str, f: F) -> F::Output {
    wait_for(f, LIMIT).unwrap_or_else(|| panic!("timed out waiting for {what} (lost wake-up?)"))
}

/// The CPU the current thread plays (panics outside a CPU thread).
pub fn cpu() -> usize {
    HostPlatform::current_cpu().expect("not on a CPU thread")
}

/// A counting signal: `raise()` from anywhere, `wait(n)` until `n` raises were seen.
/// Any number of tasks may wait on it; a raise wakes them all.
#[derive(Default)]
pub struct Signal {
    raised: AtomicU64,
    waiters: Mutex<Vec<Waker>>,
}

impl Signal {
    pub fn raise(&self) {
        self.raised.fetch_add(1, Ordering::SeqCst);
        let waiters = std::mem::take(&mut *self.waiters.lock().unwrap());
        waiters.into_iter().for_each(Waker::wake);
    }

    fn register(&self, w: &Waker) {
        let mut ws = self.waiters.lock().unwrap();
        if !ws.iter().any(|x| x.will_wake(w)) {
            ws.push(w.clone());
        }
    }

    pub fn count(&self) -> u64 {
        self.raised.load(Ordering::SeqCst)
    }

    /// Resolves once `count() >= n`.
    pub fn wait(&self, n: u64) -> SignalWait<'_> {
        SignalWait { sig: self, n }
    }
}

pub struct SignalWait<'a> {
    sig: &'a Signal,
    n: u64,
}

impl Future for SignalWait<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.sig.count() >= self.n {
            return Poll::Ready(());
        }
        self.sig.register(cx.waker());
        if self.sig.count() >= self.n {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Counts drops of values it is attached to.
#[derive(Clone, Default)]
pub struct DropCount(pub Arc<AtomicUsize>);

impl DropCount {
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    /// Wait (bounded) until at least `n` drops happened.
    pub fn wait_for(&self, n: usize) {
        let end = std::time::Instant::now() + LIMIT;
        while self.get() < n {
            assert!(std::time::Instant::now() < end, "only {} of {n} drops", self.get());
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

pub struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future wrapper asserting it is never polled by two CPUs at once.
pub struct NoDoublePoll<F> {
    pub inner: Pin<Box<F>>,
    pub inside: Arc<AtomicBool>,
    pub polls: Arc<AtomicU64>,
}

impl<F> NoDoublePoll<F> {
    pub fn new(f: F) -> Self {
        NoDoublePoll { inner: Box::pin(f), inside: Default::default(), polls: Default::default() }
    }
}

impl<F: Future> Future for NoDoublePoll<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        assert!(!self.inside.swap(true, Ordering::SeqCst), "task polled twice at once");
        self.polls.fetch_add(1, Ordering::Relaxed);
        // Widen the window a double poll would need.
        for _ in 0..50 {
            std::hint::spin_loop();
        }
        let r = self.inner.as_mut().poll(cx);
        assert!(self.inside.swap(false, Ordering::SeqCst));
        r
    }
}

/// xorshift64*: deterministic, dependency-free randomness for tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Burn roughly `iters` spin iterations (a stand-in for work inside a poll).
pub fn spin(iters: u32) {
    for _ in 0..iters {
        std::hint::spin_loop();
    }
}

/// A token ring over CPUs `0..cpus`: the task pinned to CPU `c` waits for `sig[c]`'s next
/// raise and raises `sig[(c + 1) % cpus]`, for `hops` hops in all, so that every hop is
/// a cross-CPU wake of a CPU that has just gone idle. `sig` needs at least `cpus`
/// signals; raise `sig[0]` to start it. Returns the tasks' handles.
pub fn token_ring(
    exec: &'static executor::Executor,
    sig: Arc<Vec<Signal>>,
    cpus: usize,
    hops: u64,
) -> Vec<executor::JoinHandle<()>> {
    (0..cpus)
        .map(|c| {
            let sig = sig.clone();
            exec.spawn_on(c, async move {
                let mut n = 0;
                loop {
                    n += 1;
                    sig[c].wait(n).await;
                    sig[(c + 1) % cpus].raise();
                    if (n - 1) * cpus as u64 + c as u64 >= hops {
                        return;
                    }
                }
            })
        })
        .collect()
}
