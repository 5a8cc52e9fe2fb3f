//! The CPUs: discovery (ACPI), interrupt setup, and bring-up of the application
//! processors (`ap`). CPU `i` is the i-th APIC id the MADT lists; the boot CPU is 0.

pub mod ap;

use crate::acpi::Platform;
use crate::arch::{apic, ioapic, trap};

pub use crate::arch::cpus::{count, cpus, index_of, online};
use crate::arch::cpus::mark_online;
pub use crate::arch::percpu::MAX_CPUS;

/// Boot-CPU interrupt setup: ACPI, local APIC, IOAPIC routing of the serial IRQ.
pub fn init_bsp(rsdp: Option<u64>, features: &crate::arch::cpu::Features) {
    let plat = match rsdp.ok_or("the loader reported no ACPI RSDP").and_then(crate::acpi::discover) {
        Ok(p) => p,
        Err(e) => {
            log::warn!("ACPI: {e}; running on the boot CPU only with default APIC addresses");
            Platform::fallback(0)
        }
    };
    if let Err(e) = apic::init_global(features, plat.lapic_address) {
        crate::console::fatal(format_args!("APIC: {e}"));
    }
    apic::init_cpu();
    let bsp_apic = apic::id();
    let mut ids = plat.apic_ids.clone();
    ids.retain(|&id| id != bsp_apic);
    ids.insert(0, bsp_apic);
    if ids.len() > MAX_CPUS {
        log::warn!("{} CPUs found; using the first {MAX_CPUS}", ids.len());
        ids.truncate(MAX_CPUS);
    }
    crate::arch::cpus::set(&ids);
    crate::arch::percpu::set_apic_id(bsp_apic);
    trap::set_handler(apic::SPURIOUS_VECTOR, |_| {});
    trap::set_handler(apic::ERROR_VECTOR, |_| {
        log::warn!("local APIC error");
        apic::eoi();
    });
    let timer_hz = apic::calibrate_timer();
    let (mode, timer) = apic::describe();
    log::info!(
        "ACPI: {} CPUs (APIC ids {:?}), {mode}, timer {timer}{}",
        ids.len(),
        ids,
        if timer_hz > 0 { alloc::format!(" at {} kHz", timer_hz / 1000) } else { alloc::string::String::new() }
    );
    match plat.io_apics.first().map(|io| ioapic::init(io.address, io.gsi_base)) {
        Some(Ok(n)) => {
            let (gsi, flags) = plat.isa_irq(4);
            ioapic::route(gsi, apic::SERIAL_VECTOR, bsp_apic, flags);
            log::debug!("IOAPIC: {n} inputs; COM1 IRQ 4 -> GSI {gsi}");
        }
        Some(Err(e)) => log::warn!("IOAPIC: {e}; no serial input interrupts"),
        None => log::warn!("no IOAPIC; no serial input interrupts"),
    }
}
