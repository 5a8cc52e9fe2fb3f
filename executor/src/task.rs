//! A task: one allocation holding a [`Header`] (atomic state + refcount, home CPU,
//! instrumentation) followed by the future, and [`TaskRef`], a counted pointer to it.
//!
//! # State machine
//!
//! `state` is one `AtomicUsize`: five flag bits and, above them, a reference count.
//!
//! ```text
//!   spawn ──► SCHEDULED ──(pop by its home CPU's loop)──► RUNNING ──(poll: Ready)──► COMPLETE
//!               ▲   ▲                                       │   │
//!               │   └───(poll: Pending, woken meanwhile)────┘   │ (poll: Pending)
//!               │        re-queued exactly once, by the loop    ▼
//!               └────────────(wake: push home, notify)────── idle
//!
//!   wake while RUNNING: set SCHEDULED only (no push, no reference taken);
//!   wake while SCHEDULED, COMPLETE or CANCELLED: nothing.
//!
//!   COMPLETE: the output is stored and the joiner woken (or the output dropped at once if
//!   the JoinHandle is gone).
//!
//!   cancel:  idle      ──► CANCELLED|SCHEDULED  (pushed home; the loop drops the future)
//!            SCHEDULED ──► CANCELLED|SCHEDULED  (the loop drops it when it pops it)
//!            RUNNING   ──► CANCELLED|RUNNING    (dropped right after the current poll)
//!   last reference dropped while not COMPLETE/CANCELLED (nobody can ever wake it):
//!            resurrected as CANCELLED|SCHEDULED and pushed home, so futures are only ever
//!            dropped by an executor loop, never inside an interrupt handler.
//!
//!   HANDLE: set at spawn, cleared by JoinHandle drop/detach/cancel or when it takes the
//!   output. Whoever clears the last of {HANDLE present, COMPLETE absent} drops the output.
//!   JOIN_WAKER: set (never cleared) by the JoinHandle after it first registers its waker;
//!   the loop wakes `join_waker` on completion only if it sees it.
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
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::task::{Context, Poll};
use futures_util::task::AtomicWaker;

use crate::executor::{Executor, Priority};
use crate::mpsc::Link;

/// In a run queue (or about to be), or woken while RUNNING (then re-queued after the poll).
pub(crate) const SCHEDULED: usize = 1 << 0;
/// Being polled (or its future being dropped) by exactly one CPU.
pub(crate) const RUNNING: usize = 1 << 1;
/// The future returned `Ready`; the output is in the stage until taken or dropped.
pub(crate) const COMPLETE: usize = 1 << 2;
/// Cancellation requested; the future is (or will be) dropped by an executor loop.
pub(crate) const CANCELLED: usize = 1 << 3;
/// A `JoinHandle` still exists.
pub(crate) const HANDLE: usize = 1 << 4;
/// The `JoinHandle` has registered a waker in `join_waker`: the loop must wake it on
/// completion (else it skips the `AtomicWaker`'s two locked instructions).
pub(crate) const JOIN_WAKER: usize = 1 << 5;
/// One reference, in the bits above the flags.
pub(crate) const REF_ONE: usize = 1 << 6;
/// Beyond this many references something leaks wakers in a loop: abort rather than wrap.
const REF_LIMIT: usize = usize::MAX / 2;

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
    pub state: AtomicUsize,
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
            state: AtomicUsize::new(SCHEDULED | HANDLE | (2 * REF_ONE)),
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

impl Header {
    /// Add a reference. Relaxed, as in `Arc::clone`: a new reference is only made from an
    /// existing one, which keeps the task alive; no data is published by counting.
    pub(crate) fn inc_ref(&self) {
        if self.state.fetch_add(REF_ONE, Ordering::Relaxed) > REF_LIMIT {
            panic!("executor: task refcount overflow");
        }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // AcqRel: Release so our uses of the task happen-before its freeing; Acquire (for
        // the last one) so we see every other holder's uses before we free it.
        let prev = self.header().state.fetch_sub(REF_ONE, Ordering::AcqRel);
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
    if prev >> 6 != 1 {
        return;
    }
    // SAFETY: the count reached zero, so nobody else uses the task; it is still allocated.
    let hdr = unsafe { p.as_ref() };
    if prev & (COMPLETE | CANCELLED) == 0 {
        // Nobody can wake this task again and its future is still alive: hand it to its
        // home CPU's loop, which drops the future there (never here: we may be in an
        // interrupt handler). We are the only owner, so a plain store is enough; the
        // queue push publishes it (Release/Acquire inside either queue).
        hdr.state.store(CANCELLED | SCHEDULED | REF_ONE, Ordering::Relaxed);
        let exec = hdr.exec;
        let me = exec.platform().cpu_id();
        // SAFETY: the reference we just stored is handed to the run queue.
        exec.enqueue(unsafe { TaskRef::from_raw(p) }, me);
        return;
    }
    // SAFETY: the count reached zero; this was the last reference.
    unsafe { (hdr.vtable.dealloc)(p) }
}
