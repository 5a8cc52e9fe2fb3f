//! Ring-3 test: SSE state belongs to each thread. Two processes pinned to the
//! same CPU keep different values in xmm0 and xmm15 across system calls,
//! yields (which switch to the other one), sleeps and preemption; each must
//! always read back its own.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn set(v: u64) {
    // SAFETY: writes xmm0/xmm15 only; this program is soft-float, so the
    // compiler never keeps anything in SSE registers.
    unsafe { core::arch::asm!("movq xmm0, {0}", "movq xmm15, {0}", in(reg) v, options(nostack)) };
}

fn get() -> (u64, u64) {
    let (a, b): (u64, u64);
    // SAFETY: reads xmm0/xmm15 only.
    unsafe { core::arch::asm!("movq {0}, xmm0", "movq {1}, xmm15", out(reg) a, out(reg) b, options(nostack)) };
    (a, b)
}

fn run(tag: u64) -> u32 {
    let mut bad = 0;
    for i in 0..300u64 {
        let v = tag ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        set(v);
        match i % 4 {
            0 => drop(getpid()),
            1 => drop(yield_now()),
            2 => drop(sleep_ns(10_000)),
            _ => {
                let t = time_ns().unwrap_or(0);
                while time_ns().unwrap_or(u64::MAX) < t + 200_000 {}
            }
        }
        if get() != (v, v) {
            bad += 1;
        }
    }
    bad
}

fn main(_args: Args) -> i32 {
    let cpu = stats().map(|s| s.num_cpus).unwrap_or(1) - 1;
    check!(set_affinity(cpu).is_ok());
    match fork() {
        Ok(Fork::Child) => exit(i32::from(run(0x1111_2222_3333_4444) != 0)),
        Ok(Fork::Parent(_)) => {
            let bad = run(0xaaaa_bbbb_cccc_dddd);
            check_eq!(bad, 0, "parent saw another thread's SSE state");
            let r = wait();
            check!(matches!(r, Ok((_, s)) if exited(s) == Some(0)), "child saw another thread's SSE state: {r:?}");
        }
        Err(e) => check!(false, "fork: {e}"),
    }
    test::finish("t_fpu")
}
