//! `busy MS [quiet]`: spins in ring 3 for MS milliseconds (default 500), then exits 0.
//! Plain, it reads the clock with a system call on every turn; with `quiet` it makes no
//! system call while it spins (it times itself with `rdtsc`, calibrated against the
//! clock first), so the kernel gets the CPU back only by interrupting it. The kernel
//! tests `timer_fires_beside_a_spinning_process` and
//! `remote_wake_beside_a_spinning_process` run it to keep a CPU busy.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(args: Args) -> i32 {
    let ms: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let start = time_ns().unwrap_or(0);
    if args.get(2) == Some("quiet") {
        // 10 ms to learn the TSC rate, then no system call until the end.
        let c0 = tsc::rdtsc();
        while time_ns().unwrap_or(u64::MAX) < start + 10_000_000 {}
        let (c1, t1) = (tsc::rdtsc(), time_ns().unwrap_or(start + 10_000_000));
        let per_ms = (c1 - c0) * 1_000_000 / (t1 - start).max(1);
        let end = c1 + per_ms * ms.saturating_sub(10);
        while tsc::rdtsc() < end {
            core::hint::spin_loop();
        }
        return 0;
    }
    while time_ns().unwrap_or(u64::MAX) < start + ms * 1_000_000 {
        core::hint::spin_loop();
    }
    0
}
