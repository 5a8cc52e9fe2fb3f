//! A CPU's run queues: for each priority (High, Normal, Low) one queue of pinned tasks and
//! one of migratable tasks, all unbounded lock-free `crossbeam_queue::SegQueue`s.
//!
//! Why `SegQueue`: any CPU (or an interrupt handler) pushes, so the queue must be MPMC;
//! a wake must never fail, so it must be unbounded (a bounded ring that fills up is the
//! classic "task_queue full" panic); it allocates one 31-slot block per 31 pushes, which
//! the kernel's IRQ-safe heap serves. Thieves pop from the migratable queues of other CPUs,
//! which is why pinned tasks live apart: a thief never has to skip or put back anything.

use core::sync::atomic::{AtomicU32, Ordering};
use crossbeam_queue::SegQueue;

use crate::task::TaskRef;

const PRIORITIES: usize = 3;

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

/// One CPU's queues, indexed `[priority][pinned as usize]`.
pub(crate) struct RunQueues {
    queues: [[SegQueue<TaskRef>; 2]; PRIORITIES],
    /// Owner-only, Relaxed: bit 0 = which of a priority's two queues is served first;
    /// the bits above = pops it has had in a row (see `TURN`).
    turn: AtomicU32,
}

impl RunQueues {
    pub(crate) const fn new() -> Self {
        RunQueues {
            queues: [const { [SegQueue::new(), SegQueue::new()] }; PRIORITIES],
            turn: AtomicU32::new(0),
        }
    }

    /// Push a task (from any CPU). Never fails.
    pub(crate) fn push(&self, task: TaskRef) {
        let h = task.header();
        self.queues[h.priority as usize][h.pinned as usize].push(task);
    }

    /// The owner's pop: highest priority first (strict); within a priority, the queue whose
    /// turn it is, up to `TURN` pops in a row, then the other.
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        let turn = self.turn.load(Ordering::Relaxed);
        let first = (turn & 1) as usize;
        for pair in &self.queues {
            if let Some(t) = pop(&pair[first]) {
                let streak = (turn >> 1) + 1;
                let next = if streak >= TURN { first as u32 ^ 1 } else { (streak << 1) | first as u32 };
                self.turn.store(next, Ordering::Relaxed);
                return Some(t);
            }
            if let Some(t) = pop(&pair[1 - first]) {
                // The other queue takes the turn (this was its first pop of the streak).
                self.turn.store((1 << 1) | (1 - first) as u32, Ordering::Relaxed);
                return Some(t);
            }
        }
        None
    }

    /// A thief's pop: one migratable task, highest priority first.
    pub(crate) fn pop_migratable(&self) -> Option<TaskRef> {
        self.queues.iter().find_map(|pair| pop(&pair[0]))
    }

    /// Approximate number of queued tasks.
    pub(crate) fn len(&self) -> usize {
        self.queues.iter().flatten().map(SegQueue::len).sum()
    }

    /// Approximate number of queued migratable tasks.
    pub(crate) fn migratable_len(&self) -> usize {
        self.queues.iter().map(|pair| pair[0].len()).sum()
    }

    /// True if every queue is empty (SegQueue reads its indices with SeqCst loads).
    pub(crate) fn is_empty(&self) -> bool {
        self.queues.iter().flatten().all(SegQueue::is_empty)
    }
}
