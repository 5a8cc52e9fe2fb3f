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
    // Turning the FIFO on empties the receiver, so first keep what was typed before
    // this point (QEMU holds input back until the guest reads it, one byte at a time
    // while the FIFO is off; under KVM the first bytes of a line typed at start-up
    // are still waiting here).
    {
        let mut early = EARLY_INPUT.lock();
        while early.1 < early.0.len() && inb(COM1 + 5) & 1 != 0 {
            let n = early.1;
            early.0[n] = inb(COM1);
            early.1 += 1;
        }
    }
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

/// Bytes received on COM1 and not read yet (oldest dropped beyond `INPUT_MAX`).
static INPUT: spin::Mutex<InputBuf> = spin::Mutex::new(InputBuf { bytes: alloc::collections::VecDeque::new(), readers: alloc::vec::Vec::new() });
const INPUT_MAX: usize = 4096;

struct InputBuf {
    bytes: alloc::collections::VecDeque<u8>,
    readers: alloc::vec::Vec<core::task::Waker>,
}

/// Bytes read from COM1 by `init` before it enabled the FIFO (bytes, count).
static EARLY_INPUT: spin::Mutex<([u8; 64], usize)> = spin::Mutex::new(([0; 64], 0));

fn push_input(inp: &mut InputBuf, b: u8) {
    if inp.bytes.len() >= INPUT_MAX {
        inp.bytes.pop_front();
    }
    inp.bytes.push_back(if b == b'\r' { b'\n' } else { b });
}

/// Installs the receive-interrupt handler (IOAPIC routes COM1's IRQ to SERIAL_VECTOR).
pub fn init_input() {
    {
        let was = crate::arch::irq::save_disable();
        let mut early = EARLY_INPUT.lock();
        let mut inp = INPUT.lock();
        let n = early.1;
        for &b in &early.0[..n] {
            push_input(&mut inp, b);
        }
        early.1 = 0;
        drop(inp);
        drop(early);
        crate::arch::irq::restore(was);
    }
    crate::arch::trap::set_handler(crate::arch::apic::SERIAL_VECTOR, |_| {
        let mut wake = alloc::vec::Vec::new();
        {
            let mut inp = INPUT.lock();
            while inb(COM1 + 5) & 1 != 0 {
                push_input(&mut inp, inb(COM1));
            }
            core::mem::swap(&mut wake, &mut inp.readers);
        }
        for w in wake {
            w.wake();
        }
        crate::arch::apic::eoi();
    });
}

/// Bytes of input waiting to be read.
pub fn input_len() -> usize {
    let was = crate::arch::irq::save_disable();
    let n = INPUT.lock().bytes.len();
    crate::arch::irq::restore(was);
    n
}

/// Waits until input is available, then moves up to `buf.len()` bytes into `buf`.
pub async fn read(buf: &mut [u8]) -> usize {
    core::future::poll_fn(|cx| {
        // The interrupt handler takes INPUT too: keep interrupts off while holding it.
        let was = crate::arch::irq::save_disable();
        let mut inp = INPUT.lock();
        let r = if inp.bytes.is_empty() {
            inp.readers.push(cx.waker().clone());
            core::task::Poll::Pending
        } else {
            let n = buf.len().min(inp.bytes.len());
            for (dst, src) in buf.iter_mut().zip(inp.bytes.drain(..n)) {
                *dst = src;
            }
            core::task::Poll::Ready(n)
        };
        drop(inp);
        crate::arch::irq::restore(was);
        r
    })
    .await
}
