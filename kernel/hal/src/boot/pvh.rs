//! PVH direct boot (`qemu -kernel`): reads `struct hvm_start_info`.
//!
//! arch/pvh_entry.S enters long mode with the first 4 GiB mapped at the HHDM, so every
//! structure QEMU hands over (it places them below 4 GiB) is reachable through
//! `mm::phys`. Layouts are from Xen's public `arch-x86/hvm/start_info.h`.

use super::{BootInfo, Protocol, Region, RegionKind};
use crate::mm::phys;

const START_INFO_MAGIC: u32 = 0x336e_c578;
/// The HHDM offset the PVH stub maps (Limine's default, so both paths agree).
pub const HHDM: u64 = 0xffff_8000_0000_0000;
/// Only the first 4 GiB are mapped by the stub.
const EARLY_MAPPED: u64 = 4 << 30;

/// Why a PVH handover cannot be used.
#[derive(Debug)]
pub enum PvhError {
    BadMagic(u32),
    Unreachable(&'static str, u64),
    NoMemoryMap,
}

impl core::fmt::Display for PvhError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PvhError::BadMagic(m) => write!(f, "hvm_start_info has bad magic {m:#x} (expected {START_INFO_MAGIC:#x})"),
            PvhError::Unreachable(what, a) => write!(f, "{what} at {a:#x} lies outside the first 4 GiB"),
            PvhError::NoMemoryMap => write!(f, "hvm_start_info (version 0) carries no memory map; QEMU >= 4.0 provides one"),
        }
    }
}

fn reachable(what: &'static str, addr: u64, len: u64) -> Result<(), PvhError> {
    match addr.checked_add(len) {
        Some(end) if end <= EARLY_MAPPED && addr != 0 => Ok(()),
        _ => Err(PvhError::Unreachable(what, addr)),
    }
}

/// Builds the `BootInfo` from the start_info at physical `si`.
pub fn parse(si: u64, kernel_phys: u64, kernel_virt: u64) -> Result<BootInfo, PvhError> {
    reachable("hvm_start_info", si, 56)?;
    let magic = phys::read_u32(si);
    if magic != START_INFO_MAGIC {
        return Err(PvhError::BadMagic(magic));
    }
    let version = phys::read_u32(si + 4);
    let nr_modules = phys::read_u32(si + 12);
    let modlist = phys::read_u64(si + 16);
    let cmdline = phys::read_u64(si + 24);
    let rsdp = phys::read_u64(si + 32);
    let mut info = BootInfo::new(Protocol::Pvh, HHDM);
    info.kernel_phys = kernel_phys;
    info.kernel_virt = kernel_virt;
    if version < 1 {
        return Err(PvhError::NoMemoryMap);
    }
    let memmap = phys::read_u64(si + 40);
    let entries = phys::read_u32(si + 48) as u64;
    if entries == 0 {
        return Err(PvhError::NoMemoryMap);
    }
    reachable("memory map", memmap, entries * 24)?;
    for i in 0..entries {
        let e = memmap + i * 24;
        let kind = match phys::read_u32(e + 16) {
            1 => RegionKind::Usable,
            3 => RegionKind::AcpiReclaimable,
            4 => RegionKind::AcpiNvs,
            5 => RegionKind::Bad,
            _ => RegionKind::Reserved,
        };
        info.push_region(Region { start: phys::read_u64(e), len: phys::read_u64(e + 8), kind });
    }
    if cmdline != 0 {
        match reachable("command line", cmdline, super::MAX_CMDLINE as u64 + 1) {
            Ok(()) => info.set_cmdline(phys::bytes(cmdline, super::MAX_CMDLINE + 1)),
            Err(_) => info.warn("PVH command line is not reachable; ignored"),
        }
    }
    if rsdp != 0 {
        info.rsdp = Some(rsdp);
    }
    if nr_modules >= 1 {
        if reachable("module list", modlist, 32).is_ok() {
            let (addr, size) = (phys::read_u64(modlist), phys::read_u64(modlist + 8));
            if size != 0 && reachable("initrd", addr, size).is_ok() {
                info.initrd = Some((addr, size));
            } else {
                info.warn("initrd module is empty or out of reach; ignored");
            }
        } else {
            info.warn("PVH module list is not reachable; initrd ignored");
        }
        if nr_modules > 1 {
            info.warn("more than one PVH module; only the first (initrd) is used");
        }
    }
    Ok(info)
}
