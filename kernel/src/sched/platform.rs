//! `executor::Platform` for the kernel: TSC time, LAPIC one-shot timer, RESCHEDULE
//! IPIs, and the interrupts-off re-check before `sti; hlt`.

use crate::arch::{apic, cpu, irq, time};
use super::trace::event;
use crate::metrics;
use kcore::trace::Kind;

/// The kernel platform (zero-sized: the hardware is the state).
pub struct KernelPlatform;

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
