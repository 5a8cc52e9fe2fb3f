//! Raw wakers: a task's `Waker` is a pointer to its header (clone = refcount +1, no
//! allocation), and `block_on`'s waker is a small `Arc`. Also the way back from a `Waker`
//! to the executor and CPU that polls it (`context_of`), as embassy's `task_from_waker`.

use alloc::sync::Arc;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{RawWaker, RawWakerVTable, Waker};

use crate::executor::{Executor, Priority};
use crate::task::{Header, TaskId, TaskRef, CANCELLED, COMPLETE, REF_ONE, RUNNING, SCHEDULED};

/// The vtable of every task waker; its address identifies our wakers.
static TASK_WAKER: RawWakerVTable =
    RawWakerVTable::new(task_clone, task_wake, task_wake_by_ref, task_drop);

// The four task-waker functions implement the `RawWakerVTable` contract.
// # Safety (all four): `p` is the data pointer of a live task waker, i.e. a task header
// for which the waker owns one reference.

unsafe fn task_clone(p: *const ()) -> RawWaker {
    // SAFETY: a live waker owns a reference, so the header is live.
    unsafe { &*p.cast::<Header>() }.inc_ref();
    RawWaker::new(p, &TASK_WAKER)
}

unsafe fn task_wake(p: *const ()) {
    // SAFETY: the waker's pointer is a live header; by-value wake hands its reference over.
    unsafe { schedule(NonNull::new_unchecked(p as *mut Header), true) }
}

unsafe fn task_wake_by_ref(p: *const ()) {
    // SAFETY: as above, but the waker keeps its reference.
    unsafe { schedule(NonNull::new_unchecked(p as *mut Header), false) }
}

unsafe fn task_drop(p: *const ()) {
    // SAFETY: the waker owned one reference; dropping the TaskRef releases it.
    drop(unsafe { TaskRef::from_raw(NonNull::new_unchecked(p as *mut Header)) })
}

/// A waker for `task` that borrows the caller's reference instead of taking one: no
/// refcount traffic per poll. `ManuallyDrop` so it never releases what it never took.
///
/// # Safety
/// The caller keeps its `TaskRef` alive for as long as the returned waker is used;
/// clones made from it take their own references and may outlive it.
pub(crate) unsafe fn borrowed_waker(task: &TaskRef) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(task.as_ptr().as_ptr() as *const (), &TASK_WAKER);
    // SAFETY: TASK_WAKER's functions uphold the RawWaker contract for header pointers.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// Wake the task at `p`: the whole wake path.
///
/// `by_value`: the caller hands over one reference (consumed here), else it keeps its own.
///
/// # Safety
/// `p` is a live task header, and if `by_value` the caller owns one reference to give up.
#[inline] // the trace hook tipped it out of line: +12 instructions per wake, traced or not
pub(crate) unsafe fn schedule(p: NonNull<Header>, by_value: bool) {
    // SAFETY: the caller's reference keeps the header alive for this whole function.
    let hdr = unsafe { p.as_ref() };
    // Acquire: pairs with the Release of the poller that last cleared RUNNING, so the
    // `home` we read below is the one that poll ran under.
    let mut s = hdr.state.load(Ordering::Acquire);
    loop {
        if s & (SCHEDULED | COMPLETE | CANCELLED) != 0 {
            break; // already queued (or will be re-queued), or finished: nothing to do
        }
        let push = s & RUNNING == 0;
        // A push needs a reference for the queue entry: the waker's own if by value.
        let new = s | SCHEDULED | if push && !by_value { REF_ONE } else { 0 };
        // AcqRel on success: Release publishes what the waker wrote before waking to the
        // next poll; Acquire as for the load above. Acquire on failure: we retry with it.
        match hdr.state.compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                let exec = hdr.exec;
                let me = exec.platform().cpu_id();
                let home = hdr.home.load(Ordering::Relaxed);
                exec.count_wake(home, me);
                exec.trace(crate::trace::class::WAKE, || crate::Event::Wake { task: hdr.id, target: home });
                hdr.wake_stamp.store(exec.platform().now().max(1), Ordering::Relaxed);
                if push {
                    // SAFETY: the reference counted for the queue entry (ours or the new one).
                    exec.enqueue(unsafe { TaskRef::from_raw(p) }, me);
                    return;
                }
                // Woken while RUNNING: its poller re-queues it once the poll returns.
                break;
            }
            Err(actual) => s = actual,
        }
    }
    if by_value {
        // SAFETY: the reference the caller handed over, not passed on to a queue.
        drop(unsafe { TaskRef::from_raw(p) });
    }
}

