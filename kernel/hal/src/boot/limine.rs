//! Limine boot protocol: the requests, and the entry point that gathers the
//! responses and turns them into a `BootInfo`.
//!
//! Every decision that depends on the loader's version (which base revision is in
//! force, whether the RSDP is physical, where the command line is) is made by
//! `kcore::limine_boot::normalise`, host-tested against each revision's behaviour;
//! this file only reads raw words and responses. We ask for base revision 3: Limine
//! 8.x leaves that tag unanswered and boots us with revision 2, newer Limine answers
//! and reports the revision it used. Requests sit between their markers in
//! `.requests*` sections, which the linker script keeps in `.data`.
use super::{BootInfo, FramebufferInfo, Protocol, Region, RegionKind};
use limine::memory_map::EntryType;
use limine::request::{
    ExecutableAddressRequest, ExecutableCmdlineRequest, ExecutableFileRequest, FramebufferRequest, HhdmRequest,
    MemoryMapRequest, ModuleRequest, RequestsEndMarker, RequestsStartMarker, RsdpRequest,
};
use kcore::limine_boot::{self, CmdlineSource, Raw, RevisionSource, TAG_UNREPORTED};
use limine::BaseRevision;

/// The base revision the kernel asks for (see `kcore::limine_boot` for what older and
/// newer loaders do with it).
const ASKED_REVISION: u64 = 3;

#[used]
#[link_section = ".requests_start_marker"]
static START: RequestsStartMarker = RequestsStartMarker::new();
#[used]
#[link_section = ".requests"]
static BASE_REVISION: BaseRevision = BaseRevision::with_revision(ASKED_REVISION);
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
/// The executable file: its string is the command line (the only place Limine 8.x gives it).
#[used]
#[link_section = ".requests"]
static EXECUTABLE_FILE: ExecutableFileRequest = ExecutableFileRequest::new();
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
    let kernel = crate::arch::entry::kernel();
    (kernel.early_console)();
    crate::arch::idt::load_early();
    match parse() {
        Ok(info) => (kernel.main)(info),
        Err(e) => (kernel.fatal)(format_args!("Limine boot: {e}")),
    }
}

fn parse() -> Result<BootInfo, &'static str> {
    let raw = Raw {
        asked: ASKED_REVISION,
        tag_answered: BASE_REVISION.is_supported(),
        tag_loaded_word: BASE_REVISION.loaded_revision().unwrap_or(TAG_UNREPORTED),
        hhdm: HHDM.get_response().map(|r| r.offset()),
        rsdp: RSDP.get_response().map(|r| r.address() as u64),
        cmdline_response: CMDLINE.get_response().map(|r| r.cmdline().to_bytes()),
        executable_file_string: EXECUTABLE_FILE.get_response().map(|r| r.file().string().to_bytes()),
        module: MODULES.get_response().and_then(|m| m.modules().first().map(|f| (f.addr() as u64, f.size()))),
        framebuffer: FRAMEBUFFER.get_response().and_then(|r| r.framebuffers().next()).map(|fb| fb.addr() as u64),
    };
    let h = match limine_boot::normalise(&raw) {
        Ok(h) => h,
        Err(e) => (crate::arch::entry::kernel().fatal)(format_args!("Limine boot: {e}")),
    };
    crate::mm::phys::set_hhdm(h.hhdm);
    report(&h);
    let mut info = BootInfo::new(Protocol::Limine, h.hhdm);
    for w in h.warnings.iter().flatten() {
        info.warn(w);
    }
    for e in MEMMAP.get_response().ok_or("no memory map response")?.entries() {
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
    info.rsdp = h.rsdp;
    info.initrd = h.module;
    info.set_cmdline(h.cmdline);
    let fb = FRAMEBUFFER.get_response().and_then(|r| r.framebuffers().next());
    if let (Some(phys), Some(fb)) = (h.framebuffer, fb) {
        info.framebuffer = Some(FramebufferInfo {
            phys,
            width: fb.width() as u32,
            height: fb.height() as u32,
            pitch: fb.pitch() as u32,
            bpp: fb.bpp(),
        });
    }
    Ok(info)
}

/// One line on the serial console saying which protocol rules were applied.
fn report(h: &limine_boot::Handover) {
    let how = match h.revision.source {
        RevisionSource::Reported => "reported by Limine",
        RevisionSource::Answered => "as asked",
        RevisionSource::Assumed => "assumed: Limine left the revision-3 tag unanswered, as 8.x does",
    };
    let from = match h.cmdline_source {
        CmdlineSource::CmdlineResponse => "from the executable-cmdline response",
        CmdlineSource::ExecutableFile => "from the executable-file response",
        CmdlineSource::None => "empty: no executable-cmdline or executable-file response",
    };
    (crate::arch::entry::kernel().println)(format_args!(
        "limine: base revision {} ({how}); command line {from}",
        h.revision.number
    ));
}
