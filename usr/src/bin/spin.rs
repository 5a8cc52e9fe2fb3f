//! `spin [SECONDS]`: burns CPU in ring 3 without system calls (for ever, or for
//! SECONDS), so `kill`, Ctrl-C, `top`, `nice` and `pin` have something to act on.
//! Only a preemption can take the CPU from it; only a signal ends it early.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(args: Args) -> i32 {
    let secs: Option<u64> = args.get(1).and_then(|s| s.parse().ok());
    println!("spin: pid {} spinning{}", getpid().unwrap_or(0), if secs.is_some() { "" } else { " until killed" });
    let start = time_ns().unwrap_or(0);
    let mut x: u64 = 1;
    loop {
        // A few million iterations between clock checks; no system call inside.
        for _ in 0..4_000_000 {
            x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        if let Some(s) = secs {
            if time_ns().unwrap_or(u64::MAX) - start >= s * 1_000_000_000 {
                return 0;
            }
        }
    }
}
