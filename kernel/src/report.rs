//! The metrics summary printed at the end of a test run: every counter (`metrics`),
//! the IPC and process tables, and the executor's per-CPU statistics. Lives above
//! all of them, so the counters themselves stay a leaf.

use crate::metrics::{self, ipis};
use core::sync::atomic::Ordering;

/// Prints every counter and the per-CPU executor statistics (test mode, shutdown).
pub fn print_summary() {
    use crate::kprintln;
    let ipc = crate::ipc::PORTS.stats();
    kprintln!(
        "metrics: timer ticks {} | IPC sends {} recvs {} queue-full {} | TLB shootdowns {} | balancer moved {} | processes {} syscalls {} preemptions {} ring-3 pokes {}",
        metrics::totals().timer_ticks,
        ipc.sends,
        ipc.recvs,
        ipc.queue_full,
        metrics::SHOOTDOWNS.load(Ordering::Relaxed),
        metrics::MOVED.load(Ordering::Relaxed),
        metrics::CREATED.load(Ordering::Relaxed),
        metrics::syscalls_total(),
        metrics::PREEMPTIONS.load(Ordering::Relaxed),
        metrics::POKES.load(Ordering::Relaxed)
    );
    let (sys_fix, int80_fix) = (
        metrics::SYSCALLS_FIXED_UP.load(Ordering::Relaxed),
        metrics::INT80_FIXED_UP.load(Ordering::Relaxed),
    );
    if sys_fix + int80_fix > 0 {
        kprintln!("  hypervisor workarounds (arch::user): syscall {sys_fix} int 0x80 {int80_fix}");
    }
    let mut calls = alloc::string::String::new();
    for n in 0..=abi::nr::NR_SYSCALLS {
        let c = metrics::syscall_count(n);
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
            "  cpu{cpu}: polls {} wakes {} remote {} notifies {} steals {} | idle: halts {} ({:.0} us) polled {:.0} us, hits {} | ticks {} | IPIs tx {tx} rx {rx} | wake->poll p50 {:.1} us p99 {:.1} us max {:.1} us",
            s.polls, s.wakes, s.remote_wakes, s.notifies_sent, s.steals, s.halts, us(s.halt_ticks), us(s.poll_ticks), s.poll_hits,
            metrics::timer_ticks(cpu), us(w.p50), us(w.p99), us(w.max)
        );
    }
}
