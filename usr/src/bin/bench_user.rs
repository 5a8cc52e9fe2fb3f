//! Benchmark: system-call round trip from ring 3 (`getpid`, 20,000
//! samples after 1,000 warm-up calls), in TSC cycles, and the cost of a
//! back-to-back `rdtsc` pair. Prints the raw samples (see `usr::tsc::report`)
//! as `BSAMPLES name=... unit=cycles v v ...` (64 a line).

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use usr::syscall::syscall0;
use usr::tsc::{rdtsc, report};
use usr::*;

entry!(main);

const N: usize = 20_000;
const WARMUP: usize = 1_000;

/// Sample storage in .bss (too big for the user stack).
struct Samples(UnsafeCell<[u64; N]>);
// SAFETY: the program is single-threaded.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; N]));

fn main(_args: Args) -> i32 {
    // SAFETY: the only reference to SAMPLES, in a single-threaded program.
    let samples = unsafe { &mut *SAMPLES.0.get() };

    for s in samples.iter_mut() {
        let t0 = rdtsc();
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
    }
    report("rdtsc_overhead", samples);

    for _ in 0..WARMUP {
        // SAFETY: getpid touches no memory.
        unsafe { syscall0(abi::nr::GETPID) };
    }
    for s in samples.iter_mut() {
        let t0 = rdtsc();
        // SAFETY: getpid touches no memory.
        unsafe { syscall0(abi::nr::GETPID) };
        let t1 = rdtsc();
        *s = t1.wrapping_sub(t0);
    }
    report("syscall_getpid", samples);
    0
}
