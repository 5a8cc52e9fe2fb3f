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
/// Percentiles are nearest-rank: the smallest sample with at least p% of the
/// samples at or below it.
pub fn summarize(samples: &mut [u64]) -> [u64; 4] {
    if samples.is_empty() {
        return [0; 4];
    }
    samples.sort_unstable();
    let n = samples.len();
    let at = |p: usize| samples[(p * n).div_ceil(100).clamp(1, n) - 1];
    [samples[0], at(50), at(99), samples[n - 1]]
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

/// Prints `samples` as raw-sample lines, at most [`SAMPLES_PER_LINE`] each:
/// `BSAMPLES name=.. unit=.. v v v ...`. Call before sorting them.
pub fn print_samples(name: &str, unit: &str, samples: &[u64]) {
    use core::fmt::Write;
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

static TABLE_MODE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Reports become one row of the shell's `bench` table (see [`TABLE_HEADER`])
/// instead of machine-readable lines; set at start-up when the program was
/// given `--table`.
pub fn set_table_mode(on: bool) {
    TABLE_MODE.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// The header of the table rows printed in table mode.
pub const TABLE_HEADER: &str = "benchmark               unit          min        p50        p99        max        n";

/// Prints the raw samples ([`print_samples`]) and then one summary line:
/// `BENCH name=.. unit=.. min=.. p50=.. p99=.. max=.. n=..` (sorts `samples`).
/// In table mode ([`set_table_mode`]) prints only a table row.
pub fn report_unit(name: &str, unit: &str, samples: &mut [u64]) {
    if TABLE_MODE.load(core::sync::atomic::Ordering::Relaxed) {
        let [min, p50, p99, max] = summarize(samples);
        crate::println!("{name:<23} {unit:<7} {min:>10} {p50:>10} {p99:>10} {max:>10} {:>8}", samples.len());
        return;
    }
    print_samples(name, unit, samples);
    let [min, p50, p99, max] = summarize(samples);
    crate::println!(
        "BENCH name={name} unit={unit} min={min} p50={p50} p99={p99} max={max} n={}",
        samples.len()
    );
}

/// [`report_unit`] in TSC cycles:
/// `BSAMPLES name=.. unit=cycles ...` lines, then
/// `BENCH name=.. unit=cycles min=.. p50=.. p99=.. max=.. n=..`.
pub fn report(name: &str, samples: &mut [u64]) {
    report_unit(name, "cycles", samples);
}
