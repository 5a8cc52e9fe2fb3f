//! ACPI: the MADT tells us the CPUs (APIC ids), the local APIC address, the IOAPICs
//! and the ISA interrupt overrides. Missing or malformed tables give an error in words;
//! the kernel then runs on the boot CPU alone with default APIC addresses. The FADT
//! and the DSDT's `_S5` give the soft-off registers (`power_off`), best effort.

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

/// Reads the MADT from the RSDP at physical `rsdp` (and notes how to power off).
pub fn discover(rsdp: u64) -> Result<Platform, &'static str> {
    crate::mm::firmware::ensure_mapped(rsdp, 36)?;
    let tables = crate::mm::firmware::tables_from_rsdp(rsdp).map_err(|_| "no valid RSDP/XSDT (bad signature)")?;
    match find_soft_off(&tables) {
        Ok(s) => {
            SOFT_OFF.call_once(|| s);
        }
        Err(why) => log::debug!("ACPI power-off unavailable: {why}"),
    }
    parse_madt(&tables)
}

/// How to enter S5: the PM1a/PM1b control ports and the `_S5` sleep types.
#[derive(Clone, Copy, Debug)]
struct SoftOff {
    pm1a: u16,
    pm1b: Option<u16>,
    types: kcore::s5::SleepTypes,
}

static SOFT_OFF: spin::Once<SoftOff> = spin::Once::new();

fn io_port(a: &acpi::address::GenericAddress) -> Result<u16, &'static str> {
    match a.address_space {
        acpi::address::AddressSpace::SystemIo => u16::try_from(a.address).map_err(|_| "PM1 port beyond 16 bits"),
        _ => Err("PM1 control block is not in I/O space"),
    }
}

fn find_soft_off(tables: &AcpiTables<AcpiMapper>) -> Result<SoftOff, &'static str> {
    let fadt = tables.find_table::<acpi::fadt::Fadt>().map_err(|_| "no FADT")?;
    let pm1a = io_port(&fadt.pm1a_control_block().map_err(|_| "no PM1a control block")?)?;
    let pm1b = match fadt.pm1b_control_block() {
        Ok(Some(b)) => Some(io_port(&b)?),
        _ => None,
    };
    let dsdt = tables.dsdt().map_err(|_| "no DSDT")?;
    let aml = crate::mm::firmware::table_bytes(dsdt.address as u64, dsdt.length as u64)?;
    let types = kcore::s5::find(aml).ok_or("no _S5 package in the DSDT")?;
    Ok(SoftOff { pm1a, pm1b, types })
}

/// Enters ACPI S5 (soft off) if the firmware described it; returns if the machine is
/// still running afterwards (no ACPI, or the write did nothing).
pub fn power_off() {
    let Some(s) = SOFT_OFF.get() else { return };
    crate::arch::io::outw(s.pm1a, kcore::s5::pm1_cnt_value(s.types.a));
    if let Some(b) = s.pm1b {
        crate::arch::io::outw(b, kcore::s5::pm1_cnt_value(s.types.b));
    }
    // The chipset may take a moment.
    let t0 = crate::arch::time::uptime_ns();
    while crate::arch::time::uptime_ns() - t0 < 100_000_000 {
        core::hint::spin_loop();
    }
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
