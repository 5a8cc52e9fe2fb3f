//! Per-CPU timer queues and the `Sleep` future (`sleep`, `sleep_until`).
//!
//! Each CPU owns a `BTreeMap<(deadline, seq), Waker>` behind a spin lock. The lock is
//! taken only by task code (a `Sleep` being polled or dropped) and by the CPU's loop when
//! it fires timers — never by `wake()`, so interrupt handlers never touch it. Wakers are
//! always woken or dropped after the lock is released (dropping one may free a task whose
//! future owns another `Sleep`).
//!
//! A `Sleep` registers on the CPU that polls it, so only that CPU inserts into its queue
//! and it can program its own one-shot timer (`Platform::set_deadline`) before idling. If
//! the task migrates, the next poll moves the registration. A timer fires only when
//! `now() >= deadline`, and `Sleep` completes only when it sees that too: never early.

use alloc::collections::BTreeMap;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use crate::executor::Executor;
use crate::waker::context_of;

/// Key of a registered timer: its deadline, then a sequence number (FIFO among equals).
type Key = (u64, u64);

struct Timers {
    map: BTreeMap<Key, Waker>,
    seq: u64,
}

/// One CPU's timers.
pub(crate) struct TimerQueue {
    inner: spin::Mutex<Timers>,
    /// Earliest deadline (`u64::MAX` if none), cached for a lock-free check on every loop
    /// iteration. Written under the lock; Relaxed because it is a hint: the loop re-reads
    /// the map under the lock before firing anything.
    next: AtomicU64,
}

impl TimerQueue {
    pub(crate) const fn new() -> Self {
        TimerQueue {
            inner: spin::Mutex::new(Timers { map: BTreeMap::new(), seq: 0 }),
            next: AtomicU64::new(u64::MAX),
        }
    }

    /// The earliest registered deadline, if any (may be stale-early after a removal).
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        match self.next.load(Ordering::Relaxed) {
            u64::MAX => None,
            d => Some(d),
        }
    }

    /// Number of registered timers.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().map.len()
    }

    fn update_next(&self, t: &Timers) {
        let next = t.map.first_key_value().map_or(u64::MAX, |(k, _)| k.0);
        self.next.store(next, Ordering::Relaxed);
    }

    fn insert(&self, deadline: u64, waker: Waker) -> Key {
        let mut t = self.inner.lock();
        t.seq += 1;
        let key = (deadline, t.seq);
        t.map.insert(key, waker);
        if deadline < self.next.load(Ordering::Relaxed) {
            self.next.store(deadline, Ordering::Relaxed);
        }
        key
    }

    /// Point the entry `key` at `waker`. Returns false if the entry is gone (already fired).
    fn refresh(&self, key: Key, waker: &Waker) -> bool {
        let old = {
            let mut t = self.inner.lock();
            match t.map.get_mut(&key) {
                None => return false,
                Some(w) if w.will_wake(waker) => return true,
                Some(w) => core::mem::replace(w, waker.clone()),
            }
        };
        drop(old); // outside the lock
        true
    }

    fn remove(&self, key: Key) {
        let old = {
            let mut t = self.inner.lock();
            let old = t.map.remove(&key);
            if old.is_some() && key.0 <= self.next.load(Ordering::Relaxed) {
                self.update_next(&t);
            }
            old
        };
        drop(old); // outside the lock
    }

    /// Wake every timer with `deadline <= now`, earliest first. Returns how many.
    pub(crate) fn fire(&self, now: u64) -> usize {
        const BATCH: usize = 16;
        let mut fired = 0;
        loop {
            let mut batch: [Option<Waker>; BATCH] = [const { None }; BATCH];
            let mut n = 0;
            {
                let mut t = self.inner.lock();
                while n < BATCH {
                    match t.map.first_entry() {
                        Some(e) if e.key().0 <= now => {
                            batch[n] = Some(e.remove());
                            n += 1;
                        }
                        _ => break,
                    }
                }
                self.update_next(&t);
            }
            for w in batch.iter_mut().take(n) {
                if let Some(w) = w.take() {
                    w.wake();
                }
            }
            fired += n;
            if n < BATCH {
                return fired;
            }
        }
    }
}

/// Where a `Sleep` is registered.
struct Registration {
    exec: &'static Executor,
    cpu: usize,
    key: Key,
}

enum When {
    /// Relative: resolved against `now()` at the first poll.
    After(Duration),
    /// Absolute, in platform ticks.
    At(u64),
}

/// Future returned by [`sleep`] and [`sleep_until`]. Must be polled inside this crate's
/// executor: by a task (or inside [`Executor::block_on`]), directly or through combinators
/// that use wakers of their own (then the CPU is found with `Platform::cpu_id`). Polled
/// anywhere else, it panics.
pub struct Sleep {
    when: When,
    reg: Option<Registration>,
}

/// Sleep for at least `d`, counted from the first poll (normally the `.await`).
pub fn sleep(d: Duration) -> Sleep {
    Sleep { when: When::After(d), reg: None }
}

/// Sleep until `platform.now() >= deadline_ticks`.
pub fn sleep_until(deadline_ticks: u64) -> Sleep {
    Sleep { when: When::At(deadline_ticks), reg: None }
}

impl Sleep {
    /// The absolute deadline in platform ticks, once known (after the first poll for
    /// [`sleep`]).
    pub fn deadline(&self) -> Option<u64> {
        match self.when {
            When::At(t) => Some(t),
            When::After(_) => None,
        }
    }

    fn unregister(&mut self) {
        if let Some(r) = self.reg.take() {
            r.exec.cpus[r.cpu].timers.remove(r.key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let (exec, cpu) = context_of(cx.waker())
            .expect("executor::sleep polled outside an executor loop");
        let now = exec.now();
        let deadline = match this.when {
            When::At(t) => t,
            When::After(d) => {
                let t = now.saturating_add(exec.duration_to_ticks(d));
                this.when = When::At(t);
                t
            }
        };
        if now >= deadline {
            this.unregister();
            return Poll::Ready(());
        }
        if let Some(r) = &this.reg {
            if core::ptr::eq(r.exec, exec) && r.cpu == cpu {
                if r.exec.cpus[cpu].timers.refresh(r.key, cx.waker()) {
                    return Poll::Pending;
                }
                this.reg = None; // fired, yet not due by our clock reading: register again
            } else {
                this.unregister(); // the task moved: follow it
            }
        }
        let key = exec.cpus[cpu].timers.insert(deadline, cx.waker().clone());
        this.reg = Some(Registration { exec, cpu, key });
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.unregister();
    }
}
