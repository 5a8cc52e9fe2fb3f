//! Time: the TSC, calibrated once against the PIT, is the kernel's clock.

use super::cpu::rdtsc;
use super::io::{inb, outb};
use core::sync::atomic::{AtomicU64, Ordering};

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);

const PIT_HZ: u64 = 1_193_182;

/// Records the TSC at kernel entry (boot time is measured from here).
pub fn mark_boot() {
    BOOT_TSC.store(rdtsc(), Ordering::Relaxed);
}

/// Measures TSC cycles over `ms` milliseconds of PIT channel 2 (gate-driven one-shot).
fn measure_against_pit(ms: u64) -> u64 {
    let count = PIT_HZ * ms / 1000;
    let gate = inb(0x61);
    outb(0x61, (gate & !0x02) & !0x01); // speaker off, gate low
    outb(0x43, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0
    outb(0x42, count as u8);
    outb(0x42, (count >> 8) as u8);
    let start_gate = inb(0x61);
    outb(0x61, start_gate | 0x01); // gate high: counting starts
    let t0 = rdtsc();
    let mut spins = 0u64;
    while inb(0x61) & 0x20 == 0 {
        spins += 1;
        if spins > 500_000_000 {
            break; // broken PIT: caller sees an absurd value and falls back
        }
    }
    let t1 = rdtsc();
    outb(0x61, start_gate & !0x01);
    (t1 - t0) * 1000 / ms
}

/// Calibrates the TSC: the median of three 5 ms PIT windows. Returns Hz.
pub fn calibrate() -> u64 {
    let mut s = [measure_against_pit(5), measure_against_pit(5), measure_against_pit(5)];
    s.sort_unstable();
    let mut hz = s[1];
    if !(10_000_000..=100_000_000_000).contains(&hz) {
        log::warn!("TSC calibration gave {hz} Hz; assuming 1 GHz");
        hz = 1_000_000_000;
    }
    TSC_HZ.store(hz, Ordering::Relaxed);
    hz
}

/// TSC frequency in Hz (0 before calibration).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts TSC cycles to nanoseconds.
pub fn cycles_to_ns(c: u64) -> u64 {
    let hz = tsc_hz();
    if hz == 0 { 0 } else { ((c as u128 * 1_000_000_000) / hz as u128) as u64 }
}

/// Converts nanoseconds to TSC cycles.
pub fn ns_to_cycles(ns: u64) -> u64 {
    ((ns as u128 * tsc_hz() as u128) / 1_000_000_000) as u64
}

/// Nanoseconds since kernel entry.
pub fn uptime_ns() -> u64 {
    cycles_to_ns(rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed)))
}
