//! Port I/O: the only way the kernel talks to legacy devices (COM1, PIT, debug-exit).

use x86_64::instructions::port::Port;

/// Writes a byte to an I/O port.
pub fn outb(port: u16, value: u8) {
    // SAFETY: callers name legacy device ports (COM1, PIT, PIC, debug-exit) whose
    // writes have no effect on memory safety.
    unsafe { Port::<u8>::new(port).write(value) }
}

/// Reads a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    // SAFETY: as for `outb`; reads of these device registers have no memory effects.
    unsafe { Port::<u8>::new(port).read() }
}

/// Writes a 16-bit value to an I/O port.
pub fn outw(port: u16, value: u16) {
    // SAFETY: as for `outb` (the ACPI PM1 control ports).
    unsafe { Port::<u16>::new(port).write(value) }
}

/// Writes a 32-bit value to an I/O port.
pub fn outl(port: u16, value: u32) {
    // SAFETY: as for `outb`.
    unsafe { Port::<u32>::new(port).write(value) }
}
