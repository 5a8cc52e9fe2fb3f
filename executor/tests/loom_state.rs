//! Loom models of the task state protocols: every interleaving (up to loom's preemption
//! bound) of the very `State` methods the executor runs (`src/state.rs`), with the run
//! queue, the future and the output reduced to counters. Checked: no wake is lost, a task
//! is never queued twice (so never polled twice at once), a future and an output are
//! dropped exactly once, the task is freed exactly once.
//!
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p executor --release --test loom_state
#![cfg(loom)]

use executor::model::*;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// What happens to a task besides its state word.
#[derive(Default)]
struct World {
    state: StateCell,
    /// Queue entries pushed (each owns one reference).
    pushes: AtomicUsize,
    /// Futures dropped (by a loop, holding RUNNING).
    future_drops: AtomicUsize,
    /// Outputs dropped (by the loop or the handle).
    output_drops: AtomicUsize,
    /// Times the reference count reached zero (the task freed or resurrected).
    last_refs: AtomicUsize,
}

/// `State` has no `Default`; wrap it.
struct StateCell(State);

impl Default for StateCell {
    fn default() -> Self {
        StateCell(State::new())
    }
}

impl World {
    fn st(&self) -> &State {
        &self.state.0
    }

    /// `TaskRef::drop`: give up a reference; count the last.
    fn drop_ref(&self) {
        if refs(self.st().dec_ref()) == 1 {
            self.last_refs.fetch_add(1, SeqCst);
        }
    }

    /// A loop pops the task and polls it; the poll returns Pending. Asserts that it was
    /// queued and not running (never polled twice at once).
    fn poll_pending(&self) {
        let prev = self.st().start_poll();
        assert_eq!(prev & (SCHEDULED | RUNNING | COMPLETE), SCHEDULED, "popped in a bad state");
        if prev & CANCELLED != 0 {
            self.drop_cancelled();
            return;
        }
        match self.st().finish_pending() {
            AfterPoll::Requeue => {
                self.pushes.fetch_add(1, SeqCst);
            }
            AfterPoll::Idle => {}
            AfterPoll::IdleLastRef => self.drop_ref(),
            AfterPoll::Cancelled => self.drop_cancelled(),
        }
    }

    fn drop_cancelled(&self) {
        self.future_drops.fetch_add(1, SeqCst);
        self.st().cancelled_dropped();
        self.drop_ref(); // the queue's reference
    }

    /// A waker (owning one reference) wakes by value.
    fn wake_by_value(&self) {
        match self.st().wake(true) {
            Wake::Push => {
                self.pushes.fetch_add(1, SeqCst);
            }
            Wake::Noted | Wake::Nothing => self.drop_ref(),
        }
    }

    /// Drain: pop and poll (Pending) every queued entry, as many as were pushed.
    fn drain(&self, popped: &mut usize) {
        while *popped < self.pushes.load(SeqCst) {
            *popped += 1;
            self.poll_pending();
        }
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// Wake during poll: two wakers race with a poll (already started) and its end. Exactly
/// one queue entry must result: the loop re-queues it (woken while RUNNING) or a waker
/// pushes it (woken after), never both, never neither.
#[test]
fn wake_during_poll_requeues_exactly_once() {
    model(|| {
        let w = Arc::new(World::default());
        w.st().inc_ref(); // waker 1
        w.st().inc_ref(); // waker 2
        let prev = w.st().start_poll();
        assert_eq!(prev & (SCHEDULED | RUNNING), SCHEDULED);
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                thread::spawn(move || w.wake_by_value())
            })
            .collect();
        match w.st().finish_pending() {
            AfterPoll::Requeue => {
                w.pushes.fetch_add(1, SeqCst);
            }
            AfterPoll::Idle => {}
            other => panic!("unexpected {other:?}"),
        }
        wakers.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(w.pushes.load(SeqCst), 1, "a wake was lost or queued twice");
        let s = w.st().load();
        assert_eq!(s & (SCHEDULED | RUNNING), SCHEDULED);
        assert_eq!(refs(s), 2, "the queue entry and the handle");
        // The re-queued task is polled once more, and is fine.
        let mut popped = 0;
        w.drain(&mut popped);
        assert_eq!(refs(w.st().load()), 1, "only the handle's reference is left");
    });
}

/// Cancel during wake: a wake and a cancel race on an idle task. Exactly one queue entry
/// results; when the loop pops it, it drops the future (once) and the last reference goes
/// exactly once.
#[test]
fn cancel_during_wake_queues_once_and_drops_once() {
    model(|| {
        let w = Arc::new(World::default());
        w.st().inc_ref(); // a waker
        w.poll_pending(); // now idle: the handle's and the waker's references
        assert_eq!(w.pushes.load(SeqCst), 0);
        let waker = {
            let w = w.clone();
            thread::spawn(move || w.wake_by_value())
        };
        let canceller = {
            let w = w.clone();
            thread::spawn(move || {
                match w.st().cancel() {
                    Cancel::Push => {
                        w.pushes.fetch_add(1, SeqCst);
                    }
                    Cancel::Noted => {}
                    Cancel::TooLate => panic!("not complete"),
                }
                w.drop_ref(); // the handle's reference
            })
        };
        waker.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(w.pushes.load(SeqCst), 1, "queued {} times", w.pushes.load(SeqCst));
        let mut popped = 0;
        w.drain(&mut popped);
        assert_eq!(w.future_drops.load(SeqCst), 1);
        assert_eq!(w.last_refs.load(SeqCst), 1, "freed exactly once");
    });
}

