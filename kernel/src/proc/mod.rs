//! Processes: the process table (pid, parent, children, state, exit status), the
//! lifecycle (create, exit, wait), and starting programs from the initrd.
//!
//! A process is one user thread (`thread.rs`): an executor task that owns the
//! process's address space and registers and runs ring 3 through `arch::user`.
//! The table below holds what outlives or is shared beyond that task: the family
//! links and the exit status a parent collects with `wait`.
//!
//! Lifecycle: `create` (Ready) → the thread runs (Running; Sleeping in `sleep`,
//! Blocked in `ipc_recv`/`wait`/`read`) → `exit` or a fatal fault frees the address
//! space and makes it a Zombie holding its status → the parent's `wait` reaps it
//! (the entry is removed; Terminated is what a reaped process's last state reads).
//! Children of an exiting process go to `init` (pid 1), or to the kernel, which
//! reaps them itself.

pub mod exec;
pub mod syscall;
pub mod thread;
pub mod tests;

use crate::sync::IrqMutex;
use abi::Errno;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU8, Ordering};
use core::task::{Context, Poll, Waker};

/// Process id. 0 is the kernel (parent of processes it starts), 1 is `/init`.
pub type Pid = u64;
/// The kernel's pseudo-pid.
pub const KERNEL_PID: Pid = 0;
/// The first user process.
pub const INIT_PID: Pid = 1;
/// Most processes alive at once (zombies included): `fork` beyond it is `AGAIN`.
pub const MAX_PROCS: usize = 128;

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Runnable, waiting for its CPU.
    Ready = 0,
    /// In ring 3 or in a system call.
    Running = 1,
    /// In `sleep`.
    Sleeping = 2,
    /// Waiting for an event (message, child, input).
    Blocked = 3,
    /// Exited; its status waits for the parent.
    Zombie = 4,
    /// Reaped.
    Terminated = 5,
}

/// The part of a process its thread and the table share.
pub struct Shared {
    pub pid: Pid,
    state: AtomicU8,
}

impl Shared {
    /// Current state.
    pub fn state(&self) -> State {
        match self.state.load(Ordering::Relaxed) {
            0 => State::Ready,
            1 => State::Running,
            2 => State::Sleeping,
            3 => State::Blocked,
            4 => State::Zombie,
            _ => State::Terminated,
        }
    }

    /// Records a state change (the thread's own transitions).
    pub fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::Relaxed);
    }
}

struct Entry {
    shared: Arc<Shared>,
    name: String,
    parent: Pid,
    children: Vec<Pid>,
    /// Wait status once a zombie.
    status: Option<i32>,
    /// The parent's `wait`, parked until a child of this process changes.
    waiter: Option<Waker>,
}

struct Table {
    procs: BTreeMap<Pid, Entry>,
    next_pid: Pid,
    /// Children of the kernel that nobody waits for (orphans): reaped at exit.
    kernel_reaps: Vec<Pid>,
}

static TABLE: IrqMutex<Table> = IrqMutex::ranked(
    Table { procs: BTreeMap::new(), next_pid: INIT_PID, kernel_reaps: Vec::new() },
    crate::sync::order::PROCESSES,
);

/// Processes created since boot (counted in `metrics`).
pub use crate::metrics::CREATED;

/// Adds a process (child of `parent`) to the table. `AGAIN` at the process limit.
pub fn create(parent: Pid, name: &str) -> Result<Arc<Shared>, Errno> {
    let mut t = TABLE.lock();
    if t.procs.len() >= MAX_PROCS {
        return Err(Errno::AGAIN);
    }
    let pid = t.next_pid;
    t.next_pid += 1;
    let shared = Arc::new(Shared { pid, state: AtomicU8::new(State::Ready as u8) });
    let e = Entry { shared: shared.clone(), name: name.into(), parent, children: Vec::new(), status: None, waiter: None };
    t.procs.insert(pid, e);
    if let Some(p) = t.procs.get_mut(&parent) {
        p.children.push(pid);
    }
    CREATED.fetch_add(1, Ordering::Relaxed);
    Ok(shared)
}

/// Renames a process (exec).
pub fn rename(pid: Pid, name: &str) {
    if let Some(e) = TABLE.lock().procs.get_mut(&pid) {
        e.name = name.into();
    }
}

/// Ends process `pid` with wait status `status`: it becomes a zombie for its parent
/// (or is reaped at once if its parent is gone), its children are handed to init.
/// The caller has already released the address space.
pub fn exit(pid: Pid, status: i32) {
    let mut wakes: Vec<Waker> = Vec::new();
    {
        let mut t = TABLE.lock();
        let Some(e) = t.procs.get_mut(&pid) else { return };
        e.status = Some(status);
        e.shared.set_state(State::Zombie);
        let (children, parent) = (core::mem::take(&mut e.children), e.parent);
        wakes.extend(hand_to_heir(&mut t, pid, children));
        if t.kernel_reaps.contains(&pid) {
            // An orphan the kernel adopted: nobody waits for it.
            t.kernel_reaps.retain(|&p| p != pid);
            remove(&mut t, pid);
        } else if let Some(p) = t.procs.get_mut(&parent) {
            wakes.extend(p.waiter.take());
        } else if parent != KERNEL_PID {
            remove(&mut t, pid);
        }
    }
    for w in wakes {
        w.wake();
    }
    KERNEL_WAITERS.notify();
}

