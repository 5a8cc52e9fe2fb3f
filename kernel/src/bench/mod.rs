//! Benchmark mode: `bench=<name>` (or `bench=all`) on the kernel command line runs
//! in-kernel latency and throughput benchmarks at whatever CPU count the machine has,
//! prints machine-readable lines on the serial console, and exits QEMU.
//!
//! Output contract (parsed by the runner in `benches/runner`):
//!
//! ```text
//! BENCHINFO os=mello tsc_hz=<hz> cpus=<online CPUs> accel=<tcg|kvm|...|unknown>
//! BSAMPLES name=<metric> unit=<unit> v v v ...        (raw kept samples, <= 64 a line)
//! BENCH name=<metric> unit=<unit> min=.. p50=.. p99=.. max=.. n=..
//! BENCHDONE
//! ```
//!
//! Percentiles are nearest-rank over the kept samples (warm-up samples are discarded
//! before anything is printed). Lines starting with `#` are notes for humans. After
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
use alloc::string::String;
use core::fmt::Write;

/// What a benchmark returns: `Err` says why it could not measure.
type BenchResult = Result<(), String>;

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
    Bench { name: "syscall_getpid", min_cpus: 1, run: || user("/bench_user") },
    Bench { name: "ipc_pingpong_user", min_cpus: 2, run: || user("/bench_ipc") },
    Bench { name: "user_ctx_switch", min_cpus: 1, run: || user("/bench_yield") },
    Bench { name: "sleep_accuracy", min_cpus: 1, run: || user("/bench_sleep") },
];

/// A ring-3 benchmark: runs program `path` from the initrd (it prints its own
/// BSAMPLES/BENCH lines through `write`) and waits for it to exit 0.
fn user(path: &str) -> BenchResult {
    let pid = crate::proc::spawn(path, &[path.trim_start_matches('/')], None)
        .map_err(|e| alloc::format!("cannot start {path}: {e}"))?;
    let wait = crate::proc::wait(crate::proc::KERNEL_PID, Some(pid));
    match crate::sched::block_on(executor::timeout(wait, core::time::Duration::from_secs(120))) {
        Ok(Ok((_, status))) if abi::wait::exited(status) == Some(0) => Ok(()),
        Ok(Ok((_, status))) => Err(alloc::format!("{path} ended with status {status:#x}")),
        Ok(Err(e)) => Err(alloc::format!("waiting for {path}: {e}")),
        Err(_) => Err(alloc::format!("{path} did not finish within 120 s")),
    }
}

/// Runs benchmark `name` (or all of them) and exits QEMU. Never returns.
pub fn run(name: &str) -> ! {
    let online = smp::online();
    let selected: alloc::vec::Vec<&Bench> = if name == "all" {
        BENCHES.iter().collect()
    } else {
        match BENCHES.iter().find(|b| b.name == name) {
            Some(b) if b.min_cpus > online => {
                kprintln!("bench: benchmark '{name}' needs at least {} CPUs, but {online} are online (boot with more, e.g. SMP={})", b.min_cpus, b.min_cpus);
                exit(ExitCode::Failure)
            }
            Some(b) => alloc::vec![b],
            None => {
                let mut names = String::from("all");
                for b in BENCHES {
                    let _ = write!(names, ", {}", b.name);
                }
                kprintln!("bench: unknown benchmark '{name}'; valid names: {names}");
                exit(ExitCode::Failure)
            }
        }
    };
    kprintln!("BENCHINFO os=mello tsc_hz={} cpus={online} accel={}", time::tsc_hz(), accel());
    let mut failed = 0;
    for b in selected {
        if b.min_cpus > online {
            kprintln!("# {}: skipped (needs {} CPUs, {online} online)", b.name, b.min_cpus);
            continue;
        }
        let t0 = time::uptime_ns();
        match (b.run)() {
            Ok(()) => kprintln!("# {}: done in {} ms", b.name, (time::uptime_ns() - t0) / 1_000_000),
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
/// sample per boot, in microseconds.
fn ap_bringup() -> BenchResult {
    let Some(r) = crate::AP_REPORT.get() else { return Err("no AP bring-up report was kept".into()) };
    let aps = smp::count() - 1;
    if aps == 0 {
        kprintln!("# ap_bringup: one CPU, no APs to start; no sample");
        return Ok(());
    }
    kprintln!("# ap_bringup: {}/{aps} APs started concurrently ({} failed)", r.started, r.failed.len());
    let us = time::cycles_to_ns(r.cycles) / 1000;
    report("ap_bringup", "us", &mut [us]);
    Ok(())
}

/// Nearest-rank percentile `p` (0..=100) of `sorted` (non-empty, ascending).
fn percentile(sorted: &[u64], p: usize) -> u64 {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// Prints `samples` (in measurement order) as `BSAMPLES` lines, then sorts them and
/// prints the `BENCH` summary line; for cycles also a human note in microseconds.
/// Print nothing but a note if there are no samples.
fn report(name: &str, unit: &str, samples: &mut [u64]) {
    if samples.is_empty() {
        kprintln!("# {name}: no samples");
        return;
    }
    // `n=1` metrics (ap_bringup) carry their one value in the BENCH line only.
    if samples.len() > 1 {
        for chunk in samples.chunks(64) {
            let mut line = String::with_capacity(40 + chunk.len() * 8);
            let _ = write!(line, "BSAMPLES name={name} unit={unit}");
            for v in chunk {
                let _ = write!(line, " {v}");
            }
            kprintln!("{line}");
        }
    }
    samples.sort_unstable();
    let (min, max) = (samples[0], samples[samples.len() - 1]);
    let (p50, p99) = (percentile(samples, 50), percentile(samples, 99));
    kprintln!("BENCH name={name} unit={unit} min={min} p50={p50} p99={p99} max={max} n={}", samples.len());
    if unit == "cycles" {
        let us = |c: u64| {
            let ns = time::cycles_to_ns(c);
            alloc::format!("{}.{:03}", ns / 1000, ns % 1000)
        };
        kprintln!("# {name}: p50 {} us, p99 {} us, max {} us", us(p50), us(p99), us(max));
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
