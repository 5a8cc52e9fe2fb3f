//! A fixed-size, lock-free, overwrite-oldest ring of trace records, one per CPU.
//!
//! Writers are the owning CPU and interrupt handlers on it, which may interrupt a
//! write half-way: so a slot is claimed with one `fetch_add` on `head` (never a
//! load-then-store), and the two writers never share a slot. Readers are any CPU, at
//! any time (the dump at the end of a run, a test while the system runs): each slot
//! carries the sequence number it holds, written last, as a seqlock, so a reader
//! skips a slot that is being rewritten instead of returning a torn record.
//!
//! ```text
//!   write n:  slot = n % cap; slot.seq = 0; fence(Release); fields; slot.seq = n+1 (Release)
//!   read n:   s1 = slot.seq (Acquire); fields; fence(Acquire); s2 = slot.seq
//!             valid iff s1 == s2 == n+1
//! ```

use super::Record;
use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicU64, Ordering::*};

/// One slot: 32 bytes, two per cache line.
#[derive(Default)]
#[repr(C, align(32))]
struct Slot {
    /// Sequence number + 1 of the record held; 0 while being written or never used.
    seq: AtomicU64,
    tsc: AtomicU64,
    meta: AtomicU64,
    task: AtomicU64,
}

/// One CPU's ring (see the module docs).
pub struct Ring {
    /// Sequence number of the next record (records ever pushed).
    head: AtomicU64,
    slots: Vec<Slot>,
}

impl Ring {
    /// A ring of `capacity` slots, rounded up to a power of two (at least 2).
    pub fn new(capacity: usize) -> Ring {
        let cap = capacity.max(2).next_power_of_two();
        Ring {
            head: AtomicU64::new(0),
            slots: (0..cap).map(|_| Slot::default()).collect(),
        }
    }

    /// How many records it keeps.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Records pushed so far (also the sequence number the next one will get).
    pub fn pushed(&self) -> u64 {
        self.head.load(Acquire)
    }

    /// Appends `r`, overwriting the oldest record when full. Lock-free, never fails.
    pub fn push(&self, r: &Record) {
        // Relaxed: the slot claim needs only atomicity; the seqlock orders the contents.
        let n = self.head.fetch_add(1, Relaxed);
        let s = &self.slots[n as usize & (self.slots.len() - 1)];
        s.seq.store(0, Relaxed);
        // Release fence: a reader that sees any of the new fields also sees seq == 0.
        fence(Release);
        s.tsc.store(r.tsc, Relaxed);
        s.meta.store(r.meta(), Relaxed);
        s.task.store(r.task, Relaxed);
        // Release: the fields are visible to whoever reads this seq with Acquire.
        s.seq.store(n + 1, Release);
    }

    /// The records with sequence numbers `from..pushed()` that are still in the ring and
    /// not being rewritten, oldest first, and how many of that range were lost
    /// (overwritten, or torn by a concurrent write).
    pub fn read_from(&self, from: u64) -> (Vec<Record>, u64) {
        let head = self.pushed();
        let start = from.max(head.saturating_sub(self.slots.len() as u64));
        let mut out = Vec::with_capacity((head - start.min(head)) as usize);
        for n in start..head {
            if let Some(r) = self.read(n) {
                out.push(r);
            }
        }
        let lost = head.saturating_sub(from) - out.len() as u64;
        (out, lost)
    }

    /// Record number `n`, if its slot still holds it intact.
    fn read(&self, n: u64) -> Option<Record> {
        let s = &self.slots[n as usize & (self.slots.len() - 1)];
        // Acquire: pairs with the writer's final Release store of seq.
        if s.seq.load(Acquire) != n + 1 {
            return None;
        }
        let (tsc, meta, task) = (
            s.tsc.load(Relaxed),
            s.meta.load(Relaxed),
            s.task.load(Relaxed),
        );
        // Acquire fence: if a rewrite's field stores were seen above, the re-read sees
        // at least its seq = 0 (pairs with the writer's Release fence).
        fence(Acquire);
        if s.seq.load(Relaxed) != n + 1 {
            return None;
        }
        Record::unpack(tsc, meta, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Kind;
    use std::sync::Arc;

    fn rec(i: u64) -> Record {
        Record {
            tsc: i,
            kind: Kind::Wake,
            task: i * 3,
            a: (i % 7) as u32,
            b: i as u32,
        }
    }

    #[test]
    fn keeps_the_newest_capacity_records() {
        let r = Ring::new(5);
        assert_eq!(r.capacity(), 8);
        assert_eq!(r.read_from(0), (Vec::new(), 0));
        for i in 0..3 {
            r.push(&rec(i));
        }
        assert_eq!(r.read_from(0), ((0..3).map(rec).collect(), 0));
        assert_eq!(r.read_from(2), (vec![rec(2)], 0));
        for i in 3..20 {
            r.push(&rec(i));
        }
        assert_eq!(r.pushed(), 20);
        assert_eq!(r.read_from(0), ((12..20).map(rec).collect(), 12));
        assert_eq!(r.read_from(15), ((15..20).map(rec).collect(), 0));
        assert_eq!(r.read_from(25), (Vec::new(), 0));
    }

    /// Readers racing a writer never see a torn record: every record read is one that
    /// was written whole (all fields derive from its tsc), in increasing order.
    #[test]
    fn concurrent_reads_are_never_torn() {
        let ring = Arc::new(Ring::new(64));
        let w = {
            let ring = ring.clone();
            std::thread::spawn(move || (0..200_000).for_each(|i| ring.push(&rec(i))))
        };
        let mut seen = 0;
        // Read while the writer runs, and once more after it ends (on a loaded host the
        // writer may finish before the first read).
        loop {
            let done = w.is_finished();
            let (v, _) = ring.read_from(0);
            for pair in v.windows(2) {
                assert!(pair[0].tsc < pair[1].tsc);
            }
            for r in &v {
                assert_eq!(*r, rec(r.tsc), "torn record");
            }
            seen += v.len();
            if done {
                break;
            }
        }
        w.join().unwrap();
        assert!(seen > 0);
    }
}
