//! Local APIC: x2APIC (MSRs) when the CPU has it, xAPIC (MMIO) otherwise; IPIs; the
//! one-shot timer in TSC-deadline mode when available, else LAPIC-count one-shot.
//!
//! The mode is chosen once by CPUID on the boot CPU; every CPU uses the same one.

use super::cpu::{rdtsc, Features};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use x86_64::registers::model_specific::Msr;

pub use super::vectors::{
    BENCH_VECTOR, ERROR_VECTOR, RESCHEDULE_VECTOR, SERIAL_VECTOR, SPURIOUS_VECTOR, TIMER_VECTOR, TLB_VECTOR,
};

const REG_ID: u32 = 0x20;
const REG_TPR: u32 = 0x80;
const REG_EOI: u32 = 0xb0;
const REG_SVR: u32 = 0xf0;
const REG_ESR: u32 = 0x280;
const REG_ICR_LOW: u32 = 0x300;
const REG_ICR_HIGH: u32 = 0x310;
const REG_LVT_TIMER: u32 = 0x320;
const REG_LVT_LINT0: u32 = 0x350;
const REG_LVT_LINT1: u32 = 0x360;
const REG_LVT_ERROR: u32 = 0x370;
const REG_TIMER_INIT: u32 = 0x380;
const REG_TIMER_CUR: u32 = 0x390;
const REG_TIMER_DIV: u32 = 0x3e0;
const MSR_APIC_BASE: u32 = 0x1b;
const MSR_TSC_DEADLINE: u32 = 0x6e0;

static X2APIC: AtomicBool = AtomicBool::new(false);
static TSC_DEADLINE: AtomicBool = AtomicBool::new(false);
static MMIO: AtomicU64 = AtomicU64::new(0);
/// LAPIC timer ticks per second at divide-by-16 (count mode only).
static TIMER_HZ: AtomicU64 = AtomicU64::new(0);

/// Which APIC paths are in use (for the boot log).
pub fn describe() -> (&'static str, &'static str) {
    (
        if X2APIC.load(Ordering::Relaxed) { "x2APIC" } else { "xAPIC" },
        if TSC_DEADLINE.load(Ordering::Relaxed) { "TSC-deadline" } else { "one-shot count" },
    )
}

fn read(reg: u32) -> u32 {
    if X2APIC.load(Ordering::Relaxed) {
        // SAFETY: x2APIC mode is enabled on this CPU; 0x800 + reg/16 is the MSR of `reg`.
        unsafe { Msr::new(0x800 + (reg >> 4)).read() as u32 }
    } else {
        // SAFETY: MMIO holds the uncached mapping of this CPU's xAPIC page (each CPU
        // sees its own APIC at the same address); `reg` is a register offset < 4 KiB.
        unsafe { core::ptr::read_volatile((MMIO.load(Ordering::Relaxed) + reg as u64) as *const u32) }
    }
}

fn write(reg: u32, value: u32) {
    if X2APIC.load(Ordering::Relaxed) {
        // SAFETY: as for `read`.
        unsafe { Msr::new(0x800 + (reg >> 4)).write(value as u64) }
    } else {
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_volatile((MMIO.load(Ordering::Relaxed) + reg as u64) as *mut u32, value) }
    }
}

/// Chooses the APIC mode (boot CPU, once). `lapic_phys` is the MADT's address.
pub fn init_global(f: &Features, lapic_phys: u64) -> Result<(), &'static str> {
    X2APIC.store(f.x2apic, Ordering::Relaxed);
    TSC_DEADLINE.store(f.tsc_deadline, Ordering::Relaxed);
    if !f.x2apic {
        let va = crate::mm::paging::map_mmio(lapic_phys, 4096).map_err(|_| "cannot map the local APIC")?;
        MMIO.store(va, Ordering::Relaxed);
    }
    // Mask the legacy 8259 PICs: all device interrupts come through the IOAPIC.
    super::io::outb(0x21, 0xff);
    super::io::outb(0xa1, 0xff);
    Ok(())
}

/// Enables this CPU's local APIC (called on every CPU).
pub fn init_cpu() {
    let mut base = Msr::new(MSR_APIC_BASE);
    // SAFETY: setting the global-enable bit (and x2APIC mode when chosen by CPUID)
    // on this CPU's APIC base MSR; the base address is left as firmware set it.
    unsafe {
        let v = base.read() | (1 << 11);
        base.write(if X2APIC.load(Ordering::Relaxed) { v | (1 << 10) } else { v });
    }
    write(REG_TPR, 0);
    write(REG_LVT_LINT0, 1 << 16);
    write(REG_LVT_LINT1, 1 << 16);
    write(REG_LVT_ERROR, ERROR_VECTOR as u32);
    write(REG_ESR, 0);
    write(REG_SVR, 0x100 | SPURIOUS_VECTOR as u32);
    let mode = if TSC_DEADLINE.load(Ordering::Relaxed) { 0b10 << 17 } else { 0 };
    write(REG_TIMER_DIV, 0b0011); // divide by 16
    write(REG_LVT_TIMER, mode | TIMER_VECTOR as u32);
    eoi();
}

/// This CPU's APIC id.
pub fn id() -> u32 {
    let v = read(REG_ID);
    if X2APIC.load(Ordering::Relaxed) { v } else { v >> 24 }
}

/// Signals end of interrupt.
pub fn eoi() {
    write(REG_EOI, 0);
}

