//! The time-stamp counter, for cycle-accurate measurements in benchmarks.

/// Reads the TSC after all earlier instructions have completed (`lfence;
/// rdtsc`), so the measured code cannot drift past the read.
#[inline(always)]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: lfence and rdtsc only read the counter (the kernel leaves
    // CR4.TSD clear so ring 3 may use rdtsc).
    unsafe {
        core::arch::asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi,
                         options(nomem, nostack, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

/// `min/p50/p99/max` of `samples` (sorted in place); all zero if empty.
pub fn summarize(samples: &mut [u64]) -> [u64; 4] {
    if samples.is_empty() {
        return [0; 4];
    }
    samples.sort_unstable();
    let last = samples.len() - 1;
    let at = |p: usize| samples[(last * p) / 100];
    [samples[0], at(50), at(99), samples[last]]
}

/// Prints one machine-readable benchmark line:
/// `BENCH name=.. unit=cycles min=.. p50=.. p99=.. max=.. n=..`.
pub fn report(name: &str, samples: &mut [u64]) {
    let [min, p50, p99, max] = summarize(samples);
    crate::println!(
        "BENCH name={name} unit=cycles min={min} p50={p50} p99={p99} max={max} n={}",
        samples.len()
    );
}
