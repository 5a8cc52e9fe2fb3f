//! Safe wrappers for the system calls behind the shell: signals and the console's
//! foreground, another process's priority and affinity, the process list, per-CPU
//! statistics, the run-time tunables, the initrd's names, and power-off.

use crate::syscall::*;
use abi::{nr, CpuStats, Errno, Priority, ProcInfo};

fn ret(r: isize) -> Result<usize, Errno> {
    Errno::from_ret(r)
}

/// Sends `sig` (`SIGINT`, `SIGTERM`, `SIGKILL`; 0 only checks) to `pid`.
pub fn kill(pid: u64, sig: u8) -> Result<(), Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall2(nr::KILL, pid, sig as u64) }).map(drop)
}

/// Makes `pid` the console's foreground process (0: none), so Ctrl-C sends
/// it SIGINT; returns the previous one.
pub fn set_foreground(pid: u64) -> Result<u64, Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall1(nr::SET_FOREGROUND, pid) }).map(|p| p as u64)
}

/// Sets the priority of process `pid` (0: the caller).
pub fn set_priority_of(pid: u64, p: Priority) -> Result<(), Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall2(nr::SET_PRIORITY, p as u64, pid) }).map(drop)
}

/// Pins process `pid` (0: the caller) to `cpu`, or unpins it with
/// [`abi::AFFINITY_ANY`].
pub fn set_affinity_of(pid: u64, cpu: u64) -> Result<(), Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall2(nr::SET_AFFINITY, cpu, pid) }).map(drop)
}

/// Most records [`proc_list`] fetches in one call.
pub const PROC_LIST_MAX: usize = 32;

/// Fills `out` with up to [`PROC_LIST_MAX`] process records (lowest pids
/// first) and returns how many processes there are; records beyond
/// `min(total, out.len(), PROC_LIST_MAX)` are left untouched.
pub fn proc_list(out: &mut [ProcInfo]) -> Result<usize, Errno> {
    let mut buf = [0u8; ProcInfo::SIZE * PROC_LIST_MAX];
    let want = out.len().min(PROC_LIST_MAX);
    // SAFETY: the kernel writes at most `want * SIZE` bytes into `buf`.
    let total = ret(unsafe { syscall2(nr::PROC_LIST, buf.as_mut_ptr() as u64, (want * ProcInfo::SIZE) as u64) })?;
    for (slot, rec) in out.iter_mut().zip(buf.chunks_exact(ProcInfo::SIZE)).take(total.min(want)) {
        *slot = ProcInfo::from_bytes(rec);
    }
    Ok(total)
}

/// One CPU's executor and idle counters.
pub fn cpu_stats(cpu: u64) -> Result<CpuStats, Errno> {
    let mut buf = [0u8; CpuStats::SIZE];
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    ret(unsafe { syscall3(nr::CPU_STATS, cpu, buf.as_mut_ptr() as u64, buf.len() as u64) })?;
    Ok(CpuStats::from_bytes(&buf))
}

/// The live tunables as `key=value ...` in `out`; returns the bytes used
/// (the text is cut if `out` is too small).
pub fn tunables_get(out: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `out.len()` bytes into `out`.
    let n = ret(unsafe { syscall4(nr::TUNABLES, 0, 0, out.as_mut_ptr() as u64, out.len() as u64) })?;
    Ok(n.min(out.len()))
}

/// Applies `key=value`. On success `out` holds the new `key=value ...` list
/// and the bytes used are returned; if the kernel refuses, `Err(INVAL)` and
/// `out` holds the reason (see [`c_str`]).
pub fn tunables_set(assignment: &str, out: &mut [u8]) -> Result<usize, Errno> {
    out.fill(0);
    // SAFETY: the kernel reads `assignment` and writes at most `out.len()`
    // bytes into `out`.
    let n = ret(unsafe {
        syscall4(
            nr::TUNABLES,
            assignment.as_ptr() as u64,
            assignment.len() as u64,
            out.as_mut_ptr() as u64,
            out.len() as u64,
        )
    })?;
    Ok(n.min(out.len()))
}

/// The text in `buf` up to its first NUL (or all of it), `"?"` if not UTF-8.
pub fn c_str(buf: &[u8]) -> &str {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    core::str::from_utf8(&buf[..end]).unwrap_or("?")
}

/// The initrd's file names, one per line, in `out`; returns the bytes used.
pub fn initrd_list(out: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `out.len()` bytes into `out`.
    let n = ret(unsafe { syscall2(nr::INITRD_LIST, out.as_mut_ptr() as u64, out.len() as u64) })?;
    Ok(n.min(out.len()))
}

/// Stops the machine (QEMU exits 33 for code 0, 35 otherwise).
pub fn poweroff(code: u64) -> ! {
    // SAFETY: no memory arguments; does not return.
    unsafe {
        syscall1(nr::POWEROFF, code);
        core::arch::asm!("ud2", options(noreturn));
    }
}
