//! Per-CPU GDT and TSS.
//!
//! Selector layout is fixed by syscall/sysret (STAR): kernel code 0x08, kernel data
//! 0x10, user data 0x18|3, user code 0x20|3, then the TSS. The TSS gives each CPU
//! its ring-0 trap stack (RSP0) and the IST stacks for double faults and NMIs.

use crate::mm::stack::KernelStack;
use alloc::boxed::Box;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x10;
/// User data selector (RPL 3).
pub const USER_DS: u16 = 0x18 | 3;
/// User code selector (RPL 3).
pub const USER_CS: u16 = 0x20 | 3;

/// The stacks one CPU needs in its TSS.
#[derive(Clone, Copy, Debug)]
pub struct CpuStacks {
    /// Where the CPU lands on a trap from ring 3.
    pub trap: KernelStack,
    /// Double-fault IST stack.
    pub double_fault: KernelStack,
    /// NMI / machine-check IST stack.
    pub nmi: KernelStack,
}

/// Where this CPU's TSS keeps RSP0, which ring-3 entry rewrites (arch/user.rs). Only
/// `init_cpu` makes one.
#[derive(Debug)]
pub struct Rsp0Slot(pub(crate) u64);

/// Builds and loads this CPU's GDT and TSS, then the full IDT (which uses the IST).
/// Called once per CPU, after the heap exists; the tables live forever. Returns the
/// TSS's RSP0 slot, which ring-3 entry rewrites (arch/user.rs).
pub fn init_cpu(stacks: CpuStacks) -> Rsp0Slot {
    let mut tss = TaskStateSegment::new();
    tss.privilege_stack_table[0] = VirtAddr::new(stacks.trap.top());
    tss.interrupt_stack_table[super::idt::DOUBLE_FAULT_IST as usize] = VirtAddr::new(stacks.double_fault.top());
    tss.interrupt_stack_table[super::idt::NMI_IST as usize] = VirtAddr::new(stacks.nmi.top());
    // A raw pointer, never a reference: RSP0 is written at every entry to ring 3.
    let tss: *mut TaskStateSegment = Box::into_raw(Box::new(tss));
    let mut gdt = GlobalDescriptorTable::new();
    let kcs = gdt.append(Descriptor::kernel_code_segment());
    let kds = gdt.append(Descriptor::kernel_data_segment());
    let uds = gdt.append(Descriptor::user_data_segment());
    let ucs = gdt.append(Descriptor::user_code_segment());
    // SAFETY: `tss` is a valid TSS that is never freed (leaked box).
    let tss_sel = gdt.append(unsafe { Descriptor::tss_segment_unchecked(tss) });
    debug_assert_eq!((kcs.0, kds.0, uds.0, ucs.0), (KERNEL_CS, KERNEL_DS, USER_DS, USER_CS));
    let gdt: &'static GlobalDescriptorTable = Box::leak(Box::new(gdt));
    gdt.load();
    // SAFETY: the GDT just loaded has valid kernel code/data descriptors at these
    // selectors and a TSS descriptor for a TSS that lives forever.
    unsafe {
        CS::set_reg(SegmentSelector(KERNEL_CS));
        SS::set_reg(SegmentSelector(KERNEL_DS));
        DS::set_reg(SegmentSelector(0));
        ES::set_reg(SegmentSelector(0));
        load_tss(tss_sel);
    }
    super::idt::load();
    Rsp0Slot(tss as u64 + core::mem::offset_of!(TaskStateSegment, privilege_stack_table) as u64)
}
