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

/// Starts PIT channel 2 counting down from 0xffff (mode 0, gate high, speaker off): it
/// wraps after ~55 ms, so a window must stay well below that.
fn start_pit_channel2() {
    let gate = inb(0x61);
    outb(0x61, gate & !0x03); // speaker off, gate low
    outb(0x43, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0
    outb(0x42, 0xff);
    outb(0x42, 0xff);
    outb(0x61, (gate & !0x02) | 0x01); // gate high: counting starts
}

/// One (TSC, PIT count) pair, read as tightly together as the machine allows: the PIT
/// read (latch command and two port reads) is bracketed by two TSC reads, and of 16
/// tries the one with the narrowest bracket is kept. Under emulation on a loaded host
/// a vCPU can be descheduled for milliseconds at any instruction; a wide bracket shows
/// it and is not used. Returns (TSC at the bracket's middle, count, bracket width).
fn tsc_and_pit() -> (u64, u16, u64) {
    let mut best = (0, 0, u64::MAX);
    for _ in 0..16 {
        let a = rdtsc();
        outb(0x43, 0b1000_0000); // latch channel 2
        let lo = inb(0x42) as u16;
        let hi = inb(0x42) as u16;
        let b = rdtsc();
        if b - a < best.2 {
            best = (a + (b - a) / 2, hi << 8 | lo, b - a);
        }
    }
    best
}

/// Measures the TSC rate against PIT channel 2 over about `ms` milliseconds (< 50).
fn measure_against_pit(ms: u64) -> u64 {
    start_pit_channel2();
    let (t0, c0, _) = tsc_and_pit();
    let want = PIT_HZ * ms / 1000;
    let mut spins = 0u64;
    let (t1, c1) = loop {
        let (t, c, _) = tsc_and_pit();
        if u64::from(c0.wrapping_sub(c)) >= want {
            break (t, c);
        }
        spins += 1;
        if spins > 50_000_000 {
            return 0; // a PIT that does not count: the caller falls back
        }
    };
    let ticks = u64::from(c0.wrapping_sub(c1)).max(1);
    ((t1 - t0) as u128 * PIT_HZ as u128 / ticks as u128) as u64
}

/// Calibrates the TSC: the median of five 10 ms PIT windows, each end point a tightly
/// bracketed (TSC, PIT) pair (see `tsc_and_pit`). Returns Hz.
pub fn calibrate() -> u64 {
    let mut s = [0u64; 5];
    for x in s.iter_mut() {
        *x = measure_against_pit(10);
    }
    s.sort_unstable();
    let mut hz = s[2];
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
