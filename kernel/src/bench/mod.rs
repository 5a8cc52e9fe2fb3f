//! Benchmark mode: `bench=<name>` (or `bench=all`) on the kernel command line runs
//! in-kernel latency and throughput benchmarks at whatever CPU count the machine has,
//! prints machine-readable lines on the serial console, and exits QEMU.
//!
//! Output contract (parsed by the runner in `benches/runner`):
//!
//! ```text
//! BENCHINFO os=mello tsc_hz=<hz> cpus=<online CPUs> accel=<tcg|kvm|...|unknown>
//! BSAMPLES name=<metric> unit=<unit> v v v ...        (raw kept samples, <= 64 a line)
//! BCOUNTS name=<bench> ops=<n> ipis=.. halts=.. poll_hits=.. poll_us=.. starved=.. polls=.. steals=.. timer_irqs=.. timer_arms=.. wakes=.. remote_wakes=..
//! BENCHDONE
//! ```
//!
//! The kernel prints raw samples only (warm-up samples are discarded first); every
//! statistic is computed by the runner. `BCOUNTS` follows each benchmark that
//! succeeded: the kernel counters summed over the online CPUs, taken before and after
//! it ([`Counts`]), and the number of operations it performed (see [`BenchResult`]),
//! so that the runner can print counts per operation, which do not depend on host
//! speed. Lines starting with `#` are notes for humans. After
//! `BENCHDONE` QEMU exits with 33; an unknown name, a benchmark that needs more CPUs
//! than are online (when asked for by name), or a failed benchmark exits with 35.
//!
//! Times are TSC cycles read with `rdtsc` on whichever CPU the event happens. Samples
//! that subtract TSC values read on two different CPUs rely on the TSCs being
//! synchronized: QEMU (TCG and KVM with a stable host TSC) presents one TSC to all
//! vCPUs, so they are. Nothing here prints while a benchmark is measuring.
//!
//! Metrics (in `bench=all` order), their start and stop points in the module docs of
//! `wake`, `ipi`, `pingpong`, `spawn`; `ap_bringup` below.

mod ipi;
mod pingpong;
mod spawn;
mod wake;

use crate::arch::qemu::{exit, ExitCode};
use crate::arch::{cpu, time};
use crate::{kprintln, smp};
use abi::nr;
use alloc::string::String;
use core::fmt::Write;

/// Kernel counters summed over the online CPUs: what `BCOUNTS` prints (as the
/// difference of two snapshots around one benchmark).
#[derive(Clone, Copy, Default)]
struct Counts {
    /// IPIs sent (any vector: RESCHEDULE, TLB shootdown, the benchmarks' own).
    ipis: u64,
    /// Idle periods that ended in a halt.
    halts: u64,
    /// Idle periods in which polling found work (no halt, no IPI needed).
    poll_hits: u64,
    /// Microseconds spent polling while idle (the idle policy's CPU cost).
    poll_us: u64,
    /// Polls cut short because the CPU they waited on did not run (host starvation).
    starved: u64,
    /// Task polls.
    polls: u64,
    /// Successful steals.
    steals: u64,
    /// Local APIC timer interrupts.
    timer_irqs: u64,
    /// Local APIC timer deadline writes (each a host timer update under QEMU).
    timer_arms: u64,
    /// Wakes that scheduled a task.
    wakes: u64,
    /// Of those, wakes issued from another CPU.
    remote_wakes: u64,
}

impl Counts {
    /// Reads every counter now. The one place that knows where they come from.
    fn now() -> Counts {
        let exec = crate::sched::exec();
        let t = crate::metrics::totals();
        let mut c = Counts { timer_irqs: t.timer_ticks, timer_arms: t.timer_arms, ..Counts::default() };
        for cpu in 0..smp::online() {
            let s = exec.stats(cpu);
            c.ipis += crate::metrics::ipis(cpu).0;
            c.halts += s.halts;
            c.poll_hits += s.poll_hits;
            c.poll_us += crate::arch::time::cycles_to_ns(s.poll_ticks) / 1000;
            c.starved += s.polls_starved;
            c.polls += s.polls;
            c.steals += s.steals;
            c.wakes += s.wakes;
            c.remote_wakes += s.remote_wakes;
        }
        c
    }

    /// The counts from `before` to `self`.
    fn since(&self, before: &Counts) -> Counts {
        let d = |a: u64, b: u64| a.wrapping_sub(b);
        Counts {
            ipis: d(self.ipis, before.ipis),
            halts: d(self.halts, before.halts),
            poll_hits: d(self.poll_hits, before.poll_hits),
            poll_us: d(self.poll_us, before.poll_us),
            starved: d(self.starved, before.starved),
            polls: d(self.polls, before.polls),
            steals: d(self.steals, before.steals),
            timer_irqs: d(self.timer_irqs, before.timer_irqs),
            timer_arms: d(self.timer_arms, before.timer_arms),
            wakes: d(self.wakes, before.wakes),
            remote_wakes: d(self.remote_wakes, before.remote_wakes),
        }
    }
}

