//! The host platform (feature `std`): threads play CPUs. For tests and benches.
//!
//! - `cpu_id` is a thread-local set by [`Platform::enter_cpu`] (`usize::MAX` elsewhere).
//! - `in_task_context` is always true: no interrupt handler ever runs on a CPU thread.
//! - `notify(cpu)` sets a flag under `cpu`'s mutex and signals its condition variable.
//! - `idle(cpu, may_halt)` takes that mutex ("interrupts off"), checks the flag and
//!   `may_halt()`, then waits on the condition variable, which releases the mutex
//!   atomically ("`sti; hlt`"). A notify cannot slip between check and wait: it needs the
//!   mutex, so it either lands before the check (flag seen) or during the wait (signalled).
//! - The "timer interrupt" is the wait's timeout, up to the deadline from `set_deadline`.
//! - `now()` is nanoseconds since the platform was created (`ticks_per_second` = 1e9).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Executor, Platform};

thread_local! {
    static CPU: Cell<usize> = const { Cell::new(usize::MAX) };
}

struct HostCpu {
    lock: Mutex<CpuState>,
    cv: Condvar,
}

#[derive(Default)]
struct CpuState {
    notified: bool,
    deadline: Option<u64>,
}

/// [`Platform`] for the host: one thread per CPU.
pub struct HostPlatform {
    cpus: Box<[HostCpu]>,
    epoch: Instant,
    notifies: AtomicU64,
    halts: AtomicU64,
}

impl HostPlatform {
    /// A platform for `num_cpus` CPUs.
    pub fn new(num_cpus: usize) -> Self {
        HostPlatform {
            cpus: (0..num_cpus)
                .map(|_| HostCpu { lock: Mutex::new(CpuState::default()), cv: Condvar::new() })
                .collect(),
            epoch: Instant::now(),
            notifies: AtomicU64::new(0),
            halts: AtomicU64::new(0),
        }
    }

    /// A leaked platform and an executor on it.
    pub fn executor(num_cpus: usize) -> (&'static HostPlatform, &'static Executor) {
        let p: &'static HostPlatform = Box::leak(Box::new(HostPlatform::new(num_cpus)));
        (p, Executor::new(p, num_cpus))
    }

    /// Start one thread per CPU running `exec.run(cpu, ..)` until the runtime is dropped.
    pub fn start(&'static self, exec: &'static Executor) -> HostRuntime {
        HostRuntime::start(self, exec)
    }

    /// The CPU the calling thread plays, if any.
    pub fn current_cpu() -> Option<usize> {
        Some(CPU.with(Cell::get)).filter(|&c| c != usize::MAX)
    }

    /// Notifications sent so far.
    pub fn notifies(&self) -> u64 {
        self.notifies.load(Ordering::Relaxed)
    }

    /// Times a CPU actually blocked in `idle` so far.
    pub fn halts(&self) -> u64 {
        self.halts.load(Ordering::Relaxed)
    }
}

impl Platform for HostPlatform {
    fn cpu_id(&self) -> usize {
        CPU.with(Cell::get)
    }

    fn enter_cpu(&self, cpu: usize) {
        CPU.with(|c| c.set(cpu));
    }

    fn in_task_context(&self) -> bool {
        true // host threads have no interrupt handlers
    }

    fn notify(&self, cpu: usize) {
        let c = &self.cpus[cpu];
        c.lock.lock().unwrap().notified = true;
        c.cv.notify_one();
        self.notifies.fetch_add(1, Ordering::Relaxed);
    }

    fn idle(&self, cpu: usize, may_halt: &dyn Fn() -> bool) {
        let c = &self.cpus[cpu];
        let mut st = c.lock.lock().unwrap(); // "cli"
        if !st.notified && may_halt() {
            self.halts.fetch_add(1, Ordering::Relaxed);
            match st.deadline {
                None => st = c.cv.wait(st).unwrap(), // "sti; hlt"
                Some(d) => {
                    let now = self.now();
                    if d > now {
                        st = c.cv.wait_timeout(st, Duration::from_nanos(d - now)).unwrap().0;
                    }
                }
            }
        }
        st.notified = false;
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn ticks_per_second(&self) -> u64 {
        1_000_000_000
    }

    fn set_deadline(&self, cpu: usize, deadline: Option<u64>) {
        self.cpus[cpu].lock.lock().unwrap().deadline = deadline;
    }
}

/// Threads running an executor's CPUs; dropping it stops and joins them (re-raising a
/// panic from a CPU thread, e.g. a task's).
pub struct HostRuntime {
    platform: &'static HostPlatform,
    exec: &'static Executor,
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl HostRuntime {
    /// A new platform + executor with `num_cpus` running CPU threads.
    pub fn new(num_cpus: usize) -> Self {
        let (p, e) = HostPlatform::executor(num_cpus);
        Self::start(p, e)
    }

    /// Start one thread per CPU of `exec`, named `cpuN`.
    pub fn start(platform: &'static HostPlatform, exec: &'static Executor) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..exec.num_cpus())
            .map(|cpu| {
                let stop = stop.clone();
                thread::Builder::new()
                    .name(format!("cpu{cpu}"))
                    .spawn(move || exec.run(cpu, &|| stop.load(Ordering::Acquire)))
                    .expect("spawn cpu thread")
            })
            .collect();
        HostRuntime { platform, exec, stop, threads }
    }

    /// The executor.
    pub fn executor(&self) -> &'static Executor {
        self.exec
    }

    /// The platform.
    pub fn platform(&self) -> &'static HostPlatform {
        self.platform
    }

    /// Stop every CPU loop and join the threads.
    pub fn shutdown(self) {
        drop(self)
    }
}

impl Drop for HostRuntime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for cpu in 0..self.exec.num_cpus() {
            self.platform.notify(cpu);
        }
        let mut panicked = false;
        for t in self.threads.drain(..) {
            panicked |= t.join().is_err();
        }
        if panicked && !thread::panicking() {
            panic!("a CPU thread panicked");
        }
    }
}

struct ThreadWaker(thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Block the calling (non-executor) thread on `f` for at most `limit`; `None` on timeout.
/// Tests use it to wait for `JoinHandle`s with a bound, so a lost wake-up fails instead of
/// hanging.
pub fn wait_for<F: Future>(f: F, limit: Duration) -> Option<F::Output> {
    let end = Instant::now() + limit;
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return Some(v);
        }
        let now = Instant::now();
        if now >= end {
            return None;
        }
        thread::park_timeout(end - now);
    }
}
