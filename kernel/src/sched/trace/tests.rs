//! In-kernel test of the scheduler trace: a cross-CPU wake of a halted CPU leaves the
//! expected records in both CPUs' rings.

use super::{enable, pushed, read};
use crate::arch::{cpu::rdtsc, time};
use crate::ktest::{KTest, TestResult};
use crate::sched::{block_on, spawn_on};
use crate::{check, smp};
use alloc::format;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::Poll;
use futures_util::task::AtomicWaker;
use kcore::trace::{Classes, Kind, Record, ALL};

/// Suites of this module.
pub const TESTS: &[KTest] = crate::ktests![cross_cpu_wake_is_traced];

static OPEN: AtomicBool = AtomicBool::new(false);
static WAITER: AtomicWaker = AtomicWaker::new();
/// Id of the waiting task, published by its first poll.
static WAITER_ID: AtomicU64 = AtomicU64::new(0);

/// Position of the first record at or after `from` that `f` accepts.
fn find(v: &[Record], from: usize, f: impl Fn(&Record) -> bool) -> Option<usize> {
    v.iter().skip(from).position(f).map(|i| i + from)
}

/// Wake on CPU a of a task homed on halted CPU b: `wake` then `ipi_send` on a;
/// `ipi_recv`, `halt_end`, `poll_begin` of the same task on b, in that order and with
/// non-decreasing TSCs. An attempt where b was not halted at the wake (a timer woke it,
/// so no IPI was needed) is retried; one with an IPI but a wrong sequence fails.
fn cross_cpu_wake_is_traced() -> TestResult {
    if smp::online() < 2 {
        crate::kprintln!("    (one CPU: no cross-CPU wake to trace)");
        return Ok(());
    }
    let before = super::classes();
    enable(Classes(ALL));
    let r = (0..10).find_map(|_| attempt(0, smp::online() - 1).transpose());
    enable(before);
    r.unwrap_or_else(|| Err("in 10 attempts the halted CPU never needed an IPI".into()))
}

/// One attempt: `Ok(None)` = inconclusive (no IPI was sent), try again.
fn attempt(a: usize, b: usize) -> Result<Option<()>, alloc::string::String> {
    OPEN.store(false, Ordering::Relaxed);
    WAITER_ID.store(0, Ordering::Relaxed);
    let (from_a, from_b) = (pushed(a), pushed(b));
    let waiter = spawn_on(
        b,
        poll_fn(|cx| {
            if let Some(info) = executor::task_info(cx.waker()) {
                WAITER_ID.store(info.id.get(), Ordering::Release);
            }
            WAITER.register(cx.waker());
            if OPEN.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }),
    );
    // Wait (up to a second) for b to poll the waiter and then halt.
    let deadline = rdtsc() + time::ns_to_cycles(1_000_000_000);
    let halted = loop {
        let id = WAITER_ID.load(Ordering::Acquire);
        let v = read(b, from_b);
        let end = find(&v, 0, |r| {
            r.kind == Kind::PollEnd && r.task == id && id != 0
        });
        if end
            .and_then(|e| find(&v, e, |r| r.kind == Kind::HaltBegin))
            .is_some()
        {
            break true;
        }
        if rdtsc() > deadline {
            break false;
        }
        core::hint::spin_loop();
    };
    block_on(spawn_on(a, async {
        OPEN.store(true, Ordering::Release);
        WAITER.wake();
    }));
    block_on(waiter);
    check!(halted, "cpu{b} never halted after polling the waiting task");
    let id = WAITER_ID.load(Ordering::Acquire);
    let (va, vb) = (read(a, from_a), read(b, from_b));
    let wake = find(&va, 0, |r| r.kind == Kind::Wake && r.task == id);
    let Some(w) = wake else {
        return Err(format!("no wake of task {id:#x} on cpu{a}: {va:?}"));
    };
    check!(
        va[w].a == b as u32,
        "wake on cpu{a} names target cpu{} instead of cpu{b}",
        va[w].a
    );
    let Some(s) = find(&va, w, |r| r.kind == Kind::IpiSend && r.a == b as u32) else {
        return Ok(None); // b was awake at the wake: no IPI needed
    };
    let polls: Vec<usize> = (0..vb.len())
        .filter(|&i| vb[i].kind == Kind::PollBegin && vb[i].task == id)
        .collect();
    check!(
        polls.len() == 2,
        "task {id:#x} polled {} times on cpu{b}, expected 2: {vb:?}",
        polls.len()
    );
    let p = polls[1];
    let recv = (0..p)
        .rev()
        .find(|&i| vb[i].kind == Kind::IpiRecv && vb[i].tsc >= va[s].tsc);
    let Some(r) = recv else {
        return Err(format!(
            "no ipi_recv on cpu{b} before its poll of {id:#x}: {vb:?}"
        ));
    };
    let Some(h) = find(&vb[..p], r, |x| x.kind == Kind::HaltEnd) else {
        return Err(format!(
            "no halt_end on cpu{b} between the IPI and the poll: {vb:?}"
        ));
    };
    let tsc = [va[w].tsc, va[s].tsc, vb[r].tsc, vb[h].tsc, vb[p].tsc];
    check!(
        tsc.windows(2).all(|x| x[0] <= x[1]),
        "wake, ipi_send, ipi_recv, halt_end, poll_begin out of order: {tsc:?}"
    );
    crate::kprintln!(
        "    (cpu{a} wake -> ipi_send {} cycles -> cpu{b} ipi_recv {} -> halt_end {} -> poll_begin {})",
        tsc[1] - tsc[0], tsc[2] - tsc[1], tsc[3] - tsc[2], tsc[4] - tsc[3]
    );
    Ok(Some(()))
}
