//! The scheduler trace's hardware-free half: event classes (`trace=` on the kernel
//! command line), the record format, its one-line text form, and the per-CPU ring
//! buffer ([`ring::Ring`]) the kernel records into.
//!
//! The class bits are the same numbers as `executor::trace::class` (the kernel checks
//! that at compile time), so one mask switches the executor's events and the kernel's.

pub mod ring;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Task poll begin and end.
pub const POLL: u32 = 1 << 0;
/// Wakes that scheduled a task.
pub const WAKE: u32 = 1 << 1;
/// RESCHEDULE IPIs sent and received.
pub const IPI: u32 = 1 << 2;
/// Idle: halt enter/exit, idle-poll begin/end.
pub const IDLE: u32 = 1 << 3;
/// Timer interrupts and timers fired.
pub const TIMER: u32 = 1 << 4;
/// System call enter and exit.
pub const SYSCALL: u32 = 1 << 5;
/// Ring-3 entry and exit.
pub const USER: u32 = 1 << 6;
/// Steals and migrations.
pub const STEAL: u32 = 1 << 7;
/// Every class.
pub const ALL: u32 = (1 << 8) - 1;

/// Class names, in bit order, as `trace=` accepts them.
pub const CLASS_NAMES: [(&str, u32); 8] = [
    ("poll", POLL),
    ("wake", WAKE),
    ("ipi", IPI),
    ("idle", IDLE),
    ("timer", TIMER),
    ("syscall", SYSCALL),
    ("user", USER),
    ("steal", STEAL),
];

/// A set of event classes (0 = tracing off, the default).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Classes(pub u32);

impl Classes {
    /// Parses `all`, `off`/`none`, or a comma-separated list of class names. Never
    /// fails: unknown names are left out and reported in the returned warning.
    pub fn parse(s: &str) -> (Classes, Option<String>) {
        let mut bits = 0;
        let mut unknown: Vec<&str> = Vec::new();
        for name in s.split(',').filter(|n| !n.is_empty()) {
            match name {
                "all" => bits |= ALL,
                "off" | "none" => {}
                _ => match CLASS_NAMES.iter().find(|(n, _)| *n == name) {
                    Some((_, b)) => bits |= b,
                    None => unknown.push(name),
                },
            }
        }
        let warning = (!unknown.is_empty()).then(|| {
            let valid: Vec<&str> = CLASS_NAMES.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown trace class(es) {} ignored; valid: all, {}",
                unknown.join(","),
                valid.join(",")
            )
        });
        (Classes(bits), warning)
    }

    /// Whether no class is on.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Classes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 & ALL {
            0 => f.write_str("off"),
            ALL => f.write_str("all"),
            bits => {
                let mut first = true;
                for (n, b) in CLASS_NAMES {
                    if bits & b != 0 {
                        f.write_str(if first { "" } else { "," })?;
                        f.write_str(n)?;
                        first = false;
                    }
                }
                Ok(())
            }
        }
    }
}

/// What happened. The meaning of a record's `task`, `a` and `b` per kind is in the
/// table of [`Kind::mnemonic`]'s docs; unused fields are 0.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A task poll starts: task, a = name index (see `TRACENAME` lines).
    PollBegin = 1,
    /// A task poll ends: task, a = 1 if the future completed.
    PollEnd,
    /// A wake scheduled a task: task, a = its home (target) CPU. Recorded on the waker's CPU.
    Wake,
    /// A RESCHEDULE IPI was sent: a = target CPU.
    IpiSend,
    /// A RESCHEDULE IPI was received.
    IpiRecv,
    /// The CPU halts (`sti; hlt`).
    HaltBegin,
    /// The halt ended (after the interrupt that ended it was handled).
    HaltEnd,
    /// The idle loop starts polling its queues instead of halting.
    IdlePollBegin,
    /// The idle poll ends (work found, or it gives up and halts).
    IdlePollEnd,
    /// A local APIC timer interrupt.
    TimerIrq,
    /// The executor fired expired timers: a = how many.
    TimersFired,
    /// A system call starts: task, a = number.
    SyscallEnter,
    /// A system call returns: task, a = number, b = low 32 bits of the return value.
    SyscallExit,
    /// Ring 3 is entered: task.
    UserEnter,
    /// Ring 3 trapped back: task, a = vector (0x100 = `syscall`).
    UserExit,
    /// This CPU stole work (the tasks moved are the `Migrate` records before it).
    Steal,
    /// A queued task moved: task, a = from CPU, b = to CPU.
    Migrate,
}

/// Every kind, in code order (code = index + 1).
pub const KINDS: [Kind; 17] = [
    Kind::PollBegin,
    Kind::PollEnd,
    Kind::Wake,
    Kind::IpiSend,
    Kind::IpiRecv,
    Kind::HaltBegin,
    Kind::HaltEnd,
    Kind::IdlePollBegin,
    Kind::IdlePollEnd,
    Kind::TimerIrq,
    Kind::TimersFired,
    Kind::SyscallEnter,
    Kind::SyscallExit,
    Kind::UserEnter,
    Kind::UserExit,
    Kind::Steal,
    Kind::Migrate,
];

