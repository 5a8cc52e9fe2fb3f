//! `Log2Histogram`: a lock-free histogram with power-of-two buckets, for latencies.
//!
//! Bucket 0 holds the value 0; bucket `i` (1..=64) holds `[2^(i-1), 2^i - 1]`. Recording is
//! a handful of relaxed atomic adds, so it is cheap enough to run on every poll, from any
//! CPU, concurrently with readers. Percentiles are therefore exact to within a factor of 2
//! and reported as the upper bound of their bucket (clamped to the recorded maximum).

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Number of buckets: one for zero and one per bit position.
pub const BUCKETS: usize = 65;

/// A lock-free log2 histogram of `u64` samples (latencies in ticks, for example).
///
/// Readers running concurrently with writers see a snapshot that may be off by the samples
/// in flight; counters are relaxed because they are statistics, not synchronisation.
pub struct Log2Histogram {
    buckets: [AtomicU64; BUCKETS],
    count: AtomicU64,
    sum: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
}

impl Default for Log2Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Log2Histogram {
    /// An empty histogram (usable in a `static`).
    pub const fn new() -> Self {
        Log2Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKETS],
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }

    /// The bucket index of `v`.
    pub fn bucket_of(v: u64) -> usize {
        (64 - v.leading_zeros()) as usize
    }

    /// The largest value bucket `i` holds.
    pub fn bucket_upper(i: usize) -> u64 {
        match i {
            0 => 0,
            64.. => u64::MAX,
            _ => (1u64 << i) - 1,
        }
    }

    /// Record one sample.
    pub fn record(&self, v: u64) {
        self.buckets[Self::bucket_of(v)].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum.fetch_add(v, Relaxed);
        self.min.fetch_min(v, Relaxed);
        self.max.fetch_max(v, Relaxed);
    }

    /// Record one sample, for a histogram that only one CPU (thread) ever records into,
    /// like the executor's per-CPU ones: plain loads and stores instead of locked
    /// read-modify-writes, so several times cheaper. Concurrent readers are fine; a
    /// concurrent second writer may lose samples (statistics only, never unsafety).
    pub fn record_local(&self, v: u64) {
        let add = |a: &AtomicU64, d: u64| a.store(a.load(Relaxed).wrapping_add(d), Relaxed);
        add(&self.buckets[Self::bucket_of(v)], 1);
        add(&self.count, 1);
        add(&self.sum, v);
        if v < self.min.load(Relaxed) {
            self.min.store(v, Relaxed);
        }
        if v > self.max.load(Relaxed) {
            self.max.store(v, Relaxed);
        }
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    /// Sum of all samples (wrapping).
    pub fn sum(&self) -> u64 {
        self.sum.load(Relaxed)
    }

    /// Smallest sample, or 0 if empty.
    pub fn min(&self) -> u64 {
        match self.min.load(Relaxed) {
            u64::MAX if self.count() == 0 => 0,
            m => m,
        }
    }

    /// Largest sample, or 0 if empty.
    pub fn max(&self) -> u64 {
        self.max.load(Relaxed)
    }

    /// Mean sample, or 0 if empty.
    pub fn mean(&self) -> u64 {
        self.sum().checked_div(self.count()).unwrap_or(0)
    }

    /// Number of samples in bucket `i`.
    pub fn bucket(&self, i: usize) -> u64 {
        self.buckets[i].load(Relaxed)
    }

    /// The value below or at which `p` percent of the samples lie (`p` in `0.0..=100.0`),
    /// reported as the upper bound of the bucket holding that rank, clamped to `max()`;
    /// 0 if empty. The rank is `ceil(p * count / 100)`, at least 1.
    pub fn percentile(&self, p: f64) -> u64 {
        let count = self.count();
        if count == 0 {
            return 0;
        }
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
        // ceil without std: the float-to-int cast truncates, then round up by hand.
        let exact = p * count as f64 / 100.0;
        let mut rank = exact as u64;
        if (rank as f64) < exact {
            rank += 1;
        }
        self.rank_value(rank.clamp(1, count))
    }

    /// The upper bound (clamped to `max()`) of the bucket holding the `rank`-th smallest
    /// sample (1-based). Integer-only, for callers that avoid floating point.
    pub fn rank_value(&self, rank: u64) -> u64 {
        let mut seen = 0;
        for i in 0..BUCKETS {
            seen += self.bucket(i);
            if seen >= rank {
                return Self::bucket_upper(i).min(self.max());
            }
        }
        self.max()
    }

    /// Forget all samples (not atomic with respect to concurrent `record`s).
    pub fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Relaxed);
        }
        self.count.store(0, Relaxed);
        self.sum.store(0, Relaxed);
        self.min.store(u64::MAX, Relaxed);
        self.max.store(0, Relaxed);
    }

    /// Add every sample of `other` into `self` (for per-CPU → machine-wide totals).
    pub fn merge_from(&self, other: &Log2Histogram) {
        for (mine, theirs) in self.buckets.iter().zip(&other.buckets) {
            mine.fetch_add(theirs.load(Relaxed), Relaxed);
        }
        self.count.fetch_add(other.count(), Relaxed);
        self.sum.fetch_add(other.sum(), Relaxed);
        if other.count() > 0 {
            self.min.fetch_min(other.min(), Relaxed);
            self.max.fetch_max(other.max(), Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_bounds() {
        assert_eq!(Log2Histogram::bucket_of(0), 0);
        assert_eq!(Log2Histogram::bucket_of(1), 1);
        assert_eq!(Log2Histogram::bucket_of(2), 2);
        assert_eq!(Log2Histogram::bucket_of(3), 2);
        assert_eq!(Log2Histogram::bucket_of(4), 3);
        assert_eq!(Log2Histogram::bucket_of(u64::MAX), 64);
        assert_eq!(Log2Histogram::bucket_upper(3), 7);
        assert_eq!(Log2Histogram::bucket_upper(64), u64::MAX);
    }

    #[test]
    fn percentiles_on_known_data() {
        let h = Log2Histogram::new();
        assert_eq!(h.percentile(50.0), 0);
        for v in 1..=100u64 {
            h.record(v);
        }
        assert_eq!(h.count(), 100);
        let local = Log2Histogram::new();
        (1..=100u64).rev().for_each(|v| local.record_local(v));
        for p in [0.0, 1.0, 2.0, 31.0, 32.0, 50.0, 99.0, 100.0] {
            assert_eq!(local.percentile(p), h.percentile(p));
        }
        assert_eq!((local.count(), local.min(), local.max(), local.sum()), (100, 1, 100, 5050));
        assert_eq!(h.min(), 1);
        assert_eq!(h.max(), 100);
        assert_eq!(h.mean(), 50); // 5050 / 100
        // rank 50 is the value 50, bucket [32, 63]
        assert_eq!(h.percentile(50.0), 63);
        // rank 1 is 1, bucket [1, 1]
        assert_eq!(h.percentile(0.0), 1);
        assert_eq!(h.percentile(1.0), 1);
        // rank 2 is 2, bucket [2, 3]
        assert_eq!(h.percentile(2.0), 3);
        // rank 31 is 31 (bucket [16,31]); rank 32 is 32 (bucket [32,63])
        assert_eq!(h.percentile(31.0), 31);
        assert_eq!(h.percentile(32.0), 63);
        // rank 99 is 99, bucket [64, 127] clamped to max 100
        assert_eq!(h.percentile(99.0), 100);
        assert_eq!(h.percentile(100.0), 100);
    }

    #[test]
    fn skewed_data_and_merge() {
        let h = Log2Histogram::new();
        for _ in 0..990 {
            h.record(10); // bucket [8, 15]
        }
        for _ in 0..10 {
            h.record(5000); // bucket [4096, 8191]
        }
        assert_eq!(h.percentile(50.0), 15);
        assert_eq!(h.percentile(99.0), 15);
        assert_eq!(h.percentile(99.1), 5000);
        let total = Log2Histogram::new();
        total.merge_from(&h);
        total.merge_from(&Log2Histogram::new());
        assert_eq!(total.count(), 1000);
        assert_eq!(total.min(), 10);
        assert_eq!(total.max(), 5000);
        h.reset();
        assert_eq!((h.count(), h.min(), h.max()), (0, 0, 0));
    }
}
