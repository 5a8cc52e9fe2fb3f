//! Host benchmark of the `executor` crate against tokio, async-executor and futures'
//! LocalPool: spawn+complete throughput (1/2/4/8 threads) and wake latency (same thread,
//! and from a foreign thread to an idle worker). Prints tables; `--json PATH` writes JSON.
//!
//! Run: `cargo run --release -p benches --bin executor-bench [-- --quick] [-- --json PATH]`
//! (`-- --profile-ours` runs only our executor, longer, for `perf record`;
//! `-- --cross-only PAUSE_NS` runs only the idle cross-thread case with that pause;
//! `-- --only EXEC WORKLOAD N` runs one workload of one executor, for callgrind: EXEC is
//! ours, tokio-current, tokio-multi, async-executor or localpool; WORKLOAD is spawn (N
//! tasks spawned and joined on 1 thread) or pingpong (N rounds, 2 same-thread wakes each);
//! `--only ours ipc N`: N rounds of an 8-byte message each way through a `kcore::ipc`
//! port table, 2 sends + 2 receives + 2 wakes, for `benches/scripts/callgrind-ops.sh ours`).

mod runners;
mod workload;

use std::fmt::Write as _;
use std::time::Instant;

use runners::{Builtin, Exec};
use workload::Summary;

struct Config {
    thread_counts: Vec<usize>,
    spawn_total: usize,
    reps: usize,
    pingpong_rounds: usize,
    cross_rounds: usize,
    cross_pause_ns: u64,
    json: Option<String>,
}

fn config() -> Config {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let json = args.iter().position(|a| a == "--json").and_then(|i| args.get(i + 1).cloned());
    Config {
        thread_counts: vec![1, 2, 4, 8],
        spawn_total: if quick { 100_000 } else { 400_000 },
        reps: if quick { 1 } else { 3 },
        pingpong_rounds: if quick { 5_000 } else { 100_000 },
        cross_rounds: if quick { 1_000 } else { 20_000 },
        cross_pause_ns: 50_000,
        json,
    }
}

struct ThroughputRow {
    exec: Exec,
    threads: usize,
    tasks_per_sec: f64,
}

struct LatencyRow {
    case: &'static str,
    exec: &'static str,
    s: Summary,
    builtin: Builtin,
}

