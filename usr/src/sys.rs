//! Safe wrappers for every system call, returning `Result<_, Errno>`.

use crate::syscall::*;
use abi::{nr, Errno, Priority, Stats, UserStr, MAX_ARGS};

fn ret(r: isize) -> Result<usize, Errno> {
    Errno::from_ret(r)
}

/// Writes `buf` to `fd` (1 and 2 are the console); returns bytes written.
pub fn write(fd: u64, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel only reads `buf`.
    ret(unsafe { syscall3(nr::WRITE, fd, buf.as_ptr() as u64, buf.len() as u64) })
}

/// Writes all of `buf` to `fd`, retrying after short writes.
pub fn write_all(fd: u64, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        if n == 0 {
            return Err(Errno::AGAIN);
        }
        buf = buf.get(n..).unwrap_or(&[]);
    }
    Ok(())
}

/// Ends the process; only the low 8 bits of `code` reach the parent.
pub fn exit(code: i32) -> ! {
    // SAFETY: exit touches no user memory and does not return.
    unsafe {
        syscall1(nr::EXIT, code as u32 as u64);
        // Unreachable unless the kernel is broken: die loudly (SIGILL).
        core::arch::asm!("ud2", options(noreturn));
    }
}

/// Sleeps for at least `ns` nanoseconds.
pub fn sleep_ns(ns: u64) -> Result<(), Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall1(nr::SLEEP, ns) }).map(drop)
}

/// Sleeps for at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) -> Result<(), Errno> {
    sleep_ns(ms.saturating_mul(1_000_000))
}

/// Sends `msg` to `port`. Never blocks: `AGAIN` if the queue is full.
pub fn ipc_send(port: u64, msg: &[u8]) -> Result<(), Errno> {
    // SAFETY: the kernel only reads `msg`.
    ret(unsafe { syscall3(nr::IPC_SEND, port, msg.as_ptr() as u64, msg.len() as u64) }).map(drop)
}

/// Waits for a message on `port`, copies up to `buf.len()` bytes of it into
/// `buf` and returns the message's full length (which may be larger).
pub fn ipc_recv(port: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    ret(unsafe {
        syscall3(
            nr::IPC_RECV,
            port,
            buf.as_mut_ptr() as u64,
            buf.len() as u64,
        )
    })
}

/// The caller's process id.
pub fn getpid() -> Result<u64, Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall0(nr::GETPID) }).map(|v| v as u64)
}

/// Gives up the CPU to other runnable threads.
pub fn yield_now() -> Result<(), Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall0(nr::YIELD) }).map(drop)
}

/// Which side of a [`fork`] this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fork {
    /// The new process.
    Child,
    /// The original process; the child has this pid.
    Parent(u64),
}

/// Duplicates the process (copy-on-write).
pub fn fork() -> Result<Fork, Errno> {
    // SAFETY: the child gets a copy of all memory; nothing is shared.
    let pid = ret(unsafe { syscall0(nr::FORK) })?;
    Ok(if pid == 0 {
        Fork::Child
    } else {
        Fork::Parent(pid as u64)
    })
}

/// Waits for a child to end and reaps it: `(pid, status)`, where status
/// decodes with [`crate::exited`] / [`crate::killed_by`]. `CHILD` if there
/// are no children.
pub fn wait() -> Result<(u64, i32), Errno> {
    let mut status: i32 = 0;
    // SAFETY: the kernel writes one i32 into `status`.
    let pid = ret(unsafe { syscall1(nr::WAIT, &mut status as *mut i32 as u64) })?;
    Ok((pid as u64, status))
}

/// Replaces the program with the one at `path`, with arguments `argv`
/// (conventionally `argv[0]` is the program name). Returns only on error.
pub fn exec(path: &str, argv: &[&str]) -> Errno {
    if argv.len() > MAX_ARGS {
        return Errno::INVAL;
    }
    let mut strs = [UserStr::default(); MAX_ARGS];
    for (slot, a) in strs.iter_mut().zip(argv) {
        *slot = UserStr {
            ptr: a.as_ptr() as u64,
            len: a.len() as u64,
        };
    }
    // SAFETY: the kernel only reads `path`, `strs` and the strings they name.
    let r = unsafe {
        syscall4(
            nr::EXEC,
            path.as_ptr() as u64,
            path.len() as u64,
            strs.as_ptr() as u64,
            argv.len() as u64,
        )
    };
    match ret(r) {
        Ok(_) => Errno::INVAL, // exec does not return on success
        Err(e) => e,
    }
}

/// Reads from `fd` (0 is the serial console) into `buf`, waiting until at
/// least one byte is available; returns the number of bytes read.
pub fn read(fd: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    ret(unsafe { syscall3(nr::READ, fd, buf.as_mut_ptr() as u64, buf.len() as u64) })
}

/// Monotonic time since boot, in nanoseconds.
pub fn time_ns() -> Result<u64, Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall0(nr::TIME) }).map(|v| v as u64)
}

/// The index of the CPU the caller is running on.
pub fn getcpu() -> Result<u64, Errno> {
    // SAFETY: no memory arguments.
    ret(unsafe { syscall0(nr::GETCPU) }).map(|v| v as u64)
}

/// Sets the caller's scheduling priority.
pub fn set_priority(p: Priority) -> Result<(), Errno> {
    crate::ctl::set_priority_of(0, p)
}

/// Pins the caller to `cpu`, or lets it run anywhere with
/// [`abi::AFFINITY_ANY`].
pub fn set_affinity(cpu: u64) -> Result<(), Errno> {
    crate::ctl::set_affinity_of(0, cpu)
}

/// Kernel statistics.
pub fn stats() -> Result<Stats, Errno> {
    let mut s = Stats::default();
    // SAFETY: the kernel writes at most size_of::<Stats>() bytes into `s`,
    // a repr(C) struct of u64s for which any bytes are valid.
    let r = unsafe {
        syscall2(
            nr::STATS,
            &mut s as *mut Stats as u64,
            core::mem::size_of::<Stats>() as u64,
        )
    };
    ret(r).map(|_| s)
}
