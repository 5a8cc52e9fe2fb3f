//! `executor::Platform` for the kernel: TSC time, LAPIC one-shot timer, RESCHEDULE
//! IPIs, and the interrupts-off re-check before `sti; hlt`.

use hal::MAX_CPUS;
use crate::arch::{apic, cpu, irq, time};
use core::sync::atomic::{fence, AtomicBool, Ordering};
use super::trace::event;
use crate::metrics;
use kcore::trace::Kind;

/// The kernel platform (zero-sized: the hardware is the state).
pub struct KernelPlatform;

/// Per CPU: a thread is (about to be) in ring 3, where the CPU sees newly queued tasks
/// only when the thread traps. Set before the thread's last look at the queues (then a
/// SeqCst fence), cleared when it is back; `poke` reads it.
static IN_USER: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// The thread loop is about to enter ring 3 on `cpu`: after this, a task queued here
/// by another CPU interrupts it (`poke`). Call before looking at the queues.
pub fn entering_user(cpu: usize) {
    if let Some(f) = IN_USER.get(cpu) {
        f.store(true, Ordering::Relaxed);
        // Pairs with the fence in the waker's kick (executor handshake.rs): either the
        // waker sees the flag and interrupts us, or our look at the queues sees its task.
        fence(Ordering::SeqCst);
    }
}

/// The thread is back from ring 3 on `cpu`.
pub fn left_user(cpu: usize) {
    if let Some(f) = IN_USER.get(cpu) {
        f.store(false, Ordering::Relaxed);
    }
}

impl executor::Platform for KernelPlatform {
    fn cpu_id(&self) -> usize {
        crate::arch::cpu_id()
    }

    fn notify(&self, cpu: usize) {
        if let Some(c) = crate::arch::cpus::cpus().get(cpu) {
            metrics::ipis_sent(crate::arch::cpu_id());
            event(Kind::IpiSend, 0, cpu as u32, 0);
            apic::send_ipi(c.apic_id, apic::RESCHEDULE_VECTOR);
        }
    }

    fn poke(&self, cpu: usize) {
        if IN_USER.get(cpu).is_some_and(|f| f.load(Ordering::Relaxed)) {
            metrics::POKES.fetch_add(1, Ordering::Relaxed);
            self.notify(cpu);
        }
    }

    fn idle(&self, _cpu: usize, may_halt: &dyn Fn() -> bool) {
        irq::disable();
        if may_halt() {
            event(Kind::HaltBegin, 0, 0, 0);
            // `sti; hlt`: an IPI or timer interrupt after the check ends the halt.
            irq::enable_and_halt();
            event(Kind::HaltEnd, 0, 0, 0);
        } else {
            irq::enable();
        }
    }

    fn now(&self) -> u64 {
        cpu::rdtsc()
    }

    fn ticks_per_second(&self) -> u64 {
        time::tsc_hz()
    }

    fn set_deadline(&self, _cpu: usize, deadline: Option<u64>) {
        apic::arm_timer(deadline);
    }
}
