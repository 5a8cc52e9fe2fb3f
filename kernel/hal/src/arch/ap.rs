//! Starting application processors: the trampoline page and the AP's first Rust code.

use crate::mm::{paging, phys, tlb};
use x86_64::structures::paging::PageTableFlags as F;

core::arch::global_asm!(include_str!("ap_trampoline.S"), options(att_syntax));

/// Physical page the trampoline runs from (STARTUP vector 0x08).
pub const TRAMPOLINE: u64 = 0x8000;
const OFF_CR3: u64 = 0x730;
const OFF_ENTRY: u64 = 0x738;
const OFF_STACKS: u64 = 0x800;

extern "C" {
    static ap_tramp_start: [u8; 4096];
}

/// Installs the trampoline at 0x8000: copies it through the HHDM (RW, NX alias),
/// identity-maps the page RX for the APs' switch to paging, and fills in CR3 and the
/// 64-bit entry point. The caller checked that 0x8000 is RAM the kernel owns.
pub fn install_trampoline(entry: extern "C" fn(u32) -> !) -> Result<(), &'static str> {
    let root = paging::kernel_root();
    if root >= 1 << 32 {
        return Err("kernel page tables lie above 4 GiB; APs cannot load them in 32-bit mode");
    }
    let page = phys::frame_mut(TRAMPOLINE);
    // SAFETY: ap_tramp_start is a 4096-byte blob in .rodata (see ap_trampoline.S).
    page.copy_from_slice(unsafe { &ap_tramp_start });
    page[OFF_CR3 as usize..][..4].copy_from_slice(&(root as u32).to_le_bytes());
    page[OFF_ENTRY as usize..][..8].copy_from_slice(&(entry as usize as u64).to_le_bytes());
    paging::with_kernel(|t| {
        let _ = t.unmap(TRAMPOLINE);
        t.map(TRAMPOLINE, TRAMPOLINE, F::PRESENT, F::PRESENT | F::WRITABLE)
    })
    .map_err(|_| "cannot identity-map the trampoline page")
}

/// Sets (or clears, with None: the AP then halts) the stack an AP with `apic_id`
/// will start on.
pub fn set_stack(apic_id: u32, stack: Option<&crate::mm::stack::KernelStack>) -> Result<(), &'static str> {
    if apic_id > 255 {
        return Err("APIC id above 255 cannot use the trampoline's stack table");
    }
    let top = stack.map_or(0, |s| s.top());
    let page = phys::frame_mut(TRAMPOLINE);
    page[(OFF_STACKS + apic_id as u64 * 8) as usize..][..8].copy_from_slice(&top.to_le_bytes());
    Ok(())
}

/// Removes the identity mapping once every AP has left the trampoline, including
/// from the TLBs of the APs that ran through it.
pub fn remove_trampoline() -> Result<(), &'static str> {
    paging::with_kernel(|t| t.unmap(TRAMPOLINE));
    tlb::shootdown(TRAMPOLINE)
}
