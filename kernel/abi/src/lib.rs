//! The system-call ABI shared by the kernel and the ring-3 runtime (`usr/`).
//!
//! # Calling convention
//!
//! A system call is made with the `syscall` instruction (or `int 0x80`, same
//! registers). The call number goes in `rax`; arguments go in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9` (in that order). The result comes back in `rax`:
//! a value `>= 0` is success, a negative value is `-(errno)` with an
//! [`Errno`] code. `syscall` itself clobbers `rcx` and `r11`; the kernel
//! preserves every other register except `rax`.
//!
//! # User pointers
//!
//! Every `(ptr, len)` buffer is checked as a whole (range, mapping, user
//! bit, write permission where the kernel writes) *before* the call does
//! anything else: a bad one returns `FAULT` without side effects. In
//! particular `ipc_recv` and `read` check their buffer before waiting,
//! `ipc_send` checks it before the `MSGSIZE` test, `stats` checks all `len`
//! bytes even though it writes fewer, and `wait` checks `status_ptr` before
//! reaping a child. A zero-length buffer is valid whatever its address.
//!
//! This crate has no dependencies and no `unsafe`; every type here is plain
//! data with a fixed layout, so the kernel and user programs agree on it.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use core::fmt;

mod info;
pub use info::{state, CpuStats, ProcInfo, PROC_NAME_MAX};

