//! In-kernel tests of SMP and the async services: placement, cross-CPU wakes, IPC,
//! sleep accuracy, balancing, an all-CPU stress run, and a wake-latency summary.

use super::{block_on, exec, spawn_on};
use crate::arch::{cpu::rdtsc, cpu_id, time};
use crate::ktest::{KTest, TestResult};
use crate::{check, ipc::PORTS, smp};
use alloc::{format, vec::Vec};
use core::future::poll_fn;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::task::Poll;
use core::time::Duration;
use executor::{Log2Histogram, LatencySummary};
use futures_util::task::AtomicWaker;

/// Suites of this module.
pub const TESTS: &[KTest] = crate::ktests![
    all_cpus_online,
    cpu_start_refuses_running_and_unknown_cpus,
    task_runs_on_home_from_every_cpu,
    ipc_ping_pong_10000_cross_cpu,
    ipc_queue_full_is_an_error,
    sleeps_never_early_and_bounded,
    balancer_moves_tasks_off_overloaded_cpu,
    tlb_shootdown_reaches_every_cpu,
    stress_all_cpus_no_deadlock,
    wake_latency_summary,
];

fn ncpus() -> usize {
    smp::online()
}

fn all_cpus_online() -> TestResult {
    check!(smp::online() == smp::count(), "{} of {} CPUs online", smp::online(), smp::count());
    let ids: Vec<usize> = (0..ncpus()).map(|c| block_on(spawn_on(c, async { cpu_id() }))).collect();
    check!(ids.iter().enumerate().all(|(i, &c)| i == c), "tasks ran on {ids:?}");
    Ok(())
}

/// INIT and STARTUP (which reset a CPU, whatever it runs) go only to a listed AP that
/// is not online, and a CPU is marked online once: every CPU here is online already, so
/// each call must be refused and change nothing.
fn cpu_start_refuses_running_and_unknown_cpus() -> TestResult {
    use crate::arch::{apic, cpus};
    let n = smp::count();
    for cpu in [0, n - 1, n, usize::MAX] {
        check!(apic::send_init(cpu).is_err(), "INIT to cpu {cpu} was sent");
        check!(apic::send_startup(cpu).is_err(), "STARTUP to cpu {cpu} was sent");
        check!(cpus::mark_online(cpu).is_err(), "cpu {cpu} was marked online again");
    }
    check!(smp::online() == n, "{} CPUs counted online of {n}", smp::online());
    let ids: Vec<usize> = (0..n).map(|c| block_on(spawn_on(c, async { cpu_id() }))).collect();
    check!(ids.iter().enumerate().all(|(i, &c)| i == c), "after the refused calls, tasks ran on {ids:?}");
    Ok(())
}

fn task_runs_on_home_from_every_cpu() -> TestResult {
    let n = ncpus();
    for src in 0..n {
        for dst in 0..n {
            let got = block_on(spawn_on(src, async move { spawn_on(dst, async { cpu_id() }).await }));
            check!(got == dst, "task woken from cpu{src} for cpu{dst} ran on cpu{got}");
        }
    }
    Ok(())
}

fn ipc_ping_pong_10000_cross_cpu() -> TestResult {
    crate::ktest::need_cpus(2)?;
    const N: u64 = 10_000;
    let (a, b) = (0, ncpus() - 1);
    let (ping, pong) = (200, 201);
    let server = spawn_on(b, async move {
        for i in 0..N {
            let m = PORTS.recv(ping).await.map_err(|e| format!("recv: {e:?}"))?;
            let v = u64::from_le_bytes(m[..8].try_into().map_err(|_| "short message")?);
            if v != i {
                return Err(format!("server expected {i}, got {v}"));
            }
            PORTS.send(pong, &v.to_le_bytes()).map_err(|e| format!("send: {e:?}"))?;
        }
        Ok(())
    });
    let client = spawn_on(a, async move {
        for i in 0..N {
            PORTS.send(ping, &i.to_le_bytes()).map_err(|e| format!("send: {e:?}"))?;
            let m = PORTS.recv(pong).await.map_err(|e| format!("recv: {e:?}"))?;
            if m[..8] != i.to_le_bytes() {
                return Err(format!("client: reply {i} wrong"));
            }
        }
        Ok::<(), alloc::string::String>(())
    });
    block_on(client)?;
    block_on(server)?;
    crate::kprintln!("    (10000 round trips between cpu{a} and cpu{b})");
    Ok(())
}

fn ipc_queue_full_is_an_error() -> TestResult {
    let port = 210;
    for i in 0..16 {
        PORTS.send(port, &[i]).map_err(|e| format!("send {i}: {e:?}"))?;
    }
    let full = PORTS.send(port, &[16]);
    check!(full.is_err(), "17th send to a full port succeeded");
    for i in 0..16u8 {
        let m = PORTS.try_recv(port).map_err(|e| format!("{e:?}"))?;
        check!(m.as_deref() == Some(&[i][..]), "message {i} out of order: {m:?}");
    }
    check!(PORTS.send(300, &[0]).is_err(), "send to port 300 succeeded");
    Ok(())
}