/// Cancel during poll: the loop ends a Pending poll while a cancel races with it. The
/// future is dropped exactly once (right after the poll, or when the pushed entry is
/// popped), and the task is freed exactly once.
#[test]
fn cancel_during_poll_drops_the_future_once() {
    model(|| {
        let w = Arc::new(World::default());
        let prev = w.st().start_poll();
        assert_eq!(prev & CANCELLED, 0);
        let canceller = {
            let w = w.clone();
            thread::spawn(move || {
                if w.st().cancel() == Cancel::Push {
                    w.pushes.fetch_add(1, SeqCst);
                }
                w.drop_ref(); // the handle's reference
            })
        };
        match w.st().finish_pending() {
            AfterPoll::Cancelled => w.drop_cancelled(),
            AfterPoll::Idle => {}
            // The handle holds its reference until its cancel is done, and a cancel seen
            // before this point would have made it Cancelled: never the last reference.
            AfterPoll::IdleLastRef => panic!("the queue's reference cannot be the last"),
            AfterPoll::Requeue => panic!("nobody woke it"),
        }
        canceller.join().unwrap();
        let mut popped = 0;
        w.drain(&mut popped);
        assert_eq!(w.future_drops.load(SeqCst), 1);
        assert_eq!(w.last_refs.load(SeqCst), 1, "freed exactly once");
    });
}

/// JoinHandle drop racing with completion: the output is dropped exactly once (by the
/// loop if the handle was gone, else by the handle), and the task freed exactly once. The
/// output is a loom `UnsafeCell`: an access not ordered after the loop's write (a too weak
/// ordering in `complete` or `release_handle`) is reported as a data race.
#[test]
fn join_handle_drop_races_with_completion() {
    model(|| {
        let w = Arc::new(World::default());
        let output = Arc::new(UnsafeCell::new(0u64));
        let prev = w.st().start_poll();
        assert_eq!(prev & CANCELLED, 0);
        let handle = {
            let (w, output) = (w.clone(), output.clone());
            thread::spawn(move || {
                if w.st().release_handle() & COMPLETE != 0 {
                    output.with_mut(|o| unsafe { *o = 0 }); // drop the output
                    w.output_drops.fetch_add(1, SeqCst);
                }
                w.drop_ref();
            })
        };
        output.with_mut(|o| unsafe { *o = 42 }); // the poll stores its output
        let prev = w.st().complete();
        if prev & HANDLE == 0 {
            output.with_mut(|o| unsafe { *o = 0 });
            w.output_drops.fetch_add(1, SeqCst);
        }
        w.drop_ref(); // the queue's reference
        handle.join().unwrap();
        assert_eq!(w.output_drops.load(SeqCst), 1);
        assert_eq!(w.last_refs.load(SeqCst), 1);
    });
}

/// A JoinHandle polled while the task completes: either the handle sees COMPLETE, or the
/// loop sees JOIN_WAKER and wakes the registered waker. Then the handle takes the output
/// (transition 10) and the task is freed exactly once.
#[test]
fn join_waker_registration_is_never_missed() {
    model(|| {
        let w = Arc::new(World::default());
        let registered = Arc::new(AtomicBool::new(false));
        let woken = Arc::new(AtomicBool::new(false));
        let prev = w.st().start_poll();
        assert_eq!(prev & CANCELLED, 0);
        let output = Arc::new(UnsafeCell::new(0u64));
        let handle = {
            let (w, registered, output) = (w.clone(), registered.clone(), output.clone());
            thread::spawn(move || {
                let s = w.st().load();
                let ready = s & COMPLETE != 0 || {
                    registered.store(true, SeqCst); // join_waker.register(cx.waker())
                    w.st().join_waker_registered() & COMPLETE != 0
                };
                if ready {
                    // Take the output: must be ordered after the loop's write.
                    assert_eq!(output.with(|o| unsafe { *o }), 42);
                }
                ready
            })
        };
        output.with_mut(|o| unsafe { *o = 42 }); // the poll stores its output
        let prev = w.st().complete();
        if prev & HANDLE != 0 && prev & JOIN_WAKER != 0 {
            assert!(registered.load(SeqCst), "JOIN_WAKER before the registration");
            woken.store(true, SeqCst);
        }
        w.drop_ref(); // the queue's reference
        let ready = handle.join().unwrap();
        assert!(ready || woken.load(SeqCst), "the joiner was never woken");
        // The handle takes the output: HANDLE and its reference in one step.
        if refs(w.st().output_taken()) == 1 {
            w.last_refs.fetch_add(1, SeqCst);
        }
        assert_eq!(w.last_refs.load(SeqCst), 1);
    });
}

/// The last reference: wakers dropping their references race with the end of a poll
/// and the handle's release. Exactly one party sees the count reach zero; since the
/// future is alive, that party resurrects the task (transition 13) for its loop.
#[test]
fn last_reference_is_seen_exactly_once() {
    model(|| {
        let w = Arc::new(World::default());
        w.st().inc_ref();
        w.st().inc_ref();
        let prev = w.st().start_poll();
        assert_eq!(prev & CANCELLED, 0);
        let droppers: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                thread::spawn(move || w.drop_ref())
            })
            .collect();
        let handle = {
            let w = w.clone();
            thread::spawn(move || {
                w.st().release_handle();
                w.drop_ref();
            })
        };
        match w.st().finish_pending() {
            AfterPoll::Idle => {}
            AfterPoll::IdleLastRef => w.drop_ref(),
            other => panic!("unexpected {other:?}"),
        }
        droppers.into_iter().for_each(|t| t.join().unwrap());
        handle.join().unwrap();
        assert_eq!(w.last_refs.load(SeqCst), 1);
    });
}
