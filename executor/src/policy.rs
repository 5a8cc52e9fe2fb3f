//! Steal policies: what an idle CPU does before it halts. Swap with
//! [`Executor::set_steal_policy`]; write your own by implementing [`StealPolicy`].

use core::sync::atomic::{AtomicPtr, Ordering};

use crate::executor::Executor;

/// A swappable `&'static dyn` policy, read with one atomic load on the loop's paths.
/// (`&'static dyn P` is a fat pointer; the slot holds a thin pointer to a leaked one.)
pub(crate) struct PolicySlot<P: ?Sized + 'static>(AtomicPtr<&'static P>);

impl<P: ?Sized + 'static> PolicySlot<P> {
    pub(crate) const fn new(default: &'static &'static P) -> Self {
        PolicySlot(AtomicPtr::new(default as *const _ as *mut _))
    }

    pub(crate) fn get(&self) -> &'static P {
        // SAFETY: the pointer is either the `'static` default or a leaked box, never
        // freed. Acquire pairs with the Release in `set`.
        unsafe { *self.0.load(Ordering::Acquire) }
    }

    pub(crate) fn set(&self, p: &'static P) {
        // Leaks one pointer-sized box per call: policies change a handful of times per boot.
        let boxed: *mut &'static P = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(p));
        // Release: the box's contents are visible to `get`'s Acquire load.
        self.0.store(boxed, Ordering::Release);
    }
}

/// Decides what an idle CPU steals. Called by `thief`'s own loop when its queues are empty,
/// before it idles. Move tasks with [`Executor::migrate`]`(victim, thief, n)` and return
/// how many moved; 0 makes the CPU idle.
pub trait StealPolicy: Sync {
    /// Steal for `thief`; return the number of tasks moved to it.
    fn steal(&self, exec: &Executor, thief: usize) -> usize;

    /// Whether a busy CPU with migratable tasks waiting should notify one halted CPU so
    /// that it wakes up and steals (default true). Policies that never steal say false.
    fn wake_thieves(&self) -> bool {
        true
    }
}

/// Never steal: tasks run only where they were spawned or migrated by a balancer.
pub struct NoSteal;

impl StealPolicy for NoSteal {
    fn steal(&self, _: &Executor, _: usize) -> usize {
        0
    }

    fn wake_thieves(&self) -> bool {
        false
    }
}

/// Steal one task from the first CPU (scanning from `thief + 1`) that has a migratable one.
pub struct StealOne;

impl StealPolicy for StealOne {
    fn steal(&self, exec: &Executor, thief: usize) -> usize {
        let n = exec.num_cpus();
        (1..n)
            .map(|i| (thief + i) % n)
            .find(|&v| exec.stealable(v) > 0)
            .map_or(0, |v| exec.migrate(v, thief, 1))
    }
}

/// The default: steal half (rounded up) of the migratable tasks of the most loaded CPU.
pub struct StealHalf;

impl StealPolicy for StealHalf {
    fn steal(&self, exec: &Executor, thief: usize) -> usize {
        let n = exec.num_cpus();
        let victim = (1..n)
            .map(|i| (thief + i) % n)
            .map(|v| (exec.stealable(v), v))
            .filter(|&(q, _)| q > 0)
            .max_by_key(|&(q, _)| q);
        match victim {
            Some((q, v)) => exec.migrate(v, thief, q.div_ceil(2)),
            None => 0,
        }
    }
}
