//! ACPI: the MADT tells us the CPUs (APIC ids), the local APIC address, the IOAPICs
//! and the ISA interrupt overrides. Missing or malformed tables give an error in words;
//! the kernel then runs on the boot CPU alone with default APIC addresses.

use crate::mm::firmware::AcpiMapper;
use acpi::madt::{Madt, MadtEntry};
use acpi::AcpiTables;
use alloc::vec::Vec;

/// An IOAPIC.
#[derive(Clone, Copy, Debug)]
pub struct IoApicInfo {
    pub address: u64,
    pub gsi_base: u32,
}

/// An ISA IRQ rerouted to another global system interrupt.
#[derive(Clone, Copy, Debug)]
pub struct IrqOverride {
    pub irq: u8,
    pub gsi: u32,
    /// MPS INTI flags (polarity bits 0-1, trigger bits 2-3).
    pub flags: u16,
}

/// What the MADT says about the machine.
#[derive(Clone, Debug)]
pub struct Platform {
    /// APIC ids of usable CPUs, the boot CPU's included.
    pub apic_ids: Vec<u32>,
    pub lapic_address: u64,
    pub io_apics: Vec<IoApicInfo>,
    pub overrides: Vec<IrqOverride>,
}

impl Platform {
    /// The defaults of every PC: one CPU, LAPIC at 0xfee00000, IOAPIC at 0xfec00000.
    pub fn fallback(bsp_apic_id: u32) -> Platform {
        Platform {
            apic_ids: alloc::vec![bsp_apic_id],
            lapic_address: 0xfee0_0000,
            io_apics: alloc::vec![IoApicInfo { address: 0xfec0_0000, gsi_base: 0 }],
            overrides: Vec::new(),
        }
    }

    /// The GSI and flags an ISA IRQ arrives on.
    pub fn isa_irq(&self, irq: u8) -> (u32, u16) {
        self.overrides.iter().find(|o| o.irq == irq).map_or((irq as u32, 0), |o| (o.gsi, o.flags))
    }
}

/// Reads the MADT from the RSDP at physical `rsdp`.
pub fn discover(rsdp: u64) -> Result<Platform, &'static str> {
    crate::mm::firmware::ensure_mapped(rsdp, 36)?;
    let tables = crate::mm::firmware::tables_from_rsdp(rsdp).map_err(|_| "no valid RSDP/XSDT (bad signature)")?;
    parse_madt(&tables)
}

fn parse_madt(tables: &AcpiTables<AcpiMapper>) -> Result<Platform, &'static str> {
    let madt = tables.find_table::<Madt>().map_err(|_| "no MADT (APIC table) in ACPI")?;
    let mut p = Platform {
        apic_ids: Vec::new(),
        lapic_address: madt.get().local_apic_address as u64,
        io_apics: Vec::new(),
        overrides: Vec::new(),
    };
    for e in madt.get().entries() {
        match e {
            MadtEntry::LocalApic(l) if l.flags & 0b11 != 0 => p.apic_ids.push(l.apic_id as u32),
            MadtEntry::LocalX2Apic(l) if l.flags & 0b11 != 0 => {
                let id = { l.x2apic_id };
                if !p.apic_ids.contains(&id) {
                    p.apic_ids.push(id);
                }
            }
            MadtEntry::IoApic(io) => p.io_apics.push(IoApicInfo {
                address: { io.io_apic_address } as u64,
                gsi_base: { io.global_system_interrupt_base },
            }),
            MadtEntry::InterruptSourceOverride(o) if o.bus == 0 => p.overrides.push(IrqOverride {
                irq: o.irq,
                gsi: { o.global_system_interrupt },
                flags: { o.flags },
            }),
            MadtEntry::LocalApicAddressOverride(a) => p.lapic_address = a.local_apic_address,
            _ => {}
        }
    }
    if p.apic_ids.is_empty() {
        return Err("MADT lists no enabled CPU");
    }
    if p.io_apics.is_empty() {
        return Err("MADT lists no IOAPIC");
    }
    Ok(p)
}
