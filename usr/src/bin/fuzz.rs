//! The system-call fuzzer: several processes make random system calls, through
//! `syscall` and `int 0x80`, with numbers in and out of range and arguments drawn
//! from edge values (0, -1, huge, null and near-null, kernel-half and
//! non-canonical addresses, the last user page, lengths that cross the user top,
//! pointers into the process's own memory), and check every answer they can
//! predict: a bad buffer is `FAULT`, an unknown number `NOSYS`, the registers the
//! ABI preserves come back unchanged.
//!
//! `fuzz [seed=N] [calls=N] [procs=N]`: `calls` per process (default 2000),
//! `procs` workers (default 4, at most 16); the seed is printed, and without
//! `seed=` comes from the clock. A pass: no check failed, every process reaped,
//! free frames and the process count back where they were after a warm-up pass,
//! and the kernel still answering. Then `test_exit` ends a `test=user:fuzz,...`
//! run (`make fuzz`); in other runs it is `PERM` and the exit code tells.
//!
//! Calls are shaped so that nothing can block for ever or end the test run: sleeps
//! are short; `read` never waits on the console; `write` puts nothing on it;
//! `ipc_recv` only takes from the worker's own port when a message is known to be
//! there; `wait` only waits for the caller's own children, which end by
//! themselves; `exec` runs only hostile ELF files (refused) or, in forked children,
//! this program in `child` mode; `test_exit` is never drawn.

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use usr::abi::{nr, MAX_MSG, NUM_PORTS, PAGE_SIZE, PORT_QUEUE, USER_TOP};
use usr::*;

entry!(main);

/// Ports the fuzzer uses: worker `i` receives on `FIRST_PORT + i`.
const FIRST_PORT: u64 = 232;
const MAX_PROCS: u64 = (NUM_PORTS as u64) - FIRST_PORT;
/// Live children per worker at most.
const MAX_CHILDREN: usize = 4;
/// Calls a forked child makes before it exits.
const CHILD_CALLS: u64 = 40;

/// xorshift64* — small, seedable, good enough to pick edge values.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Memory the kernel may write: never referenced from Rust while calls run.
/// Pointers are drawn in the first `SCRATCH_LEN` bytes; the padding after them
/// takes what a call writes past that (`stats` writes up to `Stats::SIZE` bytes
/// wherever its buffer starts), so nothing else of ours is ever overwritten.
struct Scratch(UnsafeCell<[u8; (SCRATCH_LEN + PAGE_SIZE) as usize]>);
// SAFETY: each process is single-threaded; the bytes are only reached through
// raw pointers handed to the kernel.
unsafe impl Sync for Scratch {}
const SCRATCH_LEN: u64 = 3 * PAGE_SIZE;
static SCRATCH: Scratch = Scratch(UnsafeCell::new([0; (SCRATCH_LEN + PAGE_SIZE) as usize]));
/// Read-only bytes of our own (rodata).
static RODATA: [u8; 64] = *b"the fuzzer's read-only bytes: the kernel may read, never write!!";

fn scratch() -> u64 {
    SCRATCH.0.get() as u64
}

/// What a pointer argument points at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mem {
    /// Never mapped for us: null page, kernel half, non-canonical, unmapped.
    Bad,
    /// Our writable memory, with this many bytes from the pointer on.
    Own(u64),
    /// Our read-only memory (code or rodata), with this many bytes.
    ReadOnly(u64),
}

fn pointer(r: &mut Rng) -> (u64, Mem) {
    match r.below(13) {
        0 => (0, Mem::Bad),
        1 => (r.below(USER_TOP.min(0x2000)), Mem::Bad), // null page and the next
        2 => (r.pick(&[0xffff_8000_0000_0000, 0xffff_ffff_8000_0000, u64::MAX - 7, u64::MAX]), Mem::Bad),
        3 => (0xffff_8000_0000_0000 + r.below(1 << 46), Mem::Bad),
        4 => (r.pick(&[0x0000_8000_0000_0000, 0x8000_0000_0000_0000, 0x1234_5678_9abc_def0]), Mem::Bad),
        5 => (0x0000_8000_0000_0000 + r.below(1 << 62), Mem::Bad),
        6 => (USER_TOP - PAGE_SIZE + r.below(PAGE_SIZE), Mem::Bad), // last user page
        7 => (0x7000_0000_0000 + r.below(1 << 30), Mem::Bad),
        8..=10 => {
            let off = r.below(SCRATCH_LEN);
            (scratch() + off, Mem::Own(SCRATCH_LEN - off))
        }
        11 => (main as fn(Args) -> i32 as usize as u64, Mem::ReadOnly(16)),
        _ => {
            let off = r.below(RODATA.len() as u64);
            (RODATA.as_ptr() as u64 + off, Mem::ReadOnly(RODATA.len() as u64 - off))
        }
    }
}