/// Gives the children of exiting `pid` to init (or, without a live init, to the
/// kernel, which reaps them). Returns init's parked `wait` if a zombie arrived.
fn hand_to_heir(t: &mut Table, pid: Pid, children: Vec<Pid>) -> Option<Waker> {
    let init_alive = pid != INIT_PID && t.procs.get(&INIT_PID).is_some_and(|i| i.status.is_none());
    let mut zombie_for_init = false;
    for c in children {
        let Some(ce) = t.procs.get_mut(&c) else { continue };
        let zombie = ce.status.is_some();
        if init_alive {
            ce.parent = INIT_PID;
            zombie_for_init |= zombie;
            if let Some(init) = t.procs.get_mut(&INIT_PID) {
                init.children.push(c);
            }
        } else if zombie {
            remove(t, c);
        } else {
            ce.parent = KERNEL_PID;
            t.kernel_reaps.push(c);
        }
    }
    if zombie_for_init {
        t.procs.get_mut(&INIT_PID).and_then(|i| i.waiter.take())
    } else {
        None
    }
}

fn remove(t: &mut Table, pid: Pid) {
    if let Some(e) = t.procs.remove(&pid) {
        e.shared.set_state(State::Terminated);
        if let Some(p) = t.procs.get_mut(&e.parent) {
            p.children.retain(|&c| c != pid);
        }
    }
}

/// Removes zombie `pid`, a child of `parent`, without waiting (a fork that failed
/// half-way). Returns its status.
pub fn reap(parent: Pid, pid: Pid) -> Option<i32> {
    let mut t = TABLE.lock();
    let e = t.procs.get(&pid)?;
    if e.parent != parent {
        return None;
    }
    let status = e.status?;
    remove(&mut t, pid);
    Some(status)
}

/// Number of processes in the table (zombies included).
pub fn count() -> usize {
    TABLE.lock().procs.len()
}

/// How many processes are in each state, indexed by `State as usize`.
pub fn states() -> [usize; 6] {
    let mut n = [0; 6];
    for e in TABLE.lock().procs.values() {
        n[e.shared.state() as usize] += 1;
    }
    n
}

/// Name of a live process.
pub fn name(pid: Pid) -> Option<String> {
    TABLE.lock().procs.get(&pid).map(|e| e.name.clone())
}

/// Waits until a child of `parent` (any, or `which`) is a zombie, reaps it and returns
/// `(pid, status)`. `CHILD` if there is no such child.
pub fn wait(parent: Pid, which: Option<Pid>) -> Wait {
    Wait { parent, which }
}

/// The future `wait` returns.
pub struct Wait {
    parent: Pid,
    which: Option<Pid>,
}

impl Future for Wait {
    type Output = Result<(Pid, i32), Errno>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut t = TABLE.lock();
        let children: Vec<Pid> = if self.parent == KERNEL_PID {
            t.procs.iter().filter(|(p, e)| e.parent == KERNEL_PID && !t.kernel_reaps.contains(p)).map(|(p, _)| *p).collect()
        } else {
            match t.procs.get(&self.parent) {
                Some(e) => e.children.clone(),
                None => return Poll::Ready(Err(Errno::SRCH)),
            }
        };
        let candidates = children.into_iter().filter(|c| self.which.is_none_or(|w| w == *c));
        let mut any = false;
        for c in candidates {
            any = true;
            if let Some(status) = t.procs.get(&c).and_then(|e| e.status) {
                remove(&mut t, c);
                return Poll::Ready(Ok((c, status)));
            }
        }
        if !any {
            return Poll::Ready(Err(Errno::CHILD));
        }
        if self.parent == KERNEL_PID {
            drop(t);
            KERNEL_WAITERS.register(cx.waker());
            // Re-check after registering: an exit in between notified before we
            // were listed.
            if TABLE.lock().procs.values().any(|e| e.parent == KERNEL_PID && e.status.is_some()) {
                cx.waker().wake_by_ref();
            }
        } else if let Some(e) = t.procs.get_mut(&self.parent) {
            e.waiter = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Kernel tasks waiting for processes they started (tests, run mode): few, so a
/// short list woken on every exit.
struct KernelWaiters(spin::Mutex<Vec<Waker>>);

impl KernelWaiters {
    fn register(&self, w: &Waker) {
        let mut l = self.0.lock();
        if !l.iter().any(|x| x.will_wake(w)) {
            l.push(w.clone());
        }
    }

    fn notify(&self) {
        let list = core::mem::take(&mut *self.0.lock());
        for w in list {
            w.wake();
        }
    }
}

static KERNEL_WAITERS: KernelWaiters = KernelWaiters(spin::Mutex::new(Vec::new()));

/// Starts program `path` from the initrd as a child of the kernel, with `argv`, on
/// `cpu` (or wherever the executor puts it). Returns its pid.
pub fn spawn(path: &str, argv: &[&str], cpu: Option<usize>) -> Result<Pid, Errno> {
    let image = crate::INITRD.get().and_then(|rd| rd.find(path.trim_start_matches('/'))).ok_or(Errno::NOENT)?;
    let shared = create(KERNEL_PID, path)?;
    let pid = shared.pid;
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    match thread::Thread::new_program(shared, image, &args) {
        Ok(t) => {
            thread::start(t, cpu);
            Ok(pid)
        }
        Err(e) => {
            exit(pid, abi::wait::signal_status(abi::wait::SIGKILL));
            // Reap it here: nobody else knows this pid.
            reap(KERNEL_PID, pid);
            Err(e)
        }
    }
}
