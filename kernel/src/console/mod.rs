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
