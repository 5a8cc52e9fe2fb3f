//! The task state word as a type: [`State`] has one method per numbered transition of the
//! diagram in `task.rs`, and every atomic operation on the word lives here (as Embassy's
//! `state_atomics.rs` does), each ordering justified where it is used.
//!
//! `state` is one `AtomicUsize`: six flag bits and, above them, a reference count. The
//! protocols built on it (wake during poll, cancel during wake, join-handle drop, the last
//! reference) are model-checked with loom in `tests/loom_state.rs`.

use crate::sync::atomic::{AtomicUsize, Ordering};

/// In a run queue (or about to be), or woken while RUNNING (then re-queued after the poll).
pub const SCHEDULED: usize = 1 << 0;
/// Being polled (or its future being dropped) by exactly one CPU.
pub const RUNNING: usize = 1 << 1;
/// The future returned `Ready`; the output is in the stage until taken or dropped.
pub const COMPLETE: usize = 1 << 2;
/// Cancellation requested; the future is (or will be) dropped by an executor loop.
pub const CANCELLED: usize = 1 << 3;
/// A `JoinHandle` still exists.
pub const HANDLE: usize = 1 << 4;
/// The `JoinHandle` has registered a waker in `join_waker`: the loop must wake it on
/// completion (else it skips the `AtomicWaker`'s two locked instructions).
pub const JOIN_WAKER: usize = 1 << 5;
/// One reference, in the bits above the flags.
pub const REF_ONE: usize = 1 << 6;
/// Beyond this many references something leaks wakers in a loop: abort rather than wrap.
const REF_LIMIT: usize = usize::MAX / 2;

/// Number of references in a state value.
pub const fn refs(s: usize) -> usize {
    s / REF_ONE
}

/// What a wake (transition 3) asks its caller to do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    /// idle → SCHEDULED: push the task on its home queue (with the waker's reference if
    /// by value, else with a new one counted in the same step).
    Push,
    /// RUNNING → RUNNING|SCHEDULED: its poller re-queues it (transition 4).
    Noted,
    /// Already SCHEDULED, COMPLETE or CANCELLED: nothing (a by-value waker's reference is
    /// still the caller's to drop).
    Nothing,
}

/// What ending a Pending poll (transition 4) asks the loop to do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AfterPoll {
    /// Woken during the poll: RUNNING cleared, SCHEDULED kept; push the queue's reference
    /// back.
    Requeue,
    /// Not woken: RUNNING cleared and the queue's reference dropped in the same step.
    Idle,
    /// Not woken, and the queue's reference is the last one: RUNNING cleared; drop the
    /// reference the ordinary way (`TaskRef::drop`: resurrection, transition 13).
    IdleLastRef,
    /// Cancelled meanwhile: nothing changed; drop the future (then transition 7).
    Cancelled,
}

/// What `JoinHandle::cancel` (transition 6) asks its caller to do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cancel {
    /// Already COMPLETE: nothing changed; release the handle (transition 9), which drops
    /// the output.
    TooLate,
    /// Was idle: now CANCELLED|SCHEDULED without HANDLE, with a new reference for the
    /// queue entry; push it home so that its loop drops the future.
    Push,
    /// Was SCHEDULED or RUNNING: now also CANCELLED, without HANDLE; its loop drops the
    /// future at the pop (2) or after the poll (4).
    Noted,
}

/// A task's atomic state word.
pub struct State(AtomicUsize);

impl State {
    /// (1) spawn: SCHEDULED|HANDLE with two references (the queue entry and the handle).
    pub fn new() -> Self {
        State(AtomicUsize::new(SCHEDULED | HANDLE | (2 * REF_ONE)))
    }

    /// A snapshot. Acquire: pairs with the Release of the transition that wrote it (the
    /// output published with COMPLETE, a poll's effects with RUNNING cleared).
    pub fn load(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// (2) The loop popped the task: SCHEDULED → RUNNING. Returns the previous state (the
    /// caller drops the future instead of polling if it has CANCELLED).
    pub fn start_poll(&self) -> usize {
        // One add: SCHEDULED (bit 0) is set and RUNNING (bit 1) clear for a queued task,
        // so adding RUNNING - SCHEDULED flips both (`lock xadd`; a `fetch_xor` whose
        // result is used is a `lock cmpxchg` loop on x86). Acquire: we see everything the
        // previous poll (maybe on another CPU) and the waker published with Release.
        const _: () = assert!(RUNNING == 2 * SCHEDULED);
        let prev = self.0.fetch_add(RUNNING - SCHEDULED, Ordering::Acquire);
        debug_assert!(prev & (SCHEDULED | RUNNING | COMPLETE) == SCHEDULED, "bad state {prev:#x}");
        prev
    }

    /// (3) A wake. `by_value`: the caller hands over its reference; for a push it becomes
    /// the queue's, else a new one is counted here.
    pub fn wake(&self, by_value: bool) -> Wake {
        // Acquire: pairs with the Release of the poller that last cleared RUNNING, so the
        // `home` the caller reads next is the one that poll ran under.
        let mut s = self.0.load(Ordering::Acquire);
        loop {
            if s & (SCHEDULED | COMPLETE | CANCELLED) != 0 {
                return Wake::Nothing;
            }
            let push = s & RUNNING == 0;
            let new = s | SCHEDULED | if push && !by_value { REF_ONE } else { 0 };
            // AcqRel on success: Release publishes what the waker wrote before waking to
            // the next poll; Acquire as for the load. Acquire on failure: we retry with it.
            match self.0.compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return if push { Wake::Push } else { Wake::Noted },
                Err(actual) => s = actual,
            }
        }
    }