/// System-call numbers (the value placed in `rax`).
pub mod nr {
    /// `write(fd, buf, len) -> bytes written`. fd 1 and 2 go to the console.
    pub const WRITE: u64 = 0;
    /// `exit(code) -> !`. Only the low 8 bits of `code` reach the parent.
    pub const EXIT: u64 = 1;
    /// `sleep(nanoseconds) -> 0`.
    pub const SLEEP: u64 = 2;
    /// `ipc_send(port, buf, len) -> 0`. Never blocks: a full queue is `AGAIN`.
    pub const IPC_SEND: u64 = 3;
    /// `ipc_recv(port, buf, len) -> message length`. Waits for a message,
    /// copies `min(len, msglen)` bytes (truncating) and returns the full
    /// message length.
    pub const IPC_RECV: u64 = 4;
    /// `getpid() -> pid`.
    pub const GETPID: u64 = 5;
    /// `yield() -> 0`.
    pub const YIELD: u64 = 6;
    /// `fork() -> child pid` in the parent, `0` in the child.
    pub const FORK: u64 = 7;
    /// `wait(status_ptr or 0) -> pid of the reaped child`. If `status_ptr`
    /// is non-zero the kernel writes the child's status there as an `i32`
    /// (see [`crate::wait`]). `CHILD` if the caller has no children.
    pub const WAIT: u64 = 8;
    /// `exec(path_ptr, path_len, argv_ptr, argc) -> !` (returns only on
    /// error). `argv_ptr` points to `argc` [`crate::UserStr`]s.
    pub const EXEC: u64 = 9;
    /// `read(fd, buf, len) -> bytes read`. fd 0 is the serial console; waits
    /// until at least one byte is available.
    pub const READ: u64 = 10;
    /// `time() -> monotonic nanoseconds since boot`.
    pub const TIME: u64 = 11;
    /// `getcpu() -> index of the CPU the caller is running on`.
    pub const GETCPU: u64 = 12;
    /// `set_priority(priority, pid) -> 0`, see [`crate::Priority`]. `pid` 0
    /// is the caller; another process (`SRCH` if there is none) takes the
    /// new priority when it next runs (a blocked one after it wakes).
    pub const SET_PRIORITY: u64 = 13;
    /// `set_affinity(cpu, pid) -> 0`; `cpu` = [`crate::AFFINITY_ANY`] lets
    /// the process run anywhere. `INVAL` for a CPU that does not exist.
    /// `pid` as for `SET_PRIORITY`.
    pub const SET_AFFINITY: u64 = 14;
    /// `stats(buf, len) -> bytes written`: fills a [`crate::Stats`]
    /// (a prefix of `min(len, size_of::<Stats>())` bytes).
    pub const STATS: u64 = 15;
    /// `kill(pid, signal) -> 0`: ends process `pid` with `signal`
    /// ([`crate::wait::SIGKILL`], `SIGINT` or `SIGTERM`; there are no
    /// handlers, so each kills). Signal 0 only checks that `pid` exists.
    /// `SRCH` for no such process, `PERM` for init (pid 1), `INVAL` for an
    /// unknown signal. A blocked process is woken and ends at once; one in
    /// ring 3 ends at its next trap (at most one time slice).
    pub const KILL: u64 = 16;
    /// `proc_list(buf, len) -> number of processes`: fills `buf` with up to
    /// `len / ProcInfo::SIZE` [`crate::ProcInfo`] records (by pid) and
    /// returns how many processes there are (more than fit means truncated).
    pub const PROC_LIST: u64 = 17;
    /// `cpu_stats(cpu, buf, len) -> bytes written`: fills a
    /// [`crate::CpuStats`] for `cpu` (a prefix of `min(len, SIZE)` bytes).
    /// `INVAL` for a CPU that is not online.
    pub const CPU_STATS: u64 = 18;
    /// `tunables(assign_ptr, assign_len, out_ptr, out_len) -> output length`.
    /// With `assign_len > 0`, first applies the assignment `key=value`
    /// (UTF-8); if it is refused the call returns `INVAL` and `out` holds the
    /// reason (NUL-terminated if it fits). Then writes every live tunable as
    /// space-separated `key=value` into `out` (truncated to `out_len`) and
    /// returns the full length. `assign_len` at most [`crate::MAX_PATH`].
    pub const TUNABLES: u64 = 19;
    /// `poweroff(code) -> !`: stops the machine. Under QEMU (isa-debug-exit)
    /// QEMU exits with status 33 for `code` 0 and 35 otherwise; without that
    /// device the kernel enters ACPI S5 (soft off), else halts.
    pub const POWEROFF: u64 = 20;
    /// `initrd_list(buf, len) -> full length`: the names of the files in
    /// the initrd, each followed by `\n`, truncated to `len` bytes.
    pub const INITRD_LIST: u64 = 21;
    /// `set_foreground(pid) -> previous pid`: Ctrl-C (byte 0x03) on the
    /// serial console sends `SIGINT` to `pid` instead of being read as
    /// input; 0 = none (Ctrl-C is an ordinary byte). `SRCH` for a pid that
    /// is not a live process. The shell sets it for each foreground job.
    pub const SET_FOREGROUND: u64 = 22;
    /// `test_exit(status) -> !`: ends the kernel's test run with `status`
    /// (0 = passed), for a ring-3 program that drives a test run
    /// (`test=user:PROGRAM,ARG...`). `PERM` in any other mode, including
    /// the ordinary `test` runs, where ring-3 test programs just exit.
    pub const TEST_EXIT: u64 = 23;
    /// Number of system calls; any number `>= NR_SYSCALLS` returns `NOSYS`.
    pub const NR_SYSCALLS: u64 = 24;

    /// The name of a system call, for traces and statistics.
    pub const fn name(nr: u64) -> &'static str {
        match nr {
            WRITE => "write",
            EXIT => "exit",
            SLEEP => "sleep",
            IPC_SEND => "ipc_send",
            IPC_RECV => "ipc_recv",
            GETPID => "getpid",
            YIELD => "yield",
            FORK => "fork",
            WAIT => "wait",
            EXEC => "exec",
            READ => "read",
            TIME => "time",
            GETCPU => "getcpu",
            SET_PRIORITY => "set_priority",
            SET_AFFINITY => "set_affinity",
            STATS => "stats",
            KILL => "kill",
            PROC_LIST => "proc_list",
            CPU_STATS => "cpu_stats",
            TUNABLES => "tunables",
            POWEROFF => "poweroff",
            INITRD_LIST => "initrd_list",
            SET_FOREGROUND => "set_foreground",
            TEST_EXIT => "test_exit",
            _ => "unknown",
        }
    }
}

