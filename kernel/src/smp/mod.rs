//! The CPUs: discovery (ACPI), interrupt setup, and bring-up of the application
//! processors (`ap`). CPU `i` is the i-th APIC id the MADT lists; the boot CPU is 0.

pub mod ap;

use crate::acpi::Platform;
use crate::arch::{apic, ioapic, trap};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub use crate::arch::percpu::MAX_CPUS;

/// One CPU the MADT listed.
pub struct Cpu {
    pub apic_id: u32,
    pub online: AtomicBool,
}

static CPUS: spin::Once<Vec<Cpu>> = spin::Once::new();
static ONLINE: AtomicUsize = AtomicUsize::new(1);

/// All CPUs (index = logical CPU id).
pub fn cpus() -> &'static [Cpu] {
    CPUS.get().map_or(&[], |v| v.as_slice())
}

/// CPUs the MADT listed (online or not).
pub fn count() -> usize {
    cpus().len().max(1)
}

/// CPUs running the kernel.
pub fn online() -> usize {
    ONLINE.load(Ordering::Acquire)
}

/// Logical id of the CPU with `apic_id`.
pub fn index_of(apic_id: u32) -> Option<usize> {
    cpus().iter().position(|c| c.apic_id == apic_id)
}

fn mark_online(cpu: usize) {
    cpus()[cpu].online.store(true, Ordering::Release);
    ONLINE.fetch_add(1, Ordering::AcqRel);
}

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
        crate::fatal(format_args!("APIC: {e}"));
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
    CPUS.call_once(|| ids.iter().map(|&apic_id| Cpu { apic_id, online: AtomicBool::new(false) }).collect());
    cpus()[0].online.store(true, Ordering::Release);
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
