//! A CPU's run queues: for each priority (High, Normal, Low) one queue of migratable tasks
//! (`crossbeam_queue::SegQueue`, MPMC) and one of pinned tasks (`PinnedQueue`, MPSC).
//!
//! Why `SegQueue` for migratable tasks: any CPU (or an interrupt handler) pushes and thieves
//! pop too, so it must be MPMC; a wake must never fail, so it must be unbounded (a bounded
//! ring that fills up is the classic "task_queue full" panic); it allocates one 31-slot
//! block per 31 pushes, which the kernel's IRQ-safe heap serves. Pinned tasks are popped
//! only by their CPU, so they live in an intrusive MPSC queue (`mpsc.rs`): no locked
//! instruction to pop, no allocation to push; and a thief never has to skip anything.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use crossbeam_queue::SegQueue;

use crate::local::OwnerList;
use crate::mpsc::PinnedQueue;
use crate::task::TaskRef;

const PRIORITIES: usize = 3;

/// Who pushes onto a CPU's queues.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Pusher {
    /// The CPU itself, in task context (`Platform::in_task_context`): may use `own`.
    OwnerTask,
    /// The CPU itself, maybe in an interrupt handler.
    Owner,
    /// Another CPU or a foreign thread.
    Other,
}

/// `SegQueue::pop` on an empty queue issues a SeqCst fence; `is_empty` is two plain loads
/// on x86. Most queues are empty most of the time (High, Low, one of pinned/migratable), so
/// look first. A push racing with the check is found at the next loop iteration, and the
/// idle path re-checks with `is_empty` after its own fence, so nothing is lost.
fn pop(q: &SegQueue<TaskRef>) -> Option<TaskRef> {
    if q.is_empty() {
        None
    } else {
        q.pop()
    }
}

/// Within a priority, the queue whose turn it is (pinned or migratable) is served for up
/// to this many pops in a row while it has tasks, then the other gets the turn. Batches
/// rather than strict alternation: a task that spawns migratable children and awaits them
/// (pinned itself) is not re-polled after every child, yet neither kind can starve.
const TURN: u32 = 32;

/// One CPU's queues: per priority, migratable tasks in a `SegQueue` (thieves pop them
/// too) and pinned ones in a `PinnedQueue` (only the owner pops them).
pub(crate) struct RunQueues {
    migratable: [SegQueue<TaskRef>; PRIORITIES],
    pinned: [PinnedQueue; PRIORITIES],
    /// Pinned tasks this CPU woke itself in task context (see `local.rs`).
    own: [OwnerList; PRIORITIES],
    /// Owner-only: which of `own` and `pinned` a pinned pop tries first; flipped after each
    /// one, so that neither starves the other (both hold pinned tasks, FIFO each).
    own_first: AtomicBool,
    /// Owner-only, Relaxed: bit 0 = which kind of a priority's two queues is served first
    /// (1 = pinned); the bits above = pops it has had in a row (see `TURN`).
    turn: AtomicU32,
}

impl RunQueues {
    pub(crate) fn new() -> Self {
        RunQueues {
            migratable: [const { SegQueue::new() }; PRIORITIES],
            pinned: core::array::from_fn(|_| PinnedQueue::new()),
            own: [const { OwnerList::new() }; PRIORITIES],
            own_first: AtomicBool::new(false),
            turn: AtomicU32::new(0),
        }
    }

    /// Push a task (from any CPU). Never fails. `pusher` says who pushes (see `Pusher`).
    pub(crate) fn push(&self, task: TaskRef, pusher: Pusher) {
        let h = task.header();
        let p = h.priority as usize;
        match (h.pinned, pusher) {
            (true, Pusher::OwnerTask) => self.own[p].push(task),
            (true, _) => self.pinned[p].push(task, pusher != Pusher::Other),
            (false, _) => self.migratable[p].push(task),
        }
    }

    #[inline]
    fn pop_kind(&self, p: usize, pinned: usize) -> Option<TaskRef> {
        if pinned == 0 {
            return pop(&self.migratable[p]);
        }
        let own_first = self.own_first.load(Ordering::Relaxed);
        let t = if own_first {
            self.own[p].pop().or_else(|| self.pinned[p].pop())
        } else {
            self.pinned[p].pop().or_else(|| self.own[p].pop())
        };
        if t.is_some() {
            self.own_first.store(!own_first, Ordering::Relaxed);
        }
        t
    }

    /// Whether priority `p` has nothing queued (a few plain loads; owner's view).
    #[inline]
    fn priority_is_empty(&self, p: usize) -> bool {
        self.own[p].is_empty() && self.pinned[p].is_empty() && self.migratable[p].is_empty()
    }

    /// The owner's pop: highest priority first (strict); within a priority, the queue whose
    /// turn it is, up to `TURN` pops in a row, then the other.
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        let turn = self.turn.load(Ordering::Relaxed);
        let first = (turn & 1) as usize;
        for p in 0..PRIORITIES {
            if self.priority_is_empty(p) {
                continue;
            }
            if let Some(t) = self.pop_kind(p, first) {
                let streak = (turn >> 1) + 1;
                let next = if streak >= TURN { first as u32 ^ 1 } else { (streak << 1) | first as u32 };
                self.turn.store(next, Ordering::Relaxed);
                return Some(t);
            }
            if let Some(t) = self.pop_kind(p, 1 - first) {
                // The other queue takes the turn (this was its first pop of the streak).
                self.turn.store((1 << 1) | (1 - first) as u32, Ordering::Relaxed);
                return Some(t);
            }
        }
        self.pinned.iter().for_each(PinnedQueue::resync_len); // off the hot path
        None
    }

    /// A task of kind `pinned` goes back in after a poll in which it was woken (a yield,
    /// or a wake during its poll): if it is its kind's turn, the turn passes to the other
    /// kind. Otherwise a task that keeps yielding, e.g. a CPU-bound user thread, would be
    /// polled `TURN` times in a row while tasks of the other kind wait. Owner-only.
    pub(crate) fn requeued_after_poll(&self, pinned: bool) {
        let turn = self.turn.load(Ordering::Relaxed);
        if (turn & 1) == pinned as u32 {
            self.turn.store(turn & 1 ^ 1, Ordering::Relaxed);
        }
    }

    /// A thief's pop: one migratable task, highest priority first.
    pub(crate) fn pop_migratable(&self) -> Option<TaskRef> {
        self.migratable.iter().find_map(pop)
    }

    /// Approximate number of queued tasks.
    pub(crate) fn len(&self) -> usize {
        let pinned: usize = self.pinned.iter().map(PinnedQueue::len).sum();
        self.migratable_len() + pinned + self.own.iter().map(OwnerList::len).sum::<usize>()
    }

    /// Approximate number of queued migratable tasks.
    pub(crate) fn migratable_len(&self) -> usize {
        self.migratable.iter().map(SegQueue::len).sum()
    }

    /// True if every queue is empty (the shared ones read their ends with SeqCst loads).
    /// Called by the owner (the owner-only lists are only meaningful there).
    pub(crate) fn is_empty(&self) -> bool {
        self.migratable.iter().all(SegQueue::is_empty)
            && self.pinned.iter().all(PinnedQueue::is_empty)
            && self.own.iter().all(OwnerList::is_empty)
    }
}
