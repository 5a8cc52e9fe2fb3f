//! Kernel metrics: atomic counters, cheap enough to be always on.

use core::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing event counter.
pub struct Counter(AtomicU64);

impl Counter {
    /// A zero counter.
    pub const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }

    /// Counts one event.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `n` events.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Timer interrupts taken (all CPUs).
pub static TIMER_TICKS: Counter = Counter::new();
/// Tasks put to sleep via the kernel `sleep`.
pub static SLEEPS: Counter = Counter::new();

const MAX: usize = crate::arch::percpu::MAX_CPUS;
static IPIS_SENT: [Counter; MAX] = [const { Counter::new() }; MAX];
static IPIS_RECEIVED: [Counter; MAX] = [const { Counter::new() }; MAX];

/// Counts an IPI sent by `cpu`.
pub fn ipis_sent(cpu: usize) {
    if let Some(c) = IPIS_SENT.get(cpu) {
        c.inc();
    }
}

/// Counts an IPI received by `cpu`.
pub fn ipis_received(cpu: usize) {
    if let Some(c) = IPIS_RECEIVED.get(cpu) {
        c.inc();
    }
}

/// (sent, received) IPIs of `cpu`.
pub fn ipis(cpu: usize) -> (u64, u64) {
    (IPIS_SENT.get(cpu).map_or(0, Counter::get), IPIS_RECEIVED.get(cpu).map_or(0, Counter::get))
}
