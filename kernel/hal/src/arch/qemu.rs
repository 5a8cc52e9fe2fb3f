//! QEMU's isa-debug-exit device: how a test run reports its status to the runner.
//!
//! Writing `v` to port 0xf4 makes QEMU exit with status `(v << 1) | 1`, so the runner
//! sees 33 for success and 35 for failure. Without the device the write is ignored
//! and we halt instead.

/// What the kernel tells the runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything passed (QEMU exits with 33).
    Success = 0x10,
    /// Something failed or panicked (QEMU exits with 35).
    Failure = 0x11,
}

/// Exits QEMU with `code`; halts if the device is absent (real hardware, `make run`).
pub fn exit(code: ExitCode) -> ! {
    try_exit(code);
    super::halt_forever()
}

/// Exits QEMU with `code`; returns if the device is absent.
pub fn try_exit(code: ExitCode) {
    super::io::outl(0xf4, code as u32);
}
