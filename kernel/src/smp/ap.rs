//! AP bring-up as async tasks: for each AP the boot CPU runs INIT, an awaited 10 ms,
//! STARTUP, an awaited 200 us, a second STARTUP if the AP is not up yet, then awaits
//! the AP's "online" signal (with a timeout). All APs go through this concurrently,
//! so the whole machine is up in about one INIT delay, not one per CPU.

use super::{cpus, mark_online, MAX_CPUS};
use crate::arch::{self, ap as tramp, apic, gdt};
use crate::sched;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::sync::atomic::Ordering;
use core::task::Poll;
use core::time::Duration;
use futures_util::task::AtomicWaker;

/// Stacks an AP needs, allocated by the boot CPU before it starts the AP.
#[derive(Clone, Copy)]
struct ApStacks {
    tss: gdt::CpuStacks,
}

static STACKS: [spin::Once<ApStacks>; MAX_CPUS] = [const { spin::Once::new() }; MAX_CPUS];
static ONLINE_WAKERS: [AtomicWaker; MAX_CPUS] = [const { AtomicWaker::new() }; MAX_CPUS];

/// How AP bring-up went.
pub struct Report {
    pub started: usize,
    pub failed: Vec<(usize, &'static str)>,
    pub cycles: u64,
}

fn alloc_stacks(cpu: usize) -> Result<crate::mm::stack::KernelStack, &'static str> {
    let s = |pages| crate::mm::stack::alloc(pages).ok_or("out of memory for AP stacks");
    let kernel = s(16)?;
    let tss = gdt::CpuStacks { trap: s(16)?, double_fault: s(4)?, nmi: s(4)? };
    STACKS[cpu].call_once(|| ApStacks { tss });
    Ok(kernel)
}

async fn online(cpu: usize) {
    poll_fn(|cx| {
        ONLINE_WAKERS[cpu].register(cx.waker());
        if cpus()[cpu].online.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
    })
    .await
}

async fn start_one(cpu: usize) -> Result<(), &'static str> {
    let apic_id = cpus()[cpu].apic_id;
    let stack = alloc_stacks(cpu)?;
    tramp::set_stack(apic_id, Some(&stack))?;
    apic::send_init(cpu)?;
    sched::sleep(Duration::from_millis(10)).await;
    apic::send_startup(cpu)?;
    sched::sleep(Duration::from_micros(200)).await;
    if !cpus()[cpu].online.load(Ordering::Acquire) {
        // Err here means it came online meanwhile: the wait below sees that.
        let _ = apic::send_startup(cpu);
    }
    match executor::timeout(online(cpu), Duration::from_millis(1000)).await {
        Ok(()) => Ok(()),
        Err(_) => {
            let _ = tramp::set_stack(apic_id, None); // a late AP halts in the trampoline
            Err("did not come online within 1 s")
        }
    }
}

/// Starts every AP the MADT listed, concurrently; returns when all are online or
/// given up on. Runs on the boot CPU's executor.
pub fn start_all() -> Report {
    let n = cpus().len();
    let mut report = Report { started: 0, failed: Vec::new(), cycles: 0 };
    if n <= 1 {
        return report;
    }
    let ram_ok = crate::BOOT.get().is_some_and(|b| {
        b.regions().iter().any(|r| r.kind.is_ram_like() && r.start <= tramp::TRAMPOLINE && r.end() >= tramp::TRAMPOLINE + 4096)
    });
    if let Err(e) = if ram_ok { tramp::install_trampoline(ap_entry) } else { Err("0x8000 is not RAM") } {
        log::error!("SMP: {e}; running on the boot CPU only");
        return report;
    }
    let t0 = arch::cpu::rdtsc();
    let tasks: Vec<_> = (1..n).map(|cpu| (cpu, sched::spawn_on(0, start_one(cpu)))).collect();
    for (cpu, t) in tasks {
        match sched::block_on(t) {
            Ok(()) => report.started += 1,
            Err(e) => report.failed.push((cpu, e)),
        }
    }
    report.cycles = arch::cpu::rdtsc() - t0;
    if let Err(e) = tramp::remove_trampoline() {
        log::warn!("SMP: trampoline unmapped locally only: {e}");
    }
    report
}

/// First Rust code on an AP: on its own stack, kernel page tables, trampoline GDT.
extern "C" fn ap_entry(apic_id: u32) -> ! {
    arch::idt::load_early();
    let Some(cpu) = super::index_of(apic_id) else { arch::halt_forever() };
    arch::percpu::init(cpu, apic_id);
    if let Err(e) = arch::cpu::init_cpu_policy() {
        log::error!("cpu{cpu}: {e}");
        arch::halt_forever();
    }
    let Some(st) = STACKS[cpu].get() else { arch::halt_forever() };
    arch::user::init_cpu(gdt::init_cpu(st.tss));
    apic::init_cpu();
    if let Err(e) = mark_online(cpu) {
        log::error!("cpu{cpu}: {e}");
        arch::halt_forever();
    }
    ONLINE_WAKERS[cpu].wake();
    sched::run_cpu(cpu)
}
