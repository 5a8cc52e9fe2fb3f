//! Consoles: COM1 serial for everything, a framebuffer text console when the loader
//! provides a framebuffer, and the `log` backend that writes to both.

pub mod fb;
pub mod log;
pub mod serial;
pub mod tests;

use core::fmt::{self, Write};

/// Writes formatted text to every console.
pub fn print(args: fmt::Arguments) {
    let mut s = serial::lock();
    let _ = s.write_fmt(args);
    drop(s);
    fb::print(args);
}

/// Writes raw bytes (user output) to every console; invalid UTF-8 shows as U+FFFD
/// on the framebuffer.
pub fn write_bytes(bytes: &[u8]) {
    serial::lock().write_bytes(bytes);
    fb::print(format_args!("{}", alloc::string::String::from_utf8_lossy(bytes)));
}

/// Prints a fatal boot error and stops (exits QEMU with failure when under test).
pub fn fatal(args: fmt::Arguments) -> ! {
    crate::kprintln!("FATAL: {args}");
    crate::kprintln!("the kernel cannot continue; halting");
    crate::arch::qemu::exit(crate::arch::qemu::ExitCode::Failure)
}

/// Prints to the consoles.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => ($crate::console::print(format_args!($($arg)*)));
}

/// Prints a line to the consoles.
#[macro_export]
macro_rules! kprintln {
    () => ($crate::kprint!("\n"));
    ($($arg:tt)*) => ($crate::console::print(format_args!("{}\n", format_args!($($arg)*))));
}