/// What a benchmark returns: `Ok(ops)`, the operations of the kind one sample measures
/// that it performed while its counters were read (warm-up and dropped samples
/// included, so `BCOUNTS` per op is what one operation costs), or `Err`: why it could
/// not measure. Each benchmark's docs say what its operation is.
type BenchResult = Result<u64, String>;

/// One benchmark: its name on the command line, the CPUs it needs, its body.
struct Bench {
    name: &'static str,
    min_cpus: usize,
    run: fn() -> BenchResult,
}

/// Every benchmark, in `bench=all` order.
const BENCHES: &[Bench] = &[
    Bench { name: "timer_wake", min_cpus: 1, run: wake::timer_wake },
    Bench { name: "wake_same_cpu", min_cpus: 1, run: wake::wake_same_cpu },
    Bench { name: "wake_cross_idle", min_cpus: 2, run: wake::wake_cross_idle },
    Bench { name: "wake_cross_busy", min_cpus: 2, run: wake::wake_cross_busy },
    Bench { name: "ipi_roundtrip", min_cpus: 2, run: ipi::ipi_roundtrip },
    Bench { name: "ipc_pingpong_kernel", min_cpus: 2, run: pingpong::ipc_pingpong_kernel },
    Bench { name: "spawn_rate_1cpu", min_cpus: 1, run: || spawn::spawn_rate(1) },
    Bench { name: "spawn_rate_2cpu", min_cpus: 2, run: || spawn::spawn_rate(2) },
    Bench { name: "spawn_rate_4cpu", min_cpus: 4, run: || spawn::spawn_rate(4) },
    Bench { name: "spawn_rate_8cpu", min_cpus: 8, run: || spawn::spawn_rate(8) },
    Bench { name: "ap_bringup", min_cpus: 1, run: ap_bringup },
    // Ring 3: one op is one call of the system call named (bench_user also measures
    // rdtsc_overhead, which makes none; bench_ipc's op is one one-way message).
    Bench { name: "syscall_getpid", min_cpus: 1, run: || user("/bench_user", nr::GETPID) },
    Bench { name: "ipc_pingpong_user", min_cpus: 2, run: || user("/bench_ipc", nr::IPC_SEND) },
    Bench { name: "user_ctx_switch", min_cpus: 1, run: || user("/bench_yield", nr::YIELD) },
    Bench { name: "sleep_accuracy", min_cpus: 1, run: || user("/bench_sleep", nr::SLEEP) },
];

/// A ring-3 benchmark: runs program `path` from the initrd (it prints its own
/// BSAMPLES lines through `write`) and waits for it to exit 0. Its operations are the
/// calls of system call `op` made meanwhile (the program's count is its own business).
fn user(path: &str, op: u64) -> BenchResult {
    let calls_before = crate::metrics::syscall_count(op);
    let pid = crate::proc::spawn(path, &[path.trim_start_matches('/')], None)
        .map_err(|e| alloc::format!("cannot start {path}: {e}"))?;
    let wait = crate::proc::wait(crate::proc::KERNEL_PID, Some(pid));
    match crate::sched::block_on(executor::timeout(wait, core::time::Duration::from_secs(120))) {
        Ok(Ok((_, status))) if abi::wait::exited(status) == Some(0) => {
            Ok(crate::metrics::syscall_count(op) - calls_before)
        }
        Ok(Ok((_, status))) => Err(alloc::format!("{path} ended with status {status:#x}")),
        Ok(Err(e)) => Err(alloc::format!("waiting for {path}: {e}")),
        Err(_) => Err(alloc::format!("{path} did not finish within 120 s")),
    }
}

