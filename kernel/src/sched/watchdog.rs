//! Hang detection: a CPU whose executor makes no progress for `limit` (5 s unless
//! set) is reported — the CPU, the task it is stuck in and a backtrace — and the
//! kernel panics, instead of hanging in silence.
//!
//! Each CPU runs a pinned High-priority `watchdog` task that wakes every `PERIOD`,
//! so a healthy CPU's poll count (the executor's own counter) never stands still
//! longer than that; while awake, the task checks its peers. Nothing is added to
//! the executor's hot path: a check reads a peer's counters from another CPU.
//!
//! A peer whose poll count has not moved for `limit` is probed with a RESCHEDULE
//! IPI: if it counts the IPI its interrupts are on, and the task it is polling
//! never returned from `poll`; if not, interrupts have been off all that time.
//! The checker prints what it saw and sends the peer an NMI; the peer's NMI
//! handler prints the interrupted code's backtrace and panics (test runs exit
//! with the failure status). The boot CPU may legitimately run outside the
//! executor with interrupts on (boot, the in-kernel test harness): only a task
//! stuck in its poll or interrupts left off counts there.
//!
//! Started in `run` and `test` modes, not for benchmarks (it wakes every CPU a
//! few times a second). Needs two CPUs: a lone CPU has nobody to watch it.

use crate::arch::{apic, trap};
use crate::kprintln;
use alloc::vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use executor::SpawnOptions;

/// How often each CPU's watchdog task wakes and checks its peers.
pub const PERIOD: Duration = Duration::from_millis(200);
/// Default time without progress that counts as a hang.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(5);

static LIMIT_MS: AtomicU64 = AtomicU64::new(DEFAULT_LIMIT.as_millis() as u64);
static STARTED: AtomicBool = AtomicBool::new(false);
/// The CPU that was sent the watchdog NMI (`usize::MAX`: none yet). Only the first
/// hang is reported.
static TARGET: AtomicUsize = AtomicUsize::new(usize::MAX);
/// What the checker found, for the NMI handler's panic message.
static STUCK_MS: AtomicU64 = AtomicU64::new(0);
static IRQS_OFF: AtomicBool = AtomicBool::new(false);

/// Sets the time without progress that counts as a hang (tests shorten it).
pub fn set_limit(d: Duration) {
    LIMIT_MS.store(d.as_millis().max(1) as u64, Ordering::Relaxed);
}

/// Starts the watchdog task on every online CPU (once).
pub fn start() {
    if STARTED.swap(true, Ordering::SeqCst) {
        return;
    }
    trap::set_nmi_handler(on_nmi);
    let ex = super::exec();
    for (cpu, c) in crate::smp::cpus().iter().enumerate().take(ex.num_cpus()) {
        if c.online.load(Ordering::Acquire) {
            let opts = SpawnOptions { priority: executor::Priority::High, cpu: Some(cpu), pinned: true, name: "watchdog" };
            ex.spawn_with(opts, watch(cpu)).detach();
        }
    }
}

/// What a checker last saw of a peer.
#[derive(Clone, Copy, Default)]
struct Seen {
    polls: u64,
    /// Uptime (ns) when `polls` was first seen at this value; 0: not yet.
    since: u64,
}

/// One CPU's watchdog task: checks every other online CPU each `PERIOD`.
async fn watch(me: usize) {
    let ex = super::exec();
    let mut seen = vec![Seen::default(); ex.num_cpus()];
    loop {
        executor::sleep(PERIOD).await;
        if TARGET.load(Ordering::Relaxed) != usize::MAX {
            continue; // a hang is being reported
        }
        let now = crate::arch::time::uptime_ns();
        let limit = LIMIT_MS.load(Ordering::Relaxed) * 1_000_000;
        for (p, s) in seen.iter_mut().enumerate() {
            if p == me || !crate::smp::cpus()[p].online.load(Ordering::Acquire) {
                continue;
            }
            let polls = ex.stats(p).polls;
            if polls != s.polls || s.since == 0 {
                *s = Seen { polls, since: now };
                continue;
            }
            if now - s.since >= limit {
                check(me, p, s).await;
                *s = Seen::default();
            }
        }
    }
}

/// Peer `p` has made no progress since `since`: probe its interrupts, report.
async fn check(me: usize, p: usize, seen: &Seen) {
    let since = seen.since;
    let ex = super::exec();
    let task = ex.current_task(p);
    let apic_id = crate::smp::cpus()[p].apic_id;
    let received = crate::metrics::ipis(p).1;
    apic::send_ipi(apic_id, apic::RESCHEDULE_VECTOR);
    executor::sleep(Duration::from_millis(50)).await;
    let irqs_on = crate::metrics::ipis(p).1 != received;
    if ex.stats(p).polls != seen.polls || ex.current_task(p) != task {
        return; // it moved after all
    }
    if task.is_none() && irqs_on && p == 0 {
        return; // the boot CPU in boot or test-harness code, outside the executor
    }
    if TARGET.compare_exchange(usize::MAX, p, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        return;
    }
    let ms = (crate::arch::time::uptime_ns() - since) / 1_000_000;
    STUCK_MS.store(ms, Ordering::Relaxed);
    IRQS_OFF.store(!irqs_on, Ordering::Relaxed);
    let what = match task {
        Some(t) => alloc::format!("task #{} has not returned from poll", t.get()),
        None => alloc::string::String::from("it is not polling any task"),
    };
    let irqs = if irqs_on { "interrupts on" } else { "interrupts off (a RESCHEDULE IPI was not taken)" };
    kprintln!("\n!!! WATCHDOG (cpu{me}): cpu{p} made no progress for {ms} ms: {what}; {irqs}; sending it an NMI");
    apic::send_nmi(apic_id);
    // Its NMI handler panics and ends the run; if that never happens, say so.
    executor::sleep(Duration::from_secs(2)).await;
    panic!("watchdog: cpu{p} hung and did not answer the NMI");
}

/// The NMI on the stuck CPU: names the task, prints the interrupted code's
/// backtrace, panics.
fn on_nmi(frame: &mut trap::TrapFrame) {
    let me = crate::arch::cpu_id();
    if TARGET.load(Ordering::SeqCst) != me {
        panic!("unexpected NMI at rip {:#x}", frame.rip);
    }
    let name = super::exec().current_task_name_here().unwrap_or("(none)");
    let ms = STUCK_MS.load(Ordering::Relaxed);
    let mut out = crate::panic::PanicWriter;
    let _ = writeln!(out, "!!! WATCHDOG: cpu{me} stuck for {ms} ms in task '{name}', interrupted at rip {:#x}", frame.rip);
    let _ = writeln!(out, "stuck at:");
    let line = |out: &mut crate::panic::PanicWriter, i: usize, addr: u64| {
        let _ = match crate::symbols::lookup(addr) {
            Some((f, off)) => writeln!(out, "  #{i:<2} {addr:#018x} {f}+{off:#x}"),
            None => writeln!(out, "  #{i:<2} {addr:#018x} ?"),
        };
    };
    line(&mut out, 0, frame.rip);
    crate::arch::backtrace::walk_from(frame.rbp, |i, addr| line(&mut out, i + 1, addr));
    let irqs = if IRQS_OFF.load(Ordering::Relaxed) { "interrupts off" } else { "interrupts on" };
    panic!("watchdog: cpu{me} hung for {ms} ms in task '{name}' ({irqs})");
}
