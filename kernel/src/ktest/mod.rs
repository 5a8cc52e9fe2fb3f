//! In-kernel test harness for `test[=filter]` mode.
//!
//! Tests are plain functions returning `TestResult`, listed per module in a `TESTS`
//! slice and gathered in `ALL` below, so adding a test is: write the function, add it
//! to its module's list. Output is one line per test and a closing
//! `N passed, N failed`; QEMU then exits through isa-debug-exit (33 = all passed).

use crate::arch::qemu::{exit, ExitCode};
use crate::kprintln;
use alloc::string::String;
use core::sync::atomic::{AtomicUsize, Ordering};

/// What a test returns: `Err` carries the reason it failed.
pub type TestResult = Result<(), String>;

/// One in-kernel test.
pub struct KTest {
    pub name: &'static str,
    pub run: fn() -> TestResult,
}

/// Builds a `&[KTest]` from function paths, naming each by its path.
#[macro_export]
macro_rules! ktests {
    ($($f:path),* $(,)?) => {
        &[$($crate::ktest::KTest { name: concat!(module_path!(), "::", stringify!($f)), run: $f }),*]
    };
}

/// Fails the test with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            return Err(alloc::format!("check failed: {} ({}:{})", stringify!($cond), file!(), line!()));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(alloc::format!("{} ({}:{})", format_args!($($arg)+), file!(), line!()));
        }
    };
}

/// Every test suite, in run order.
const ALL: &[&[KTest]] = &[crate::mm::tests::TESTS, crate::console::tests::TESTS, crate::sync::tests::TESTS, crate::sched::tests::TESTS, crate::sched::policy_tests::TESTS, crate::proc::tests::TESTS];

/// Tests that crash the kernel on purpose, run only when the filter names them
/// (`test=deliberate::...`): the runner checks the panic report they produce.
const DELIBERATE: &[KTest] = &[KTest { name: "deliberate::page_fault", run: deliberate_page_fault }];

/// Writes to an unmapped kernel address with no fixup: must panic with a report.
#[inline(never)]
fn deliberate_page_fault() -> TestResult {
    crate::arch::trap::unrecoverable_write(0xffff_d000_0bad_0000, 1);
    Err("the write to an unmapped address did not fault".into())
}

static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);
static SKIPPED: AtomicUsize = AtomicUsize::new(0);
/// Why the running test skipped itself (set by `skip`).
static SKIP_REASON: spin::Mutex<Option<String>> = spin::Mutex::new(None);

/// Ends the running test as skipped: it cannot run here (e.g. it needs two CPUs and
/// the machine has one). `return ktest::skip("needs 2 CPUs")`. A skip is not a pass.
pub fn skip(why: &str) -> TestResult {
    *SKIP_REASON.lock() = Some(String::from(why));
    Ok(())
}

/// Skips unless at least `n` CPUs are online.
pub fn need_cpus(n: usize) -> Result<(), String> {
    let online = crate::smp::online();
    if online < n {
        skip(&alloc::format!("needs {n} CPUs, {online} online"))?;
        return Err(String::new());
    }
    Ok(())
}
static CURRENT: spin::Mutex<Option<&'static str>> = spin::Mutex::new(None);

/// Runs every test whose name contains `filter`, prints the summary, exits QEMU.
pub fn run(filter: Option<&str>) -> ! {
    let suites: &[&[KTest]] = if filter.is_some_and(|f| f.starts_with("deliberate")) { &[DELIBERATE] } else { ALL };
    let tests = suites.iter().flat_map(|s| s.iter()).filter(|t| filter.is_none_or(|f| t.name.contains(f)));
    for t in tests {
        *CURRENT.lock() = Some(t.name);
        let start = crate::arch::time::uptime_ns();
        let r = (t.run)();
        let us = (crate::arch::time::uptime_ns() - start) / 1000;
        *CURRENT.lock() = None;
        let skipped = SKIP_REASON.lock().take();
        match (r, skipped) {
            (_, Some(why)) => {
                SKIPPED.fetch_add(1, Ordering::Relaxed);
                kprintln!("test {} ... skipped ({why})", t.name);
            }
            (Ok(()), None) => {
                PASSED.fetch_add(1, Ordering::Relaxed);
                kprintln!("test {} ... ok ({us} us)", t.name);
            }
            (Err(e), None) => {
                FAILED.fetch_add(1, Ordering::Relaxed);
                kprintln!("test {} ... FAILED: {e}", t.name);
            }
        }
    }
    finish()
}

fn finish() -> ! {
    crate::report::print_summary();
    let (p, f, s) = (PASSED.load(Ordering::Relaxed), FAILED.load(Ordering::Relaxed), SKIPPED.load(Ordering::Relaxed));
    kprintln!("kernel tests: {p} passed, {f} failed, {s} skipped");
    exit(if f == 0 && p > 0 { ExitCode::Success } else { ExitCode::Failure })
}

/// Called by the panic handler: a panic inside a test fails that test and ends the run.
pub fn on_panic() {
    if let Some(name) = CURRENT.try_lock().and_then(|g| *g) {
        kprintln!("test {name} ... FAILED: panicked (remaining tests not run)");
        let p = PASSED.load(Ordering::Relaxed);
        let f = FAILED.load(Ordering::Relaxed) + 1;
        kprintln!("kernel tests: {p} passed, {f} failed");
    }
}
