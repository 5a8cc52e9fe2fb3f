//! Locks for kernel code: spinlocks that keep interrupts off while held.
//!
//! An interrupt handler may wake tasks, and a wake may allocate (run-queue blocks),
//! so any lock an interrupt path can take must be held with interrupts off on this
//! CPU, or the handler would spin forever on its own CPU's lock.

use crate::arch::irq;
use core::ops::{Deref, DerefMut};

/// A spinlock that disables interrupts while held.
pub struct IrqMutex<T> {
    inner: spin::Mutex<T>,
}

/// Guard of an `IrqMutex`; restores the interrupt flag when dropped.
pub struct IrqGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
    irq_was_on: bool,
}

impl<T> IrqMutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Self {
        IrqMutex { inner: spin::Mutex::new(value) }
    }

    /// Disables interrupts, then spins until the lock is ours.
    pub fn lock(&self) -> IrqGuard<'_, T> {
        let irq_was_on = irq::save_disable();
        IrqGuard { guard: Some(self.inner.lock()), irq_was_on }
    }

    /// Takes the lock if it is free (for panic paths that must not deadlock).
    pub fn try_lock(&self) -> Option<IrqGuard<'_, T>> {
        let irq_was_on = irq::save_disable();
        match self.inner.try_lock() {
            Some(g) => Some(IrqGuard { guard: Some(g), irq_was_on }),
            None => {
                irq::restore(irq_was_on);
                None
            }
        }
    }
}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("guard present until drop")
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("guard present until drop")
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    fn drop(&mut self) {
        self.guard.take(); // unlock first, then let interrupts back in
        irq::restore(self.irq_was_on);
    }
}
