//! The live scheduler tunables: the one place that holds the values chosen on the
//! command line or with the shell's `set`, and applies them to their owners (the
//! executor's steal and idle policies, the balancer, the time slice).
//!
//! Parsing and checking is `kcore::tunables` (host-tested); this file only stores and
//! applies. Hot paths never take the lock: the time slice and the balancer read the
//! atomics below, and the executor reads its policies with one atomic load.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use kcore::tunables::{Balance, Idle, Steal, Tunables};

/// The values as last set (for `describe` and the next `set`).
static LIVE: spin::Mutex<Option<Tunables>> = spin::Mutex::new(None);

/// TSC cycles of one time slice (read on every entry to ring 3).
static SLICE_CYCLES: AtomicU64 = AtomicU64::new(0);
/// Longest a ring-3 thread keeps its CPU, once it has it, from tasks queued there (the
/// time slice bounds it otherwise): 1 ms, a wake-up granularity. In TSC cycles.
static WAIT_GRANULARITY_CYCLES: AtomicU64 = AtomicU64::new(0);
const WAIT_GRANULARITY_NS: u64 = 1_000_000;
/// Balancer period in ms (0: off) and imbalance threshold (read by `balance::run`).
static BALANCE_PERIOD_MS: AtomicU32 = AtomicU32::new(100);
static BALANCE_IMBALANCE: AtomicU32 = AtomicU32::new(2);

/// Applies `t` and makes it the live set. Called at boot (after `sched::init` and TSC
/// calibration) with the command line's values, and by tests restoring a saved set.
pub fn apply(t: Tunables) {
    let mut live = LIVE.lock();
    install(live.as_ref(), &t);
    *live = Some(t);
}

/// Pushes `t` to its owners. Only an idle policy that changed is installed again: a
/// parameterised one is leaked (the executor keeps `&'static` policies), so a `set` of
/// another tunable must not leak one more.
fn install(prev: Option<&Tunables>, t: &Tunables) {
    let e = super::exec();
    e.set_steal_policy(match t.steal {
        Steal::None => &executor::NoSteal,
        Steal::One => &executor::StealOne,
        Steal::Half => &executor::StealHalf,
    });
    e.set_wake_thieves(t.wake_thieves);
    if prev.map(|p| p.idle) != Some(t.idle) {
        e.set_idle_policy(match t.idle {
            Idle::Halt => &executor::idle::Halt,
            Idle::Poll { us } => Box::leak(Box::new(executor::idle::Poll { us: us.into() })),
            Idle::Adaptive { max_us } => Box::leak(Box::new(executor::idle::Adaptive { max_us: max_us.into() })),
        });
    }
    e.set_timer_spin(core::time::Duration::from_micros(t.timer_spin_us.into()));
    let (period, imbalance) = match t.balance {
        Balance::Off => (0, 0),
        Balance::Every { period_ms, imbalance } => (period_ms, imbalance),
    };
    BALANCE_PERIOD_MS.store(period, Relaxed);
    BALANCE_IMBALANCE.store(imbalance, Relaxed);
    SLICE_CYCLES.store(crate::arch::time::tsc_hz() / u64::from(t.slice_hz.max(1)), Relaxed);
    WAIT_GRANULARITY_CYCLES.store(crate::arch::time::ns_to_cycles(WAIT_GRANULARITY_NS), Relaxed);
}

/// The live values.
pub fn get() -> Tunables {
    LIVE.lock().unwrap_or_default()
}

/// All live values as space-separated `key=value` (boot log, `BENCHINFO`, shell `get`).
pub fn describe() -> String {
    get().to_string()
}

/// Changes one tunable at run time from `key=value`; Err says why nothing changed.
pub fn set(assignment: &str) -> Result<(), String> {
    // Under the lock from read to write, so that two `set`s at once lose neither.
    let mut live = LIVE.lock();
    let mut t = live.unwrap_or_default();
    t.assign(assignment)?;
    install(live.as_ref(), &t);
    *live = Some(t);
    Ok(())
}

/// Length of a time slice in TSC cycles.
pub fn slice_cycles() -> u64 {
    match SLICE_CYCLES.load(Relaxed) {
        0 => crate::arch::time::tsc_hz() / 100,
        c => c,
    }
}

/// See `WAIT_GRANULARITY_CYCLES` (precomputed: read on every entry to ring 3).
pub fn wait_granularity_cycles() -> u64 {
    WAIT_GRANULARITY_CYCLES.load(Relaxed)
}

/// The balancer's period (None: off) and imbalance threshold.
pub fn balance() -> (Option<core::time::Duration>, usize) {
    let p = BALANCE_PERIOD_MS.load(Relaxed);
    let d = (p > 0).then(|| core::time::Duration::from_millis(p.into()));
    (d, BALANCE_IMBALANCE.load(Relaxed) as usize)
}
