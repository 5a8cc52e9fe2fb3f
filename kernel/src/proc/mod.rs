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
pub mod signal;
pub mod syscall;
pub mod sysinfo;
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
use core::sync::atomic::{AtomicU32, AtomicU8, AtomicU64, Ordering};
use futures_util::task::AtomicWaker;
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

/// The part of a process its thread and the table share: what other processes (kill,
/// nice, pin, ps) read or ask of it, and what its thread reports.
pub struct Shared {
    pub pid: Pid,
    state: AtomicU8,
    /// A fatal signal sent to the process (0: none); its thread ends at its next trap.
    signal: AtomicU8,
    /// The thread's current wait (see `thread::blocking`), woken by a signal.
    pub(crate) interrupt: AtomicWaker,
    /// The priority (`executor::Priority as u8`) and affinity (`AFFINITY_ANY`: none)
    /// the process should run with; its thread applies a change at its next trap.
    priority: AtomicU8,
    affinity: AtomicU64,
    /// CPU the thread last ran on, and its TSC cycles on a CPU so far.
    cpu: AtomicU32,
    cycles: AtomicU64,
}

impl Shared {
    fn new(pid: Pid) -> Shared {
        Shared {
            pid,
            state: AtomicU8::new(State::Ready as u8),
            signal: AtomicU8::new(0),
            interrupt: AtomicWaker::new(),
            priority: AtomicU8::new(executor::Priority::Normal as u8),
            affinity: AtomicU64::new(abi::AFFINITY_ANY),
            cpu: AtomicU32::new(0),
            cycles: AtomicU64::new(0),
        }
    }

    /// The pending fatal signal, if any.
    pub fn signal(&self) -> Option<u8> {
        match self.signal.load(Ordering::Acquire) {
            0 => None,
            s => Some(s),
        }
    }

    /// Marks the process for death by `sig` (the first signal wins) and wakes its wait.
    fn send(&self, sig: u8) {
        let _ = self.signal.compare_exchange(0, sig, Ordering::AcqRel, Ordering::Acquire);
        self.interrupt.wake();
    }

    /// The priority and affinity the process should run with.
    pub fn wanted(&self) -> (executor::Priority, Option<usize>) {
        let p = match self.priority.load(Ordering::Relaxed) {
            0 => executor::Priority::High,
            2 => executor::Priority::Low,
            _ => executor::Priority::Normal,
        };
        let a = self.affinity.load(Ordering::Relaxed);
        (p, if a == abi::AFFINITY_ANY { None } else { Some(a as usize) })
    }

    /// Asks for a priority (applied by the thread at its next trap).
    pub fn want_priority(&self, p: executor::Priority) {
        self.priority.store(p as u8, Ordering::Relaxed);
    }

    /// Asks for an affinity (applied by the thread at its next trap).
    pub fn want_affinity(&self, cpu: Option<usize>) {
        self.affinity.store(cpu.map_or(abi::AFFINITY_ANY, |c| c as u64), Ordering::Relaxed);
    }

    /// Accounts one stretch of `cycles` on `cpu` (one poll of the thread's task).
    pub fn ran(&self, cpu: usize, cycles: u64) {
        self.cpu.store(cpu as u32, Ordering::Relaxed);
        self.cycles.fetch_add(cycles, Ordering::Relaxed);
    }

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
    let shared = Arc::new(Shared::new(pid));
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

/// The shared part of live (or zombie) process `pid`.
pub fn shared(pid: Pid) -> Option<Arc<Shared>> {
    TABLE.lock().procs.get(&pid).map(|e| e.shared.clone())
}

/// One record per process in the table, by pid (for `proc_list`).
pub fn list() -> Vec<abi::ProcInfo> {
    let t = TABLE.lock();
    t.procs
        .values()
        .map(|e| {
            let s = &e.shared;
            let mut info = abi::ProcInfo {
                pid: s.pid,
                parent: e.parent,
                state: s.state() as u64,
                cpu: s.cpu.load(Ordering::Relaxed) as u64,
                priority: s.priority.load(Ordering::Relaxed) as u64,
                affinity: s.affinity.load(Ordering::Relaxed),
                cpu_ns: crate::arch::time::cycles_to_ns(s.cycles.load(Ordering::Relaxed)),
                ..Default::default()
            };
            info.set_name(&e.name);
            info
        })
        .collect()
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