fn length(r: &mut Rng, ptr: u64) -> u64 {
    match r.below(11) {
        0 => 0,
        1 => 1,
        2 => r.below(64),
        3 => 1 + r.below(PAGE_SIZE),
        4 => PAGE_SIZE,
        5 => PAGE_SIZE + 1,
        6 => u64::MAX,
        7 => 1 << 63,
        8 => USER_TOP.wrapping_sub(ptr).wrapping_add(1 + r.below(64)), // crosses the top
        9 => r.below(SCRATCH_LEN),
        _ => r.below(4 * PAGE_SIZE),
    }
}

/// What the kernel must say about a buffer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Valid,
    Fault,
    /// Beyond what we know is mapped: either answer is fine.
    Unknown,
}

fn judge(ptr: u64, mem: Mem, len: u64, write: bool) -> Verdict {
    if len == 0 {
        return Verdict::Valid; // a zero-length buffer is valid whatever its address
    }
    if ptr.checked_add(len).is_none_or(|end| end > USER_TOP) {
        return Verdict::Fault;
    }
    match mem {
        Mem::Bad => Verdict::Fault,
        Mem::ReadOnly(_) if write => Verdict::Fault,
        Mem::Own(n) | Mem::ReadOnly(n) if len <= n => Verdict::Valid,
        _ => Verdict::Unknown,
    }
}

/// One raw call's result: rax, and whether every preserved register survived.
#[derive(Clone, Copy)]
struct Raw {
    ret: isize,
    preserved: bool,
}

const K12: u64 = 0x1212_1212_1212_1212;
const K13: u64 = 0x1313_1313_1313_1313;
const K14: u64 = 0x1414_1414_1414_1414;
const K15: u64 = 0x1515_1515_1515_1515;

macro_rules! raw_call {
    ($insn:literal, $n:expr, $a:expr) => {{
        let a: [u64; 6] = $a;
        let (ret, diff): (isize, u64);
        let (o0, o1, o2, o3, o4, o5, q12, q13, q14, q15): (u64, u64, u64, u64, u64, u64, u64, u64, u64, u64);
        // SAFETY: the fuzzer's buffers are SCRATCH (never referenced from Rust),
        // read-only memory the kernel must refuse to write, or memory that is not
        // ours; rbx and rbp are saved on the stack (no red zone on this target)
        // and restored; every other register the kernel may change is an output.
        unsafe {
            core::arch::asm!(
                "push rbx",
                "push rbp",
                "mov rbx, 0x0b0b0b0b0b0b0b0b",
                "mov rbp, 0x0e0e0e0e0e0e0e0e",
                $insn,
                "mov rcx, 0x0b0b0b0b0b0b0b0b",
                "xor rcx, rbx",
                "mov r11, 0x0e0e0e0e0e0e0e0e",
                "xor r11, rbp",
                "or rcx, r11",
                "pop rbp",
                "pop rbx",
                inlateout("rax") $n as isize => ret,
                inlateout("rdi") a[0] => o0, inlateout("rsi") a[1] => o1,
                inlateout("rdx") a[2] => o2, inlateout("r10") a[3] => o3,
                inlateout("r8") a[4] => o4, inlateout("r9") a[5] => o5,
                inlateout("r12") K12 => q12, inlateout("r13") K13 => q13,
                inlateout("r14") K14 => q14, inlateout("r15") K15 => q15,
                lateout("rcx") diff, lateout("r11") _,
            );
        }
        Raw {
            ret,
            preserved: diff == 0
                && [o0, o1, o2, o3, o4, o5] == a
                && [q12, q13, q14, q15] == [K12, K13, K14, K15],
        }
    }};
}

