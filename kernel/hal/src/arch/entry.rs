//! Machine entry points: `pvh_main` (from arch/pvh_entry.S) builds a `BootInfo` and
//! hands it to the kernel's main, which the kernel registers with [`entry!`]. (The
//! Limine entry is still in the kernel crate, kernel/src/boot/limine.rs.)

use crate::boot::BootInfo;

core::arch::global_asm!(include_str!("pvh_entry.S"), options(att_syntax));

/// Kernel virtual base of the higher half (phys 0 maps here on the PVH path).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

/// The kernel's side of the boot: the only calls the HAL makes upward. Fixed at link
/// time (the kernel names it with [`entry!`]), so it exists before any code runs.
pub struct Entry {
    /// Makes the console usable (COM1); called first, before any output.
    pub early_console: fn(),
    /// Prints one line on the console (boot-time notes from the entry paths).
    pub println: fn(core::fmt::Arguments),
    /// The kernel's main, called once with the loader's handover normalised.
    pub main: fn(BootInfo) -> !,
    /// Reports a fatal boot error and stops.
    pub fatal: fn(core::fmt::Arguments) -> !,
}

extern "Rust" {
    /// Defined by the kernel crate through [`entry!`].
    #[link_name = "__mello_kernel_entry"]
    static KERNEL_ENTRY: Entry;
}

/// The kernel's registered [`Entry`].
pub fn kernel() -> &'static Entry {
    // SAFETY: `entry!` defines this symbol with type `Entry` (the macro is the only
    // way to name it); it is an immutable static, so a shared reference is fine.
    unsafe { &KERNEL_ENTRY }
}

/// Registers the kernel's [`Entry`]: `hal::entry!(hal::Entry { main: kmain, ... });`
/// once, in the kernel crate.
#[macro_export]
macro_rules! entry {
    ($e:expr) => {
        #[used]
        #[export_name = "__mello_kernel_entry"]
        static __MELLO_KERNEL_ENTRY: $crate::Entry = $e;
    };
}

/// First Rust code on the PVH path: still on the stub's page tables and stack.
#[no_mangle]
extern "C" fn pvh_main(start_info: u64) -> ! {
    super::time::mark_boot();
    let kernel = kernel();
    (kernel.early_console)();
    super::idt::load_early();
    crate::mm::phys::set_hhdm(crate::boot::pvh::HHDM);
    let [text, _, _] = crate::mm::paging::kernel_sections();
    match crate::boot::pvh::parse(start_info, text.0 - KERNEL_VMA, text.0) {
        Ok(info) => (kernel.main)(info),
        Err(e) => (kernel.fatal)(format_args!("PVH boot: {e}")),
    }
}
