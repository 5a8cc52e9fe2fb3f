//! A task: one allocation holding a [`Header`] (atomic state + refcount, home CPU,
//! instrumentation) followed by the future, and [`TaskRef`], a counted pointer to it.
//!
//! # State machine
//!
//! `state` is a [`State`](crate::state::State): six flag bits and, above them, a reference
//! count. Each numbered transition below is one method of `State` (`state.rs`).
//!
//! ```text
//!  (1) spawn ─► SCHEDULED ─(2) start_poll─► RUNNING ─(5) complete: Ready─► COMPLETE
//!                ▲   ▲                        │   │
//!                │   └─(4) finish_pending: ───┘   │ (4) finish_pending: Idle
//!                │       Requeue (woken during    ▼     (the queue's reference
//!                │       the poll), once            idle     dropped in the same CAS)
//!                └────(3) wake: Push ───────────────┘
//!
//!  (3) wake while RUNNING: set SCHEDULED only (Noted: no push, no reference taken);
//!      wake while SCHEDULED, COMPLETE or CANCELLED: Nothing.
//!  (5) COMPLETE: the output is stored and the joiner woken if JOIN_WAKER (or the output
//!      dropped at once if HANDLE is gone).
//!  (6) cancel:  idle      ─► CANCELLED|SCHEDULED  (Push: its loop drops the future)
//!               SCHEDULED ─► CANCELLED|SCHEDULED  (the loop drops it at (2))
//!               RUNNING   ─► CANCELLED|RUNNING    (dropped right after the poll, at (4))
//!               COMPLETE  ─► unchanged            (TooLate: release the handle, (9))
//!  (7) cancelled_dropped: the loop dropped the future: clear RUNNING|SCHEDULED.
//!  (8) join_waker_registered: set JOIN_WAKER (never cleared): the JoinHandle registered
//!      its waker; the loop wakes `join_waker` at (5) only if it sees it.
//!  (9) release_handle: clear HANDLE (JoinHandle dropped or detached). Whoever clears the
//!      last of {HANDLE present, COMPLETE absent} drops the output.
//! (10) output_taken: clear HANDLE and drop the handle's reference in one step.
//! (11) inc_ref: a waker clone.  (12) dec_ref: a reference dropped.
//! (13) resurrect: the last reference went while not COMPLETE/CANCELLED (nobody can ever
//!      wake it): CANCELLED|SCHEDULED with one reference, pushed home, so futures are only
//!      ever dropped by an executor loop, never inside an interrupt handler.
//! ```
//!
//! Invariants: at most one party holds RUNNING (it alone touches the stage); a task is in
//! at most one run queue, and only while SCHEDULED is set and RUNNING is not; the queue entry
//! owns one reference, each `Waker` one, the `JoinHandle` one.

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::future::Future;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, AtomicUsize};

use crate::state::{refs, State, CANCELLED, COMPLETE};
use core::task::{Context, Poll};
use futures_util::task::AtomicWaker;

use crate::executor::{Executor, Priority};
use crate::mpsc::Link;

/// Identifier of a spawned task, unique within its executor (never 0).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub(crate) u64);

impl TaskId {
    /// The raw number.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Type-erased operations on a `Task<F>`, chosen at spawn.
///
/// # Safety (all four)
/// The pointer is the header of a live `Task<F>` of the `F` this vtable was made for, and
/// the caller has the exclusive access each function names.
pub(crate) struct TaskVTable {
    /// Poll the future; on `Ready` store the output. Caller holds RUNNING.
    pub poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    /// Drop the future or output the stage holds. Caller has exclusive access to the stage.
    pub drop_stage: unsafe fn(NonNull<Header>),
    /// Move the output into `*out`, an `Option<F::Output>`. Caller has exclusive access.
    pub take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Free the allocation. The refcount is zero.
    pub dealloc: unsafe fn(NonNull<Header>),
}

/// The type-independent part of a task; first field of `Task<F>` (`repr(C)`).
#[repr(C)]
pub(crate) struct Header {
    /// Run-queue link for pinned tasks (`mpsc.rs`); first, so a `*mut Link` is the header.
    pub link: Link,
    /// Flag bits and refcount (see the module docs).
    pub state: State,
    pub vtable: &'static TaskVTable,
    pub exec: &'static Executor,
    /// CPU whose queue the task goes to when woken. Changed only by `migrate`, while the
    /// task sits in a queue (so nobody else reads it then).
    pub home: AtomicUsize,
    /// CPU that polls it right now (written before each poll, read by `Sleep` in the poll).
    pub running_on: AtomicUsize,
    /// `now()` at the wake that scheduled it, 0 if none (instrumentation only).
    pub wake_stamp: AtomicU64,
    pub id: TaskId,
    pub priority: Priority,
    pub pinned: bool,
    pub name: &'static str,
    /// The JoinHandle's waker.
    pub join_waker: AtomicWaker,
}

enum Stage<F: Future> {
    Running(F),
    Finished(F::Output),
    Consumed,
}

#[repr(C)]
struct Task<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// Everything `allocate` needs besides the future.
pub(crate) struct NewTask {
    pub exec: &'static Executor,
    pub home: usize,
    pub id: TaskId,
    pub priority: Priority,
    pub pinned: bool,
    pub name: &'static str,
}

impl<F: Future> Task<F> {
    const VTABLE: TaskVTable = TaskVTable {
        poll: Self::poll,
        drop_stage: Self::drop_stage,
        take_output: Self::take_output,
        dealloc: Self::dealloc,
    };

