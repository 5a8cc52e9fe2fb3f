//! Ring-3 test of the shell's system calls: kill (running, sleeping, blocked and
//! missing targets, bad signals, init), set_foreground, another process's priority
//! and affinity, proc_list, cpu_stats, tunables, initrd_list — their results and
//! their error paths (FAULT for bad buffers, SRCH, INVAL, PERM).

#![no_std]
#![no_main]

use usr::abi::wait::{SIGINT, SIGKILL, SIGTERM};
use usr::abi::{nr, state};
use usr::syscall::{syscall2, syscall3, syscall4};
use usr::*;

entry!(main);

/// Buffers the kernel must refuse.
const BAD: [(u64, &str); 3] = [(0, "null"), (0xffff_8000_0000_0000, "kernel half"), (0x7000_0000_0000, "unmapped")];

/// Starts a child that runs `f` and exits 0.
fn child(f: fn()) -> u64 {
    match fork() {
        Ok(Fork::Child) => {
            f();
            exit(0)
        }
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => {
            println!("  FAIL fork: {e}");
            exit(1)
        }
    }
}

fn spin() {
    let mut x = 0u64;
    loop {
        x = core::hint::black_box(x.wrapping_add(1));
    }
}

fn sleep_long() {
    let _ = sleep_ms(600_000);
}

fn recv_forever() {
    let mut buf = [0u8; 8];
    let _ = ipc_recv(211, &mut buf);
}

/// The record of `pid` in the process list.
fn info(pid: u64) -> Option<ProcInfo> {
    let mut list = [ProcInfo::default(); PROC_LIST_MAX];
    let n = proc_list(&mut list).ok()?;
    list[..n.min(PROC_LIST_MAX)].iter().copied().find(|p| p.pid == pid)
}

/// Kills `pid` with `sig` and checks that `wait` reports exactly that, within 10 s.
fn kill_and_reap(pid: u64, sig: u8, what: &str) {
    let t0 = time_ns().unwrap_or(0);
    check_eq!(kill(pid, sig), Ok(()), "kill {what}");
    let r = wait();
    check_eq!(r.map(|(p, _)| p), Ok(pid), "{what}: reaped");
    check_eq!(r.ok().and_then(|(_, s)| killed_by(s)), Some(sig), "{what}: status");
    let took = time_ns().unwrap_or(0).saturating_sub(t0);
    check!(took < 10_000_000_000, "{what}: took {took} ns to die");
}

