//! The system-call table. Both entry paths (`syscall` and `int 0x80`) arrive here
//! with the number in rax and arguments in rdi, rsi, rdx, r10, r8, r9 (kernel/abi).
//!
//! Every user buffer is checked as a whole before the call does anything else
//! (`AddressSpace::check`); calls that wait are awaited futures, so a waiting
//! process costs nothing but its task.

use super::sysinfo;
use super::thread::{blocking, Next, Thread};
use super::State;
use crate::ipc::PORTS;
use abi::{nr, Errno, Stats, MAX_MSG, MAX_PATH, USER_STR_SIZE};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

/// Total system calls handled (counted per CPU and number in `metrics`).
pub fn total() -> u64 {
    crate::metrics::syscalls_total()
}

type R = Result<usize, Errno>;

/// Runs the system call in `t`'s registers and says what the thread does next.
pub async fn dispatch(t: &mut Thread) -> Next {
    let f = &t.ctx.frame;
    let (n, a0, a1, a2, a3) = (f.rax, f.rdi, f.rsi, f.rdx, f.r10);
    crate::metrics::syscall(crate::arch::cpu_id(), n);
    let r: R = match n {
        nr::WRITE => write(t, a0, a1, a2),
        nr::EXIT => return Next::Exit(abi::wait::exit_status(a0)),
        nr::SLEEP => sleep(t, a0).await,
        nr::IPC_SEND => ipc_send(t, a0, a1, a2),
        nr::IPC_RECV => ipc_recv(t, a0, a1, a2).await,
        nr::GETPID => Ok(t.proc.pid as usize),
        nr::YIELD => {
            t.yield_cpu().await;
            Ok(0)
        }
        nr::FORK => fork(t),
        nr::WAIT => wait(t, a0).await,
        nr::EXEC => exec(t, a0, a1, a2, a3),
        nr::READ => read(t, a0, a1, a2).await,
        nr::TIME => Ok(crate::arch::time::uptime_ns() as usize),
        nr::GETCPU => Ok(crate::arch::cpu_id()),
        nr::SET_PRIORITY => sysinfo::set_priority(t, a0, a1),
        nr::SET_AFFINITY => sysinfo::set_affinity(t, a0, a1),
        nr::STATS => stats(t, a0, a1),
        nr::KILL => sysinfo::kill(a0, a1),
        nr::PROC_LIST => sysinfo::proc_list(t, a0, a1),
        nr::CPU_STATS => sysinfo::cpu_stats(t, a0, a1, a2),
        nr::TUNABLES => sysinfo::tunables(t, a0, a1, a2, a3),
        nr::POWEROFF => sysinfo::poweroff(t.proc.pid, a0),
        nr::INITRD_LIST => sysinfo::initrd_list(t, a0, a1),
        nr::SET_FOREGROUND => sysinfo::set_foreground(a0),
        nr::TEST_EXIT => crate::ktest::ring3_exit(t.proc.pid, a0),
        _ => Err(Errno::NOSYS),
    };
    Next::Return(Errno::to_ret(r))
}

/// Largest write copied in one call (a longer one is a short write).
const WRITE_CHUNK: usize = 64 * 1024;

fn write(t: &mut Thread, fd: u64, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, false)?;
    if fd != abi::STDOUT && fd != abi::STDERR {
        return Err(Errno::INVAL);
    }
    let n = (len as usize).min(WRITE_CHUNK);
    let mut buf = vec![0u8; n];
    t.space.copy_in(ptr, &mut buf)?;
    crate::console::write_bytes(&buf);
    Ok(n)
}

async fn sleep(t: &mut Thread, ns: u64) -> R {
    t.proc.set_state(State::Sleeping);
    blocking(t, executor::sleep(core::time::Duration::from_nanos(ns))).await?;
    Ok(0)
}

fn ipc_send(t: &mut Thread, port: u64, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, false)?;
    if len as usize > MAX_MSG {
        return Err(Errno::MSGSIZE);
    }
    let port = usize::try_from(port).map_err(|_| Errno::INVAL)?;
    let len = len as usize;
    if len <= kcore::ipc::INLINE {
        // A short message goes through the stack into the message's inline bytes: no
        // allocation on the way.
        let mut buf = [0u8; kcore::ipc::INLINE];
        t.space.copy_in(ptr, &mut buf[..len])?;
        PORTS.send(port, &buf[..len]).map_err(|e| e.errno())?;
        return Ok(0);
    }
    let mut buf = alloc::vec::Vec::new();
    buf.try_reserve_exact(len).map_err(|_| Errno::NOMEM)?;
    buf.resize(len, 0);
    t.space.copy_in(ptr, &mut buf)?;
    // The copied-in buffer becomes the message itself: one allocation, one copy.
    PORTS.send_vec(port, buf).map_err(|e| e.errno())?;
    Ok(0)
}

async fn ipc_recv(t: &mut Thread, port: u64, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, true)?;
    let port = usize::try_from(port).map_err(|_| Errno::INVAL)?;
    t.proc.set_state(State::Blocked);
    let msg = blocking(t, PORTS.recv(port)).await?.map_err(|e| e.errno())?;
    t.proc.set_state(State::Running);
    let n = msg.len().min(len as usize);
    t.space.copy_out(ptr, &msg[..n])?;
    Ok(msg.len())
}

