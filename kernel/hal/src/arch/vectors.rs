//! Every interrupt vector the kernel uses, in one table. Exceptions are 0-31 as the
//! CPU defines them (`trap::EXCEPTION_NAMES`); everything else is here.
//!
//! | vector | what | raised by | handled in |
//! |---|---|---|---|
//! | `0x20` | local APIC timer (one-shot / TSC-deadline) | local APIC | `sched` (executor timers, preemption) |
//! | `0x24` | COM1 receive (IRQ 4) | IOAPIC | `console::serial` |
//! | `0x30` | RESCHEDULE IPI | `sched::platform` (wake of a halted CPU) | `sched` |
//! | `0x31` | TLB shootdown IPI | `mm::tlb` | `mm::tlb` |
//! | `0x32` | benchmark IPI | `bench::ipi` | `bench::ipi` |
//! | `0x80` | `int $0x80` system-call gate (the only DPL-3 gate) | ring 3 | `proc::syscall` |
//! | `0xfe` | local APIC error | local APIC | `smp` |
//! | `0xff` | spurious (no EOI) | local APIC | `smp` |
//! | `0x100` | not an IDT vector: `frame.vector` of a `syscall` trap | ring 3 | `proc::syscall` |

/// Timer interrupt vector.
pub const TIMER_VECTOR: u8 = 0x20;
/// COM1 receive interrupt (routed through the IOAPIC).
pub const SERIAL_VECTOR: u8 = 0x24;
/// RESCHEDULE IPI: "your run queue got work while you were halted".
pub const RESCHEDULE_VECTOR: u8 = 0x30;
/// TLB shootdown IPI.
pub const TLB_VECTOR: u8 = 0x31;
/// Benchmark IPI (bench mode's `ipi_roundtrip` only; unused otherwise).
pub const BENCH_VECTOR: u8 = 0x32;
/// The software-interrupt system-call gate (callable from ring 3).
pub const INT80_VECTOR: u8 = 0x80;
/// APIC error interrupt.
pub const ERROR_VECTOR: u8 = 0xfe;
/// Spurious interrupt vector (needs no EOI).
pub const SPURIOUS_VECTOR: u8 = 0xff;
/// `frame.vector` of a trap that came in by the `syscall` instruction (not an IDT
/// vector; must match SYSCALL_VECTOR in arch/user.S).
pub const SYSCALL_VECTOR: u64 = 0x100;