impl Kind {
    /// The kind with code `c`, if any.
    pub fn from_code(c: u8) -> Option<Kind> {
        KINDS.get((c as usize).wrapping_sub(1)).copied()
    }

    /// The class that switches this kind on.
    pub const fn class(self) -> u32 {
        match self {
            Kind::PollBegin | Kind::PollEnd => POLL,
            Kind::Wake => WAKE,
            Kind::IpiSend | Kind::IpiRecv => IPI,
            Kind::HaltBegin | Kind::HaltEnd | Kind::IdlePollBegin | Kind::IdlePollEnd => IDLE,
            Kind::TimerIrq | Kind::TimersFired => TIMER,
            Kind::SyscallEnter | Kind::SyscallExit => SYSCALL,
            Kind::UserEnter | Kind::UserExit => USER,
            Kind::Steal | Kind::Migrate => STEAL,
        }
    }

    /// The kind's name in `TRACE` lines (benches/runner/trace.py reads these).
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Kind::PollBegin => "poll_begin",
            Kind::PollEnd => "poll_end",
            Kind::Wake => "wake",
            Kind::IpiSend => "ipi_send",
            Kind::IpiRecv => "ipi_recv",
            Kind::HaltBegin => "halt_begin",
            Kind::HaltEnd => "halt_end",
            Kind::IdlePollBegin => "idle_poll_begin",
            Kind::IdlePollEnd => "idle_poll_end",
            Kind::TimerIrq => "timer_irq",
            Kind::TimersFired => "timers_fired",
            Kind::SyscallEnter => "syscall_enter",
            Kind::SyscallExit => "syscall_exit",
            Kind::UserEnter => "user_enter",
            Kind::UserExit => "user_exit",
            Kind::Steal => "steal",
            Kind::Migrate => "migrate",
        }
    }
}

/// One event as recorded: TSC, kind, the task it concerns (0 = none), two small args.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// `rdtsc` when it happened (one time base on every CPU).
    pub tsc: u64,
    /// What happened.
    pub kind: Kind,
    /// Task id (executor `TaskId`), 0 if none.
    pub task: u64,
    /// First argument (24 bits kept).
    pub a: u32,
    /// Second argument.
    pub b: u32,
}

/// Largest value [`Record::a`] keeps.
pub const A_MAX: u32 = (1 << 24) - 1;

impl Record {
    /// The packed middle word: kind in bits 0..8, `a` in 8..32 (saturated), `b` above.
    pub fn meta(&self) -> u64 {
        self.kind as u64 | (self.a.min(A_MAX) as u64) << 8 | (self.b as u64) << 32
    }

    /// Rebuilds a record from its three words; `None` for an unknown kind code.
    pub fn unpack(tsc: u64, meta: u64, task: u64) -> Option<Record> {
        let kind = Kind::from_code(meta as u8)?;
        Some(Record {
            tsc,
            kind,
            task,
            a: (meta >> 8) as u32 & A_MAX,
            b: (meta >> 32) as u32,
        })
    }
}

/// The `TRACE` line of `r`, recorded on `cpu`:
/// `TRACE <cpu> <tsc, hex> <kind> <task, hex> <a> <b>`.
pub struct Line<'a> {
    /// The CPU whose ring held it.
    pub cpu: usize,
    /// The record.
    pub record: &'a Record,
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.record;
        write!(
            f,
            "TRACE {} {:x} {} {:x} {} {}",
            self.cpu,
            r.tsc,
            r.kind.mnemonic(),
            r.task,
            r.a,
            r.b
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn classes_parse() {
        assert_eq!(Classes::parse("all"), (Classes(ALL), None));
        assert_eq!(Classes::parse("off"), (Classes(0), None));
        assert_eq!(
            Classes::parse("poll,wake,ipi,idle,timer,syscall,user,steal").0,
            Classes(ALL)
        );
        assert_eq!(Classes::parse("wake,poll,").0, Classes(POLL | WAKE));
        let (c, w) = Classes::parse("poll,bogus,ipi");
        assert_eq!(c, Classes(POLL | IPI));
        assert!(w.unwrap().contains("bogus"));
        assert_eq!(Classes::parse(""), (Classes(0), None));
    }

    #[test]
    fn classes_display_round_trips() {
        for bits in 0..=ALL {
            let s = Classes(bits).to_string();
            assert_eq!(Classes::parse(&s), (Classes(bits), None), "{s}");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(*k as usize, i + 1);
            assert_eq!(Kind::from_code(*k as u8), Some(*k));
            assert!(k.class() & ALL != 0);
        }
        assert_eq!(Kind::from_code(0), None);
        assert_eq!(Kind::from_code(200), None);
    }

    #[test]
    fn record_pack_and_line() {
        let r = Record {
            tsc: 0xabc,
            kind: Kind::Migrate,
            task: 0x20001,
            a: 3,
            b: u32::MAX,
        };
        assert_eq!(Record::unpack(r.tsc, r.meta(), r.task), Some(r));
        let big = Record { a: u32::MAX, ..r };
        assert_eq!(Record::unpack(0, big.meta(), 0).unwrap().a, A_MAX);
        assert_eq!(
            Line { cpu: 2, record: &r }.to_string(),
            "TRACE 2 abc migrate 20001 3 4294967295"
        );
    }
}
