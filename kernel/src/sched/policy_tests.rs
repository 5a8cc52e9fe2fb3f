//! In-kernel tests of the scheduler tunables and idle policies: a tunable changes at run
//! time (and a bad value changes nothing), no wake-up is lost under any idle policy
//! (a token ring across every CPU, plus timers, with CPUs going idle between hops), and
//! a polling CPU takes cross-CPU wakes without a RESCHEDULE IPI.

use super::{block_on, exec, spawn_on, tunables};
use crate::arch::time;
use crate::ktest::{KTest, TestResult};
use crate::{check, smp};
use alloc::{format, vec::Vec};
use core::future::poll_fn;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::Poll;
use core::time::Duration;
use futures_util::task::AtomicWaker;

/// Suites of this module.
pub const TESTS: &[KTest] = crate::ktests![
    tunables_change_at_run_time,
    no_lost_wake_under_each_idle_policy,
    lone_timers_fire_under_each_timer_spin,
    polling_cpu_takes_wakes_without_ipi,
];

/// Restores the boot-time tunables when dropped (a failing test leaves them as found).
struct Restore(kcore::tunables::Tunables);

impl Drop for Restore {
    fn drop(&mut self) {
        tunables::apply(self.0);
    }
}

fn tunables_change_at_run_time() -> TestResult {
    let _restore = Restore(tunables::get());
    tunables::set("steal=none").map_err(|e| format!("set steal=none: {e}"))?;
    tunables::set("idle=poll:75").map_err(|e| format!("set idle=poll:75: {e}"))?;
    let d = tunables::describe();
    check!(d.contains("steal=none") && d.contains("idle=poll:75"), "describe says '{d}'");
    let e = tunables::set("slice_hz=0");
    check!(e.is_err(), "slice_hz=0 was accepted");
    check!(tunables::describe() == d, "a refused value changed the tunables: {}", tunables::describe());
    check!(tunables::set("nonsense").is_err(), "an assignment without '=' was accepted");
    Ok(())
}

/// A counting signal for one waiter (raised any number of times from anywhere).
struct Counter {
    n: AtomicU64,
    waker: AtomicWaker,
}

impl Counter {
    const fn new() -> Self {
        Counter { n: AtomicU64::new(0), waker: AtomicWaker::new() }
    }

    fn raise(&self) {
        self.n.fetch_add(1, Ordering::Release);
        self.waker.wake();
    }

    async fn reach(&self, want: u64) {
        poll_fn(|cx| {
            self.waker.register(cx.waker());
            if self.n.load(Ordering::Acquire) >= want {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

fn no_lost_wake_under_each_idle_policy() -> TestResult {
    let _restore = Restore(tunables::get());
    let n = smp::online();
    for setting in ["idle=halt", "idle=poll:20", "idle=poll:300", "idle=adaptive:200", "timer_spin=50"] {
        tunables::set(setting).map_err(|e| format!("{setting}: {e}"))?;
        const HOPS: u64 = 1500;
        let sig: &'static [Counter] = alloc::boxed::Box::leak((0..n).map(|_| Counter::new()).collect());
        let ring: Vec<_> = (0..n)
            .map(|c| {
                spawn_on(c, async move {
                    let mut k = 0;
                    // Hop h is taken by CPU h % n; each is a wake of the next CPU, which
                    // has just gone idle (or is polling, or halted).
                    while k * n as u64 + (c as u64) < HOPS {
                        k += 1;
                        sig[c].reach(k).await;
                        if c + 1 == n && k % 16 == 0 {
                            // Now and then a timer wake in between, so that halts and
                            // timer interrupts mix with the IPIs.
                            executor::sleep(Duration::from_micros(50)).await;
                        }
                        sig[(c + 1) % n].raise();
                    }
                })
            })
            .collect();
        sig[0].raise();
        for (c, t) in ring.into_iter().enumerate() {
            let r = block_on(executor::timeout(t, Duration::from_secs(30)));
            check!(r.is_ok(), "{setting}: the token ring stalled at cpu{c} (a lost wake-up)");
        }
    }
    crate::kprintln!("    (1500 hops round {n} CPUs under halt, poll:20, poll:300, adaptive:200, timer_spin=50)");
    Ok(())
}

/// A CPU whose only work is its own timers (no IPI to rescue a missed deadline) must
/// wake for each of them under every timer spin and idle policy. Regression: with a
/// timer spin, a timer interrupt that came a little early left the executor believing
/// the timer was still armed, and the CPU halted for ever.
fn lone_timers_fire_under_each_timer_spin() -> TestResult {
    let _restore = Restore(tunables::get());
    let cpu = smp::online() - 1;
    for setting in ["timer_spin=0", "timer_spin=20", "timer_spin=100", "idle=adaptive", "idle=poll:30", "idle=halt"] {
        tunables::set(setting).map_err(|e| format!("{setting}: {e}"))?;
        let t = spawn_on(cpu, async {
            let mut x = 0x9e37_79b9u64;
            for _ in 0..300 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let d = crate::arch::cpu::rdtsc() + time::ns_to_cycles(20_000 + x % 200_000);
                executor::sleep_until(d).await;
                if crate::arch::cpu::rdtsc() < d {
                    return Err("a sleep ended before its deadline");
                }
            }
            Ok(())
        });
        match block_on(executor::timeout(t, Duration::from_secs(20))) {
            Ok(r) => r.map_err(|e| format!("{setting}: {e}"))?,
            Err(_) => return Err(format!("{setting}: 300 short sleeps on cpu{cpu} did not finish in 20 s (a timer never fired)")),
        }
    }
    Ok(())
}

fn polling_cpu_takes_wakes_without_ipi() -> TestResult {
    crate::ktest::need_cpus(2)?;
    let _restore = Restore(tunables::get());
    // A window far longer than the gap between wakes: the target never halts.
    tunables::set("idle=poll:20000")?;
    let (a, b) = (0, 1);
    let before = exec().stats(b);
    const WAKES: u64 = 200;
    let sig: &'static Counter = alloc::boxed::Box::leak(alloc::boxed::Box::new(Counter::new()));
    let waiter = spawn_on(b, async move {
        for k in 1..=WAKES {
            sig.reach(k).await;
        }
    });
    let waker = spawn_on(a, async move {
        for _ in 0..WAKES {
            executor::sleep(Duration::from_micros(200)).await;
            sig.raise();
        }
    });
    block_on(waker);
    check!(block_on(executor::timeout(waiter, Duration::from_secs(30))).is_ok(), "the waiter never saw every wake");
    let after = exec().stats(b);
    let (hits, ipis) = (after.poll_hits - before.poll_hits, after.notifies_sent - before.notifies_sent);
    let polled_us = time::cycles_to_ns(after.poll_ticks - before.poll_ticks) / 1000;
    crate::kprintln!("    ({WAKES} wakes of a polling cpu{b}: {hits} found it polling, {ipis} IPIs; polled {polled_us} us)");
    check!(hits > 0, "no wake found cpu{b} polling");
    check!(ipis < WAKES / 2, "{ipis} IPIs for {WAKES} wakes of a polling CPU");
    Ok(())
}
