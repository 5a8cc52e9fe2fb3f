//! Kernel metrics: every event counter of the kernel, atomic and cheap enough to be
//! always on. A leaf: it depends on nothing else in the kernel, so any layer may
//! count here (the HAL's TLB shootdowns and trap fix-ups, the scheduler's ticks and
//! IPIs, processes and system calls). Printing them is the kernel's job
//! (kernel/src/report.rs); the `stats` system call reads `totals`.

use core::sync::atomic::{AtomicU64, Ordering};

const MAX: usize = crate::MAX_CPUS;

/// A monotonically increasing event counter.
pub struct Counter(AtomicU64);

impl Counter {
    /// A zero counter.
    pub const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }

    /// Counts one event.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Counter::new()
    }
}

// ---- per CPU (each CPU counts on its own counter: no shared cache line) ----

static TIMER_TICKS: [Counter; MAX] = [const { Counter::new() }; MAX];
static IPIS_SENT: [Counter; MAX] = [const { Counter::new() }; MAX];
static IPIS_RECEIVED: [Counter; MAX] = [const { Counter::new() }; MAX];
static TIMER_ARMS: [Counter; MAX] = [const { Counter::new() }; MAX];

/// Counts a timer interrupt on `cpu`.
pub fn timer_tick(cpu: usize) {
    if let Some(c) = TIMER_TICKS.get(cpu) {
        c.inc();
    }
}

/// Timer interrupts taken by `cpu`.
pub fn timer_ticks(cpu: usize) -> u64 {
    TIMER_TICKS.get(cpu).map_or(0, Counter::get)
}

/// Counts a write of `cpu`'s timer deadline (arm or disarm). Each one costs a host
/// timer update under emulation, so the count per operation shows what a timer
/// policy costs apart from host speed.
pub fn timer_armed(cpu: usize) {
    if let Some(c) = TIMER_ARMS.get(cpu) {
        c.inc();
    }
}

/// Timer deadline writes on `cpu`.
pub fn timer_arms(cpu: usize) -> u64 {
    TIMER_ARMS.get(cpu).map_or(0, Counter::get)
}

/// Counts an IPI sent by `cpu`.
pub fn ipis_sent(cpu: usize) {
    if let Some(c) = IPIS_SENT.get(cpu) {
        c.inc();
    }
}

/// Counts an IPI received by `cpu`.
pub fn ipis_received(cpu: usize) {
    if let Some(c) = IPIS_RECEIVED.get(cpu) {
        c.inc();
    }
}

/// (sent, received) IPIs of `cpu`.
pub fn ipis(cpu: usize) -> (u64, u64) {
    (IPIS_SENT.get(cpu).map_or(0, Counter::get), IPIS_RECEIVED.get(cpu).map_or(0, Counter::get))
}

const SYSCALL_SLOTS: usize = abi::nr::NR_SYSCALLS as usize + 1;

/// One CPU's calls per system-call number (the last slot counts unknown numbers),
/// on cache lines of its own: the count is on every system call's path.
#[repr(align(64))]
struct SyscallCounts([AtomicU64; SYSCALL_SLOTS]);

static SYSCALLS: [SyscallCounts; MAX] =
    [const { SyscallCounts([const { AtomicU64::new(0) }; SYSCALL_SLOTS]) }; MAX];

/// Counts system call `n` on `cpu` (`n >= NR_SYSCALLS`: an unknown one).
pub fn syscall(cpu: usize, n: u64) {
    if let Some(c) = SYSCALLS.get(cpu) {
        c.0[n.min(abi::nr::NR_SYSCALLS) as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// Calls of system call `n` so far, over all CPUs (`n >= NR_SYSCALLS`: unknown ones).
pub fn syscall_count(n: u64) -> u64 {
    SYSCALLS.iter().map(|c| c.0[n.min(abi::nr::NR_SYSCALLS) as usize].load(Ordering::Relaxed)).sum()
}

/// Total system calls handled.
pub fn syscalls_total() -> u64 {
    (0..=abi::nr::NR_SYSCALLS).map(syscall_count).sum()
}

// ---- global ----

/// TLB shootdowns performed (`mm::tlb`).
pub static SHOOTDOWNS: AtomicU64 = AtomicU64::new(0);
/// Kernel page faults resolved by an exception-table fixup (`arch::trap`).
pub static FIXUPS_TAKEN: AtomicU64 = AtomicU64::new(0);
/// `syscall`s the hypervisor left half-done in ring 3 (`arch::user`).
pub static SYSCALLS_FIXED_UP: AtomicU64 = AtomicU64::new(0);
/// `int $0x80` system calls that came in as #UD (`arch::user`).
pub static INT80_FIXED_UP: AtomicU64 = AtomicU64::new(0);
/// Tasks the load balancer moved (`sched::balance`).
pub static MOVED: AtomicU64 = AtomicU64::new(0);
/// Interrupts sent to CPUs running ring 3 because another CPU queued a task there
/// (the kernel platform's `poke`).
pub static POKES: AtomicU64 = AtomicU64::new(0);
/// Preemptions (time slice used up with other work waiting, or the slice ended).
pub static PREEMPTIONS: AtomicU64 = AtomicU64::new(0);
/// Times a user thread gave its CPU to another task (yield, preemption, wait).
pub static SWITCHES: AtomicU64 = AtomicU64::new(0);
/// Processes created (spawn and fork).
pub static CREATED: AtomicU64 = AtomicU64::new(0);

/// Sums over all CPUs, for the `stats` system call.
pub struct Totals {
    pub timer_ticks: u64,
    pub ipis_sent: u64,
    /// Timer deadline writes (`timer_armed`).
    pub timer_arms: u64,
}

/// Current totals over all CPUs.
pub fn totals() -> Totals {
    Totals {
        timer_ticks: TIMER_TICKS.iter().map(Counter::get).sum(),
        ipis_sent: IPIS_SENT.iter().map(Counter::get).sum(),
        timer_arms: TIMER_ARMS.iter().map(Counter::get).sum(),
    }
}
