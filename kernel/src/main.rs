//! mello: an x86_64 SMP kernel whose kernel side is asynchronous.
//!
//! Kernel services (IPC receive, sleep/wake, AP bring-up, load balancing) are futures
//! on a per-CPU lock-free executor (the `executor` crate), woken by the APIC timer and
//! by RESCHEDULE IPIs. User processes run preemptively in ring 3; each user thread is
//! itself a task that enters ring 3 and comes back when the thread traps.
//!
//! Principles:
//! - **Safe above the fence.** `unsafe` lives in the HAL crate (`kernel/hal`: CPU,
//!   traps, the PVH entry, physical frames, page tables, heap); every block states its
//!   invariant, and no safe HAL function hands out raw power (an arbitrary physical
//!   address, port or frame free). This crate is safe Rust over it
//!   (`#![forbid(unsafe_code)]`). Calls go down only: docs/architecture.md draws the
//!   layers.
//! - **Logic that needs no hardware is host-tested.** Command line, IPC queues, ELF
//!   checks, initrd, user-range checks live in `kcore`; the executor is its own crate.
//! - **Bad input is an error, never a crash.** Loader data, the command line, ELF files
//!   and syscall arguments are checked; failures are reported in words.
//! - **Measure, don't guess.** Counters and wake-latency histograms are always on.
//!
//! Boot: the HAL's entries (`hal::arch::entry` for PVH, `hal::boot::limine`) build a
//! `BootInfo` and call `kmain` through the `hal::Entry` registered below.

#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod acpi;
use hal::arch;
mod bench;
/// Boot protocols: `BootInfo` and both entries (PVH, Limine) are the HAL's
/// (`hal::boot`, `hal::arch::entry`).
use hal::boot;
mod console;
mod ktest;
/// Memory management is the HAL's (`hal::mm`); its in-kernel tests are here.
mod mm {
    pub use hal::mm::*;
    pub mod tests;
}
use hal::metrics;
mod ipc;
mod panic;
mod proc;
mod report;
mod sched;
mod smp;
mod symbols;
/// Locks are the HAL's (`hal::sync`: the memory code needs them); their tests are here.
mod sync {
    pub use hal::sync::*;
    pub mod tests;
}

use boot::BootInfo;
use kcore::cmdline::{Cmdline, LogLevel, Mode};

/// The boot information, kept for the kernel's lifetime.
pub static BOOT: spin::Once<BootInfo> = spin::Once::new();

/// The initrd, parsed (None when absent or malformed).
pub static INITRD: spin::Once<kcore::initrd::Initrd<'static>> = spin::Once::new();

/// CPU features of the boot CPU.
static FEATURES: spin::Once<arch::cpu::Features> = spin::Once::new();

/// The parsed command line.
static CMDLINE: spin::Once<Cmdline> = spin::Once::new();

/// How AP bring-up went at boot (kept for `bench=ap_bringup`).
pub static AP_REPORT: spin::Once<smp::ap::Report> = spin::Once::new();

// The HAL's boot entries call up into the kernel only through this.
hal::entry!(hal::Entry { early_console: console::serial::init, println: print_line, main: kmain, fatal });

/// One line on the console, for the HAL's boot-time notes.
fn print_line(args: core::fmt::Arguments) {
    kprintln!("{args}");
}

pub use console::fatal;

/// Common entry for both boot paths, on the loader's stack and page tables.
pub fn kmain(info: BootInfo) -> ! {
    console::log::init(LogLevel::Info);
    let features = match arch::cpu::init_cpu_policy() {
        Ok(f) => f,
        Err(e) => fatal(format_args!("{e}")),
    };
    FEATURES.call_once(|| features);
    if let Err(e) = mm::init(&info) {
        fatal(format_args!("memory: {e}"));
    }
    let stack = |what: &str| match mm::stack::alloc(16) {
        Some(s) => s,
        None => fatal(format_args!("out of memory for the {what} stack")),
    };
    let kstack = stack("boot");
    let rsp0_slot = arch::gdt::init_cpu(arch::gdt::CpuStacks {
        trap: stack("trap"),
        double_fault: stack("double-fault"),
        nmi: stack("NMI"),
    });
    arch::percpu::init(0, 0);
    arch::user::init_cpu(rsp0_slot);
    BOOT.call_once(|| info);
    arch::switch_stack(&kstack, kmain_on_stack, 0)
}

