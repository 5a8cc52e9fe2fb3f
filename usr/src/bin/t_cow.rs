//! Ring-3 test: fork is copy-on-write. Parent and child write the same
//! static (in .data and in .bss, across several pages) and the same stack
//! variable after the fork; each must see only its own writes.

#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicU64, Ordering};
use usr::*;

entry!(main);

static DATA: AtomicU64 = AtomicU64::new(0x1234);
static BSS: AtomicU64 = AtomicU64::new(0);
/// Spans several pages, so CoW is per page, not just the first one.
static BIG: [AtomicU64; 4096] = [const { AtomicU64::new(7) }; 4096];

fn write_all(v: u64, stack: &mut [u64; 512]) {
    DATA.store(v, Ordering::Relaxed);
    BSS.store(v, Ordering::Relaxed);
    for x in black_box(&BIG).iter().step_by(512) {
        x.store(v, Ordering::Relaxed);
    }
    stack.iter_mut().for_each(|x| *x = v);
    black_box(stack);
}

fn all_equal(v: u64, stack: &[u64; 512]) -> bool {
    let stack = black_box(stack);
    DATA.load(Ordering::Relaxed) == v
        && BSS.load(Ordering::Relaxed) == v
        && black_box(&BIG)
            .iter()
            .step_by(512)
            .all(|x| x.load(Ordering::Relaxed) == v)
        && stack.iter().all(|&x| x == v)
}

fn main(_args: Args) -> i32 {
    let mut stack = [1u64; 512];
    write_all(1, &mut stack);
    match fork() {
        Ok(Fork::Child) => {
            check!(
                all_equal(1, &stack),
                "child does not see the pre-fork values"
            );
            write_all(2, &mut stack);
            for _ in 0..20 {
                let _ = yield_now(); // let the parent write meanwhile
            }
            check!(all_equal(2, &stack), "child sees the parent's writes");
            exit(test::failures() as i32)
        }
        Ok(Fork::Parent(child)) => {
            write_all(3, &mut stack);
            for _ in 0..20 {
                let _ = yield_now();
            }
            check!(all_equal(3, &stack), "parent sees the child's writes");
            match wait() {
                Ok((pid, status)) => {
                    check_eq!(pid, child);
                    check_eq!(exited(status), Some(0), "child status {status:#x}");
                }
                Err(e) => check!(false, "wait: {e}"),
            }
            check!(
                all_equal(3, &stack),
                "parent values changed after child exit"
            );
        }
        Err(e) => check!(false, "fork: {e}"),
    }
    test::finish("t_cow")
}
