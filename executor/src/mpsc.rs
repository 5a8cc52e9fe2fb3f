//! `PinnedQueue`: an intrusive multi-producer, single-consumer run queue (Vyukov's), for a
//! CPU's pinned tasks, which only that CPU's loop ever pops.
//!
//! Why not `SegQueue` here: the consumer is known to be the owner, so a pop needs no
//! locked instruction, except one `swap` when it takes the last task (a `SegQueue` pop is
//! a CAS plus a `fetch_or`), and a push is one `swap` plus a store instead of a CAS and a
//! `fetch_or`. The link lives in the task header,
//! so a push never allocates, even in an interrupt handler. Still unbounded: a wake never
//! fails.
//!
//! ```text
//!   push(n): n.next = null ; prev = head.swap(n) ; prev.next = n
//!   pop:     take tail if tail.next is set; the last node is taken by pushing the stub
//!            behind it. A producer between its swap and its link makes pop return None
//!            while is_empty() is false: the loop then comes round again (it never halts
//!            on a non-empty queue), and the link lands a few instructions later.
//! ```
//!
//! Length: counted for `Executor::queued` (the balancer's load figure). The owner's own
//! pushes count with a plain load and store (no locked instruction on the same-CPU wake
//! path), others' with `fetch_add`; an interrupt on the owner that pushes between the load
//! and the store may lose one count, so the owner resets the count whenever it finds nothing
//! to run and the queue settled empty. Approximate, like every length here.

use alloc::boxed::Box;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::task::{Header, TaskRef};

/// The queue link, the first field of every task `Header` (`repr(C)`), so a `*mut Link`
/// of a task is its header pointer.
pub(crate) struct Link {
    pub(crate) next: AtomicPtr<Link>,
}

impl Link {
    pub(crate) const fn new() -> Self {
        Link { next: AtomicPtr::new(ptr::null_mut()) }
    }
}

/// One CPU's queue of pinned tasks of one priority. Any CPU pushes; only the owner pops.
pub(crate) struct PinnedQueue {
    /// Producers' end: the node pushed last (the stub when settled empty).
    head: AtomicPtr<Link>,
    /// Consumer's end, the oldest node (maybe the stub). Owner-only: Relaxed.
    tail: AtomicPtr<Link>,
    /// Placeholder node that keeps the list non-empty; heap-allocated, so it never moves.
    stub: NonNull<Link>,
    /// Pushes by the owner (owner-only, plain load + store), by others (`fetch_add`), and
    /// pops (owner-only). Statistics: see the module docs.
    pushed_local: AtomicUsize,
    pushed_remote: AtomicUsize,
    popped: AtomicUsize,
}

// SAFETY: the raw pointers are the stub (owned by the queue) and task headers (each owned
// by the queue as one counted reference); they are only accessed through atomics, with
// the single-consumer rule that only the owner CPU calls `pop`.
unsafe impl Send for PinnedQueue {}
// SAFETY: as above.
unsafe impl Sync for PinnedQueue {}

impl PinnedQueue {
    pub(crate) fn new() -> Self {
        let stub = NonNull::from(Box::leak(Box::new(Link::new())));
        PinnedQueue {
            head: AtomicPtr::new(stub.as_ptr()),
            tail: AtomicPtr::new(stub.as_ptr()),
            stub,
            pushed_local: AtomicUsize::new(0),
            pushed_remote: AtomicUsize::new(0),
            popped: AtomicUsize::new(0),
        }
    }

    /// Push a task (from any CPU, or an interrupt handler). `local`: the caller is the
    /// owner CPU (only changes how the push is counted).
    pub(crate) fn push(&self, task: TaskRef, local: bool) {
        if local {
            let c = &self.pushed_local;
            c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        } else {
            self.pushed_remote.fetch_add(1, Ordering::Relaxed);
        }
        let n = task.into_raw().as_ptr().cast::<Link>();
        self.push_link(n);
    }

