//! Benchmark: user context switch through `yield`, in TSC cycles (metric
//! `user_ctx_switch`).
//!
//! The parent pins itself to one CPU (the one it is on) and forks; the child
//! inherits the pin (and sets it again). Both then call `yield` in a loop, so
//! each `yield` switches to the other process: one loop iteration of the
//! parent is two switches (parent -> child -> parent), each including one
//! `yield` system call. Start: `rdtsc` in the parent just before `yield`.
//! Stop: `rdtsc` right after it returns. Sample = that round trip / 2, the
//! cost of one switch. The first `WARMUP` iterations are not samples; the
//! child yields `CHILD_EXTRA` more times than the parent, so the other process
//! is always there while the parent measures.
//!
//! Also printed, as a note: total cycles of the measured loop / switches, with
//! switches counted both as 2 per iteration and by the kernel's
//! `ctx_switches` counter (`stats`), which tells whether the two processes
//! really alternated. A start barrier over an IPC port makes sure both are
//! pinned before the parent starts timing.

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use usr::tsc::{rdtsc, report};
use usr::*;

entry!(main);

const READY: u64 = 42;
const N: usize = 10_000;
const WARMUP: usize = 500;
const CHILD_EXTRA: usize = 2_000;

/// Sample storage in .bss (too big for the user stack).
struct Samples(UnsafeCell<[u64; N]>);
// SAFETY: each process is single-threaded; only the parent touches it.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; N]));

fn child(cpu: u64) -> i32 {
    if let Err(e) = set_affinity(cpu) {
        println!("bench_yield: child: set_affinity({cpu}): {e}");
        let _ = ipc_send(READY, &[]);
        return 1;
    }
    let _ = yield_now();
    if let Err(e) = ipc_send(READY, &[1]) {
        println!("bench_yield: child: send: {e}");
        return 1;
    }
    for _ in 0..WARMUP + N + CHILD_EXTRA {
        if yield_now().is_err() {
            return 1;
        }
    }
    0
}

fn main(_args: Args) -> i32 {
    // SAFETY: the only reference to SAMPLES, in a single-threaded program.
    let samples = unsafe { &mut *SAMPLES.0.get() };
    let cpu = getcpu().unwrap_or(0);
    if let Err(e) = set_affinity(cpu) {
        println!("bench_yield: set_affinity({cpu}): {e}");
        return 1;
    }
    let pid = match fork() {
        Ok(Fork::Child) => exit(child(cpu)),
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => {
            println!("bench_yield: fork: {e}");
            return 1;
        }
    };
    // Start barrier: the child is pinned and about to yield.
    let mut b = [0u8; 1];
    if ipc_recv(READY, &mut b) != Ok(1) {
        println!("bench_yield: the child did not start");
        let _ = wait();
        return 1;
    }
    for _ in 0..WARMUP {
        let _ = yield_now();
    }
    let switches_before = stats().map(|s| s.ctx_switches).unwrap_or(0);
    let start = rdtsc();
    for s in samples.iter_mut() {
        let t0 = rdtsc();
        if yield_now().is_err() {
            println!("bench_yield: yield failed");
            return 1;
        }
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0) / 2;
    }
    let total = rdtsc().wrapping_sub(start);
    let switches = stats().map(|s| s.ctx_switches).unwrap_or(0).wrapping_sub(switches_before);
    let status = wait();
    let _ = set_affinity(AFFINITY_ANY);
    match status {
        Ok((p, s)) if p == pid && exited(s) == Some(0) => {}
        r => {
            println!("bench_yield: child ended badly: {r:?}");
            return 1;
        }
    }
    let assumed = 2 * N as u64;
    println!(
        "# user_ctx_switch: CPU {cpu}; {N} yield round trips in {total} cycles = {} cycles per switch ({assumed} switches assumed); kernel counted {switches} switches ({} cycles each)",
        total / assumed,
        total.checked_div(switches).unwrap_or(0)
    );
    report("user_ctx_switch", samples);
    0
}
