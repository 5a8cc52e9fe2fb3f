//! `ipi_roundtrip`: the raw inter-processor interrupt path, both ways.
//!
//! CPU 0 sends a fixed IPI (`apic::BENCH_VECTOR`) to CPU 1; CPU 1's handler answers with
//! the same vector sent to CPU 0; CPU 0's handler stamps the TSC. Start: `rdtsc` on
//! CPU 0 just before it writes the ICR. Stop: `rdtsc` as the first thing CPU 0's
//! handler does for the answer. So a sample is two full IPI deliveries (ICR write,
//! delivery, interrupt entry through the trap stubs and dispatch), plus CPU 1's handler
//! body; no executor involvement and no flag polling in the measured path except CPU
//! 0's spin on the stamp its own handler wrote.
//!
//! CPU 1 is kept busy (a task spins with interrupts enabled) so the IPI interrupts a
//! running CPU: halt exit is what `wake_cross_idle` measures, not this. CPU 0 also spins
//! with interrupts enabled, waiting for its handler to run. Under TCG on an
//! oversubscribed host the two spinning vCPUs are sometimes descheduled mid-sample:
//! that is the millisecond tail, not the IPI path.
//!
//! Operation (`BCOUNTS ops`): one round trip, warm-up included.

use super::{report, spin_ns, BenchResult};
use crate::arch::cpu::rdtsc;
use crate::arch::trap::{self, TrapFrame};
use crate::arch::{apic, cpu_id, time};
use crate::sched::{block_on, spawn_on};
use crate::smp;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

const SAMPLES: usize = 5000;
const WARMUP: usize = 200;
/// An answer that takes longer than this is counted as lost.
const LOST_NS: u64 = 1_000_000_000;

/// The CPU that answers (usize::MAX when no benchmark runs).
static RESPONDER: AtomicUsize = AtomicUsize::new(usize::MAX);
/// APIC id to answer to.
static ANSWER_TO: AtomicU32 = AtomicU32::new(0);
/// TSC when the answer arrived on the initiator (0 = not yet).
static ARRIVED: AtomicU64 = AtomicU64::new(0);
static RESPONDER_UP: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);

/// Handler of `BENCH_VECTOR` on every CPU: the responder answers, anyone else stamps.
fn on_bench_ipi(_: &mut TrapFrame) {
    let now = rdtsc();
    if cpu_id() == RESPONDER.load(Ordering::Relaxed) {
        apic::send_ipi(ANSWER_TO.load(Ordering::Relaxed), apic::BENCH_VECTOR);
    } else {
        // Release: the initiator's Acquire load sees the stamp.
        ARRIVED.store(now, Ordering::Release);
    }
    apic::eoi();
}

/// `ipi_roundtrip`: see the module docs.
pub fn ipi_roundtrip() -> BenchResult {
    let (initiator, responder) = (0usize, 1usize);
    let cpus = smp::cpus();
    ANSWER_TO.store(cpus[initiator].apic_id, Ordering::Relaxed);
    RESPONDER.store(responder, Ordering::Relaxed);
    RESPONDER_UP.store(false, Ordering::Relaxed);
    STOP.store(false, Ordering::Relaxed);
    trap::set_handler(apic::BENCH_VECTOR, on_bench_ipi);
    let target = cpus[responder].apic_id;

    // CPU 1: spin with interrupts enabled until told to stop.
    let spinner = spawn_on(responder, async {
        RESPONDER_UP.store(true, Ordering::Release);
        while !STOP.load(Ordering::Relaxed) {
            core::hint::spin_loop();
        }
    });
    let run = spawn_on(initiator, async move {
        while !RESPONDER_UP.load(Ordering::Acquire) {
            executor::yield_now().await;
        }
        let lost_after = time::ns_to_cycles(LOST_NS);
        let mut out = Vec::with_capacity(SAMPLES);
        let mut lost = 0usize;
        for i in 0..WARMUP + SAMPLES {
            ARRIVED.store(0, Ordering::Relaxed);
            let t0 = rdtsc();
            apic::send_ipi(target, apic::BENCH_VECTOR);
            loop {
                let a = ARRIVED.load(Ordering::Acquire);
                if a != 0 {
                    if i >= WARMUP {
                        out.push(a.saturating_sub(t0));
                    }
                    break;
                }
                if rdtsc() - t0 > lost_after {
                    lost += 1;
                    break;
                }
                core::hint::spin_loop();
            }
            // Let CPU 1 finish its handler (EOI, iret) before the next IPI. (Sleeping
            // here instead, so that only CPU 1 spins, made the TCG median 2-5x worse.)
            spin_ns(2_000);
        }
        (out, lost)
    });
    let (v, lost) = block_on(run);
    STOP.store(true, Ordering::Relaxed);
    block_on(spinner);
    RESPONDER.store(usize::MAX, Ordering::Relaxed);
    if lost > 0 {
        return Err(alloc::format!("{lost} IPIs got no answer within {} ms", LOST_NS / 1_000_000));
    }
    report("ipi_roundtrip", "cycles", &v);
    Ok((WARMUP + SAMPLES) as u64)
}
