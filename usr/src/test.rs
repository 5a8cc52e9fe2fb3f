//! A tiny harness for ring-3 test programs: `check!` / `check_eq!` print a
//! `FAIL` line and count the failure instead of stopping, and [`finish`]
//! prints the verdict and gives the exit code (0 = pass).

use core::sync::atomic::{AtomicU32, Ordering};

static FAILURES: AtomicU32 = AtomicU32::new(0);

/// Records a failure and prints why. Used by the check macros.
pub fn fail(file: &str, line: u32, what: core::fmt::Arguments<'_>) {
    FAILURES.fetch_add(1, Ordering::Relaxed);
    crate::println!("  FAIL {file}:{line}: {what}");
}

/// Failures recorded so far in this process.
pub fn failures() -> u32 {
    FAILURES.load(Ordering::Relaxed)
}

/// Exit code of a test program that could not run here (e.g. it needs two CPUs).
/// The kernel's test runner reports it as skipped, not passed.
pub const SKIPPED: i32 = 77;

/// Prints `NAME: skipped (why)` and returns [`SKIPPED`] as the exit code.
pub fn skip(name: &str, why: &str) -> i32 {
    crate::println!("{name}: skipped ({why})");
    SKIPPED
}

/// Prints `NAME: ok` or `NAME: FAILED (n)` and returns the exit code.
pub fn finish(name: &str) -> i32 {
    match failures() {
        0 => {
            crate::println!("{name}: ok");
            0
        }
        n => {
            crate::println!("{name}: FAILED ({n} checks)");
            1
        }
    }
}

/// Checks a condition; on failure prints it (and an optional message).
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            $crate::test::fail(file!(), line!(), format_args!("{}", stringify!($cond)));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::test::fail(file!(), line!(), format_args!("{}: {}", stringify!($cond), format_args!($($arg)+)));
        }
    };
}

/// Checks two values are equal; on failure prints both.
#[macro_export]
macro_rules! check_eq {
    ($a:expr, $b:expr) => {
        match (&$a, &$b) {
            (a, b) => {
                if a != b {
                    $crate::test::fail(
                        file!(),
                        line!(),
                        format_args!("{} == {}: {:?} != {:?}", stringify!($a), stringify!($b), a, b),
                    );
                }
            }
        }
    };
    ($a:expr, $b:expr, $($arg:tt)+) => {
        match (&$a, &$b) {
            (a, b) => {
                if a != b {
                    $crate::test::fail(
                        file!(),
                        line!(),
                        format_args!("{} == {}: {:?} != {:?}: {}", stringify!($a), stringify!($b), a, b, format_args!($($arg)+)),
                    );
                }
            }
        }
    };
}
