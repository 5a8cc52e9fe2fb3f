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

/// Most values on one `BSAMPLES` line.
pub const SAMPLES_PER_LINE: usize = 64;

/// A one-line buffer: a `BSAMPLES` line of 64 `u64`s always fits, so each
/// line goes out in a single `write` and never interleaves with other output.
struct Line {
    buf: [u8; 2048],
    len: usize,
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Prints `samples` (in measurement order) as raw-sample lines, at most
/// [`SAMPLES_PER_LINE`] each: `BSAMPLES name=.. unit=.. v v v ...`. Programs print
/// nothing else about their samples: the runner computes every statistic.
pub fn print_samples(name: &str, unit: &str, samples: &[u64]) {
    use core::fmt::Write;
    if TABLE_MODE.load(core::sync::atomic::Ordering::Relaxed) {
        print_row(name, unit, samples);
        return;
    }
    for chunk in samples.chunks(SAMPLES_PER_LINE) {
        let mut line = Line { buf: [0; 2048], len: 0 };
        let _ = write!(line, "BSAMPLES name={name} unit={unit}");
        for v in chunk {
            let _ = write!(line, " {v}");
        }
        let _ = line.write_str("\n");
        let _ = crate::sys::write_all(abi::STDOUT, line.buf.get(..line.len).unwrap_or(&[]));
    }
}

/// [`print_samples`] in TSC cycles: `BSAMPLES name=.. unit=cycles v v ...`.
pub fn report(name: &str, samples: &[u64]) {
    print_samples(name, "cycles", samples);
}

static TABLE_MODE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Reports become one row of the shell's `bench` table (see [`TABLE_HEADER`])
/// instead of `BSAMPLES` lines; set at start-up when the program was given
/// `--table`.
pub fn set_table_mode(on: bool) {
    TABLE_MODE.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// The header of the rows printed in table mode.
pub const TABLE_HEADER: &str = "benchmark               unit          min        p50        p99        max        n";

/// The nearest-rank `p`th percentile of `samples` (the smallest sample with at
/// least p% of the samples at or below it), without sorting them: a binary
/// search over values, counting at each step (64 passes at most).
pub fn percentile(samples: &[u64], p: u64) -> u64 {
    let n = samples.len() as u64;
    if n == 0 {
        return 0;
    }
    let rank = (p.min(100) * n).div_ceil(100).max(1);
    let (mut lo, mut hi) = (0u64, u64::MAX);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if samples.iter().filter(|&&v| v <= mid).count() as u64 >= rank {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// One row of the shell's table: `name unit min p50 p99 max n`.
fn print_row(name: &str, unit: &str, samples: &[u64]) {
    let min = samples.iter().copied().min().unwrap_or(0);
    let max = samples.iter().copied().max().unwrap_or(0);
    let (p50, p99) = (percentile(samples, 50), percentile(samples, 99));
    crate::println!("{name:<23} {unit:<7} {min:>10} {p50:>10} {p99:>10} {max:>10} {:>8}", samples.len());
}