fn raw(via_int80: bool, n: u64, a: [u64; 6]) -> Raw {
    if via_int80 {
        raw_call!("int 0x80", n, a)
    } else {
        raw_call!("syscall", n, a)
    }
}

/// What a call may answer.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Ok(usize),
    AnyOk,
    Err(Errno),
    /// Success or one of these errors.
    OkOr(&'static [Errno]),
    OneOf(&'static [Errno]),
}

fn fits(e: Expect, got: Result<usize, Errno>) -> bool {
    match (e, got) {
        (Expect::Ok(v), Ok(g)) => v == g,
        (Expect::AnyOk, Ok(_)) => true,
        (Expect::Err(w), Err(g)) => w == g,
        (Expect::OkOr(_), Ok(_)) => true,
        (Expect::OkOr(ws) | Expect::OneOf(ws), Err(g)) => ws.contains(&g),
        _ => false,
    }
}

/// Hostile files exec may be given (refused; a missing one is `NOENT`).
const HOSTILE: [&str; 6] =
    ["/bad_stack_top_page", "/bad_interp", "/bad_wx_text", "/bad_thousands_of_segments", "/bad_empty", "/no_such_file"];

/// Per-process fuzzing state.
struct Fuzzer {
    rng: Rng,
    pid: u64,
    ncpus: u64,
    /// Worker index (its port is FIRST_PORT + worker), or None in a forked child.
    worker: Option<u64>,
    workers: u64,
    /// Messages known to be queued on the worker's own port.
    queued: usize,
    /// Live children: (pid, exit code they will end with).
    children: [(u64, u8); MAX_CHILDREN],
    nchildren: usize,
    last_time: u64,
    calls: u64,
}

impl Fuzzer {
    fn fail(&self, what: core::fmt::Arguments<'_>) {
        test::fail(file!(), line!(), format_args!("pid {} call {}: {what}", self.pid, self.calls));
    }

    fn port(&mut self) -> u64 {
        match self.rng.below(8) {
            0 => NUM_PORTS as u64,
            1 => self.rng.pick(&[u64::MAX, 1 << 32, 1 << 63, NUM_PORTS as u64 + 1]),
            _ => FIRST_PORT + self.rng.below(self.workers),
        }
    }

    /// Makes one random call and checks its answer.
    fn step(&mut self) {
        self.calls += 1;
        let r = &mut self.rng;
        let via80 = r.chance(30);
        let mut a = [0u64; 6];
        for x in &mut a {
            *x = match r.below(8) {
                0 => 0,
                1 => u64::MAX,
                2 => 1 << 63,
                3 => r.below(256),
                4 => r.next(),
                _ => pointer(r).0,
            };
        }
        let unknown = [nr::NR_SYSCALLS, nr::NR_SYSCALLS + 1, 1000, 1 << 32, (1 << 32) | 5, 1 << 63, u64::MAX, u32::MAX as u64];
        // The shell's calls, fuzzed where that cannot disturb other processes or the
        // run: never poweroff, no kill of a live process, no tunable changed.
        let shell = [nr::KILL, nr::PROC_LIST, nr::CPU_STATS, nr::TUNABLES, nr::INITRD_LIST, nr::SET_FOREGROUND];
        let n = if r.chance(12) {
            r.pick(&unknown)
        } else if r.chance(15) {
            r.pick(&shell)
        } else {
            r.below(nr::STATS + 1)
        };
        // set_priority/set_affinity name a pid in a[1] (0: the caller); only ourselves
        // or a pid that does not exist.
        let other = r.pick(&[1u64 << 40, u64::MAX]);
        let target = r.pick(&[0, 0, 0, self.pid, other]);
        let expect = match n {
            nr::WRITE => {
                let (p, m) = pointer(r);
                let len = length(r, p);
                a[0] = r.pick(&[0, 1, 2, 3, u64::MAX]);
                (a[1], a[2]) = (p, len);
                match judge(p, m, len, false) {
                    Verdict::Fault => Expect::Err(Errno::FAULT),
                    // Nothing reaches the console: fd 1/2 only with nothing to say.
                    _ if a[0] == 1 || a[0] == 2 => {
                        a[2] = 0;
                        Expect::Ok(0)
                    }
                    Verdict::Valid => Expect::Err(Errno::INVAL),
                    Verdict::Unknown => Expect::OneOf(&[Errno::INVAL, Errno::FAULT]),
                }
            }
            nr::EXIT | nr::FORK | nr::WAIT | nr::EXEC => return self.lifecycle(n, via80),
            nr::SLEEP => {
                let x = r.below(2_000_000);
                a[0] = r.pick(&[0, 1, 1000, x]);
                Expect::Ok(0)
            }
            nr::IPC_SEND => {
                let (p, m) = pointer(r);
                let len = if r.chance(20) { MAX_MSG as u64 + r.below(2) } else { length(r, p) };
                (a[1], a[2]) = (p, len);
                a[0] = self.port();
                let bad_port = a[0] >= NUM_PORTS as u64;
                match judge(p, m, len, false) {
                    Verdict::Fault => Expect::Err(Errno::FAULT),
                    Verdict::Valid if len > MAX_MSG as u64 => Expect::Err(Errno::MSGSIZE),
                    _ if len > MAX_MSG as u64 => Expect::OneOf(&[Errno::MSGSIZE, Errno::FAULT]),
                    Verdict::Valid if bad_port => Expect::Err(Errno::INVAL),
                    Verdict::Valid => Expect::OkOr(&[Errno::AGAIN]),
                    Verdict::Unknown => Expect::OkOr(&[Errno::AGAIN, Errno::FAULT, Errno::INVAL]),
                }
            }
            nr::IPC_RECV => return self.recv(via80),
            nr::GETPID => Expect::Ok(self.pid as usize),
            nr::YIELD => Expect::Ok(0),
            nr::READ => {
                let (p, m) = pointer(r);
                let len = length(r, p);
                a[0] = r.pick(&[0, 0, 1, 7, u64::MAX]);
                (a[1], a[2]) = (p, len);
                match judge(p, m, len, true) {
                    Verdict::Fault => Expect::Err(Errno::FAULT),
                    _ if a[0] == 0 && len == 0 => Expect::Ok(0),
                    _ => {
                        // Never wait for console input.
                        if a[0] == 0 {
                            a[0] = 5;
                        }
                        Expect::OneOf(&[Errno::INVAL, Errno::FAULT])
                    }
                }
            }
            nr::TIME => Expect::AnyOk,
            nr::GETCPU => Expect::AnyOk,
            nr::SET_PRIORITY => {
                // Low rarely: a Low worker waits until nothing else is runnable.
                a[0] = r.pick(&[0, 1, 1, 1, 2, 3, u64::MAX, 1 << 32]);
                a[1] = target;
                if a[0] > 2 {
                    Expect::Err(Errno::INVAL)
                } else if target == other {
                    Expect::Err(Errno::SRCH)
                } else {
                    Expect::Ok(0)
                }
            }
            nr::SET_AFFINITY => {
                let c = self.ncpus;
                let x = r.below(c);
                a[0] = r.pick(&[0, c - 1, x, c, 255, 1 << 32, u64::MAX, u64::MAX - 1]);
                a[1] = target;
                if !(a[0] < c || a[0] == AFFINITY_ANY) {
                    Expect::Err(Errno::INVAL)
                } else if target == other {
                    Expect::Err(Errno::SRCH)
                } else {
                    Expect::Ok(0)
                }
            }
            nr::STATS => {
                let (p, m) = pointer(r);
                let len = length(r, p);
                (a[0], a[1]) = (p, len);
                match judge(p, m, len, true) {
                    Verdict::Fault => Expect::Err(Errno::FAULT),
                    Verdict::Valid => Expect::Ok((len as usize).min(Stats::SIZE)),
                    Verdict::Unknown => Expect::OkOr(&[Errno::FAULT]),
                }
            }
            nr::TEST_EXIT | nr::POWEROFF => return, // never: it would end the test run
            nr::KILL => {
                // Only pids that do not exist (0 is the kernel's): the signal is
                // checked first.
                a[0] = r.pick(&[0, 1 << 40, u64::MAX]);
                a[1] = r.pick(&[0, 2, 9, 15, 1, 77, 1 << 8 | 9, u64::MAX, a[1]]);
                if matches!(a[1], 0 | 2 | 9 | 15) {
                    Expect::Err(Errno::SRCH)
                } else {
                    Expect::Err(Errno::INVAL)
                }
            }
            nr::SET_FOREGROUND => {
                a[0] = r.pick(&[1 << 40, u64::MAX]);
                Expect::Err(Errno::SRCH)
            }
            nr::PROC_LIST | nr::INITRD_LIST => {
                let (p, m) = pointer(r);
                let len = length(r, p);
                (a[0], a[1]) = (p, len);
                match judge(p, m, len, true) {
                    Verdict::Fault => Expect::Err(Errno::FAULT),
                    Verdict::Valid => Expect::AnyOk,
                    Verdict::Unknown => Expect::OkOr(&[Errno::FAULT]),
                }
            }
            nr::CPU_STATS => {
                let (p, m) = pointer(r);
                let len = length(r, p);
                let c = self.ncpus;
                a[0] = r.pick(&[0, c - 1, c, 1 << 32, u64::MAX]);
                (a[1], a[2]) = (p, len);
                match judge(p, m, len, true) {
                    Verdict::Fault => Expect::Err(Errno::FAULT),
                    Verdict::Valid if a[0] >= c => Expect::Err(Errno::INVAL),
                    Verdict::Valid => Expect::Ok((len as usize).min(CpuStats::SIZE)),
                    Verdict::Unknown => Expect::OkOr(&[Errno::FAULT, Errno::INVAL]),
                }
            }
            nr::TUNABLES => {
                // Reads only (no assignment: a[1] = 0), whatever the assignment pointer.
                let (p, m) = pointer(r);
                let len = length(r, p);
                a[1] = 0;
                (a[2], a[3]) = (p, len);
                match judge(p, m, len, true) {
                    Verdict::Fault => Expect::Err(Errno::FAULT),
                    Verdict::Valid => Expect::AnyOk,
                    Verdict::Unknown => Expect::OkOr(&[Errno::FAULT]),
                }
            }
            _ => Expect::Err(Errno::NOSYS),
        };
        let raw = raw(via80, n, a);
        self.answer(n, a, via80, expect, raw);
        if n == nr::TIME {
            let t = raw.ret as u64;
            if t < self.last_time {
                self.fail(format_args!("time went back: {} after {}", t, self.last_time));
            }
            self.last_time = t;
        }
        if n == nr::GETCPU && raw.ret as u64 >= self.ncpus {
            self.fail(format_args!("getcpu {} of {} CPUs", raw.ret, self.ncpus));
        }
    }

    fn answer(&self, n: u64, a: [u64; 6], via80: bool, expect: Expect, raw: Raw) {
        let got = Errno::from_ret(raw.ret);
        let how = if via80 { "int 0x80" } else { "syscall" };
        if !fits(expect, got) {
            self.fail(format_args!("{how} {} ({n:#x}) {a:#x?}: got {got:?}, expected {expect:?}", nr::name(n)));
        }
        if !raw.preserved {
            self.fail(format_args!("{how} {} ({n:#x}): preserved registers changed", nr::name(n)));
        }
    }

    /// `ipc_recv`: a bad buffer must fail before waiting; a good one only on our
    /// own port when a message is known to be there.
    fn recv(&mut self, via80: bool) {
        let r = &mut self.rng;
        let (p, m) = pointer(r);
        let len = length(r, p);
        let v = judge(p, m, len, true);
        let mut a = [0, p, len, r.next(), 0, 0];
        if v == Verdict::Fault {
            a[0] = self.port();
            let raw = raw(via80, nr::IPC_RECV, a);
            return self.answer(nr::IPC_RECV, a, via80, Expect::Err(Errno::FAULT), raw);
        }
        if r.chance(30) {
            a[0] = r.pick(&[NUM_PORTS as u64, u64::MAX, 1 << 40]);
            let raw = raw(via80, nr::IPC_RECV, a);
            let e = if v == Verdict::Valid { Expect::Err(Errno::INVAL) } else { Expect::OneOf(&[Errno::INVAL, Errno::FAULT]) };
            return self.answer(nr::IPC_RECV, a, via80, e, raw);
        }
        let Some(w) = self.worker else { return };
        let port = FIRST_PORT + w;
        if self.queued == 0 {
            let msg = [w as u8; 8];
            match ipc_send(port, &msg) {
                Ok(()) => self.queued = 1,
                Err(Errno::AGAIN) => self.queued = PORT_QUEUE,
                Err(e) => return self.fail(format_args!("ipc_send to own port: {e}")),
            }
        }
        // Into scratch only: a buffer we are sure of, so the message is not lost.
        let len = len.min(SCRATCH_LEN);
        let a = [port, scratch(), len, 0, 0, 0];
        let raw = raw(via80, nr::IPC_RECV, a);
        self.queued -= 1;
        self.answer(nr::IPC_RECV, a, via80, Expect::AnyOk, raw);
        if let Ok(n) = Errno::from_ret(raw.ret) {
            if n > MAX_MSG {
                self.fail(format_args!("ipc_recv: message of {n} bytes"));
            }
        }
    }

    /// fork, wait, exec and exit, used so that nothing waits for ever.
    fn lifecycle(&mut self, n: u64, via80: bool) {
        let r = &mut self.rng;
        match n {
            nr::FORK if self.worker.is_some() && self.nchildren < MAX_CHILDREN => {
                let seed = r.next();
                let raw = raw(via80, nr::FORK, [r.next(), 0, 0, 0, 0, 0]);
                match Errno::from_ret(raw.ret) {
                    Ok(0) => child(seed, self.ncpus, self.workers),
                    Ok(pid) => {
                        self.children[self.nchildren] = (pid as u64, child_code(seed));
                        self.nchildren += 1;
                    }
                    Err(Errno::AGAIN | Errno::NOMEM) => {}
                    Err(e) => self.fail(format_args!("fork: {e}")),
                }
                if !raw.preserved {
                    self.fail(format_args!("fork: preserved registers changed"));
                }
            }
            nr::WAIT => {
                let (p, m) = if r.chance(30) { (0, Mem::Own(0)) } else { pointer(r) };
                let v = if p == 0 { Verdict::Valid } else { judge(p, m, 4, true) };
                let p = if v == Verdict::Unknown { scratch() } else { p };
                let a = [p, r.next(), 0, 0, 0, 0];
                if v == Verdict::Fault {
                    let raw = raw(via80, nr::WAIT, a);
                    return self.answer(nr::WAIT, a, via80, Expect::Err(Errno::FAULT), raw);
                }
                if self.nchildren == 0 {
                    let raw = raw(via80, nr::WAIT, a);
                    return self.answer(nr::WAIT, a, via80, Expect::Err(Errno::CHILD), raw);
                }
                self.reap_one();
            }
            nr::EXEC => {
                let (p, m) = pointer(r);
                let path = r.pick(&HOSTILE);
                let (argv, argc) = match r.below(4) {
                    0 => (p, r.below(4)),
                    1 => (p, r.pick(&[33, 1000, u64::MAX])),
                    _ => (0, 0),
                };
                let expect;
                let a = if m == Mem::Bad && r.chance(60) {
                    expect = Expect::Err(Errno::FAULT);
                    [p, 1 + r.below(256), argv, argc, 0, 0]
                } else if r.chance(40) {
                    // Longer than MAX_PATH.
                    expect = Expect::OneOf(if m == Mem::Bad { &[Errno::FAULT] } else { &[Errno::INVAL, Errno::FAULT] });
                    [p, 257 + r.below(1 << 20), argv, argc, 0, 0]
                } else {
                    expect = Expect::OneOf(&[Errno::NOEXEC, Errno::NOENT, Errno::FAULT, Errno::INVAL]);
                    [path.as_ptr() as u64, path.len() as u64, argv, argc, 0, 0]
                };
                let raw = raw(via80, nr::EXEC, a);
                self.answer(nr::EXEC, a, via80, expect, raw);
            }
            _ => {
                // exit is the end of a forked child; fork beyond the limit, nothing.
            }
        }
    }

    /// Waits for one child and checks its status.
    fn reap_one(&mut self) {
        match wait() {
            Ok((pid, status)) => {
                let Some(i) = self.children[..self.nchildren].iter().position(|c| c.0 == pid) else {
                    return self.fail(format_args!("wait returned {pid}, not a child"));
                };
                let want = self.children[i].1;
                if exited(status) != Some(want) {
                    self.fail(format_args!("child {pid}: status {status:#x}, expected exit {want}"));
                }
                self.nchildren -= 1;
                self.children[i] = self.children[self.nchildren];
            }
            Err(e) => self.fail(format_args!("wait with {} children: {e}", self.nchildren)),
        }
    }
}

/// The low byte a forked child with `seed` exits with (after a clean run).
fn child_code(seed: u64) -> u8 {
    (seed >> 16) as u8 & 0x7f
}

/// A forked child: a short burst of calls, sometimes after exec'ing this program
/// in child mode, then `exit` with a random code whose low byte the parent checks.
fn child(seed: u64, ncpus: u64, workers: u64) -> ! {
    let mut r = Rng::new(seed);
    if r.chance(25) {
        let mut sbuf = [0u8; 32];
        let mut cbuf = [0u8; 32];
        let mut wbuf = [0u8; 32];
        let (s, c, w) = (
            fmt_arg(&mut sbuf, "seed=", seed),
            fmt_arg(&mut cbuf, "cpus=", ncpus),
            fmt_arg(&mut wbuf, "procs=", workers),
        );
        let e = exec("/fuzz", &["fuzz", "child", s, c, w]);
        test::fail(file!(), line!(), format_args!("exec /fuzz child: {e}"));
    }
    child_run(seed, ncpus, workers)
}

fn child_run(seed: u64, ncpus: u64, workers: u64) -> ! {
    let mut f = Fuzzer::new(seed ^ 0xc41d, None, workers, ncpus);
    for _ in 0..CHILD_CALLS {
        f.step();
    }
    let code = if test::failures() == 0 { child_code(seed) } else { 0xff };
    if code == 0xff {
        println!("fuzz: child {} failed {} checks (seed {seed})", getpid().unwrap_or(0), test::failures());
    }
    let high = Rng::new(seed).next() & !0xff;
    // SAFETY: exit touches no memory and does not return.
    unsafe { usr::syscall::syscall1(nr::EXIT, high | code as u64) };
    exit(0xfe)
}

fn fmt_arg<'a>(buf: &'a mut [u8; 32], key: &str, v: u64) -> &'a str {
    let mut n = key.len();
    buf[..n].copy_from_slice(key.as_bytes());
    let mut digits = [0u8; 20];
    let mut d = 0;
    let mut x = v;
    loop {
        digits[d] = b'0' + (x % 10) as u8;
        d += 1;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    while d > 0 && n < buf.len() {
        d -= 1;
        buf[n] = digits[d];
        n += 1;
    }
    core::str::from_utf8(&buf[..n]).unwrap_or("")
}

