//! The periodic load balancer (seed policy): every period (default 100 ms), find the
//! busiest and the idlest CPU by run-queue length and, when they differ by more than the
//! imbalance threshold (default 2), migrate half the difference. Both are tunables
//! (`balance=off|<period_ms>[,<imbalance>]`, see `sched::tunables`). Idle CPUs also
//! steal on their own (executor `StealPolicy`); this task catches imbalance between CPUs
//! that are all busy.

use super::exec;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;

/// How long the balancer sleeps while `balance=off`, before looking at the setting again.
const OFF_RECHECK: Duration = Duration::from_millis(100);

/// Tasks the balancer has moved (counted in `metrics`).
pub use crate::metrics::MOVED;
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Pauses or resumes the balancer without changing its tunables (tests).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// One balancing pass; returns how many tasks moved.
pub fn balance_once() -> usize {
    let e = exec();
    let n = e.num_cpus();
    let online = |c: usize| crate::arch::cpus::cpus().get(c).is_some_and(|x| x.online.load(Ordering::Acquire));
    let loads = (0..n).filter(|&c| online(c)).map(|c| (e.queued(c), c));
    let (Some(max), Some(min)) = (loads.clone().max(), loads.min()) else { return 0 };
    if max.0 <= min.0 + super::tunables::balance().1 {
        return 0;
    }
    let moved = e.migrate(max.1, min.1, (max.0 - min.0) / 2);
    MOVED.fetch_add(moved as u64, Ordering::Relaxed);
    moved
}

/// The balancer task: spawn once, pinned to the boot CPU.
pub async fn run() {
    loop {
        match super::tunables::balance().0 {
            Some(period) => {
                executor::sleep(period).await;
                if ENABLED.load(Ordering::Relaxed) && super::tunables::balance().0.is_some() {
                    balance_once();
                }
            }
            None => executor::sleep(OFF_RECHECK).await,
        }
    }
}
