//! Interrupt-flag control: the building block of IRQ-safe locks and the idle path.

use x86_64::instructions::interrupts;

/// Disables interrupts on this CPU.
pub fn disable() {
    interrupts::disable();
}

/// Enables interrupts on this CPU.
pub fn enable() {
    interrupts::enable();
}

/// Whether interrupts are enabled on this CPU.
pub fn enabled() -> bool {
    interrupts::are_enabled()
}

/// Disables interrupts and returns whether they were enabled (for `restore`).
pub fn save_disable() -> bool {
    let was = enabled();
    disable();
    was
}

/// Re-enables interrupts if `was_enabled`.
pub fn restore(was_enabled: bool) {
    if was_enabled {
        enable();
    }
}

/// Enables interrupts and halts in one step: `sti` delays interrupts until after the
/// next instruction, so a wake-up interrupt cannot slip in between the two. This is
/// what makes the executor's idle re-check free of lost wake-ups.
pub fn enable_and_halt() {
    interrupts::enable_and_hlt();
}
