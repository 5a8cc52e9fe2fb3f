//! Signals, in their simplest useful form: `kill(pid, sig)` marks a process for death
//! and wakes whatever it waits on; its thread ends with that signal's wait status at
//! its next trap (a process in ring 3 traps within one time slice). There are no
//! handlers, so SIGINT, SIGTERM and SIGKILL all kill.
//!
//! The console's foreground process: the shell names the job it waits for, and a
//! Ctrl-C (0x03) arriving on COM1 is then turned into `kill(fg, SIGINT)` instead of
//! an input byte (see `console::serial`).

use super::{Pid, INIT_PID, KERNEL_PID, TABLE};
use abi::wait::{SIGINT, SIGKILL, SIGTERM};
use abi::Errno;
use core::sync::atomic::{AtomicU64, Ordering};

/// Whether `sig` is a signal `kill` accepts (0 only checks the pid).
pub fn valid(sig: u64) -> bool {
    matches!(u8::try_from(sig), Ok(0 | SIGINT | SIGKILL | SIGTERM))
}

/// Sends `sig` to `pid`: `SRCH` if there is no such process, `PERM` for init (the
/// reaper of orphans must live), `INVAL` for an unknown signal. A zombie is already
/// dead: success, no effect. Safe in interrupt context (no allocation, one lock).
pub fn kill(pid: Pid, sig: u64) -> Result<(), Errno> {
    if !valid(sig) {
        return Err(Errno::INVAL);
    }
    let t = TABLE.lock();
    let e = t.procs.get(&pid).filter(|_| pid != KERNEL_PID).ok_or(Errno::SRCH)?;
    if sig == 0 || e.status.is_some() {
        return Ok(());
    }
    if pid == INIT_PID {
        return Err(Errno::PERM);
    }
    e.shared.send(sig as u8);
    Ok(())
}

/// The console's foreground process (0: none).
static FOREGROUND: AtomicU64 = AtomicU64::new(0);

/// Makes `pid` the console's foreground process (0: none); returns the previous one.
/// `SRCH` if `pid` is not in the process table.
pub fn set_foreground(pid: Pid) -> Result<Pid, Errno> {
    if pid != 0 && super::shared(pid).is_none() {
        return Err(Errno::SRCH);
    }
    Ok(FOREGROUND.swap(pid, Ordering::AcqRel))
}

/// The console's foreground process, 0 if none. Lock-free: the serial driver asks
/// for every byte it receives, even before the heap exists.
pub fn foreground() -> Pid {
    FOREGROUND.load(Ordering::Acquire)
}

/// Ctrl-C: SIGINT to the foreground process, if any (serial receive interrupt).
pub fn interrupt_foreground() {
    let fg = foreground();
    if fg != 0 {
        let _ = kill(fg, SIGINT as u64);
    }
}