fn send_icr(apic_id: u32, low: u32) {
    if X2APIC.load(Ordering::Relaxed) {
        // SAFETY: x2APIC ICR MSR; destination in the high half.
        unsafe { Msr::new(0x830).write(((apic_id as u64) << 32) | low as u64) }
    } else {
        let was = super::irq::save_disable();
        write(REG_ICR_HIGH, apic_id << 24);
        write(REG_ICR_LOW, low);
        let mut spins = 0;
        while read(REG_ICR_LOW) & (1 << 12) != 0 && spins < 1_000_000 {
            spins += 1;
            core::hint::spin_loop();
        }
        super::irq::restore(was);
    }
}

/// Sends a fixed-vector IPI.
pub fn send_ipi(apic_id: u32, vector: u8) {
    send_icr(apic_id, vector as u32 | (1 << 14));
}

/// Sends a non-maskable interrupt (it arrives even with interrupts disabled).
pub fn send_nmi(apic_id: u32) {
    send_icr(apic_id, 0b100 << 8 | 1 << 14);
}

/// The APIC id of AP `cpu`, if INIT and STARTUP may go to it: a CPU the firmware
/// listed, not this one, and not yet online (INIT resets a CPU, whatever it runs).
fn ap_target(cpu: usize) -> Result<u32, &'static str> {
    let c = super::cpus::cpus().get(cpu).ok_or("no such CPU")?;
    if c.apic_id == id() {
        return Err("that is this CPU");
    }
    if c.online.load(Ordering::Acquire) {
        return Err("that CPU is already online");
    }
    Ok(c.apic_id)
}

/// Sends INIT (assert, level) to start AP `cpu`'s reset sequence.
pub fn send_init(cpu: usize) -> Result<(), &'static str> {
    send_icr(ap_target(cpu)?, 0b101 << 8 | 1 << 14 | 1 << 15);
    Ok(())
}

/// Sends a STARTUP IPI to AP `cpu`: it starts in real mode at the AP trampoline
/// (`arch::ap::TRAMPOLINE`), the only start address there is.
pub fn send_startup(cpu: usize) -> Result<(), &'static str> {
    const PAGE: u32 = (super::ap::TRAMPOLINE / 4096) as u32;
    const _: () = assert!(super::ap::TRAMPOLINE.is_multiple_of(4096) && PAGE < 256, "STARTUP takes a page below 1 MiB");
    send_icr(ap_target(cpu)?, PAGE | 0b110 << 8 | 1 << 14);
    Ok(())
}

/// Measures the LAPIC timer (count mode) against the calibrated TSC; boot CPU, once.
pub fn calibrate_timer() -> u64 {
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        return 0;
    }
    let hz = super::time::tsc_hz();
    write(REG_LVT_TIMER, 1 << 16 | TIMER_VECTOR as u32); // masked while measuring
    write(REG_TIMER_INIT, u32::MAX);
    let t0 = rdtsc();
    while rdtsc() - t0 < hz / 100 {
        core::hint::spin_loop();
    }
    let elapsed = u32::MAX - read(REG_TIMER_CUR);
    write(REG_TIMER_INIT, 0);
    write(REG_LVT_TIMER, TIMER_VECTOR as u32);
    let timer_hz = elapsed as u64 * 100;
    TIMER_HZ.store(timer_hz, Ordering::Relaxed);
    timer_hz
}

/// The deadline each CPU's timer is armed for (`NOT_ARMED`: none, or it fired).
static ARMED: [AtomicU64; super::percpu::MAX_CPUS] = [const { AtomicU64::new(NOT_ARMED) }; super::percpu::MAX_CPUS];
const NOT_ARMED: u64 = u64::MAX;

/// Called by the timer interrupt handler: this CPU's timer is no longer armed.
pub fn timer_fired() {
    if let Some(a) = ARMED.get(super::cpu_id()) {
        a.store(NOT_ARMED, Ordering::Relaxed);
    }
}

/// Makes this CPU's timer fire no later than TSC value `deadline`. A timer already
/// armed for that deadline or an earlier one is left alone: an early interrupt costs
/// its handler and a re-arm, while every write of the deadline costs far more under
/// emulation (QEMU reschedules a host timer and, when it becomes the earliest, wakes
/// its main loop through an eventfd: a host system call). Entering ring 3 for a switch
/// would otherwise re-arm on every switch, each thread's slice ending at its own
/// time. Returns whether it programmed the timer.
pub fn arm_timer_by(deadline: u64) -> bool {
    if ARMED.get(super::cpu_id()).is_some_and(|a| a.load(Ordering::Relaxed) <= deadline) {
        return false; // NOT_ARMED is u64::MAX: only a real, pending deadline is kept
    }
    arm_timer(Some(deadline));
    true
}

/// Arms this CPU's timer for TSC value `deadline`, or disarms it. A deadline in the
/// past fires at once.
pub fn arm_timer(deadline: Option<u64>) {
    crate::metrics::timer_armed(super::cpu_id());
    if let Some(a) = ARMED.get(super::cpu_id()) {
        a.store(deadline.unwrap_or(NOT_ARMED), Ordering::Relaxed);
    }
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        let v = deadline.map_or(0, |d| d.max(1));
        // SAFETY: TSC-deadline mode is on (LVT timer mode 10b); writing 0 disarms.
        unsafe { Msr::new(MSR_TSC_DEADLINE).write(v) };
        return;
    }
    match deadline {
        None => write(REG_TIMER_INIT, 0),
        Some(d) => {
            let cycles = d.saturating_sub(rdtsc());
            let tsc_hz = super::time::tsc_hz().max(1);
            let ticks = (cycles as u128 * TIMER_HZ.load(Ordering::Relaxed) as u128 / tsc_hz as u128) as u64;
            write(REG_TIMER_INIT, ticks.clamp(1, u32::MAX as u64) as u32);
        }
    }
}
