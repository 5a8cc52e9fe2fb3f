//! `OwnerList`: a CPU's private FIFO of pinned tasks that it woke itself, in task context.
//!
//! Only the owner CPU touches it, and only outside interrupt handlers (see
//! [`Platform::in_task_context`](crate::Platform::in_task_context)): the loop pops, and
//! tasks polled by that loop push when they wake a pinned task of the same CPU. Those are
//! one sequential thread of execution, so plain loads and stores suffice: a same-CPU wake
//! costs no locked instruction for the queue (a push plus the pop of the last task through
//! `PinnedQueue` cost two). Cross-CPU and interrupt-context wakes keep going through the
//! lock-free queues, so the idle path's protocol is untouched: the owner only ever pushes
//! here while it runs, never while it idles. Intrusive (the header's queue link), so it
//! never allocates. Atomics with Relaxed ordering only so that other CPUs may read the
//! length (`Executor::queued`).

use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::Relaxed};

use crate::mpsc::Link;
use crate::task::{Header, TaskRef};

/// Owner-only singly linked FIFO through the tasks' queue links.
pub(crate) struct OwnerList {
    first: AtomicPtr<Link>,
    last: AtomicPtr<Link>,
    len: AtomicUsize,
}

impl OwnerList {
    pub(crate) const fn new() -> Self {
        OwnerList { first: AtomicPtr::new(ptr::null_mut()), last: AtomicPtr::new(ptr::null_mut()), len: AtomicUsize::new(0) }
    }

    /// Append (owner CPU, task context only).
    pub(crate) fn push(&self, task: TaskRef) {
        let n = task.into_raw().as_ptr().cast::<Link>();
        // SAFETY: `n` is a task header (its link first) in no other list; the list owns
        // its reference from now on.
        unsafe { (*n).next.store(ptr::null_mut(), Relaxed) };
        let last = self.last.load(Relaxed);
        if last.is_null() {
            self.first.store(n, Relaxed);
        } else {
            // SAFETY: `last` is in this list, which keeps its task alive.
            unsafe { (*last).next.store(n, Relaxed) };
        }
        self.last.store(n, Relaxed);
        self.len.store(self.len.load(Relaxed) + 1, Relaxed);
    }

    /// Take the oldest task (owner CPU only).
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        let n = NonNull::new(self.first.load(Relaxed))?;
        // SAFETY: `n` is in this list, which owns one reference to its task.
        let next = unsafe { n.as_ref() }.next.load(Relaxed);
        self.first.store(next, Relaxed);
        if next.is_null() {
            self.last.store(ptr::null_mut(), Relaxed);
        }
        self.len.store(self.len.load(Relaxed) - 1, Relaxed);
        // SAFETY: the list's reference is handed to the caller.
        Some(unsafe { TaskRef::from_raw(n.cast::<Header>()) })
    }

    /// True if empty (meaningful on the owner CPU).
    pub(crate) fn is_empty(&self) -> bool {
        self.first.load(Relaxed).is_null()
    }

    /// Number of queued tasks (exact on the owner, a recent value elsewhere).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }
}
