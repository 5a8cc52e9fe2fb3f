//! The panic handler: CPU, message, location, a symbolised backtrace, then exit QEMU
//! with a failure status so a test runner sees it at once.

use crate::arch;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::irq::disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        crate::console::serial::write_unlocked("\nnested panic; halting\n");
        arch::qemu::exit(arch::qemu::ExitCode::Failure);
    }
    let mut out = PanicWriter;
    let _ = write!(out, "\n!!! KERNEL PANIC on cpu{}: {}\n", arch::cpu_id(), info.message());
    if let Some(l) = info.location() {
        let _ = writeln!(out, "    at {}:{}:{}", l.file(), l.line(), l.column());
    }
    let _ = writeln!(out, "backtrace:");
    arch::backtrace::walk(|i, addr| {
        let _ = match crate::symbols::lookup(addr) {
            Some((name, off)) => writeln!(out, "  #{i:<2} {addr:#018x} {name}+{off:#x}"),
            None => writeln!(out, "  #{i:<2} {addr:#018x} ?"),
        };
    });
    crate::ktest::on_panic();
    arch::qemu::exit(arch::qemu::ExitCode::Failure)
}

/// Writes to serial without the lock if another context holds it (also used by
/// the watchdog's NMI report).
pub struct PanicWriter;

impl Write for PanicWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        match crate::console::serial::try_lock() {
            Some(mut g) => g.write_bytes(s.as_bytes()),
            None => crate::console::serial::write_unlocked(s),
        }
        crate::console::fb::print(format_args!("{s}"));
        Ok(())
    }
}