/// Error codes returned (negated) by system calls. The numbers are Linux's.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Errno {
    /// Not permitted (killing init; `test_exit` outside a ring-3-driven test run).
    PERM = 1,
    /// No such file (exec of a path not in the initrd).
    NOENT = 2,
    /// No such process.
    SRCH = 3,
    /// Interrupted.
    INTR = 4,
    /// Not an executable (malformed or rejected ELF).
    NOEXEC = 8,
    /// No child processes to wait for.
    CHILD = 10,
    /// Try again: IPC queue full, or process limit reached.
    AGAIN = 11,
    /// Out of memory.
    NOMEM = 12,
    /// Bad user pointer (unmapped, kernel half, wrong permission, overflow).
    FAULT = 14,
    /// Invalid argument.
    INVAL = 22,
    /// No such system call.
    NOSYS = 38,
    /// Message too long (IPC send of more than [`MAX_MSG`] bytes).
    MSGSIZE = 90,
}

impl Errno {
    /// Every errno this ABI defines.
    pub const ALL: [Errno; 12] = [
        Errno::PERM,
        Errno::NOENT,
        Errno::SRCH,
        Errno::INTR,
        Errno::NOEXEC,
        Errno::CHILD,
        Errno::AGAIN,
        Errno::NOMEM,
        Errno::FAULT,
        Errno::INVAL,
        Errno::NOSYS,
        Errno::MSGSIZE,
    ];

    /// The positive error number.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The value the kernel puts in `rax`: `-(errno)`.
    pub const fn as_neg(self) -> isize {
        -(self as i32 as isize)
    }

    /// The errno with this positive number, if the ABI defines it.
    pub const fn from_code(code: i64) -> Option<Errno> {
        Some(match code {
            1 => Errno::PERM,
            2 => Errno::NOENT,
            3 => Errno::SRCH,
            4 => Errno::INTR,
            8 => Errno::NOEXEC,
            10 => Errno::CHILD,
            11 => Errno::AGAIN,
            12 => Errno::NOMEM,
            14 => Errno::FAULT,
            22 => Errno::INVAL,
            38 => Errno::NOSYS,
            90 => Errno::MSGSIZE,
            _ => return None,
        })
    }

    /// Decodes a raw system-call return value: `>= 0` is `Ok(value)`,
    /// negative is `Err(errno)`. A negative value that is not a known errno
    /// decodes as [`Errno::INVAL`] (the kernel never returns one).
    pub const fn from_ret(ret: isize) -> Result<usize, Errno> {
        if ret >= 0 {
            Ok(ret as usize)
        } else {
            let code = match (ret as i64).checked_neg() {
                Some(c) => c,
                None => return Err(Errno::INVAL),
            };
            match Errno::from_code(code) {
                Some(e) => Err(e),
                None => Err(Errno::INVAL),
            }
        }
    }

    /// Encodes a kernel result as the raw `rax` value.
    pub const fn to_ret(result: Result<usize, Errno>) -> isize {
        match result {
            Ok(v) => v as isize,
            Err(e) => e.as_neg(),
        }
    }

