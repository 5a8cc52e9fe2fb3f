//! Console output: `print!`/`println!` (fd 1) and `eprint!`/`eprintln!`
//! (fd 2), formatted into a stack buffer and written with `write`.

use core::fmt;

/// A buffered writer to a file descriptor; flushes when full and on
/// [`FdWriter::flush`]. One `print!` is one `write` if it fits the buffer,
/// so lines from different processes rarely interleave.
pub struct FdWriter {
    fd: u64,
    buf: [u8; 512],
    len: usize,
}

impl FdWriter {
    /// An empty writer to `fd`.
    pub const fn new(fd: u64) -> FdWriter {
        FdWriter {
            fd,
            buf: [0; 512],
            len: 0,
        }
    }

    /// Writes out what is buffered (errors are dropped: there is nowhere
    /// to report them).
    pub fn flush(&mut self) {
        let _ = crate::sys::write_all(self.fd, self.buf.get(..self.len).unwrap_or(&[]));
        self.len = 0;
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// Formats `args` to `fd`. Used by the print macros.
pub fn print_to(fd: u64, args: fmt::Arguments<'_>) {
    let mut w = FdWriter::new(fd);
    let _ = fmt::Write::write_fmt(&mut w, args);
    w.flush();
}

/// Prints to standard output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::print_to($crate::abi::STDOUT, format_args!($($arg)*)) };
}

/// Prints a line to standard output.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::io::print_to($crate::abi::STDOUT, format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints to standard error.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::io::print_to($crate::abi::STDERR, format_args!($($arg)*)) };
}

/// Prints a line to standard error.
#[macro_export]
macro_rules! eprintln {
    () => { $crate::eprint!("\n") };
    ($($arg:tt)*) => { $crate::io::print_to($crate::abi::STDERR, format_args!("{}\n", format_args!($($arg)*))) };
}