fn fork(t: &mut Thread) -> R {
    let child = super::create(t.proc.pid, &super::name(t.proc.pid).unwrap_or_default())?;
    let pid = child.pid;
    child.want_priority(t.priority);
    child.want_affinity(t.affinity);
    match t.fork(child) {
        Ok(ct) => {
            super::thread::start(ct, None);
            Ok(pid as usize)
        }
        Err(e) => {
            super::exit(pid, abi::wait::signal_status(abi::wait::SIGKILL));
            // Reap the stillborn child so the parent never sees it.
            let _ = super::reap(t.proc.pid, pid);
            Err(e)
        }
    }
}

async fn wait(t: &mut Thread, status_ptr: u64) -> R {
    if status_ptr != 0 {
        t.space.check(status_ptr, 4, true)?;
    }
    t.proc.set_state(State::Blocked);
    let (pid, status) = blocking(t, super::wait(t.proc.pid, None)).await??;
    t.proc.set_state(State::Running);
    if status_ptr != 0 {
        t.space.copy_out(status_ptr, &status.to_le_bytes())?;
    }
    Ok(pid as usize)
}

fn exec(t: &mut Thread, path_ptr: u64, path_len: u64, argv_ptr: u64, argc: u64) -> R {
    if path_len as usize > MAX_PATH {
        t.space.check(path_ptr, path_len, false)?;
        return Err(Errno::INVAL);
    }
    let mut path = vec![0u8; path_len as usize];
    t.space.copy_in(path_ptr, &mut path)?;
    if argc as usize > abi::MAX_ARGS {
        return Err(Errno::INVAL);
    }
    let mut raw = vec![0u8; argc as usize * USER_STR_SIZE];
    t.space.copy_in(argv_ptr, &mut raw)?;
    let mut args: Vec<Vec<u8>> = Vec::with_capacity(argc as usize);
    let mut total = 0usize;
    for s in raw.chunks_exact(USER_STR_SIZE) {
        let ptr = u64::from_le_bytes(s[..8].try_into().unwrap_or_default());
        let len = u64::from_le_bytes(s[8..].try_into().unwrap_or_default());
        total = total.saturating_add(len as usize);
        if total > abi::MAX_ARG_BYTES {
            return Err(Errno::INVAL);
        }
        let mut a = vec![0u8; len as usize];
        t.space.copy_in(ptr, &mut a)?;
        args.push(a);
    }
    let path = core::str::from_utf8(&path).map_err(|_| Errno::NOENT)?;
    let image = crate::INITRD.get().and_then(|rd| rd.find(path.trim_start_matches('/'))).ok_or(Errno::NOENT)?;
    // Build the new image in a fresh space: on failure the old program goes on.
    let mut space = crate::mm::uspace::AddressSpace::new()?;
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let start = super::exec::load(&mut space, image, &argv)?;
    core::mem::swap(&mut t.space, &mut space);
    drop(space); // the old image
    t.ctx.reset(start.entry, start.rsp, start.argc, start.argv);
    super::rename(t.proc.pid, path);
    // rax of the new program: the value returned here (start-up ignores it).
    Ok(0)
}

async fn read(t: &mut Thread, fd: u64, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, true)?;
    if fd != abi::STDIN {
        return Err(Errno::INVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let mut buf = vec![0u8; (len as usize).min(4096)];
    t.proc.set_state(State::Blocked);
    let n = blocking(t, crate::console::serial::read(&mut buf)).await?;
    t.proc.set_state(State::Running);
    t.space.copy_out(ptr, &buf[..n])?;
    Ok(n)
}

fn stats(t: &mut Thread, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, true)?;
    let s = snapshot();
    let bytes = s.to_bytes();
    let n = (len as usize).min(Stats::SIZE);
    t.space.copy_out(ptr, &bytes[..n])?;
    Ok(n)
}

/// The kernel's counters as the `stats` call reports them.
pub fn snapshot() -> Stats {
    let ex = crate::sched::exec();
    let (mut wakes, mut remote) = (0, 0);
    for c in 0..ex.num_cpus() {
        let st = ex.stats(c);
        wakes += st.wakes;
        remote += st.remote_wakes;
    }
    let ipc = PORTS.stats();
    let m = crate::metrics::totals();
    Stats {
        uptime_ns: crate::arch::time::uptime_ns(),
        num_cpus: crate::smp::online() as u64,
        frames_total: crate::mm::frame::total(),
        frames_free: crate::mm::frame::free_count(),
        processes: super::count() as u64,
        ctx_switches: super::thread::SWITCHES.load(Ordering::Relaxed),
        preemptions: super::thread::PREEMPTIONS.load(Ordering::Relaxed),
        syscalls: total(),
        ipc_sends: ipc.sends,
        ipc_recvs: ipc.recvs,
        ipc_queue_full: ipc.queue_full,
        wakes,
        remote_wakes: remote,
        timer_ticks: m.timer_ticks,
        ipis_sent: m.ipis_sent,
    }
}