    /// The short upper-case name, e.g. `"EFAULT"`.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::PERM => "EPERM",
            Errno::NOENT => "ENOENT",
            Errno::SRCH => "ESRCH",
            Errno::INTR => "EINTR",
            Errno::NOEXEC => "ENOEXEC",
            Errno::CHILD => "ECHILD",
            Errno::AGAIN => "EAGAIN",
            Errno::NOMEM => "ENOMEM",
            Errno::FAULT => "EFAULT",
            Errno::INVAL => "EINVAL",
            Errno::NOSYS => "ENOSYS",
            Errno::MSGSIZE => "EMSGSIZE",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Wait-status encoding (POSIX-like), as written by `wait` to `status_ptr`
/// (a 4-byte `i32`).
///
/// Normal exit with code `c`: `(c & 0xff) << 8`. Killed by a signal `s`
/// (the kernel's name for a fatal fault): `s` in the low 7 bits.
pub mod wait {
    /// Interrupt from the keyboard (Ctrl-C); kills (no handlers).
    pub const SIGINT: u8 = 2;
    /// Illegal instruction (`#UD`, invalid opcode).
    pub const SIGILL: u8 = 4;
    /// Arithmetic error (`#DE`, divide error).
    pub const SIGFPE: u8 = 8;
    /// Killed unconditionally.
    pub const SIGKILL: u8 = 9;
    /// Bad memory access (`#PF` page fault, `#GP` general protection).
    pub const SIGSEGV: u8 = 11;
    /// Polite termination request; kills (no handlers).
    pub const SIGTERM: u8 = 15;

    /// Status for a process that called `exit(code)`; only the low 8 bits
    /// of `code` are kept.
    pub const fn exit_status(code: u64) -> i32 {
        ((code & 0xff) as i32) << 8
    }

    /// Status for a process killed by `signal` (only the low 7 bits count;
    /// a `signal` of 0 would read back as an exit and is mapped to SIGKILL).
    pub const fn signal_status(signal: u8) -> i32 {
        let s = signal & 0x7f;
        if s == 0 {
            SIGKILL as i32
        } else {
            s as i32
        }
    }

    /// The exit code, if the process exited normally.
    pub const fn exited(status: i32) -> Option<u8> {
        if status & 0x7f == 0 {
            Some(((status >> 8) & 0xff) as u8)
        } else {
            None
        }
    }

    /// The signal that killed the process, if it was killed.
    pub const fn killed_by(status: i32) -> Option<u8> {
        let s = (status & 0x7f) as u8;
        if s != 0 {
            Some(s)
        } else {
            None
        }
    }

    /// The name of a signal number, for messages.
    pub const fn signal_name(signal: u8) -> &'static str {
        match signal {
            SIGINT => "SIGINT",
            SIGTERM => "SIGTERM",
            SIGILL => "SIGILL",
            SIGFPE => "SIGFPE",
            SIGKILL => "SIGKILL",
            SIGSEGV => "SIGSEGV",
            _ => "signal?",
        }
    }
}

/// A string passed to the kernel by address: `ptr` to `len` bytes of UTF-8
/// (not NUL-terminated). `exec`'s argv is an array of these, and so is the
/// argv the kernel builds on a new program's stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct UserStr {
    /// User virtual address of the first byte.
    pub ptr: u64,
    /// Length in bytes.
    pub len: u64,
}

/// Size in bytes of a [`UserStr`] (two `u64`s).
pub const USER_STR_SIZE: usize = 16;

/// Scheduling priority, the argument of `set_priority`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Priority {
    /// Runs before Normal and Low.
    High = 0,
    /// The default.
    Normal = 1,
    /// Runs only when nothing else is runnable.
    Low = 2,
}

impl Priority {
    /// Decodes a `set_priority` argument.
    pub const fn from_u64(v: u64) -> Option<Priority> {
        match v {
            0 => Some(Priority::High),
            1 => Some(Priority::Normal),
            2 => Some(Priority::Low),
            _ => None,
        }
    }
}

/// `set_affinity` argument meaning "any CPU".
pub const AFFINITY_ANY: u64 = u64::MAX;

/// Standard input (the serial console).
pub const STDIN: u64 = 0;
/// Standard output (the console).
pub const STDOUT: u64 = 1;
/// Standard error (the console).
pub const STDERR: u64 = 2;

/// Largest IPC message, in bytes.
pub const MAX_MSG: usize = 4096;
/// Number of IPC ports (valid port numbers are `0..NUM_PORTS`).
pub const NUM_PORTS: usize = 256;
/// Messages a port queues before `ipc_send` returns `AGAIN`.
pub const PORT_QUEUE: usize = 16;