impl Fuzzer {
    fn new(seed: u64, worker: Option<u64>, workers: u64, ncpus: u64) -> Fuzzer {
        Fuzzer {
            rng: Rng::new(seed),
            pid: getpid().unwrap_or(0),
            ncpus: ncpus.max(1),
            worker,
            workers,
            queued: 0,
            children: [(0, 0); MAX_CHILDREN],
            nchildren: 0,
            last_time: 0,
            calls: 0,
        }
    }
}

/// One worker: `calls` random calls, then its children reaped.
fn worker(seed: u64, index: u64, workers: u64, ncpus: u64, calls: u64) -> ! {
    let mut f = Fuzzer::new(seed, Some(index), workers, ncpus);
    for i in 0..calls {
        f.step();
        if i % 64 == 63 {
            let _ = set_priority(Priority::Normal);
        }
    }
    while f.nchildren > 0 {
        f.reap_one();
    }
    check_eq!(wait(), Err(Errno::CHILD), "worker {index}: children left");
    exit(if test::failures() == 0 { 0 } else { 1 })
}

/// Forks the workers and reaps them; false if one failed.
fn pass(seed: u64, procs: u64, ncpus: u64, calls: u64) -> bool {
    let mut ok = true;
    let mut started = 0;
    for i in 0..procs {
        match fork() {
            Ok(Fork::Child) => worker(seed ^ (i + 1).wrapping_mul(0x9e37_79b9), i, procs, ncpus, calls),
            Ok(Fork::Parent(_)) => started += 1,
            Err(e) => {
                check!(false, "fork of worker {i}: {e}");
                ok = false;
            }
        }
    }
    for _ in 0..started {
        match wait() {
            Ok((pid, s)) if exited(s) != Some(0) => {
                check!(false, "worker {pid} ended with status {s:#x}");
                ok = false;
            }
            Ok(_) => {}
            Err(e) => {
                check!(false, "wait for workers: {e}");
                ok = false;
            }
        }
    }
    ok
}