    /// # Safety
    /// `p` points to a live `Task<F>` whose stage the caller may access exclusively.
    unsafe fn stage<'a>(p: NonNull<Header>) -> &'a mut Stage<F> {
        // SAFETY: `Header` is the first field of the `repr(C)` `Task<F>` that `p` came
        // from; exclusivity is the caller's promise (it holds RUNNING, or COMPLETE with
        // HANDLE decides who owns the output).
        unsafe { &mut *p.cast::<Task<F>>().as_ref().stage.get() }
    }

    /// # Safety
    /// See [`TaskVTable::poll`]: `p` is a live `Task<F>` and the caller holds RUNNING.
    unsafe fn poll(p: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the caller holds RUNNING (see `TaskVTable::poll`).
        let stage = unsafe { Self::stage(p) };
        let Stage::Running(fut) = stage else {
            return Poll::Ready(());
        };
        // SAFETY: the future lives inside a heap allocation that is never moved and is
        // only freed after the future has been dropped in place.
        let fut = unsafe { Pin::new_unchecked(fut) };
        match fut.poll(cx) {
            Poll::Ready(out) => {
                *stage = Stage::Finished(out); // drops the future in place, as Pin allows
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// # Safety
    /// `p` is a live `Task<F>` and the caller has exclusive access to its stage.
    unsafe fn drop_stage(p: NonNull<Header>) {
        // SAFETY: exclusive access is the caller's promise (see `TaskVTable::drop_stage`).
        *unsafe { Self::stage(p) } = Stage::Consumed;
    }

    /// # Safety
    /// As `drop_stage`, and `out` points to a valid `Option<F::Output>`.
    unsafe fn take_output(p: NonNull<Header>, out: *mut ()) {
        // SAFETY: exclusive access is the caller's promise.
        let stage = unsafe { Self::stage(p) };
        if let Stage::Finished(v) = core::mem::replace(stage, Stage::Consumed) {
            // SAFETY: `out` is the `Option<F::Output>` of the JoinHandle<F::Output> created
            // together with this task.
            unsafe { *out.cast::<Option<F::Output>>() = Some(v) };
        }
    }

    /// # Safety
    /// `p` is a live `Task<F>` whose refcount reached zero; it is not used afterwards.
    unsafe fn dealloc(p: NonNull<Header>) {
        // SAFETY: `p` came from `Box::into_raw` of a `Task<F>` in `allocate`, and the
        // refcount reached zero, so no other pointer to it is used again.
        drop(unsafe { Box::from_raw(p.cast::<Task<F>>().as_ptr()) });
    }
}

/// Allocate a task (the only allocation it ever needs) in state SCHEDULED|HANDLE with two
/// references: the first returned `TaskRef` is the run-queue entry, the second the handle's.
pub(crate) fn allocate<F>(t: NewTask, future: F) -> (TaskRef, TaskRef)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task = Box::new(Task {
        header: Header {
            link: Link::new(),
            state: State::new(),
            vtable: &Task::<F>::VTABLE,
            exec: t.exec,
            home: AtomicUsize::new(t.home),
            running_on: AtomicUsize::new(t.home),
            wake_stamp: AtomicU64::new(0),
            id: t.id,
            priority: t.priority,
            pinned: t.pinned,
            name: t.name,
            join_waker: AtomicWaker::new(),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    // SAFETY: `Box::into_raw` never returns null.
    let p = unsafe { NonNull::new_unchecked(Box::into_raw(task)) }.cast::<Header>();
    // SAFETY: the two references were counted in the initial state.
    unsafe { (TaskRef::from_raw(p), TaskRef::from_raw(p)) }
}

/// One counted reference to a task. Dropping it drops the reference.
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: the header is only accessed through atomics (or immutable fields) and the stage
// only under the RUNNING/COMPLETE protocol; futures and outputs are required to be `Send`.
unsafe impl Send for TaskRef {}

impl TaskRef {
    /// # Safety
    /// `p` points to a live task and the caller hands over one reference it owns.
    pub(crate) unsafe fn from_raw(p: NonNull<Header>) -> TaskRef {
        TaskRef(p)
    }

    pub(crate) fn as_ptr(&self) -> NonNull<Header> {
        self.0
    }

    /// Give up the reference without dropping it (`from_raw` takes it back).
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        core::mem::ManuallyDrop::new(self).0
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we own a reference, so the allocation is live.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // AcqRel: Release so our uses of the task happen-before its freeing; Acquire (for
        // the last one) so we see every other holder's uses before we free it.
        let prev = self.header().state.dec_ref(); // (12)
        // SAFETY: that subtraction gave up this TaskRef's reference.
        unsafe { released(self.0, prev) }
    }
}

/// What follows giving up one reference with an AcqRel read-modify-write of the state that
/// returned `prev`: nothing unless it was the last one; then free the task or, if its
/// future is still alive, hand it to its home CPU's loop.
///
/// # Safety
/// `p` is a task header and the caller's reference was just given up by that operation.
pub(crate) unsafe fn released(p: NonNull<Header>, prev: usize) {
    if refs(prev) != 1 {
        return;
    }
    // SAFETY: the count reached zero, so nobody else uses the task; it is still allocated.
    let hdr = unsafe { p.as_ref() };
    if prev & (COMPLETE | CANCELLED) == 0 {
        // Nobody can wake this task again and its future is still alive: hand it to its
        // home CPU's loop, which drops the future there (never here: we may be in an
        // interrupt handler). The queue push publishes the state (Release/Acquire inside
        // either queue).
        hdr.state.resurrect(); // (13)
        let exec = hdr.exec;
        let me = exec.platform().cpu_id();
        // SAFETY: the reference we just stored is handed to the run queue.
        exec.enqueue(unsafe { TaskRef::from_raw(p) }, me);
        return;
    }
    // SAFETY: the count reached zero; this was the last reference.
    unsafe { (hdr.vtable.dealloc)(p) }
}
