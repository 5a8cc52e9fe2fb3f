//! Locks for kernel code: spinlocks that keep interrupts off while held.
//!
//! An interrupt handler may wake tasks, and a wake may allocate (run-queue blocks),
//! so any lock an interrupt path can take must be held with interrupts off on this
//! CPU, or the handler would spin forever on its own CPU's lock.

pub mod order;

use crate::arch::irq;
use core::ops::{Deref, DerefMut};
use kcore::lockorder::LockClass;

/// A spinlock that disables interrupts while held, ranked in the lock order (`order`).
pub struct IrqMutex<T> {
    inner: spin::Mutex<T>,
    class: LockClass,
}

/// Guard of an `IrqMutex`; restores the interrupt flag when dropped. Not `Send`, so
/// it cannot be held across an `.await` in a spawned task.
pub struct IrqGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
    class: Option<LockClass>,
    irq_was_on: bool,
    _not_send: core::marker::PhantomData<*const ()>,
}

impl<T> IrqMutex<T> {
    /// A new unlocked mutex with a place in the lock order.
    pub const fn ranked(value: T, class: LockClass) -> Self {
        IrqMutex { inner: spin::Mutex::new(value), class }
    }

    /// Disables interrupts, then spins until the lock is ours. Panics on a lock-order
    /// violation (a bug that could deadlock another CPU).
    pub fn lock(&self) -> IrqGuard<'_, T> {
        match self.checked_lock() {
            Ok(g) => g,
            Err(v) => panic!("lock order violation: {v}"),
        }
    }

    /// `lock`, but a lock-order violation is returned instead of panicking (and the
    /// lock is not taken).
    pub fn checked_lock(&self) -> Result<IrqGuard<'_, T>, kcore::lockorder::LockOrderViolation> {
        let irq_was_on = irq::save_disable();
        if let Err(v) = order::acquire(&self.class) {
            irq::restore(irq_was_on);
            return Err(v);
        }
        Ok(IrqGuard { guard: Some(self.inner.lock()), class: Some(self.class), irq_was_on, _not_send: core::marker::PhantomData })
    }

    /// Takes the lock if it is free (for panic paths that must not deadlock); skips
    /// the order check.
    pub fn try_lock(&self) -> Option<IrqGuard<'_, T>> {
        let irq_was_on = irq::save_disable();
        match self.inner.try_lock() {
            Some(g) => Some(IrqGuard { guard: Some(g), class: None, irq_was_on, _not_send: core::marker::PhantomData }),
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
        if let Some(c) = &self.class {
            order::release(c);
        }
        irq::restore(self.irq_was_on);
    }
}
