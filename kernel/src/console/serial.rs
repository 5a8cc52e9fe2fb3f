//! COM1 (16550 UART) driver: polled output, interrupt-driven input (once the IOAPIC
//! routes IRQ 4), `\n` sent as `\r\n`. While a process is the console's foreground
//! (`proc::signal`), Ctrl-C (0x03) is not input: it sends that process SIGINT.

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
    // Turning the FIFO on empties the receiver, so first keep what was typed before
    // this point (QEMU holds input back until the guest reads it, one byte at a time
    // while the FIFO is off; under KVM the first bytes of a line typed at start-up
    // are still waiting here).
    INPUT.lock().drain_uart();
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

/// Bytes received on COM1 and not read yet, and the tasks waiting for some.
static INPUT: IrqMutex<Input> = IrqMutex::ranked(
    Input { ring: [0; INPUT_MAX], head: 0, len: 0, interrupts: 0, readers: alloc::vec::Vec::new() },
    crate::sync::order::SERIAL_INPUT,
);
const INPUT_MAX: usize = 4096;

/// A fixed ring (no heap: `init` fills it before the heap exists); the oldest byte
/// is dropped when it is full.
struct Input {
    ring: [u8; INPUT_MAX],
    head: usize,
    len: usize,
    /// Ctrl-C bytes taken out of the input for the foreground process, not yet sent.
    interrupts: usize,
    readers: alloc::vec::Vec<core::task::Waker>,
}

/// Ctrl-C.
const ETX: u8 = 0x03;

impl Input {
    fn push(&mut self, b: u8) {
        if b == ETX && crate::proc::signal::foreground() != 0 {
            self.interrupts += 1;
            return;
        }
        if self.len == INPUT_MAX {
            self.head = (self.head + 1) % INPUT_MAX;
            self.len -= 1;
        }
        self.ring[(self.head + self.len) % INPUT_MAX] = if b == b'\r' { b'\n' } else { b };
        self.len += 1;
    }

    /// Moves bytes waiting in the UART into the ring.
    fn drain_uart(&mut self) {
        while inb(COM1 + 5) & 1 != 0 {
            self.push(inb(COM1));
        }
    }
}

/// Installs the receive-interrupt handler (IOAPIC routes COM1's IRQ to SERIAL_VECTOR).
pub fn init_input() {
    crate::arch::trap::set_handler(crate::arch::apic::SERIAL_VECTOR, |_| {
        let (wake, interrupts) = {
            let mut inp = INPUT.lock();
            inp.drain_uart();
            (core::mem::take(&mut inp.readers), core::mem::take(&mut inp.interrupts))
        };
        for w in wake {
            w.wake();
        }
        // After the input lock is released: `kill` takes the process table's lock,
        // which ranks before it.
        if interrupts > 0 {
            crate::proc::signal::interrupt_foreground();
        }
        crate::arch::apic::eoi();
    });
}

/// Bytes of input waiting to be read.
pub fn input_len() -> usize {
    INPUT.lock().len
}

/// Waits until input is available, then moves up to `buf.len()` bytes into `buf`.
pub async fn read(buf: &mut [u8]) -> usize {
    core::future::poll_fn(|cx| {
        let mut inp = INPUT.lock();
        if inp.len == 0 {
            inp.readers.push(cx.waker().clone());
            return core::task::Poll::Pending;
        }
        let n = buf.len().min(inp.len);
        for dst in &mut buf[..n] {
            *dst = inp.ring[inp.head];
            inp.head = (inp.head + 1) % INPUT_MAX;
            inp.len -= 1;
        }
        core::task::Poll::Ready(n)
    })
    .await
}
