//! `spawn_rate_<k>cpu`: spawn + complete throughput of trivial tasks on k CPUs.
//!
//! A trial spawns one root task pinned to each of CPUs 0..k; each root spawns its share
//! of `TASKS` trivial tasks (`async {}`) pinned to its own CPU, in batches of `BATCH`,
//! and awaits every batch's `JoinHandle`s before the next. Start: `rdtsc` on CPU 0
//! before the first root is spawned. Stop: `rdtsc` on CPU 0 after every root has
//! completed and been joined. Sample = `TASKS * tsc_hz / (stop - start)` tasks per
//! second; one sample per trial. Children are pinned so exactly k CPUs do the work
//! (idle CPUs cannot steal them).
//!
//! Operation (`BCOUNTS ops`): one task spawned and joined, warm-up trial included.

use super::{report, BenchResult};
use crate::arch::cpu::rdtsc;
use crate::arch::time;
use crate::sched::{block_on, spawn_on};
use alloc::format;
use alloc::vec::Vec;

/// Tasks per trial (divisible by every k times BATCH).
const TASKS: usize = 16_000;
const BATCH: usize = 250;
const TRIALS: usize = 10;
const WARMUP_TRIALS: usize = 1;

/// One root: `n` trivial tasks on `cpu`, `BATCH` at a time.
async fn root(cpu: usize, n: usize) {
    let mut handles = Vec::with_capacity(BATCH);
    for _ in 0..n / BATCH {
        for _ in 0..BATCH {
            handles.push(spawn_on(cpu, async {}));
        }
        for h in handles.drain(..) {
            h.await;
        }
    }
}

/// `spawn_rate_<k>cpu`: see the module docs.
pub fn spawn_rate(k: usize) -> BenchResult {
    let per_cpu = TASKS / k;
    if per_cpu * k != TASKS || !per_cpu.is_multiple_of(BATCH) {
        return Err(format!("{TASKS} tasks do not split into batches of {BATCH} over {k} CPUs"));
    }
    let hz = time::tsc_hz() as u128;
    let mut rates = Vec::with_capacity(TRIALS);
    for trial in 0..WARMUP_TRIALS + TRIALS {
        let t0 = rdtsc();
        let roots: Vec<_> = (0..k).map(|c| spawn_on(c, root(c, per_cpu))).collect();
        for r in roots {
            block_on(r);
        }
        let dt = (rdtsc() - t0).max(1) as u128;
        if trial >= WARMUP_TRIALS {
            rates.push((TASKS as u128 * hz / dt) as u64);
        }
    }
    let name = format!("spawn_rate_{k}cpu");
    crate::kprintln!("# {name}: {TASKS} trivial tasks per trial on CPUs 0..{k}, {TRIALS} trials, tasks per second");
    report(&name, "ops_per_s", &rates);
    Ok(((WARMUP_TRIALS + TRIALS) * TASKS) as u64)
}