/// Boot continues here on a guarded kernel stack with the kernel's own page tables.
extern "C" fn kmain_on_stack(_: u64) -> ! {
    let info = BOOT.get().expect("boot info stored");
    let cmd = CMDLINE.call_once(|| Cmdline::parse(info.cmdline()));
    console::log::init(cmd.log);
    for w in info.warnings.iter().flatten() {
        log::warn!("boot: {w}");
    }
    for w in &cmd.warnings {
        log::warn!("cmdline: {w}");
    }
    let hz = arch::time::calibrate();
    log::info!("TSC {}.{:03} MHz (calibrated against the PIT)", hz / 1_000_000, (hz / 1000) % 1000);
    smp::init_bsp(info.rsdp, FEATURES.get().expect("features detected"));
    sched::init(smp::count());
    sched::tunables::apply(cmd.tunables);
    log::info!("tunables: {}", sched::tunables::describe());
    if !cmd.trace.is_empty() {
        sched::trace::enable(cmd.trace);
        log::info!("scheduler trace on: {} ({} records per CPU, dumped at the end)", cmd.trace, sched::trace::CAPACITY);
    }
    console::serial::init_input();
    // Every vector the hardware may raise now has a handler: interrupts on for good
    // (AP bring-up needs them, e.g. for the trampoline's TLB shootdown).
    arch::irq::enable();
    let ap = AP_REPORT.call_once(smp::ap::start_all);
    if smp::count() > 1 {
        log::info!(
            "SMP: {}/{} APs online in {} us",
            ap.started,
            smp::count() - 1,
            arch::time::cycles_to_ns(ap.cycles) / 1000
        );
        for (cpu, why) in &ap.failed {
            log::error!("SMP: cpu{cpu} (APIC id {}) {why}; continuing without it", smp::cpus()[*cpu].apic_id);
        }
    }
    sched::spawn_on(0, sched::balance::run()).detach();
    if let Some(fb) = &info.framebuffer {
        match console::fb::attach(fb) {
            Ok(()) => log::info!("framebuffer console {}x{}", fb.width, fb.height),
            Err(e) => log::warn!("{e}"),
        }
    }
    match mm::phys::initrd().map(|b| (b.len(), kcore::initrd::Initrd::parse(b))) {
        Some((len, Ok(rd))) => {
            let syms = rd.find("kernel.sym").map_or(0, symbols::load);
            log::info!("initrd: {} files, {} KiB; {syms} kernel symbols", rd.entries().len(), len / 1024);
            INITRD.call_once(|| rd);
        }
        Some((_, Err(e))) => log::error!("initrd is malformed ({e}); ignoring it"),
        None => log::warn!("no initrd: /init and the ring-3 programs are unavailable (pass one with -initrd)"),
    }
    banner(info);
    match cmd.watchdog_ms {
        _ if matches!(cmd.mode, Mode::Bench { .. }) => {}
        Some(ms) => {
            sched::watchdog::set_limit(core::time::Duration::from_millis(ms.into()));
            sched::watchdog::start();
        }
        None => log::info!("watchdog off (watchdog=off)"),
    }
    match &cmd.mode {
        Mode::Test { filter } => ktest::run(filter.as_deref()),
        Mode::Bench { name } => bench::run(name),
        Mode::Run => match proc::spawn("/init", &["init"], None) {
            Ok(pid) => {
                log::info!("started /init (pid {pid})");
                sched::run_cpu(0)
            }
            Err(e) => {
                log::error!("cannot start /init: {e}; halting");
                arch::halt_forever()
            }
        },
    }
}

fn banner(info: &BootInfo) {
    let boot_ms = arch::time::uptime_ns() / 1_000_000;
    kprintln!(
        "mello: async SMP kernel | {} CPUs online | {} MiB RAM ({} MiB free) | {:?} boot | booted in {} ms",
        smp::online(),
        info.usable_bytes() >> 20,
        (mm::frame::free_count() * 4096) >> 20,
        info.protocol,
        boot_ms
    );
}