fn main(_args: Args) -> i32 {
    let me = getpid().unwrap_or(0);

    // kill: errors.
    check_eq!(kill(99_999, SIGKILL), Err(Errno::SRCH));
    check_eq!(kill(0, SIGKILL), Err(Errno::SRCH), "pid 0 is the kernel");
    check_eq!(kill(me, 77), Err(Errno::INVAL), "unknown signal");
    // SAFETY: no memory arguments; a signal number beyond u8.
    check_eq!(Errno::from_ret(unsafe { syscall2(nr::KILL, me, 0x109) }), Err(Errno::INVAL));
    check_eq!(kill(me, 0), Ok(()), "signal 0 checks the pid");
    // Init only exists in run mode; in test mode pid 1 may be gone (SRCH).
    check!(matches!(kill(1, SIGKILL), Err(Errno::PERM | Errno::SRCH)), "kill init");

    // kill: a spinning child (in ring 3, no system calls), a sleeping one and one
    // blocked in ipc_recv all die with the signal sent.
    let pid = child(spin);
    let _ = sleep_ms(50);
    let p = info(pid);
    check!(p.is_some_and(|p| p.parent == me && p.name() == "/t_ctl"), "proc_list: child {pid}: {p:?}");
    check_eq!(set_priority_of(pid, Priority::Low), Ok(()));
    check_eq!(set_affinity_of(pid, 0), Ok(()));
    check_eq!(set_affinity_of(pid, 100_000), Err(Errno::INVAL));
    check_eq!(set_priority_of(99_999, Priority::Low), Err(Errno::SRCH));
    check_eq!(set_affinity_of(99_999, AFFINITY_ANY), Err(Errno::SRCH));
    // SAFETY: no memory arguments; priority 3 does not exist.
    check_eq!(Errno::from_ret(unsafe { syscall2(nr::SET_PRIORITY, 3, pid) }), Err(Errno::INVAL));
    let _ = sleep_ms(100); // a time slice or more: the child applies both
    let p = info(pid);
    check!(p.is_some_and(|p| p.priority == 2 && p.affinity == 0 && p.cpu == 0), "nice/pin applied: {p:?}");
    check!(p.is_some_and(|p| p.cpu_ns > 0), "a spinning child uses CPU time: {p:?}");
    kill_and_reap(pid, SIGKILL, "spinning child");

    let pid = child(sleep_long);
    let _ = sleep_ms(20);
    check!(info(pid).is_some_and(|p| p.state == state::SLEEPING), "sleeping: {:?}", info(pid));
    kill_and_reap(pid, SIGTERM, "sleeping child");

    let pid = child(recv_forever);
    let _ = sleep_ms(20);
    check!(info(pid).is_some_and(|p| p.state == state::BLOCKED), "blocked: {:?}", info(pid));
    kill_and_reap(pid, SIGINT, "child blocked in ipc_recv");
    check!(info(pid).is_none(), "reaped child still listed");

    // A zombie is already dead: kill succeeds and changes nothing.
    let pid = child(|| {});
    let _ = sleep_ms(50);
    check_eq!(kill(pid, SIGKILL), Ok(()), "kill a zombie");
    let r = wait();
    check_eq!(r.ok().and_then(|(_, s)| exited(s)), Some(0), "the zombie's own status stays");

    // set_foreground.
    check_eq!(set_foreground(99_999), Err(Errno::SRCH));
    let prev = set_foreground(me);
    check!(prev.is_ok(), "set_foreground(me): {prev:?}");
    check_eq!(set_foreground(prev.unwrap_or(0)), Ok(me));

    // proc_list: a short buffer gets whole records only, and the total.
    let mut two = [ProcInfo::default(); 1];
    let total = proc_list(&mut two);
    check!(total.is_ok_and(|n| n >= 1), "proc_list total {total:?}");
    let mut raw = [0u8; ProcInfo::SIZE + 10];
    // SAFETY: the kernel writes at most raw.len() bytes into raw.
    let n = Errno::from_ret(unsafe { syscall2(nr::PROC_LIST, raw.as_mut_ptr() as u64, 10) });
    check_eq!(n, total, "proc_list into 10 bytes: the total, nothing written");
    check!(raw.iter().all(|&b| b == 0), "proc_list wrote a partial record");

    // cpu_stats.
    let st = stats().unwrap_or_default();
    for cpu in 0..st.num_cpus {
        let c = cpu_stats(cpu);
        check!(c.is_ok_and(|c| c.cpu == cpu && c.uptime_ns > 0), "cpu_stats({cpu}): {c:?}");
    }
    check_eq!(cpu_stats(10_000).err(), Some(Errno::INVAL));
    let c0 = cpu_stats(0).unwrap_or_default();
    check!(c0.polls > 0 && c0.timer_ticks > 0, "cpu0 counters move: {c0:?}");

    // tunables.
    let mut out = [0u8; 512];
    let n = tunables_get(&mut out).unwrap_or(0);
    let all = core::str::from_utf8(&out[..n]).unwrap_or("");
    check!(n > 0 && all.contains('='), "tunables: {all:?}");
    let first = all.split_ascii_whitespace().next().unwrap_or("x=1");
    let mut same = [0u8; 128];
    let first_len = first.len().min(same.len());
    same[..first_len].copy_from_slice(&first.as_bytes()[..first_len]);
    let first = core::str::from_utf8(&same[..first_len]).unwrap_or("x=1");
    check!(tunables_set(first, &mut out).is_ok(), "setting {first} to its own value");
    check_eq!(tunables_set("no-such-tunable=1", &mut out), Err(Errno::INVAL));
    check!(!c_str(&out).is_empty(), "a refused assignment explains why");
    check_eq!(tunables_set("missing-equals", &mut out), Err(Errno::INVAL));
    let long = [b'a'; abi::MAX_PATH + 1];
    // SAFETY: the kernel reads `long` and writes at most out.len() bytes into out.
    let r = unsafe { syscall4(nr::TUNABLES, long.as_ptr() as u64, long.len() as u64, out.as_mut_ptr() as u64, out.len() as u64) };
    check_eq!(Errno::from_ret(r), Err(Errno::INVAL), "over-long assignment");

    // initrd_list.
    let mut names = [0u8; 2048];
    let n = initrd_list(&mut names).unwrap_or(0);
    let list = core::str::from_utf8(&names[..n]).unwrap_or("");
    check!(list.lines().any(|l| l == "t_ctl") && list.lines().any(|l| l == "hello"), "initrd_list: {list:?}");
    let mut tiny = [0u8; 3];
    let full = initrd_list(&mut tiny);
    check!(full.is_ok(), "initrd_list into 3 bytes: {full:?}");

    // Bad buffers: FAULT, before anything happens.
    for (ptr, desc) in BAD {
        // SAFETY: (every call below) the kernel must refuse these buffers; they are
        // not ours, and a wrong acceptance fails the test rather than touching our memory.
        unsafe {
            check_eq!(Errno::from_ret(syscall2(nr::PROC_LIST, ptr, ProcInfo::SIZE as u64)), Err(Errno::FAULT), "proc_list {desc}");
            check_eq!(Errno::from_ret(syscall3(nr::CPU_STATS, 0, ptr, CpuStats::SIZE as u64)), Err(Errno::FAULT), "cpu_stats {desc}");
            check_eq!(Errno::from_ret(syscall4(nr::TUNABLES, 0, 0, ptr, 64)), Err(Errno::FAULT), "tunables out {desc}");
            check_eq!(Errno::from_ret(syscall4(nr::TUNABLES, ptr, 8, out.as_mut_ptr() as u64, 64)), Err(Errno::FAULT), "tunables assignment {desc}");
            check_eq!(Errno::from_ret(syscall2(nr::INITRD_LIST, ptr, 64)), Err(Errno::FAULT), "initrd_list {desc}");
        }
    }
    // A bad cpu_stats buffer is FAULT even for a CPU that does not exist.
    // SAFETY: as above.
    check_eq!(Errno::from_ret(unsafe { syscall3(nr::CPU_STATS, 10_000, 0, 8) }), Err(Errno::FAULT));
    // Zero-length buffers are valid whatever their address.
    // SAFETY: nothing is written for a zero length.
    check!(Errno::from_ret(unsafe { syscall2(nr::INITRD_LIST, 0, 0) }).is_ok_and(|n| n > 0), "initrd_list(null, 0)");

    usr::test::finish("t_ctl")
}