/// Page size of user mappings.
pub const PAGE_SIZE: u64 = 4096;
/// Lowest valid user address: the null page is never mapped.
pub const USER_BASE: u64 = 0x1000;
/// One past the highest valid user address (the top page of the lower
/// canonical half is left unmapped, like Linux).
pub const USER_TOP: u64 = 0x0000_7fff_ffff_f000;

/// Longest `exec` path, in bytes.
pub const MAX_PATH: usize = 256;
/// Most arguments `exec` accepts.
pub const MAX_ARGS: usize = 32;
/// Most bytes of argument strings `exec` accepts in total.
pub const MAX_ARG_BYTES: usize = 4096;

/// Kernel statistics, filled by the `stats` system call. All fields are
/// counters or gauges since boot. New fields are only ever appended, so a
/// shorter buffer gets a consistent prefix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Stats {
    /// Nanoseconds since boot.
    pub uptime_ns: u64,
    /// CPUs online.
    pub num_cpus: u64,
    /// Physical frames managed by the frame allocator.
    pub frames_total: u64,
    /// Physical frames currently free.
    pub frames_free: u64,
    /// Live processes (including zombies not yet reaped).
    pub processes: u64,
    /// User context switches.
    pub ctx_switches: u64,
    /// Preemptions of user threads by the timer.
    pub preemptions: u64,
    /// System calls handled.
    pub syscalls: u64,
    /// Successful IPC sends.
    pub ipc_sends: u64,
    /// Successful IPC receives.
    pub ipc_recvs: u64,
    /// IPC sends refused because the queue was full.
    pub ipc_queue_full: u64,
    /// Task wake-ups.
    pub wakes: u64,
    /// Wake-ups of a task homed on another CPU.
    pub remote_wakes: u64,
    /// Timer interrupts taken.
    pub timer_ticks: u64,
    /// Inter-processor interrupts sent.
    pub ipis_sent: u64,
}

impl Stats {
    /// Number of `u64` fields.
    pub const FIELDS: usize = 15;
    /// Size in bytes (`size_of::<Stats>()`).
    pub const SIZE: usize = Self::FIELDS * 8;
    /// Field names, in layout order (for tables and JSON).
    pub const NAMES: [&'static str; Self::FIELDS] = [
        "uptime_ns",
        "num_cpus",
        "frames_total",
        "frames_free",
        "processes",
        "ctx_switches",
        "preemptions",
        "syscalls",
        "ipc_sends",
        "ipc_recvs",
        "ipc_queue_full",
        "wakes",
        "remote_wakes",
        "timer_ticks",
        "ipis_sent",
    ];

    /// The fields in layout order.
    pub const fn to_words(&self) -> [u64; Self::FIELDS] {
        [
            self.uptime_ns,
            self.num_cpus,
            self.frames_total,
            self.frames_free,
            self.processes,
            self.ctx_switches,
            self.preemptions,
            self.syscalls,
            self.ipc_sends,
            self.ipc_recvs,
            self.ipc_queue_full,
            self.wakes,
            self.remote_wakes,
            self.timer_ticks,
            self.ipis_sent,
        ]
    }

    /// Builds a `Stats` from its fields in layout order.
    pub const fn from_words(w: [u64; Self::FIELDS]) -> Stats {
        Stats {
            uptime_ns: w[0],
            num_cpus: w[1],
            frames_total: w[2],
            frames_free: w[3],
            processes: w[4],
            ctx_switches: w[5],
            preemptions: w[6],
            syscalls: w[7],
            ipc_sends: w[8],
            ipc_recvs: w[9],
            ipc_queue_full: w[10],
            wakes: w[11],
            remote_wakes: w[12],
            timer_ticks: w[13],
            ipis_sent: w[14],
        }
    }

