//! Boot protocols (PVH, Limine) normalised into one `BootInfo`.
//!
//! Each entry path fills a `BootInfo` from what its loader handed over, copying what
//! it must (command line, memory map) so the loader's structures can be forgotten,
//! then calls the kernel's main (`arch::entry::Entry`). Nothing else in the kernel
//! knows which loader ran. PVH is here; the Limine entry is kernel/src/boot/limine.rs.

pub mod limine;
pub mod pvh;

/// Maximum memory-map entries kept (QEMU gives fewer than 10).
pub const MAX_REGIONS: usize = 128;
/// Maximum command-line bytes kept.
pub const MAX_CMDLINE: usize = 1024;

/// What a physical memory region holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    Usable,
    Reserved,
    AcpiReclaimable,
    AcpiNvs,
    Bad,
    BootloaderReclaimable,
    KernelAndModules,
    Framebuffer,
}

impl RegionKind {
    /// Whether the HHDM should map this region (RAM and firmware tables, not MMIO holes).
    pub fn is_ram_like(self) -> bool {
        !matches!(self, RegionKind::Reserved | RegionKind::Bad)
    }
}

/// One physical memory region.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    pub start: u64,
    pub len: u64,
    pub kind: RegionKind,
}

impl Region {
    /// One past the last byte (saturating).
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.len)
    }
}

/// Which loader started us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Pvh,
    Limine,
}

/// A linear framebuffer handed over by the loader (32 bpp only).
#[derive(Clone, Copy, Debug)]
pub struct FramebufferInfo {
    pub phys: u64,
    pub width: u32,
    pub height: u32,
    pub pitch: u32,
    pub bpp: u16,
}

/// Everything the kernel needs from its loader.
#[derive(Clone, Debug)]
pub struct BootInfo {
    pub protocol: Protocol,
    /// Offset of the higher-half direct map of physical memory.
    pub hhdm: u64,
    pub regions: [Region; MAX_REGIONS],
    pub region_count: usize,
    /// Physical and virtual address of the kernel image's first byte (`__kernel_start`).
    pub kernel_phys: u64,
    pub kernel_virt: u64,
    /// Physical address of the ACPI RSDP, if the loader found one.
    pub rsdp: Option<u64>,
    /// Physical range of the initrd module, if any.
    pub initrd: Option<(u64, u64)>,
    pub cmdline: [u8; MAX_CMDLINE],
    pub cmdline_len: usize,
    pub framebuffer: Option<FramebufferInfo>,
    /// Problems found in what the loader gave (printed once the console is up).
    pub warnings: [Option<&'static str>; 4],
}

impl BootInfo {
    /// An empty record for `protocol`.
    pub const fn new(protocol: Protocol, hhdm: u64) -> BootInfo {
        BootInfo {
            protocol,
            hhdm,
            regions: [Region { start: 0, len: 0, kind: RegionKind::Reserved }; MAX_REGIONS],
            region_count: 0,
            kernel_phys: 0,
            kernel_virt: 0,
            rsdp: None,
            initrd: None,
            cmdline: [0; MAX_CMDLINE],
            cmdline_len: 0,
            framebuffer: None,
            warnings: [None; 4],
        }
    }

    /// The memory map.
    pub fn regions(&self) -> &[Region] {
        &self.regions[..self.region_count]
    }

    /// The raw command line (may be any bytes).
    pub fn cmdline(&self) -> &[u8] {
        &self.cmdline[..self.cmdline_len]
    }

    /// Appends a region; returns false (and keeps the first MAX_REGIONS) when full.
    pub fn push_region(&mut self, r: Region) -> bool {
        if r.len == 0 {
            return true;
        }
        if self.region_count == MAX_REGIONS {
            self.warn("memory map has more entries than the kernel keeps; extra ignored");
            return false;
        }
        self.regions[self.region_count] = r;
        self.region_count += 1;
        true
    }

    /// Copies a command line, stopping at NUL and truncating to MAX_CMDLINE.
    pub fn set_cmdline(&mut self, bytes: &[u8]) {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        if end > MAX_CMDLINE {
            self.warn("command line longer than 1024 bytes; truncated");
        }
        let n = end.min(MAX_CMDLINE);
        self.cmdline[..n].copy_from_slice(&bytes[..n]);
        self.cmdline_len = n;
    }

    /// Records a warning for later printing.
    pub fn warn(&mut self, msg: &'static str) {
        if let Some(slot) = self.warnings.iter_mut().find(|w| w.is_none()) {
            *slot = Some(msg);
        }
    }

    /// Total bytes of usable RAM.
    pub fn usable_bytes(&self) -> u64 {
        self.regions().iter().filter(|r| r.kind == RegionKind::Usable).map(|r| r.len).sum()
    }
}
