//! Kernel metrics: atomic counters, cheap enough to be always on.

use core::sync::atomic::{AtomicU64, Ordering};

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

const MAX: usize = crate::arch::percpu::MAX_CPUS;
static TIMER_TICKS: [Counter; MAX] = [const { Counter::new() }; MAX];

/// Counts a timer interrupt on `cpu` (per-CPU, so ticks never share a cache line
/// across CPUs).
pub fn timer_tick(cpu: usize) {
    if let Some(c) = TIMER_TICKS.get(cpu) {
        c.inc();
    }
}
/// Timer interrupts taken by `cpu` so far.
pub fn timer_ticks(cpu: usize) -> u64 {
    TIMER_TICKS.get(cpu).map_or(0, Counter::get)
}

static HALTED: [Counter; MAX] = [const { Counter::new() }; MAX];
/// TSC at which `cpu` halted, 0 while it runs: a reader counts a halt in progress too
/// (an idle CPU may stay halted for seconds).
static HALT_START: [Counter; MAX] = [const { Counter::new() }; MAX];

/// `cpu` is about to halt (the idle path's `sti; hlt`); `now` is the TSC.
pub fn halt_begin(cpu: usize, now: u64) {
    if let Some(c) = HALT_START.get(cpu) {
        c.0.store(now, Ordering::Relaxed);
    }
}

/// `cpu` resumed from a halt that began at `start`.
pub fn halt_end(cpu: usize, start: u64, now: u64) {
    if let (Some(total), Some(s)) = (HALTED.get(cpu), HALT_START.get(cpu)) {
        // Only `cpu` writes its counters: plain stores.
        total.0.store(total.0.load(Ordering::Relaxed).wrapping_add(now.wrapping_sub(start)), Ordering::Relaxed);
        s.0.store(0, Ordering::Relaxed);
    }
}

/// TSC cycles `cpu` has spent halted since boot, including a halt in progress.
pub fn halted_cycles(cpu: usize) -> u64 {
    let done = HALTED.get(cpu).map_or(0, Counter::get);
    let start = HALT_START.get(cpu).map_or(0, Counter::get);
    if start == 0 {
        done
    } else {
        done + crate::arch::cpu::rdtsc().saturating_sub(start)
    }
}

static IPIS_SENT: [Counter; MAX] = [const { Counter::new() }; MAX];
static IPIS_RECEIVED: [Counter; MAX] = [const { Counter::new() }; MAX];

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

/// Sums over all CPUs, for the `stats` system call.
pub struct Totals {
    pub timer_ticks: u64,
    pub ipis_sent: u64,
}

/// Current totals over all CPUs.
pub fn totals() -> Totals {
    Totals {
        timer_ticks: TIMER_TICKS.iter().map(Counter::get).sum(),
        ipis_sent: IPIS_SENT.iter().map(Counter::get).sum(),
    }
}

/// Prints every counter and the per-CPU executor statistics (test mode, shutdown).
pub fn print_summary() {
    use crate::kprintln;
    let ipc = crate::ipc::PORTS.stats();
    kprintln!(
        "metrics: timer ticks {} | IPC sends {} recvs {} queue-full {} | TLB shootdowns {} | balancer moved {} | processes {} syscalls {} preemptions {}",
        totals().timer_ticks,
        ipc.sends,
        ipc.recvs,
        ipc.queue_full,
        crate::mm::tlb::SHOOTDOWNS.load(Ordering::Relaxed),
        crate::sched::balance::MOVED.load(Ordering::Relaxed),
        crate::proc::CREATED.load(Ordering::Relaxed),
        crate::proc::syscall::total(),
        crate::proc::thread::PREEMPTIONS.load(Ordering::Relaxed)
    );
    let (sys_fix, int80_fix) = (
        crate::arch::user::SYSCALLS_FIXED_UP.load(Ordering::Relaxed),
        crate::arch::user::INT80_FIXED_UP.load(Ordering::Relaxed),
    );
    if sys_fix + int80_fix > 0 {
        kprintln!("  hypervisor workarounds (arch::user): syscall {sys_fix} int 0x80 {int80_fix}");
    }
    let mut calls = alloc::string::String::new();
    for n in 0..=abi::nr::NR_SYSCALLS {
        let c = crate::proc::syscall::count(n);
        if c > 0 {
            use core::fmt::Write;
            let _ = write!(calls, " {} {c}", abi::nr::name(n));
        }
    }
    if !calls.is_empty() {
        kprintln!("  syscalls by number:{calls}");
    }
    let [ready, running, sleeping, blocked, zombie, _] = crate::proc::states();
    kprintln!("  processes now: ready {ready} running {running} sleeping {sleeping} blocked {blocked} zombie {zombie}");
    let e = crate::sched::exec();
    let us = |c: u64| crate::arch::time::cycles_to_ns(c) as f64 / 1000.0;
    for cpu in 0..crate::smp::online() {
        let s = e.stats(cpu);
        let (tx, rx) = ipis(cpu);
        let w = s.wake_latency;
        kprintln!(
            "  cpu{cpu}: polls {} wakes {} remote {} notifies {} steals {} | ticks {} | IPIs tx {tx} rx {rx} | wake->poll p50 {:.1} us p99 {:.1} us max {:.1} us",
            s.polls, s.wakes, s.remote_wakes, s.notifies_sent, s.steals, TIMER_TICKS[cpu].get(), us(w.p50), us(w.p99), us(w.max)
        );
    }
}
