//! The kernel's use of the executor: one global `Executor` with a CPU each, the
//! platform glue (LAPIC timer, RESCHEDULE IPIs, TSC), and the interrupt handlers that
//! wake it. `spawn`/`sleep` here are what kernel services use.

pub mod balance;
mod platform;
pub use platform::{entering_user, left_user};
pub mod tunables;
#[allow(dead_code)]
pub mod tests;
#[allow(dead_code)]
pub mod policy_tests;
pub mod trace;
pub mod watchdog;

use crate::arch::{apic, trap};
use crate::metrics;
pub use executor::{sleep, JoinHandle};
use executor::Executor;

static EXEC: spin::Once<&'static Executor> = spin::Once::new();

/// Creates the executor for `cpus` CPUs and installs the interrupt handlers.
pub fn init(cpus: usize) {
    EXEC.call_once(|| Executor::new(&platform::KernelPlatform, cpus));
    crate::mm::tlb::init();
    trap::set_handler(apic::TIMER_VECTOR, |_| {
        let cpu = crate::arch::cpu_id();
        apic::timer_fired();
        // The timer is no longer armed: the executor must program it again even for the
        // same deadline (an interrupt a little before it, e.g. one armed early by the
        // timer spin, would otherwise leave the CPU halted with nothing armed).
        if let Some(e) = EXEC.get() {
            e.timer_clobbered(cpu);
        }
        trace::event(kcore::trace::Kind::TimerIrq, 0, 0, 0);
        metrics::timer_tick(cpu);
        apic::eoi();
    });
    trap::set_handler(apic::RESCHEDULE_VECTOR, |_| {
        metrics::ipis_received(crate::arch::cpu_id());
        trace::event(kcore::trace::Kind::IpiRecv, 0, 0, 0);
        apic::eoi();
    });
}

/// The kernel's executor.
pub fn exec() -> &'static Executor {
    EXEC.get().expect("sched::init ran")
}

/// Spawns a kernel task pinned to `cpu`.
pub fn spawn_on<F>(cpu: usize, f: F) -> JoinHandle<F::Output>
where
    F: core::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    exec().spawn_on(cpu, f)
}

/// Runs this CPU's executor loop forever (the idle loop of every CPU).
pub fn run_cpu(cpu: usize) -> ! {
    exec().run(cpu, &|| false);
    crate::arch::halt_forever()
}

/// Runs `f` to completion on this CPU's executor (boot and tests).
pub fn block_on<F: core::future::Future>(f: F) -> F::Output {
    exec().block_on(crate::arch::cpu_id(), f)
}
