//! Tests of the lock-order checker.

use super::{order, IrqMutex};
use crate::check;
use crate::ktest::{KTest, TestResult};

/// Suites of this module.
pub const TESTS: &[KTest] = crate::ktests![lock_order_violation_is_caught, lock_order_ok_path];

fn lock_order_violation_is_caught() -> TestResult {
    let high = IrqMutex::ranked(0u8, order::FRAMES);
    let low = IrqMutex::ranked(0u8, order::KERNEL_TABLES);
    let g = high.lock();
    let r = low.checked_lock();
    check!(r.is_err(), "taking kernel tables (rank 10) under frames (rank 20) was allowed");
    drop(r);
    drop(g);
    check!(low.checked_lock().is_ok(), "lock still marked held after release");
    Ok(())
}

fn lock_order_ok_path() -> TestResult {
    let a = IrqMutex::ranked(1u8, order::KERNEL_TABLES);
    let b = IrqMutex::ranked(2u8, order::FRAMES);
    let ga = a.checked_lock().map_err(|v| alloc::format!("{v}"))?;
    let gb = b.checked_lock().map_err(|v| alloc::format!("{v}"))?;
    check!(*ga + *gb == 3);
    Ok(())
}
