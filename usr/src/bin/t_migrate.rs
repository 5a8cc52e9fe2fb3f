//! Ring-3 test: user threads migrate. Four CPU-bound children start on the
//! parent's CPU with no affinity; the balancer and idle stealing must move
//! at least one of them to another CPU while they run (skipped on 1 CPU).
//! Then a child pinned with `set_affinity` must stay on its CPU.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

const CHILDREN: u32 = 4;
const SPIN_NS: u64 = 400_000_000;

/// Spins for SPIN_NS; exit code 1 if it ever ran on a CPU other than `home`.
fn spin(home: u64) -> ! {
    let start = time_ns().unwrap_or(0);
    let mut moved = false;
    let mut n = 0u64;
    while time_ns().unwrap_or(u64::MAX) < start + SPIN_NS {
        n = core::hint::black_box(n + 1);
        if getcpu().ok() != Some(home) {
            moved = true;
        }
    }
    exit(i32::from(moved))
}

fn main(_args: Args) -> i32 {
    let cpus = stats().map(|s| s.num_cpus).unwrap_or(1);
    if cpus < 2 {
        return test::skip("t_migrate", "needs 2 CPUs");
    }
    let home = getcpu().unwrap_or(0);
    for _ in 0..CHILDREN {
        match fork() {
            Ok(Fork::Child) => spin(home),
            Ok(Fork::Parent(_)) => {}
            Err(e) => check!(false, "fork: {e}"),
        }
    }
    let mut moved = 0;
    for _ in 0..CHILDREN {
        match wait() {
            Ok((_, s)) => moved += u32::from(exited(s) == Some(1)),
            Err(e) => check!(false, "wait: {e}"),
        }
    }
    println!("t_migrate: {moved} of {CHILDREN} unpinned children ran on another CPU");
    check!(moved > 0, "no user thread ever left CPU {home}");

    // Pinned: never leaves its CPU.
    let target = cpus - 1;
    match fork() {
        Ok(Fork::Child) => {
            if set_affinity(target).is_err() || getcpu() != Ok(target) {
                exit(2);
            }
            spin(target)
        }
        Ok(Fork::Parent(_)) => {
            let r = wait();
            // 0: stayed on its CPU; 1: moved; 2: set_affinity failed.
            check!(matches!(r, Ok((_, s)) if exited(s) == Some(0)), "pinned child: {r:?}");
        }
        Err(e) => check!(false, "fork: {e}"),
    }
    test::finish("t_migrate")
}