fn sleeps_never_early_and_bounded() -> TestResult {
    let hist: &'static Log2Histogram = alloc::boxed::Box::leak(alloc::boxed::Box::new(Log2Histogram::new()));
    let early = &*alloc::boxed::Box::leak(alloc::boxed::Box::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..ncpus())
        .flat_map(|c| (0..10u64).map(move |k| (c, k)))
        .map(|(c, k)| {
            spawn_on(c, async move {
                let want = time::ns_to_cycles(1_000_000 + k * 300_000);
                let t0 = rdtsc();
                executor::sleep_until(t0 + want).await;
                let late = rdtsc() as i64 - (t0 + want) as i64;
                if late < 0 {
                    early.fetch_add(1, Ordering::Relaxed);
                }
                hist.record(late.max(0) as u64);
            })
        })
        .collect();
    tasks.into_iter().for_each(block_on);
    let s = LatencySummary::of(hist);
    let us = |c| time::cycles_to_ns(c) / 1000;
    crate::kprintln!("    (timer lateness over {} sleeps: p50 {} us, p99 {} us, max {} us)", s.count, us(s.p50), us(s.p99), us(s.max));
    check!(early.load(Ordering::Relaxed) == 0, "{} sleeps woke early", early.load(Ordering::Relaxed));
    check!(us(s.max) < 200_000, "a sleep woke {} us late", us(s.max));
    Ok(())
}

fn balancer_moves_tasks_off_overloaded_cpu() -> TestResult {
    crate::ktest::need_cpus(2)?;
    exec().set_steal_policy(&executor::NoSteal);
    super::balance::set_enabled(false);
    let stop: &'static AtomicBool = alloc::boxed::Box::leak(alloc::boxed::Box::new(AtomicBool::new(false)));
    let seen: &'static AtomicU64 = alloc::boxed::Box::leak(alloc::boxed::Box::new(AtomicU64::new(0)));
    let opts = executor::SpawnOptions { cpu: Some(1), pinned: false, ..Default::default() };
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            exec().spawn_with(opts, async move {
                while !stop.load(Ordering::Relaxed) {
                    seen.fetch_or(1 << cpu_id(), Ordering::Relaxed);
                    executor::yield_now().await;
                }
            })
        })
        .collect();
    let mut moved = 0;
    for _ in 0..50 {
        moved += super::balance::balance_once();
        if seen.load(Ordering::Relaxed) & !0b10 != 0 {
            break;
        }
        block_on(executor::sleep(Duration::from_millis(5)));
    }
    stop.store(true, Ordering::Relaxed);
    tasks.into_iter().for_each(block_on);
    exec().set_steal_policy(&executor::StealHalf);
    super::balance::set_enabled(true);
    let mask = seen.load(Ordering::Relaxed);
    check!(moved > 0, "balancer moved nothing from cpu1 (16 tasks queued there)");
    check!(mask & !0b10 != 0, "moved tasks never ran elsewhere (cpu mask {mask:#b})");
    crate::kprintln!("    (balancer moved {moved} tasks; they ran on cpu mask {mask:#b})");
    Ok(())
}

/// A one-shot signal between tasks, stamped with the TSC when raised.
struct Signal {
    stamp: AtomicU64,
    waker: AtomicWaker,
}

impl Signal {
    const fn new() -> Self {
        Signal { stamp: AtomicU64::new(0), waker: AtomicWaker::new() }
    }

    fn raise(&self) {
        self.stamp.store(rdtsc(), Ordering::Release);
        self.waker.wake();
    }

    /// Waits for the signal, consumes it, returns cycles since it was raised.
    async fn wait(&self) -> u64 {
        poll_fn(|cx| {
            self.waker.register(cx.waker());
            match self.stamp.swap(0, Ordering::AcqRel) {
                0 => Poll::Pending,
                s => Poll::Ready(rdtsc().saturating_sub(s)),
            }
        })
        .await
    }
}

