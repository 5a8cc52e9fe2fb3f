//! Ring-3 test: preemption. Two children pinned to the same CPU spin
//! without ever yielding and report their progress over IPC; both must keep
//! making progress (no gap longer than `MAX_GAP_NS` between a child's
//! consecutive reports) while they share the CPU.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

const PORT: u64 = 30;
/// How long each child spins.
const RUN_NS: u64 = 1_500_000_000;
/// A child reports at most this often.
const REPORT_NS: u64 = 20_000_000;
/// Longest a child may go without running while the other spins.
const MAX_GAP_NS: u64 = 500_000_000;
const DONE: u64 = u64::MAX;

/// Report: child id, spin count (or DONE), child's clock.
fn encode(id: u64, count: u64, t: u64) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&id.to_le_bytes());
    b[8..16].copy_from_slice(&count.to_le_bytes());
    b[16..].copy_from_slice(&t.to_le_bytes());
    b
}

fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i * 8..i * 8 + 8]);
    u64::from_le_bytes(w)
}

fn spin(id: u64, cpu: u64) -> ! {
    if set_affinity(cpu).is_err() {
        exit(2);
    }
    let start = time_ns().unwrap_or(0);
    let mut next = start;
    let mut count = 0u64;
    loop {
        count = core::hint::black_box(count + 1);
        if count.is_multiple_of(1024) {
            let now = time_ns().unwrap_or(0);
            if now >= start + RUN_NS {
                break;
            }
            if now >= next {
                let _ = ipc_send(PORT, &encode(id, count, now)); // full: skip
                next = now + REPORT_NS;
            }
        }
    }
    while ipc_send(PORT, &encode(id, DONE, 0)) == Err(Errno::AGAIN) {
        let _ = yield_now();
    }
    exit(0)
}

fn main(_args: Args) -> i32 {
    let cpus = stats().map(|s| s.num_cpus).unwrap_or(1).max(1);
    let cpu = cpus - 1;
    for id in 0..2 {
        match fork() {
            Ok(Fork::Child) => spin(id, cpu),
            Ok(Fork::Parent(_)) => {}
            Err(e) => check!(false, "fork: {e}"),
        }
    }
    // Per child: reports, last report time, longest gap, done.
    let mut reports = [0u64; 2];
    let mut last = [0u64; 2];
    let mut gap = [0u64; 2];
    let mut done = [false; 2];
    let mut buf = [0u8; 24];
    while !(done[0] && done[1]) {
        match ipc_recv(PORT, &mut buf) {
            Ok(24) => {}
            r => {
                check!(false, "recv: {r:?}");
                break;
            }
        }
        let id = (word(&buf, 0) & 1) as usize;
        if word(&buf, 1) == DONE {
            done[id] = true;
            continue;
        }
        let t = word(&buf, 2);
        // Only gaps while the other child is still spinning count.
        if reports[id] > 0 && !done[1 - id] {
            gap[id] = gap[id].max(t.saturating_sub(last[id]));
        }
        reports[id] += 1;
        last[id] = t;
    }
    for _ in 0..2 {
        let r = wait();
        check!(
            matches!(r, Ok((_, s)) if exited(s) == Some(0)),
            "child: {r:?}"
        );
    }
    println!(
        "t_preempt: CPU {cpu}: reports {:?}, longest gaps {} ms / {} ms",
        reports,
        gap[0] / 1_000_000,
        gap[1] / 1_000_000
    );
    for id in 0..2 {
        check!(
            reports[id] >= 5,
            "child {id} made little progress ({} reports)",
            reports[id]
        );
        check!(
            gap[id] <= MAX_GAP_NS,
            "child {id} starved for {} ms",
            gap[id] / 1_000_000
        );
    }
    test::finish("t_preempt")
}