    /// (4) The poll returned Pending: release RUNNING; keep SCHEDULED if woken meanwhile;
    /// if not, drop the queue's reference in the same step unless it is the last one.
    pub fn finish_pending(&self) -> AfterPoll {
        let mut s = self.0.load(Ordering::Relaxed);
        loop {
            if s & CANCELLED != 0 {
                return AfterPoll::Cancelled;
            }
            let woken = s & SCHEDULED != 0;
            let last = refs(s) == 1;
            let new = (s & !RUNNING) - if woken || last { 0 } else { REF_ONE };
            // AcqRel: Release publishes the future's new state to the next poller, which
            // may be another CPU after a migration, and orders our uses before a later
            // free (as `dec_ref`); Acquire to see a concurrent cancel.
            match self.0.compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) if woken => return AfterPoll::Requeue,
                Ok(_) if last => return AfterPoll::IdleLastRef,
                Ok(_) => return AfterPoll::Idle,
                Err(actual) => s = actual,
            }
        }
    }

    /// (5) The poll returned Ready: RUNNING (and a SCHEDULED from a wake during the poll)
    /// → COMPLETE. Returns the previous state: without HANDLE the caller drops the output;
    /// with JOIN_WAKER it wakes the joiner.
    pub fn complete(&self) -> usize {
        // AcqRel: Release publishes the output to the JoinHandle (which loads with
        // Acquire); Acquire so that, if HANDLE is gone, we see the handle's last uses.
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |s| {
                Some((s & !(RUNNING | SCHEDULED)) | COMPLETE)
            })
            .unwrap_or_else(|s| s)
    }

    /// (6) `JoinHandle::cancel`: set CANCELLED and clear HANDLE, unless COMPLETE.
    pub fn cancel(&self) -> Cancel {
        let mut s = self.0.load(Ordering::Acquire);
        loop {
            if s & COMPLETE != 0 {
                return Cancel::TooLate;
            }
            let idle = s & (SCHEDULED | RUNNING) == 0;
            // An idle task must be queued so that its CPU drops the future: we take a
            // reference for the queue entry in the same CAS.
            let new = ((s | CANCELLED) & !HANDLE) + if idle { SCHEDULED + REF_ONE } else { 0 };
            // AcqRel: Release orders our earlier uses before the loop's drop; Acquire to
            // see the state we replace.
            match self.0.compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return if idle { Cancel::Push } else { Cancel::Noted },
                Err(actual) => s = actual,
            }
        }
    }

    /// (7) The loop dropped a cancelled task's future (holding RUNNING): clear RUNNING and
    /// SCHEDULED. Release: the drop happens-before anyone who later sees them clear.
    pub fn cancelled_dropped(&self) {
        self.0.fetch_and(!(RUNNING | SCHEDULED), Ordering::Release);
    }

    /// (8) The JoinHandle registered its waker: set JOIN_WAKER. Returns the previous state
    /// (COMPLETE in it: the loop completed first and will not wake; take the output).
    pub fn join_waker_registered(&self) -> usize {
        // AcqRel: Release publishes the registration to the loop's completion (Acquire in
        // its read-modify-write); Acquire: if COMPLETE is there, the output is visible.
        self.0.fetch_or(JOIN_WAKER, Ordering::AcqRel)
    }

    /// (9) The JoinHandle goes (drop, detach, or cancel after completion): clear HANDLE.
    /// Returns the previous state: with COMPLETE the caller drops the output.
    pub fn release_handle(&self) -> usize {
        // AcqRel: Acquire to see the output the loop published (Release) with COMPLETE;
        // Release so the loop, if it completes later and sees HANDLE gone, sees our uses.
        self.0.fetch_and(!HANDLE, Ordering::AcqRel)
    }

    /// (10) The JoinHandle took the output: clear HANDLE and drop its reference in one
    /// subtraction (HANDLE is set: only the handle clears it). Returns the previous state,
    /// for [`released`](crate::task::released). AcqRel as in `dec_ref`.
    pub fn output_taken(&self) -> usize {
        self.0.fetch_sub(HANDLE | REF_ONE, Ordering::AcqRel)
    }

    /// (11) A new reference (waker clone). Relaxed, as in `Arc::clone`: a new reference is
    /// only made from an existing one, which keeps the task alive.
    pub fn inc_ref(&self) {
        if self.0.fetch_add(REF_ONE, Ordering::Relaxed) > REF_LIMIT {
            panic!("executor: task refcount overflow");
        }
    }

    /// (12) Drop a reference. Returns the previous state (one reference in it: this was
    /// the last). AcqRel: Release so our uses of the task happen-before its freeing;
    /// Acquire (for the last one) so we see every other holder's uses before we free it.
    pub fn dec_ref(&self) -> usize {
        self.0.fetch_sub(REF_ONE, Ordering::AcqRel)
    }

    /// (13) The last reference went while the future is alive (neither COMPLETE nor
    /// CANCELLED): nobody can wake it again, so it becomes CANCELLED|SCHEDULED with one
    /// reference, to be pushed home so that its loop drops the future. We are the only
    /// owner, so a plain store is enough; the queue push publishes it.
    pub fn resurrect(&self) {
        self.0.store(CANCELLED | SCHEDULED | REF_ONE, Ordering::Relaxed);
    }
}
