//! COM1 (16550 UART) driver: polled output, interrupt-driven input (once the IOAPIC
//! routes IRQ 4), `\n` sent as `\r\n`.

use crate::arch::io::{inb, outb};
use crate::sync::{IrqGuard, IrqMutex};
use core::fmt;

const COM1: u16 = 0x3f8;

/// The COM1 port (zero-sized: the hardware is the state).
pub struct Serial {
    _private: (),
}

static PORT: IrqMutex<Serial> = IrqMutex::ranked(Serial { _private: () }, crate::sync::order::SERIAL);

/// Programs COM1: 115200 baud, 8N1, FIFOs on, receive interrupt enabled.
pub fn init() {
    outb(COM1 + 1, 0x00); // interrupts off while configuring
    outb(COM1 + 3, 0x80); // DLAB
    outb(COM1, 0x01); // divisor 1 = 115200
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); // 8N1
    outb(COM1 + 2, 0xc7); // FIFO on, cleared, 14-byte threshold
    outb(COM1 + 4, 0x0b); // DTR, RTS, OUT2 (IRQ line enabled)
    outb(COM1 + 1, 0x01); // receive-data interrupt
}

/// Locks the port for a multi-part write.
pub fn lock() -> IrqGuard<'static, Serial> {
    PORT.lock()
}

/// Locks the port if free (panic path: never deadlock on a lock held by the panicking CPU).
pub fn try_lock() -> Option<IrqGuard<'static, Serial>> {
    PORT.try_lock()
}

fn put(b: u8) {
    let mut spins = 0;
    while inb(COM1 + 5) & 0x20 == 0 && spins < 100_000 {
        spins += 1;
    }
    outb(COM1, b);
}

impl Serial {
    /// Writes raw bytes.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                put(b'\r');
            }
            put(b);
        }
    }
}

impl fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Writes a string without taking the lock: only for the panic path, when the lock
/// may be held by the CPU that is panicking.
pub fn write_unlocked(s: &str) {
    Serial { _private: () }.write_bytes(s.as_bytes());
}
