//! Machine entry points: `pvh_main` (from arch/pvh_entry.S) hands a parsed
//! `BootInfo` to the common `crate::kmain`. The Limine entry is in boot/limine.rs.

core::arch::global_asm!(include_str!("pvh_entry.S"), options(att_syntax));

/// Kernel virtual base of the higher half (phys 0 maps here on the PVH path).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

/// First Rust code on the PVH path: still on the stub's page tables and stack.
#[no_mangle]
extern "C" fn pvh_main(start_info: u64) -> ! {
    super::time::mark_boot();
    crate::console::serial::init();
    super::idt::load_early();
    crate::mm::phys::set_hhdm(crate::boot::pvh::HHDM);
    let [text, _, _] = crate::mm::paging::kernel_sections();
    match crate::boot::pvh::parse(start_info, text.0 - KERNEL_VMA, text.0) {
        Ok(info) => crate::kmain(info),
        Err(e) => crate::fatal(format_args!("PVH boot: {e}")),
    }
}