/// What `block_on`'s waker points to.
pub(crate) struct BlockOnSignal {
    pub exec: &'static Executor,
    pub cpu: usize,
    /// Set by a wake, cleared by `block_on` before it polls its future.
    pub woken: AtomicBool,
}

static BLOCK_ON_WAKER: RawWakerVTable =
    RawWakerVTable::new(block_on_clone, block_on_wake, block_on_wake_by_ref, block_on_drop);

// The four block_on-waker functions implement the `RawWakerVTable` contract.
// # Safety (all four): `p` came from `Arc::into_raw(Arc<BlockOnSignal>)` and the waker owns
// one strong count of that `Arc`.

unsafe fn block_on_clone(p: *const ()) -> RawWaker {
    // SAFETY: `p` came from `Arc::into_raw` and the waker being cloned owns a count.
    unsafe { Arc::increment_strong_count(p.cast::<BlockOnSignal>()) };
    RawWaker::new(p, &BLOCK_ON_WAKER)
}

unsafe fn block_on_wake(p: *const ()) {
    // SAFETY: as in clone; wake by value then releases the waker's count.
    unsafe {
        block_on_wake_by_ref(p);
        block_on_drop(p);
    }
}

unsafe fn block_on_wake_by_ref(p: *const ()) {
    // SAFETY: the waker owns a count, so the signal is live.
    let sig = unsafe { &*p.cast::<BlockOnSignal>() };
    // Release: publishes the waker's writes to block_on's next poll (Acquire swap there).
    sig.woken.store(true, Ordering::Release);
    let me = sig.exec.platform().cpu_id();
    if me != sig.cpu {
        sig.exec.kick(sig.cpu); // SeqCst fence inside: Dekker with block_on's idle check
    }
}

unsafe fn block_on_drop(p: *const ()) {
    // SAFETY: the waker owned one count of the Arc made in `block_on_waker`.
    drop(unsafe { Arc::from_raw(p.cast::<BlockOnSignal>()) });
}

/// A waker that sets `sig.woken` and kicks `sig.cpu`.
pub(crate) fn block_on_waker(sig: Arc<BlockOnSignal>) -> Waker {
    let raw = RawWaker::new(Arc::into_raw(sig) as *const (), &BLOCK_ON_WAKER);
    // SAFETY: BLOCK_ON_WAKER's functions uphold the RawWaker contract for Arc pointers.
    unsafe { Waker::from_raw(raw) }
}

fn task_header(w: &Waker) -> Option<&Header> {
    if core::ptr::eq(w.vtable(), &TASK_WAKER) {
        // SAFETY: only our task wakers use TASK_WAKER, and their data is a live header.
        Some(unsafe { &*w.data().cast::<Header>() })
    } else {
        None
    }
}

/// The executor and the CPU polling the future that was handed `w`: found through `w` if
/// it is one of ours, else (a combinator's own waker) the executor running this CPU.
pub(crate) fn context_of(w: &Waker) -> Option<(&'static Executor, usize)> {
    own_context_of(w).or_else(crate::context::current)
}

fn own_context_of(w: &Waker) -> Option<(&'static Executor, usize)> {
    if let Some(h) = task_header(w) {
        return Some((h.exec, h.running_on.load(Ordering::Relaxed)));
    }
    if core::ptr::eq(w.vtable(), &BLOCK_ON_WAKER) {
        // SAFETY: only block_on wakers use BLOCK_ON_WAKER; their data is a live signal.
        let sig = unsafe { &*w.data().cast::<BlockOnSignal>() };
        return Some((sig.exec, sig.cpu));
    }
    None
}

/// What a task knows about itself; see [`task_info`].
#[derive(Copy, Clone, Debug)]
pub struct TaskInfo {
    /// Its id.
    pub id: TaskId,
    /// Its name from [`SpawnOptions`](crate::SpawnOptions).
    pub name: &'static str,
    /// The CPU whose queue it goes to when woken.
    pub home: usize,
    /// The CPU polling it now (meaningful inside its poll).
    pub cpu: usize,
    /// Its priority.
    pub priority: Priority,
    /// Whether it is pinned to `home`.
    pub pinned: bool,
}

/// Information about the task that owns `waker` (inside a poll: `cx.waker()`), or `None`
/// if the waker is not a task waker of this crate.
pub fn task_info(waker: &Waker) -> Option<TaskInfo> {
    task_header(waker).map(|h| TaskInfo {
        id: h.id,
        name: h.name,
        home: h.home.load(Ordering::Relaxed),
        cpu: h.running_on.load(Ordering::Relaxed),
        priority: h.priority,
        pinned: h.pinned,
    })
}