    /// The in-memory (little-endian, `repr(C)`) bytes, as the kernel copies
    /// them to user space.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (chunk, w) in out.chunks_exact_mut(8).zip(self.to_words()) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Decodes a (possibly short) byte prefix; missing fields are 0.
    pub fn from_bytes(bytes: &[u8]) -> Stats {
        let mut w = [0u64; Self::FIELDS];
        for (slot, chunk) in w.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *slot = u64::from_le_bytes(b);
        }
        Stats::from_words(w)
    }
}

// Layout checks: the kernel and user space copy these as raw bytes.
const _: () = assert!(core::mem::size_of::<Stats>() == Stats::SIZE);
const _: () = assert!(core::mem::size_of::<UserStr>() == USER_STR_SIZE);
const _: () = assert!(USER_BASE.is_multiple_of(PAGE_SIZE) && USER_TOP.is_multiple_of(PAGE_SIZE));
const _: () = assert!(USER_BASE < USER_TOP);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trip() {
        for e in Errno::ALL {
            assert_eq!(Errno::from_code(e.code() as i64), Some(e));
            assert_eq!(Errno::from_ret(e.as_neg()), Err(e));
            assert_eq!(Errno::to_ret(Err(e)), e.as_neg());
            assert!(e.as_neg() < 0);
            assert!(e.name().starts_with('E'));
        }
        assert_eq!(Errno::FAULT.as_neg(), -14);
        assert_eq!(Errno::NOSYS.code(), 38);
    }

    #[test]
    fn from_ret_edges() {
        assert_eq!(Errno::from_ret(0), Ok(0));
        assert_eq!(Errno::from_ret(isize::MAX), Ok(isize::MAX as usize));
        assert_eq!(Errno::from_ret(-1), Err(Errno::PERM));
        assert_eq!(Errno::from_ret(-5), Err(Errno::INVAL)); // EIO: not in this ABI
        assert_eq!(Errno::from_ret(isize::MIN), Err(Errno::INVAL));
        assert_eq!(Errno::from_code(0), None);
        assert_eq!(Errno::from_code(i64::MIN), None);
    }

    #[test]
    fn wait_status() {
        use wait::*;
        for c in 0..=255u64 {
            let s = exit_status(c);
            assert_eq!(exited(s), Some(c as u8));
            assert_eq!(killed_by(s), None);
        }
        assert_eq!(exited(exit_status(0x1234)), Some(0x34));
        for sig in [SIGILL, SIGFPE, SIGKILL, SIGSEGV] {
            let s = signal_status(sig);
            assert_eq!(killed_by(s), Some(sig));
            assert_eq!(exited(s), None);
        }
        assert_eq!(killed_by(signal_status(0)), Some(SIGKILL));
        assert_eq!(signal_name(SIGSEGV), "SIGSEGV");
    }

    #[test]
    fn stats_bytes() {
        let mut w = [0u64; Stats::FIELDS];
        for (i, x) in w.iter_mut().enumerate() {
            *x = (i as u64 + 1) * 0x0101_0101_0101;
        }
        let s = Stats::from_words(w);
        assert_eq!(s.to_words(), w);
        let b = s.to_bytes();
        assert_eq!(Stats::from_bytes(&b), s);
        let short = Stats::from_bytes(&b[..20]);
        assert_eq!(short.uptime_ns, s.uptime_ns);
        assert_eq!(short.num_cpus, s.num_cpus);
        assert_eq!(short.frames_total, 0);
        assert_eq!(Stats::from_bytes(&[]), Stats::default());
    }

    #[test]
    fn names_and_priority() {
        assert_eq!(nr::name(nr::STATS), "stats");
        assert_eq!(nr::name(nr::NR_SYSCALLS), "unknown");
        for n in 0..nr::NR_SYSCALLS {
            assert_ne!(nr::name(n), "unknown");
        }
        assert_eq!(Priority::from_u64(1), Some(Priority::Normal));
        assert_eq!(Priority::from_u64(3), None);
    }
}