/// Empties the fuzzer's ports (all workers are gone): a marker goes in, messages
/// come out until the marker does.
fn drain(procs: u64) {
    let mut buf = [0u8; 16];
    for port in FIRST_PORT..FIRST_PORT + procs {
        let marker = [0xee, port as u8, 0x4d, 0x41, 0x52, 0x4b];
        loop {
            match ipc_send(port, &marker) {
                Ok(()) => break,
                Err(Errno::AGAIN) => {
                    let _ = ipc_recv(port, &mut buf);
                }
                Err(e) => {
                    check!(false, "drain port {port}: {e}");
                    return;
                }
            }
        }
        while let Ok(n) = ipc_recv(port, &mut buf) {
            if n == marker.len() && buf[..n] == marker {
                break;
            }
        }
    }
}

fn main(args: Args) -> i32 {
    let mut seed = None;
    let (mut calls, mut procs, mut cpus, mut child_mode) = (2000u64, 4u64, 0u64, false);
    for a in args.iter().skip(1) {
        let num = |p: &str| a.strip_prefix(p).and_then(|v| v.parse::<u64>().ok());
        if let Some(v) = num("seed=") {
            seed = Some(v);
        } else if let Some(v) = num("calls=") {
            calls = v;
        } else if let Some(v) = num("procs=") {
            procs = v.clamp(1, MAX_PROCS.min(16));
        } else if let Some(v) = num("cpus=") {
            cpus = v;
        } else if a == "child" {
            child_mode = true;
        } else {
            println!("fuzz: ignoring argument '{a}'");
        }
    }
    let seed = seed.unwrap_or_else(|| time_ns().unwrap_or(1) ^ usr::tsc::rdtsc());
    if child_mode {
        child_run(seed, cpus.max(1), procs);
    }
    let Ok(s0) = stats() else {
        println!("fuzz: stats failed");
        return 1;
    };
    let ncpus = s0.num_cpus.max(1);
    println!("fuzz: seed={seed} calls={calls} procs={procs} cpus={ncpus} (replay: make fuzz SEED={seed} CALLS={calls} SMP={ncpus})");
    // Warm-up: kernel caches and the heap reach their size before we count.
    let warm = pass(seed ^ 0x5741_524d, procs, ncpus, calls.min(300));
    drain(procs);
    let before = stats().unwrap_or_default();
    let t0 = time_ns().unwrap_or(0);
    let ok = pass(seed, procs, ncpus, calls);
    drain(procs);
    let after = stats().unwrap_or_default();
    let ms = (time_ns().unwrap_or(0) - t0) / 1_000_000;
    check!(warm && ok, "a worker failed (its FAIL lines are above)");
    check_eq!(wait(), Err(Errno::CHILD), "children left");
    check_eq!(after.frames_free, before.frames_free, "free frames");
    check_eq!(after.processes, before.processes, "processes");
    // Still answering: a call of each kind that must work.
    check_eq!(getpid().map(|p| p > 0), Ok(true));
    check!(time_ns().is_ok() && yield_now().is_ok() && sleep_ns(1000).is_ok());
    match fork() {
        Ok(Fork::Child) => exit(42),
        Ok(Fork::Parent(pid)) => check_eq!(wait().map(|(p, s)| (p == pid, exited(s))), Ok((true, Some(42)))),
        Err(e) => check!(false, "fork after fuzzing: {e}"),
    }
    println!(
        "fuzz: {} calls in {ms} ms; frames free {} -> {}, processes {} -> {}, syscalls counted {}",
        calls * procs,
        before.frames_free,
        after.frames_free,
        before.processes,
        after.processes,
        after.syscalls - before.syscalls
    );
    let code = test::finish("fuzz");
    // Ends a `test=user:fuzz,...` run; PERM (and we just exit) in any other.
    // SAFETY: test_exit takes no pointer.
    let r = Errno::from_ret(unsafe { usr::syscall::syscall1(nr::TEST_EXIT, code as u64) });
    if r != Err(Errno::PERM) {
        println!("fuzz: test_exit answered {r:?}, expected EPERM outside a user-driven run");
        return 1;
    }
    code
}
