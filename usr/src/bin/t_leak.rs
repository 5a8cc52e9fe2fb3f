//! Ring-3 test: no frame leaks. Fork, exec `/hello -q` and reap 1,000
//! processes; the free frame count must come back exactly to where it was.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

const ROUNDS: u32 = 1_000;
/// Rounds before the first measurement, so lazily built kernel state
/// (caches, page-table pages of this process) is already in place.
const WARMUP: u32 = 20;

fn one() -> bool {
    match fork() {
        Ok(Fork::Child) => exit(exec("/hello", &["hello", "-q"]) as i32 + 100),
        Ok(Fork::Parent(pid)) => matches!(wait(), Ok((p, s)) if p == pid && exited(s) == Some(0)),
        Err(_) => false,
    }
}

fn main(_args: Args) -> i32 {
    for _ in 0..WARMUP {
        one();
    }
    let before = stats().map(|s| s.frames_free);
    let mut failed = 0;
    for _ in 0..ROUNDS {
        if !one() {
            failed += 1;
        }
    }
    let after = stats().map(|s| s.frames_free);
    check_eq!(failed, 0, "fork/exec/wait rounds that failed");
    check!(before.is_ok());
    check_eq!(after, before, "free frames after {ROUNDS} processes");
    if let (Ok(b), Ok(a)) = (before, after) {
        println!(
            "t_leak: frames free before {b}, after {a} ({} leaked)",
            b as i64 - a as i64
        );
    }
    test::finish("t_leak")
}
