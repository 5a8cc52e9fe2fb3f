//! Limine boot protocol: the requests, and the entry point that turns the responses
//! into a `BootInfo`.
//!
//! We ask for base revision 3 and accept 2 (Limine 8.x). Revision 3 reports the RSDP
//! as a physical address and its HHDM does not cover ACPI tables (our own HHDM maps
//! them); revision 2 reports the RSDP as an HHDM address. Requests sit between their
//! markers in `.requests*` sections, which the linker script keeps in `.data`.
#![allow(unsafe_code)] // #[link_section]/#[no_mangle] are "unsafe attributes"

use super::{BootInfo, FramebufferInfo, Protocol, Region, RegionKind};
use limine::memory_map::EntryType;
use limine::request::{
    ExecutableAddressRequest, ExecutableCmdlineRequest, FramebufferRequest, HhdmRequest, MemoryMapRequest,
    ModuleRequest, RequestsEndMarker, RequestsStartMarker, RsdpRequest,
};
use limine::BaseRevision;

#[used]
#[link_section = ".requests_start_marker"]
static START: RequestsStartMarker = RequestsStartMarker::new();
#[used]
#[link_section = ".requests"]
static BASE_REVISION: BaseRevision = BaseRevision::with_revision(3);
#[used]
#[link_section = ".requests"]
static HHDM: HhdmRequest = HhdmRequest::new();
#[used]
#[link_section = ".requests"]
static MEMMAP: MemoryMapRequest = MemoryMapRequest::new();
#[used]
#[link_section = ".requests"]
static RSDP: RsdpRequest = RsdpRequest::new();
#[used]
#[link_section = ".requests"]
static MODULES: ModuleRequest = ModuleRequest::new();
#[used]
#[link_section = ".requests"]
static FRAMEBUFFER: FramebufferRequest = FramebufferRequest::new();
#[used]
#[link_section = ".requests"]
static CMDLINE: ExecutableCmdlineRequest = ExecutableCmdlineRequest::new();
#[used]
#[link_section = ".requests"]
static KERNEL_ADDR: ExecutableAddressRequest = ExecutableAddressRequest::new();
#[used]
#[link_section = ".requests_end_marker"]
static END: RequestsEndMarker = RequestsEndMarker::new();

/// The ELF entry point; Limine jumps here in long mode on its own tables and stack.
#[no_mangle]
extern "C" fn limine_entry() -> ! {
    crate::arch::time::mark_boot();
    crate::console::serial::init();
    crate::arch::idt::load_early();
    match parse() {
        Ok(info) => crate::kmain(info),
        Err(e) => crate::fatal(format_args!("Limine boot: {e}")),
    }
}

fn parse() -> Result<BootInfo, &'static str> {
    let revision = if BASE_REVISION.is_supported() {
        3
    } else {
        match BASE_REVISION.loaded_revision() {
            Some(r) if r >= 2 => r,
            Some(_) => return Err("bootloader supports only base revision < 2; need Limine 8.x or newer"),
            None => return Err("bootloader did not accept the base revision tag; is this really Limine?"),
        }
    };
    let hhdm = HHDM.get_response().ok_or("no HHDM response")?.offset();
    crate::mm::phys::set_hhdm(hhdm);
    let mut info = BootInfo::new(Protocol::Limine, hhdm);
    let mm = MEMMAP.get_response().ok_or("no memory map response")?;
    for e in mm.entries() {
        let kind = match e.entry_type {
            EntryType::USABLE => RegionKind::Usable,
            EntryType::ACPI_RECLAIMABLE => RegionKind::AcpiReclaimable,
            EntryType::ACPI_NVS => RegionKind::AcpiNvs,
            EntryType::BAD_MEMORY => RegionKind::Bad,
            EntryType::BOOTLOADER_RECLAIMABLE => RegionKind::BootloaderReclaimable,
            EntryType::EXECUTABLE_AND_MODULES => RegionKind::KernelAndModules,
            EntryType::FRAMEBUFFER => RegionKind::Framebuffer,
            _ => RegionKind::Reserved,
        };
        info.push_region(Region { start: e.base, len: e.length, kind });
    }
    let ka = KERNEL_ADDR.get_response().ok_or("no executable address response")?;
    info.kernel_phys = ka.physical_base();
    info.kernel_virt = ka.virtual_base();
    if let Some(r) = RSDP.get_response() {
        let a = r.address() as u64;
        info.rsdp = Some(if revision >= 3 { a } else { a.wrapping_sub(hhdm) });
    }
    if let Some(m) = MODULES.get_response() {
        if let Some(f) = m.modules().first() {
            info.initrd = Some((f.addr() as u64 - hhdm, f.size()));
        }
    }
    if let Some(c) = CMDLINE.get_response() {
        info.set_cmdline(c.cmdline().to_bytes());
    }
    if let Some(fb) = FRAMEBUFFER.get_response().and_then(|r| r.framebuffers().next()) {
        info.framebuffer = Some(FramebufferInfo {
            phys: fb.addr() as u64 - hhdm,
            width: fb.width() as u32,
            height: fb.height() as u32,
            pitch: fb.pitch() as u32,
            bpp: fb.bpp(),
        });
    }
    Ok(info)
}
