//! A user thread is an executor task: it enters ring 3, and each time ring 3 traps it
//! handles the trap in kernel mode — a system call (awaited if it waits), a page
//! fault (copy-on-write), a fatal exception (the process dies alone), or the end of
//! its time slice (it yields to the executor) — and enters ring 3 again.

use super::{exec, syscall, Shared, State};
use crate::arch::user::{enter_user, Trap, UserContext};
use crate::mm::uspace::AddressSpace;
use crate::sched;
use crate::sched::trace::task_event;
use kcore::trace::Kind;
use abi::wait::{signal_status, SIGFPE, SIGILL, SIGKILL, SIGSEGV};
use abi::Errno;
use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use executor::{Priority, SpawnOptions};

/// Preemptions and switches away from user threads (counted in `metrics`).
pub use crate::metrics::{PREEMPTIONS, SWITCHES};

/// Everything a process's thread owns.
pub struct Thread {
    pub proc: Arc<Shared>,
    pub ctx: Box<UserContext>,
    pub space: AddressSpace,
    pub priority: Priority,
    /// CPU the thread is pinned to, if any.
    pub affinity: Option<usize>,
    /// TSC value at which the current time slice ends.
    slice_end: u64,
    /// TSC value at which the current time slice began (the thread got the CPU).
    slice_start: u64,
}

/// What a system call asks the thread loop to do next.
pub enum Next {
    /// Return this value to ring 3 (in rax).
    Return(isize),
    /// The process ends with this wait status.
    Exit(i32),
}

impl Thread {
    /// A new process's thread running `image` with `argv`.
    pub fn new_program(proc: Arc<Shared>, image: &[u8], argv: &[&[u8]]) -> Result<Box<Thread>, Errno> {
        let mut space = AddressSpace::new()?;
        let start = exec::load(&mut space, image, argv)?;
        let ctx = Box::new(UserContext::new(start.entry, start.rsp, start.argc, start.argv));
        Ok(Box::new(Thread { proc, ctx, space, priority: Priority::Normal, affinity: None, slice_end: 0, slice_start: 0 }))
    }

    /// The child of a fork: same registers (but 0 in rax), a COW copy of the memory.
    pub fn fork(&mut self, child: Arc<Shared>) -> Result<Box<Thread>, Errno> {
        let space = self.space.fork()?;
        let mut ctx = Box::new(self.ctx.duplicate());
        ctx.frame.rax = 0;
        Ok(Box::new(Thread {
            proc: child,
            ctx,
            space,
            priority: self.priority,
            affinity: self.affinity,
            slice_end: 0,
            slice_start: 0,
        }))
    }

    /// Starts a fresh time slice.
    pub fn new_slice(&mut self) {
        // The tunable `slice_hz`: a thread that runs this long without trapping is
        // preempted and goes to the back of its CPU's queue.
        self.slice_start = crate::arch::cpu::rdtsc();
        self.slice_end = self.slice_start + sched::tunables::slice_cycles();
    }

    /// Gives the CPU to other ready tasks (a voluntary switch).
    pub async fn yield_cpu(&mut self) {
        self.proc.set_state(State::Ready);
        SWITCHES.fetch_add(1, Ordering::Relaxed);
        executor::yield_now().await;
        self.new_slice();
    }
}

/// Awaits `f`, unless a signal arrives first: then `f` is dropped (every wait the
/// kernel offers may be cancelled) and the result is `INTR`; the thread loop then
/// ends the process. If it had to wait (returned Pending at least once), the thread
/// starts a new time slice afterwards: the slice counts time on the CPU, not time
/// blocked.
pub async fn blocking<F: core::future::Future>(t: &mut Thread, f: F) -> Result<F::Output, Errno> {
    let mut f = core::pin::pin!(f);
    let mut waited = false;
    // Borrowed, not cloned: no reference-count traffic on the IPC and sleep paths.
    let proc: &Shared = &t.proc;
    let out = core::future::poll_fn(|cx| {
        // Register before checking: a signal sent in between still wakes us.
        proc.interrupt.register(cx.waker());
        if proc.signal().is_some() {
            return core::task::Poll::Ready(Err(Errno::INTR));
        }
        match f.as_mut().poll(cx) {
            core::task::Poll::Pending => {
                waited = true;
                core::task::Poll::Pending
            }
            core::task::Poll::Ready(v) => core::task::Poll::Ready(Ok(v)),
        }
    })
    .await;
    if waited {
        t.new_slice();
    }
    out
}

/// Spawns the task that runs `t`, on `cpu` if given (else where its affinity says,
/// else where the executor chooses).
pub fn start(t: Box<Thread>, cpu: Option<usize>) {
    let opts = SpawnOptions {
        priority: t.priority,
        cpu: t.affinity.or(cpu),
        pinned: t.affinity.is_some(),
        name: "user",
    };
    let proc = t.proc.clone();
    sched::exec().spawn_with(opts, polled(proc, run(t))).detach();
}

/// Wraps every poll of a thread's task: saves its FPU/SSE state at the end (the
/// lazy-FPU rule of `arch::user::save_fpu`: after a Pending the task may resume on
/// any CPU, after another thread ran here), and accounts the poll's time and CPU to
/// the process (`ps`). A system call that does not wait stays inside one poll, so
/// the two TSC reads are per poll, not per call.
async fn polled<F: core::future::Future>(proc: Arc<Shared>, f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    core::future::poll_fn(|cx| {
        let t0 = crate::arch::cpu::rdtsc();
        let r = f.as_mut().poll(cx);
        crate::arch::user::save_fpu();
        proc.ran(crate::arch::cpu_id(), crate::arch::cpu::rdtsc().wrapping_sub(t0));
        r
    })
    .await
}

