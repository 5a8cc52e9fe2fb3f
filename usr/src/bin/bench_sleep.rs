//! Benchmark: `sleep` accuracy from ring 3, in nanoseconds (metric
//! `sleep_accuracy`, unit `ns`).
//!
//! Requests each duration of `DURATIONS_NS` in turn (round-robin, so slow
//! drifts affect all of them alike), `ROUNDS` times each. Start: the `time`
//! system call just before `sleep(requested)`. Stop: the `time` system call
//! right after it returns. Sample = (stop - start) - requested: how late the
//! sleep ended, including one `time` call's cost. A sleep that ends early is
//! a kernel bug: it is counted, reported, and makes the program exit 1. The
//! first `WARMUP` sleeps (a multiple of 6) are not samples, so sample k was a
//! sleep of `DURATIONS_NS[k % 6]`: per-duration figures can be taken from the
//! `BSAMPLES` lines.

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use usr::tsc::print_samples;
use usr::*;

entry!(main);

/// Requested durations, ns.
const DURATIONS_NS: [u64; 6] = [10_000, 50_000, 100_000, 500_000, 1_000_000, 2_000_000];
const ROUNDS: usize = 350;
const N: usize = DURATIONS_NS.len() * ROUNDS;
const WARMUP: usize = 12;

/// Sample storage in .bss: all samples in measurement order.
struct Samples(UnsafeCell<[u64; N]>);
// SAFETY: the program is single-threaded.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; N]));

/// One timed sleep: how many ns later than `want` it ended (Err if early).
fn late_by(want: u64) -> Result<Result<u64, u64>, Errno> {
    let t0 = time_ns()?;
    sleep_ns(want)?;
    let t1 = time_ns()?;
    let took = t1.wrapping_sub(t0);
    Ok(if took >= want { Ok(took - want) } else { Err(want - took) })
}

fn main(_args: Args) -> i32 {
    // SAFETY: the only reference to SAMPLES, in a single-threaded program.
    let samples = unsafe { &mut *SAMPLES.0.get() };
    let mut early = 0usize;
    let mut worst_early = 0u64;
    for i in 0..WARMUP + N {
        let want = DURATIONS_NS[i % DURATIONS_NS.len()];
        let late = match late_by(want) {
            Ok(Ok(late)) => late,
            Ok(Err(e)) => {
                early += 1;
                worst_early = worst_early.max(e);
                0
            }
            Err(e) => {
                println!("bench_sleep: sleep/time failed: {e}");
                return 1;
            }
        };
        if let Some(s) = i.checked_sub(WARMUP).and_then(|k| samples.get_mut(k)) {
            *s = late;
        }
    }
    print_samples("sleep_accuracy", "ns", samples);
    if early > 0 {
        println!("bench_sleep: {early} sleeps ended EARLY (by up to {worst_early} ns)");
        return 1;
    }
    0
}
