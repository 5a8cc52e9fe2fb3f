//! `busy MS`: spins in ring 3 for MS milliseconds (default 500) without a blocking
//! system call, then exits 0. The kernel test `timer_fires_beside_a_spinning_process`
//! runs it to keep a CPU busy.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(args: Args) -> i32 {
    let ms: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let end = time_ns().unwrap_or(0) + ms * 1_000_000;
    while time_ns().unwrap_or(u64::MAX) < end {
        core::hint::spin_loop();
    }
    0
}