impl Thread {
    /// Whether an invalid-opcode fault is really an `int $0x80` system call (which
    /// the nested kvm_pvm hypervisor reports as #UD; see `arch::user::int80_from_ud`).
    /// If so the context now holds that system call's trap.
    fn int80_from_ud(&mut self) -> bool {
        let mut insn = [0u8; 2];
        self.space.copy_in(self.ctx.frame.rip, &mut insn).is_ok()
            && crate::arch::user::int80_from_ud(&mut self.ctx.frame, insn)
    }
}

/// Kills a process for a fault it took, with a line on the console saying why.
fn fatal(t: &Thread, vector: u8, error: u64, addr: u64) -> i32 {
    let signal = match vector {
        0 | 16 | 19 => SIGFPE,
        6 => SIGILL,
        _ => SIGSEGV,
    };
    let what = crate::arch::trap::EXCEPTION_NAMES.get(vector as usize).copied().unwrap_or("exception");
    let name = super::name(t.proc.pid).unwrap_or_default();
    if vector == 14 {
        log::info!(
            "pid {} ({name}): {what} at {addr:#x} ({}) rip {:#x}: killed ({})",
            t.proc.pid,
            crate::arch::trap::describe_pf(error),
            t.ctx.frame.rip,
            abi::wait::signal_name(signal)
        );
    } else {
        log::info!(
            "pid {} ({name}): {what} (error {error:#x}) at rip {:#x}: killed ({})",
            t.proc.pid,
            t.ctx.frame.rip,
            abi::wait::signal_name(signal)
        );
    }
    signal_status(signal)
}

/// The thread's task.
async fn run(mut t: Box<Thread>) {
    t.new_slice();
    let status = loop {
        if let Some(sig) = t.proc.signal() {
            break signal_status(sig);
        }
        let (priority, affinity) = t.proc.wanted();
        if (priority, affinity) != (t.priority, t.affinity) {
            // Continue in a new task with the new spawn options (set_priority,
            // set_affinity, by this process or another); it may run on another
            // CPU before this poll ends.
            t.priority = priority;
            t.affinity = affinity;
            crate::arch::user::save_fpu();
            t.proc.set_state(State::Ready);
            start(t, None);
            return;
        }
        t.space.activate();
        t.proc.set_state(State::Running);
        let me = crate::arch::cpu_id();
        let mut timer = sched::exec().next_deadline(me).map_or(t.slice_end, |d| d.min(t.slice_end));
        // Tasks wait for this CPU (woken or spawned here): give them the CPU within
        // WAIT_GRANULARITY of this thread getting it, not at the end of the slice.
        let granule_end = t.slice_start + sched::tunables::wait_granularity_cycles();
        // From here a task queued on this CPU by another one interrupts ring 3 (an IPI
        // from the executor's `poke`), so it waits at most the granule, not the slice.
        sched::entering_user(me);
        if sched::exec().has_queued(me) {
            timer = timer.min(granule_end);
        }
        task_event(Kind::UserEnter, 0, 0);
        let (mut trap, rearmed) = enter_user(&mut t.ctx, timer);
        sched::left_user(me);
        task_event(Kind::UserExit, t.ctx.frame.vector as u32, 0);
        if matches!(trap, Trap::Exception { vector: 6, .. }) && t.int80_from_ud() {
            trap = Trap::Syscall;
        }
        if rearmed {
            sched::exec().timer_clobbered(me);
        }
        match trap {
            Trap::Syscall => {
                // The trace events are emitted here rather than by a wrapper future:
                // wrapping moved dispatch's (large) future on every call, which doubled
                // the getpid round trip (1340 -> 860 cycles without it, TCG).
                let nr = t.ctx.frame.rax as u32;
                task_event(Kind::SyscallEnter, nr, 0);
                match syscall::dispatch(&mut t).await {
                    Next::Return(v) => {
                        task_event(Kind::SyscallExit, nr, v as u32);
                        t.ctx.frame.rax = v as u64
                    }
                    Next::Exit(status) => {
                        task_event(Kind::SyscallExit, nr, status as u32);
                        break status;
                    }
                }
            }
            Trap::Interrupt(_) => {
                // Yield when the slice is over, and also when one of this CPU's kernel
                // timers is due: only the executor's loop fires timers, so staying in
                // ring 3 would delay that wake to the end of the slice (and re-entering
                // with the past deadline armed would take an interrupt at once, again
                // and again).
                let now = crate::arch::cpu::rdtsc();
                let timer_due = sched::exec().next_deadline(me).is_some_and(|d| d <= now);
                let others_waited = now >= granule_end && sched::exec().has_queued(me);
                if now >= t.slice_end || timer_due || others_waited {
                    if now >= t.slice_end {
                        PREEMPTIONS.fetch_add(1, Ordering::Relaxed);
                    }
                    t.yield_cpu().await;
                }
            }
            Trap::Exception { vector: 14, error, addr } => match t.space.handle_fault(addr, error) {
                Ok(true) => {}
                Ok(false) => break fatal(&t, 14, error, addr),
                Err(_) => {
                    log::warn!("pid {}: out of memory on a copy-on-write fault: killed", t.proc.pid);
                    break signal_status(SIGKILL);
                }
            },
            Trap::Exception { vector, error, addr } => break fatal(&t, vector, error, addr),
        }
    };
    finish(t, status);
}

/// Ends the process: frees its memory now, then leaves its status for the parent.
fn finish(t: Box<Thread>, status: i32) {
    let pid = t.proc.pid;
    drop(t); // the address space (every frame it holds) and the context
    super::exit(pid, status);
}
