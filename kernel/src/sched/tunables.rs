//! STAND-IN, REPLACED AT MERGE: the main session writes the real run-time tunables
//! module with exactly this API. This one holds two demonstration keys so the
//! shell's `get`/`set` and the `tunables` system call can be built and tested.

use alloc::format;
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};

static BALANCE_MS: AtomicU64 = AtomicU64::new(100);
static SLICE_HZ: AtomicU64 = AtomicU64::new(100);

/// Every live value as space-separated `key=value`.
pub fn describe() -> String {
    format!("balance_ms={} slice_hz={}", BALANCE_MS.load(Ordering::Relaxed), SLICE_HZ.load(Ordering::Relaxed))
}

/// Applies `key=value`; `Err` is a human-readable message.
pub fn set(assignment: &str) -> Result<(), String> {
    let (key, value) = assignment.split_once('=').ok_or_else(|| format!("expected key=value, got '{assignment}'"))?;
    let v: u64 = value.trim().parse().map_err(|_| format!("{key}: '{value}' is not a number"))?;
    let slot = match key.trim() {
        "balance_ms" => &BALANCE_MS,
        "slice_hz" => &SLICE_HZ,
        k => return Err(format!("unknown tunable '{k}' (known: balance_ms, slice_hz)")),
    };
    if v == 0 {
        return Err(format!("{key} must be at least 1"));
    }
    slot.store(v, Ordering::Relaxed);
    Ok(())
}