fn stress_all_cpus_no_deadlock() -> TestResult {
    let secs = 10;
    let end = rdtsc() + time::ns_to_cycles(secs * 1_000_000_000);
    let ops: &'static AtomicU64 = alloc::boxed::Box::leak(alloc::boxed::Box::new(AtomicU64::new(0)));
    let n = ncpus();
    let workers: Vec<_> = (0..n * 3)
        .map(|w| {
            spawn_on(w % n, async move {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ w as u64;
                let port = 220 + (w % 30);
                while rdtsc() < end {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    match x % 5 {
                        0 => {
                            let dst = (x as usize >> 8) % n;
                            let v = spawn_on(dst, async move { x.wrapping_mul(3) }).await;
                            if v != x.wrapping_mul(3) {
                                return Err("child result corrupted");
                            }
                        }
                        1 => executor::sleep(Duration::from_micros(x % 500)).await,
                        2 => {
                            let _ = PORTS.send(port, &x.to_le_bytes());
                        }
                        3 => {
                            let _ = executor::timeout(PORTS.recv(port), Duration::from_micros(200)).await;
                        }
                        _ => executor::yield_now().await,
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    for w in workers {
        block_on(w)?;
    }
    for p in 220..250 {
        while let Ok(Some(_)) = PORTS.try_recv(p) {}
    }
    crate::kprintln!("    ({} operations on {} CPUs in {secs} s, every worker finished)", ops.load(Ordering::Relaxed), n);
    check!(ops.load(Ordering::Relaxed) > 0);
    Ok(())
}

fn wake_latency_summary() -> TestResult {
    crate::ktest::need_cpus(2)?;
    static PING: Signal = Signal::new();
    static PONG: Signal = Signal::new();
    const ROUNDS: u32 = 2000;
    // Returns the summary and the CPUs the two tasks really ran on.
    let measure = |a: usize, b: usize| -> (LatencySummary, usize, usize) {
        let h: &'static Log2Histogram = alloc::boxed::Box::leak(alloc::boxed::Box::new(Log2Histogram::new()));
        let responder = spawn_on(b, async move {
            for _ in 0..ROUNDS {
                h.record(PING.wait().await);
                PONG.raise();
            }
            cpu_id()
        });
        let initiator = spawn_on(a, async move {
            for _ in 0..ROUNDS {
                PING.raise();
                PONG.wait().await;
            }
            cpu_id()
        });
        let ran_a = block_on(initiator);
        let ran_b = block_on(responder);
        (LatencySummary::of(h), ran_a, ran_b)
    };
    let b = ncpus() - 1;
    let remote_before = exec().stats(b).remote_wakes;
    let (same, s0, s1) = measure(0, 0);
    let (cross, c0, c1) = measure(0, b);
    let remote = exec().stats(b).remote_wakes - remote_before;
    let timer: &'static Log2Histogram = alloc::boxed::Box::leak(alloc::boxed::Box::new(Log2Histogram::new()));
    let early: &'static AtomicUsize = alloc::boxed::Box::leak(alloc::boxed::Box::new(AtomicUsize::new(0)));
    block_on(spawn_on(b, async move {
        for _ in 0..300 {
            let d = rdtsc() + time::ns_to_cycles(200_000);
            executor::sleep_until(d).await;
            let t = rdtsc();
            if t < d {
                early.fetch_add(1, Ordering::Relaxed);
            }
            timer.record(t.saturating_sub(d));
        }
    }));
    let timer = LatencySummary::of(timer);
    let us = |c: u64| {
        let ns = time::cycles_to_ns(c);
        format!("{}.{:02}", ns / 1000, (ns % 1000) / 10)
    };
    for (name, s) in [("same-CPU wake", same), ("cross-CPU wake", cross), ("timer wake", timer)] {
        crate::kprintln!("    {name:<15} n={:<5} p50 {:>8} us  p99 {:>8} us  max {:>8} us", s.count, us(s.p50), us(s.p99), us(s.max));
        check!(s.min <= s.p50 && s.p50 <= s.p99 && s.p99 <= s.max, "{name}: percentiles out of order: {s:?}");
    }
    check!((s0, s1, c0, c1) == (0, 0, 0, b), "tasks ran on cpus {s0},{s1} and {c0},{c1}, not 0,0 and 0,{b}");
    check!(same.count == u64::from(ROUNDS) && cross.count == u64::from(ROUNDS) && timer.count == 300);
    // The cross-CPU rounds woke the responder from cpu0 (a raise that lands while it is
    // still being polled, or already scheduled, needs no wake): the summary measured
    // remote wakes.
    check!(remote >= u64::from(ROUNDS) / 10, "only {remote} remote wakes on cpu{b} for {ROUNDS} cross-CPU rounds");
    check!(early.load(Ordering::Relaxed) == 0, "{} timer wakes came before their deadline", early.load(Ordering::Relaxed));
    Ok(())
}

fn tlb_shootdown_reaches_every_cpu() -> TestResult {
    use crate::mm::{frame::Frame, paging::ScratchMapping};
    const VA: u64 = 0xffff_d000_1000_0000;
    let frame = Frame::alloc_zeroed().ok_or("no frame")?;
    frame.write(0, &0x5eed_u64.to_le_bytes());
    let map = ScratchMapping::new(VA, frame, false).map_err(|e| format!("{e:?}"))?;
    // Every CPU reads the page, so its TLB holds the translation.
    for c in 0..ncpus() {
        let v = block_on(spawn_on(c, async { crate::arch::trap::probe_read(VA) }));
        check!(v == Ok(0x5eed), "cpu{c} read {v:?} before the unmap");
    }
    // Unmapping shoots the page down on every CPU.
    let frame = map.unmap()?;
    for c in 0..ncpus() {
        let v = block_on(spawn_on(c, async { crate::arch::trap::probe_read(VA) }));
        check!(v.is_err(), "cpu{c} still reads the unmapped page ({v:?}): stale TLB entry");
    }
    drop(frame);
    Ok(())
}
