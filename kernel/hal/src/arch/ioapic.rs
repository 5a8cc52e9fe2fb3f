//! IOAPIC: routes device interrupts (the serial port's IRQ 4) to a CPU's vector.

use core::sync::atomic::{AtomicU64, Ordering};

static BASE: AtomicU64 = AtomicU64::new(0);
static GSI_BASE: AtomicU64 = AtomicU64::new(0);

fn write(reg: u32, v: u32) {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: BASE is the uncached mapping of the IOAPIC's register window
    // (IOREGSEL at +0, IOWIN at +0x10); callers hold no reference into it.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, reg);
        core::ptr::write_volatile((base + 0x10) as *mut u32, v);
    }
}

fn read(reg: u32) -> u32 {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: as for `write`.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, reg);
        core::ptr::read_volatile((base + 0x10) as *const u32)
    }
}

/// Maps the first IOAPIC and masks all its inputs.
pub fn init(phys: u64, gsi_base: u32) -> Result<u32, &'static str> {
    let va = crate::mm::paging::map_mmio(phys, 0x20).map_err(|_| "cannot map the IOAPIC")?;
    BASE.store(va, Ordering::Relaxed);
    GSI_BASE.store(gsi_base as u64, Ordering::Relaxed);
    let entries = ((read(1) >> 16) & 0xff) + 1;
    for i in 0..entries {
        write(0x10 + 2 * i, 1 << 16);
    }
    Ok(entries)
}

/// Routes global system interrupt `gsi` to `vector` on the CPU with `apic_id`.
/// `flags` are the MADT override flags (polarity bits 0-1: 3 = active low; trigger
/// bits 2-3: 3 = level).
pub fn route(gsi: u32, vector: u8, apic_id: u32, flags: u16) {
    let pin = gsi - GSI_BASE.load(Ordering::Relaxed) as u32;
    let mut low = vector as u32;
    if flags & 0b11 == 0b11 {
        low |= 1 << 13;
    }
    if (flags >> 2) & 0b11 == 0b11 {
        low |= 1 << 15;
    }
    write(0x10 + 2 * pin + 1, apic_id << 24);
    write(0x10 + 2 * pin, low);
}
