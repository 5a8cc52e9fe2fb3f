//! The executor a CPU is running, for futures that get a foreign waker.
//!
//! `Sleep` finds its executor and CPU through the task's `Waker` (see `waker::context_of`).
//! Combinators such as `FuturesUnordered` poll their children with wakers of their own,
//! so a `Sleep` inside one sees a foreign waker; it then falls back to the executor
//! recorded here and to `platform.cpu_id()`. In the kernel (one executor) that is a global;
//! on the host, where every test builds its own executor, it is per thread.

use crate::executor::Executor;

#[cfg(any(test, feature = "std"))]
mod imp {
    use super::Executor;
    use std::cell::Cell;

    std::thread_local! {
        static CURRENT: Cell<Option<&'static Executor>> = const { Cell::new(None) };
    }

    pub(crate) fn set(exec: &'static Executor) {
        CURRENT.with(|c| c.set(Some(exec)));
    }

    pub(crate) fn get() -> Option<&'static Executor> {
        CURRENT.with(Cell::get)
    }
}

#[cfg(not(any(test, feature = "std")))]
mod imp {
    use super::Executor;
    use core::sync::atomic::{AtomicPtr, Ordering};

    static CURRENT: AtomicPtr<Executor> = AtomicPtr::new(core::ptr::null_mut());

    pub(crate) fn set(exec: &'static Executor) {
        // Release/Acquire: whoever reads the pointer sees the executor fully built.
        CURRENT.store(exec as *const Executor as *mut Executor, Ordering::Release);
    }

    pub(crate) fn get() -> Option<&'static Executor> {
        // SAFETY: only `&'static Executor`s are ever stored.
        unsafe { CURRENT.load(Ordering::Acquire).as_ref() }
    }
}

/// Record `exec` as the executor this thread (host) or machine (kernel) runs.
pub(crate) fn enter(exec: &'static Executor) {
    imp::set(exec);
}

/// The executor and CPU running the calling code, if it runs inside an executor loop.
pub(crate) fn current() -> Option<(&'static Executor, usize)> {
    let exec = imp::get()?;
    let cpu = exec.platform().cpu_id();
    (cpu < exec.num_cpus()).then_some((exec, cpu))
}