    fn push_link(&self, n: *mut Link) {
        // SAFETY: `n` is the stub or a task header whose reference the queue now owns; it is
        // in no list now, so nobody else writes its link.
        unsafe { (*n).next.store(ptr::null_mut(), Ordering::Relaxed) };
        // AcqRel: Release publishes the node (the task's state, our null link) to the
        // consumer that reaches it through `prev.next` or `head`; Acquire orders our link
        // store below after the previous producer's initialisation of `prev`.
        let prev = self.head.swap(n, Ordering::AcqRel);
        // SAFETY: `prev` was the list's last node: the consumer never takes (and so never
        // frees) a node whose `next` is still null unless it is also `head`, which it no
        // longer is. Release: the consumer's Acquire load of `next` sees the node.
        unsafe { (*prev).next.store(n, Ordering::Release) };
    }

    /// The owner's pop: the oldest task, or `None` if empty or a push is half-done.
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        let stub = self.stub.as_ptr();
        let mut tail = self.tail.load(Ordering::Relaxed);
        // SAFETY: (this and every deref below) `tail` and the nodes reached through `next`
        // are in the list, which owns them (a reference each, or the stub), and only we,
        // the single consumer, remove nodes. Acquire: pairs with the producer's Release
        // link store.
        let mut next = unsafe { (*tail).next.load(Ordering::Acquire) };
        if tail == stub {
            if next.is_null() {
                return None;
            }
            self.tail.store(next, Ordering::Relaxed);
            tail = next;
            // SAFETY: `next` is a node in the list (see above).
            next = unsafe { (*next).next.load(Ordering::Acquire) };
        }
        if next.is_null() {
            // `tail` is the last linked node. If it is also `head`, put the stub behind it so
            // that we can take it; else a producer is between its swap and its link.
            if tail != self.head.load(Ordering::Acquire) {
                return None;
            }
            self.push_link(stub);
            // SAFETY: `tail` is still a node in the list (see above).
            next = unsafe { (*tail).next.load(Ordering::Acquire) };
            if next.is_null() {
                return None; // another producer swapped in first; its link is coming
            }
        }
        self.tail.store(next, Ordering::Relaxed);
        let c = &self.popped;
        c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        // SAFETY: `tail` is a task header (not the stub) whose queue reference we now own.
        Some(unsafe { TaskRef::from_raw(NonNull::new_unchecked(tail.cast::<Header>())) })
    }

    /// Called by the owner when it found nothing to run: if the queue is settled empty,
    /// make the length exactly zero again (see the module docs). A push racing with this
    /// may be counted already and then not seen: the count is one low until next time.
    pub(crate) fn resync_len(&self) {
        if self.is_empty() {
            let pushed = self.pushed_local.load(Ordering::Relaxed);
            let remote = self.pushed_remote.load(Ordering::Relaxed);
            self.popped.store(pushed.wrapping_add(remote), Ordering::Relaxed);
        }
    }

    /// True if no task is queued or being pushed. `head` is the producers' end, so a push
    /// that has swapped already counts. SeqCst: the idle path's Dekker re-check (its fence
    /// comes before this load; the waker's push is followed by a SeqCst fence in `kick`).
    pub(crate) fn is_empty(&self) -> bool {
        self.head.load(Ordering::SeqCst) == self.stub.as_ptr()
            && self.tail.load(Ordering::Relaxed) == self.stub.as_ptr()
    }

    /// Approximate number of queued tasks.
    pub(crate) fn len(&self) -> usize {
        let pushed = self.pushed_local.load(Ordering::Relaxed);
        let pushed = pushed.wrapping_add(self.pushed_remote.load(Ordering::Relaxed));
        let n = pushed.wrapping_sub(self.popped.load(Ordering::Relaxed));
        if n > usize::MAX / 2 { 0 } else { n }
    }
}

impl Drop for PinnedQueue {
    fn drop(&mut self) {
        // Executors are leaked and never dropped; if one ever is, queued tasks leak (their
        // futures must be dropped by a loop, and none runs any more). Only the stub is freed.
        if self.is_empty() {
            // SAFETY: the stub came from `Box::leak` in `new` and is in no list.
            drop(unsafe { Box::from_raw(self.stub.as_ptr()) });
        }
    }
}
