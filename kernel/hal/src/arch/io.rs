//! Port I/O: the only way the kernel talks to legacy devices (COM1, PIT, PIC,
//! debug-exit).
//!
//! The functions are safe because they refuse every port outside [`ALLOWED`]: the
//! legacy devices the kernel drives, none of which can reach memory (no DMA, no bus
//! configuration). A refused port is a kernel bug and panics.

use x86_64::instructions::port::Port;

/// The ports port I/O may touch: (first, last) inclusive.
pub const ALLOWED: [(u16, u16); 6] = [
    (0x3f8, 0x3ff), // COM1
    (0x40, 0x43),   // PIT
    (0x61, 0x61),   // PC speaker / PIT channel 2 gate
    (0x21, 0x21),   // master PIC mask
    (0xa1, 0xa1),   // slave PIC mask
    (0xf4, 0xf4),   // QEMU isa-debug-exit
];

fn check(port: u16) {
    assert!(ALLOWED.iter().any(|&(a, b)| (a..=b).contains(&port)), "port I/O to {port:#x}, which the kernel does not drive");
}

/// Writes a byte to an I/O port.
pub fn outb(port: u16, value: u8) {
    check(port);
    // SAFETY: `check` admits only legacy device ports (COM1, PIT, PIC, debug-exit)
    // whose writes have no effect on memory safety.
    unsafe { Port::<u8>::new(port).write(value) }
}

/// Reads a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    check(port);
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
    check(port);
    // SAFETY: as for `outb`.
    unsafe { Port::<u32>::new(port).write(value) }
}
