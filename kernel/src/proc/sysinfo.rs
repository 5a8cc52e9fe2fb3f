//! The system calls behind the shell: process control (kill, foreground, another
//! process's priority and affinity), what `ps`/`top`/`ls` show (process list,
//! per-CPU executor and idle statistics, initrd names), the run-time tunables, and
//! power-off. Every user buffer is checked as a whole before anything happens.

use super::thread::Thread;
use super::{signal, Pid};
use abi::{CpuStats, Errno, Priority, ProcInfo, AFFINITY_ANY, MAX_PATH};
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

type R = Result<usize, Errno>;

/// `kill(pid, sig)`.
pub fn kill(pid: u64, sig: u64) -> R {
    signal::kill(pid, sig).map(|()| 0)
}

/// `set_foreground(pid)`.
pub fn set_foreground(pid: u64) -> R {
    signal::set_foreground(pid).map(|p| p as usize)
}

/// The process a `set_priority`/`set_affinity` names: 0 is the caller.
fn target(t: &Thread, pid: u64) -> Result<alloc::sync::Arc<super::Shared>, Errno> {
    if pid == 0 || pid == t.proc.pid {
        return Ok(t.proc.clone());
    }
    let s = super::shared(pid as Pid).ok_or(Errno::SRCH)?;
    if s.state() == super::State::Zombie {
        return Err(Errno::SRCH);
    }
    Ok(s)
}

/// `set_priority(priority, pid)`: recorded in the process; its thread moves to the
/// new priority at its next trap (the caller's before this call returns).
pub fn set_priority(t: &Thread, p: u64, pid: u64) -> R {
    let p = match Priority::from_u64(p).ok_or(Errno::INVAL)? {
        Priority::High => executor::Priority::High,
        Priority::Normal => executor::Priority::Normal,
        Priority::Low => executor::Priority::Low,
    };
    target(t, pid)?.want_priority(p);
    Ok(0)
}

/// `set_affinity(cpu, pid)`, applied like `set_priority`.
pub fn set_affinity(t: &Thread, cpu: u64, pid: u64) -> R {
    let cpu = if cpu == AFFINITY_ANY {
        None
    } else if (cpu as usize) < crate::smp::count() && crate::smp::cpus()[cpu as usize].online.load(Ordering::Acquire) {
        Some(cpu as usize)
    } else {
        return Err(Errno::INVAL);
    };
    target(t, pid)?.want_affinity(cpu);
    Ok(0)
}

/// `proc_list(buf, len)`: whole records only; returns the number of processes.
pub fn proc_list(t: &mut Thread, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, true)?;
    let list = super::list();
    let fit = (len as usize / ProcInfo::SIZE).min(list.len());
    let mut bytes = Vec::with_capacity(fit * ProcInfo::SIZE);
    for p in &list[..fit] {
        bytes.extend_from_slice(&p.to_bytes());
    }
    t.space.copy_out(ptr, &bytes)?;
    Ok(list.len())
}

/// One CPU's counters, as `cpu_stats` reports them (`None`: not online).
pub fn cpu_stats_of(cpu: usize) -> Option<CpuStats> {
    let online = crate::smp::cpus().get(cpu).is_some_and(|c| c.online.load(Ordering::Acquire));
    if cpu >= crate::smp::count() || !online {
        return None;
    }
    let s = crate::sched::exec().stats(cpu);
    let (tx, rx) = crate::metrics::ipis(cpu);
    let ns = crate::arch::time::cycles_to_ns;
    Some(CpuStats {
        uptime_ns: crate::arch::time::uptime_ns(),
        cpu: cpu as u64,
        polls: s.polls,
        wakes: s.wakes,
        remote_wakes: s.remote_wakes,
        ipis_sent: tx,
        ipis_received: rx,
        steals: s.steals,
        queued: s.queued as u64,
        idles: s.idles,
        // Counted when an idle stretch ends: a halt in progress is not in yet.
        halt_ns: ns(s.halt_ticks),
        poll_ns: ns(s.poll_ticks),
        timer_ticks: crate::metrics::timer_ticks(cpu),
        wake_count: s.wake_latency.count,
        wake_p50_ns: ns(s.wake_latency.p50),
        wake_p99_ns: ns(s.wake_latency.p99),
        wake_max_ns: ns(s.wake_latency.max),
    })
}

/// `cpu_stats(cpu, buf, len)`.
pub fn cpu_stats(t: &mut Thread, cpu: u64, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, true)?;
    let s = cpu_stats_of(usize::try_from(cpu).map_err(|_| Errno::INVAL)?).ok_or(Errno::INVAL)?;
    let n = (len as usize).min(CpuStats::SIZE);
    t.space.copy_out(ptr, &s.to_bytes()[..n])?;
    Ok(n)
}

/// `tunables(assign_ptr, assign_len, out_ptr, out_len)`.
pub fn tunables(t: &mut Thread, aptr: u64, alen: u64, optr: u64, olen: u64) -> R {
    t.space.check(optr, olen, true)?;
    t.space.check(aptr, alen, false)?;
    if alen as usize > MAX_PATH {
        return Err(Errno::INVAL);
    }
    if alen > 0 {
        let mut a = alloc::vec![0u8; alen as usize];
        t.space.copy_in(aptr, &mut a)?;
        let applied = match core::str::from_utf8(&a) {
            Ok(text) => crate::sched::tunables::set(text.trim()),
            Err(_) => Err("the assignment is not UTF-8".into()),
        };
        if let Err(msg) = applied {
            let mut m = Vec::from(msg.as_bytes());
            m.push(0);
            let n = m.len().min(olen as usize);
            t.space.copy_out(optr, &m[..n])?;
            return Err(Errno::INVAL);
        }
    }
    let all = crate::sched::tunables::describe();
    let n = all.len().min(olen as usize);
    t.space.copy_out(optr, &all.as_bytes()[..n])?;
    Ok(all.len())
}

/// `initrd_list(buf, len)`: names, one per line.
pub fn initrd_list(t: &mut Thread, ptr: u64, len: u64) -> R {
    t.space.check(ptr, len, true)?;
    let mut names = Vec::new();
    if let Some(rd) = crate::INITRD.get() {
        for (name, _) in rd.iter() {
            names.extend_from_slice(name.trim_start_matches("./").as_bytes());
            names.push(b'\n');
        }
    }
    let n = names.len().min(len as usize);
    t.space.copy_out(ptr, &names[..n])?;
    Ok(names.len())
}

/// `poweroff(code)`: QEMU's isa-debug-exit (status 33 for code 0, else 35), so test
/// runs can tell; where that device is absent, ACPI S5 (`acpi::power_off`); where
/// that fails too, the CPU halts for good.
pub fn poweroff(pid: Pid, code: u64) -> ! {
    crate::kprintln!("mello: power off (requested by pid {pid}, code {code})");
    crate::report::print_summary();
    let exit = if code == 0 { crate::arch::qemu::ExitCode::Success } else { crate::arch::qemu::ExitCode::Failure };
    crate::arch::qemu::try_exit(exit);
    crate::acpi::power_off();
    crate::kprintln!("mello: could not power off (no isa-debug-exit, no ACPI S5); halted");
    crate::arch::halt_forever()
}