fn main() {
    let cfg = config();
    if let Some(p) = std::env::args().skip_while(|a| a != "--cross-only").nth(1) {
        let pause: u64 = p.parse().unwrap();
        for e in Exec::ALL {
            let (v, _) = runners::cross_thread_latency(e, cfg.cross_rounds, pause, false);
            let s = Summary::of(v);
            println!("{:24} pause {pause:6} ns: p50 {:6} p99 {:6}", e.name(), s.p50, s.p99);
        }
        return;
    }
    if let Some(i) = std::env::args().position(|a| a == "--only") {
        let a: Vec<String> = std::env::args().skip(i + 1).take(3).collect();
        let usage = "--only EXEC (ours|tokio-current|tokio-multi|async-executor|localpool) spawn|pingpong N, or --only ours ipc N";
        let (Some(e), Some(w), Some(n)) = (a.first(), a.get(1), a.get(2).and_then(|n| n.parse().ok())) else {
            panic!("{usage}");
        };
        let e = Exec::ALL.into_iter().find(|x| x.short() == e).expect(usage);
        match w.as_str() {
            "spawn" => {
                let d = runners::spawn_throughput(e, 1, n);
                println!("{} spawn {n}: {:.2} Mtasks/s", e.name(), n as f64 / d.as_secs_f64() / 1e6);
            }
            "pingpong" => {
                let (v, _) = runners::same_thread_latency(e, n);
                println!("{} pingpong {n}: p50 {} ns", e.name(), Summary::of(v).p50);
            }
            "ipc" if e == runners::Exec::Ours => {
                runners::ours_ipc_pingpong(n);
                println!("{} ipc {n}: done", e.name());
            }
            _ => panic!("{usage}"),
        }
        return;
    }
    if std::env::args().any(|a| a == "--profile-ours") {
        // A long run of our executor alone, for `perf record`.
        let d = runners::spawn_throughput(Exec::Ours, 1, 3_000_000);
        println!("spawn: {:.2} Mtasks/s", 3.0 / d.as_secs_f64());
        let (v, _) = runners::same_thread_latency(Exec::Ours, 1_000_000);
        println!("same-thread p50 {} ns", Summary::of(v).p50);
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    println!("executor-bench: host has {cores} cores; runs with more threads than cores are");
    println!("oversubscribed and noisy. Times are wall-clock ns from Instant.\n");

    let mut thr = Vec::new();
    for &threads in &cfg.thread_counts {
        for e in Exec::ALL.into_iter().filter(|e| threads <= e.max_threads()) {
            let per_root = cfg.spawn_total / threads;
            let mut runs: Vec<f64> = (0..cfg.reps)
                .map(|_| {
                    let d = runners::spawn_throughput(e, threads, per_root);
                    (per_root * threads) as f64 / d.as_secs_f64()
                })
                .collect();
            runs.sort_by(f64::total_cmp);
            thr.push(ThroughputRow { exec: e, threads, tasks_per_sec: runs[runs.len() / 2] });
        }
    }
    print_throughput(&cfg, &thr, cores);

    let mut lat = Vec::new();
    for e in Exec::ALL {
        let (v, builtin) = runners::same_thread_latency(e, cfg.pingpong_rounds);
        lat.push(LatencyRow { case: "same-thread", exec: e.name(), s: Summary::of(v), builtin });
    }
    for e in Exec::ALL {
        let (v, builtin) = runners::cross_thread_latency(e, cfg.cross_rounds, 5_000, true);
        lat.push(LatencyRow { case: "cross-thread, busy", exec: e.name(), s: Summary::of(v), builtin });
    }
    for e in Exec::ALL {
        let (v, builtin) = runners::cross_thread_latency(e, cfg.cross_rounds, cfg.cross_pause_ns, false);
        lat.push(LatencyRow { case: "cross-thread, idle", exec: e.name(), s: Summary::of(v), builtin });
    }
    let (v, builtin) = runners::ours_cross_cpu_pingpong(cfg.cross_rounds);
    lat.push(LatencyRow { case: "cross-cpu ping-pong", exec: "ours (pinned 0<->1)", s: Summary::of(v), builtin });
    print_latency(&cfg, &lat);

    println!("\ntotal bench time {:.1} s", start.elapsed().as_secs_f64());
    if let Some(path) = &cfg.json {
        std::fs::write(path, to_json(cores, &thr, &lat)).expect("write json");
        println!("wrote {path}");
    }
}

fn print_throughput(cfg: &Config, rows: &[ThroughputRow], cores: usize) {
    println!(
        "## spawn+complete throughput ({} trivial tasks per run, joined in batches of {}, median of {})",
        cfg.spawn_total,
        workload::BATCH,
        cfg.reps
    );
    println!("| executor | threads | Mtasks/s total | Mtasks/s per thread | vs 1 thread |");
    println!("|---|---:|---:|---:|---:|");
    for r in rows {
        let base = rows
            .iter()
            .find(|b| b.exec == r.exec && b.threads == 1)
            .map_or(f64::NAN, |b| b.tasks_per_sec);
        let over = if r.threads > cores { " (oversubscribed)" } else { "" };
        println!(
            "| {} | {}{} | {:.2} | {:.2} | {:.2}x |",
            r.exec.name(),
            r.threads,
            over,
            r.tasks_per_sec / 1e6,
            r.tasks_per_sec / 1e6 / r.threads as f64,
            r.tasks_per_sec / base
        );
    }
}

fn print_latency(cfg: &Config, rows: &[LatencyRow]) {
    println!("\n## wake latency, ns (wake() to the woken task's poll)");
    println!(
        "same-thread: two tasks on one worker bounce a baton ({} rounds, 2 samples each).",
        cfg.pingpong_rounds
    );
    println!(
        "cross-thread: a plain OS thread wakes a task ({} samples); busy: another task on that",
        cfg.cross_rounds
    );
    println!(
        "worker yields in a loop, so it never sleeps; idle: the worker sleeps between wakes (~{} us",
        cfg.cross_pause_ns / 1000
    );
    println!("apart), so the OS thread wake-up (tens of us in this VM) dominates for every executor.");
    println!("builtin = our executor's own per-CPU histogram of the same run (log2 buckets: upper bounds).");
    println!("| case | executor | samples | min | p50 | p99 | max | builtin p50/p99 |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let b = r.builtin.map_or("-".to_string(), |b| format!("{}/{}", b.p50, b.p99));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.case, r.exec, r.s.samples, r.s.min, r.s.p50, r.s.p99, r.s.max, b
        );
    }
}

fn to_json(cores: usize, thr: &[ThroughputRow], lat: &[LatencyRow]) -> String {
    let mut s = format!("{{\n  \"host_cores\": {cores},\n  \"throughput\": [\n");
    for (i, r) in thr.iter().enumerate() {
        let comma = if i + 1 < thr.len() { "," } else { "" };
        let _ = writeln!(
            s,
            "    {{\"executor\": \"{}\", \"threads\": {}, \"tasks_per_sec\": {:.0}}}{comma}",
            r.exec.name(),
            r.threads,
            r.tasks_per_sec
        );
    }
    s.push_str("  ],\n  \"latency_ns\": [\n");
    for (i, r) in lat.iter().enumerate() {
        let comma = if i + 1 < lat.len() { "," } else { "" };
        let _ = writeln!(
            s,
            "    {{\"case\": \"{}\", \"executor\": \"{}\", \"samples\": {}, \"min\": {}, \"p50\": {}, \"p99\": {}, \"max\": {}}}{comma}",
            r.case, r.exec, r.s.samples, r.s.min, r.s.p50, r.s.p99, r.s.max
        );
    }
    s.push_str("  ]\n}\n");
    s
}
