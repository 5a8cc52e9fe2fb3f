//! Mapping firmware tables (ACPI) for the `acpi` crate: through the HHDM, adding
//! read-only 4 KiB mappings for tables that live in "reserved" memory the HHDM skips.

use super::{paging, phys, PAGE};
use acpi::{AcpiHandler, PhysicalMapping};
use core::ptr::NonNull;
use x86_64::structures::paging::PageTableFlags as F;

/// Makes `[pa, pa+len)` readable at its HHDM address; Err if it cannot be mapped.
pub fn ensure_mapped(pa: u64, len: u64) -> Result<(), &'static str> {
    let end = pa.checked_add(len.max(1)).ok_or("firmware range overflows")?;
    if end > 1 << 46 {
        return Err("firmware range beyond physical address space");
    }
    let mut page = pa & !(PAGE - 1);
    while page < end {
        let va = phys::to_virt(page);
        let mapped = paging::with_kernel(|t| t.translate(va)).is_some();
        if !mapped {
            paging::with_kernel(|t| t.map(va, page, F::PRESENT | F::NO_EXECUTE, F::PRESENT | F::WRITABLE))
                .map_err(|_| "cannot map firmware table")?;
        }
        page += PAGE;
    }
    Ok(())
}

/// The `len` bytes of a firmware table (e.g. the DSDT's AML, for `_S5`) at `pa`,
/// mapped read-only first if the HHDM skips them.
pub fn table_bytes(pa: u64, len: u64) -> Result<&'static [u8], &'static str> {
    ensure_mapped(pa, len)?;
    Ok(phys::bytes(pa, usize::try_from(len).map_err(|_| "firmware table too long")?))
}

/// `acpi` crate handler: physical = HHDM + offset, mapped on demand, never unmapped.
#[derive(Clone, Copy, Debug)]
pub struct AcpiMapper;

impl AcpiHandler for AcpiMapper {
    unsafe fn map_physical_region<T>(&self, pa: usize, size: usize) -> PhysicalMapping<Self, T> {
        if let Err(e) = ensure_mapped(pa as u64, size as u64) {
            // The acpi crate's interface cannot fail here; the table is unusable.
            panic!("ACPI table at {pa:#x}+{size:#x}: {e}");
        }
        let va = phys::to_virt(pa as u64) as *mut T;
        // SAFETY: the range is mapped (above) and the crate only reads it; the
        // mapping lives forever so the PhysicalMapping can never dangle.
        unsafe { PhysicalMapping::new(pa, NonNull::new_unchecked(va), size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// Opens the ACPI tables from the RSDP at physical `rsdp`, which must be the one the
/// loader reported (the crate follows the pointers in it).
pub fn tables_from_rsdp(rsdp: u64) -> Result<acpi::AcpiTables<AcpiMapper>, acpi::AcpiError> {
    if super::boot_ranges().rsdp != Some(rsdp) {
        return Err(acpi::AcpiError::NoValidRsdp);
    }
    // SAFETY: the crate reads the RSDP through `AcpiMapper`, which maps whatever
    // physical range is asked for read-only; it validates the RSDP signature before
    // following any pointer in it.
    unsafe { acpi::AcpiTables::from_rsdp(AcpiMapper, rsdp as usize) }
}