/// Runs benchmark `name` (or all of them) and exits QEMU. Never returns.
pub fn run(name: &str) -> ! {
    let online = smp::online();
    // `all`, one name, or a comma-separated list (in the order given).
    let selected: alloc::vec::Vec<&Bench> = if name == "all" {
        BENCHES.iter().collect()
    } else {
        let mut v = alloc::vec::Vec::new();
        for n in name.split(',').filter(|n| !n.is_empty()) {
            match BENCHES.iter().find(|b| b.name == n) {
                Some(b) if b.min_cpus > online => {
                    kprintln!("bench: benchmark '{n}' needs at least {} CPUs, but {online} are online (boot with more, e.g. SMP={})", b.min_cpus, b.min_cpus);
                    exit(ExitCode::Failure)
                }
                Some(b) => v.push(b),
                None => {
                    let mut names = String::from("all");
                    for b in BENCHES {
                        let _ = write!(names, ", {}", b.name);
                    }
                    kprintln!("bench: unknown benchmark '{n}'; valid names: {names} (or a comma-separated list)");
                    exit(ExitCode::Failure)
                }
            }
        }
        v
    };
    kprintln!(
        "BENCHINFO os=mello tsc_hz={} cpus={online} accel={} {}",
        time::tsc_hz(),
        accel(),
        crate::sched::tunables::describe()
    );
    let mut failed = 0;
    for b in selected {
        if b.min_cpus > online {
            kprintln!("# {}: skipped (needs {} CPUs, {online} online)", b.name, b.min_cpus);
            continue;
        }
        let t0 = time::uptime_ns();
        let before = Counts::now();
        match (b.run)() {
            Ok(ops) => {
                let c = Counts::now().since(&before);
                kprintln!(
                    "BCOUNTS name={} ops={ops} ipis={} halts={} poll_hits={} poll_us={} starved={} polls={} steals={} timer_irqs={} timer_arms={} wakes={} remote_wakes={}",
                    b.name, c.ipis, c.halts, c.poll_hits, c.poll_us, c.starved, c.polls, c.steals, c.timer_irqs, c.timer_arms, c.wakes, c.remote_wakes
                );
                kprintln!("# {}: done in {} ms", b.name, (time::uptime_ns() - t0) / 1_000_000);
            }
            Err(e) => {
                failed += 1;
                kprintln!("bench: {} FAILED: {e}", b.name);
            }
        }
    }
    crate::sched::trace::dump();
    if failed > 0 {
        kprintln!("bench: {failed} benchmark(s) failed");
        exit(ExitCode::Failure)
    }
    kprintln!("BENCHDONE");
    exit(ExitCode::Success)
}

/// The hypervisor, from the CPUID hypervisor leaf (0x4000_0000) signature.
fn accel() -> &'static str {
    if cpu::cpuid(1, 0)[2] & (1 << 31) == 0 {
        return "unknown"; // no hypervisor bit: bare metal, or a TCG CPU model without it
    }
    let [_, b, c, d] = cpu::cpuid(0x4000_0000, 0);
    let mut sig = [0u8; 12];
    for (i, r) in [b, c, d].iter().enumerate() {
        sig[i * 4..i * 4 + 4].copy_from_slice(&r.to_le_bytes());
    }
    match &sig {
        b"TCGTCGTCGTCG" => "tcg",
        b"KVMKVMKVM\0\0\0" => "kvm",
        b"Microsoft Hv" => "hyperv",
        b"VMwareVMware" => "vmware",
        _ => "unknown",
    }
}

/// `ap_bringup`: the wall time of the boot's AP bring-up (`smp::ap::start_all`: from
/// spawning the per-AP start tasks, each INIT, 10 ms, STARTUP, 200 us, [STARTUP], until
/// the last AP announced itself online), from the Report kept in `crate::AP_REPORT`. One
/// sample per boot, in microseconds. Its operations: the APs started.
fn ap_bringup() -> BenchResult {
    let Some(r) = crate::AP_REPORT.get() else { return Err("no AP bring-up report was kept".into()) };
    let aps = smp::count() - 1;
    if aps == 0 {
        kprintln!("# ap_bringup: one CPU, no APs to start; no sample");
        return Ok(0);
    }
    kprintln!("# ap_bringup: {}/{aps} APs started concurrently ({} failed)", r.started, r.failed.len());
    let us = time::cycles_to_ns(r.cycles) / 1000;
    report("ap_bringup", "us", &[us]);
    Ok(aps as u64)
}

/// Prints `samples` (in measurement order) as `BSAMPLES` lines, at most 64 values a
/// line; the runner computes every statistic. Prints only a note if there are none.
fn report(name: &str, unit: &str, samples: &[u64]) {
    if samples.is_empty() {
        kprintln!("# {name}: no samples");
        return;
    }
    for chunk in samples.chunks(64) {
        let mut line = String::with_capacity(40 + chunk.len() * 8);
        let _ = write!(line, "BSAMPLES name={name} unit={unit}");
        for v in chunk {
            let _ = write!(line, " {v}");
        }
        kprintln!("{line}");
    }
}

/// The CPU for single-CPU benchmarks: 1 when there is one (CPU 0 also runs the boot
/// flow's `block_on` and the balancer), else 0.
fn quiet_cpu() -> usize {
    if smp::online() > 1 { 1 } else { 0 }
}

/// A tiny xorshift generator, for jittering delays so samples do not phase-lock.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Spins (without yielding) for `ns` nanoseconds.
fn spin_ns(ns: u64) {
    let end = cpu::rdtsc() + time::ns_to_cycles(ns);
    while cpu::rdtsc() < end {
        core::hint::spin_loop();
    }
}
