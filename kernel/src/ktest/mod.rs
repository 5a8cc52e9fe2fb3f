//! In-kernel test harness for `test[=filter]` mode.
//!
//! Tests are plain functions returning `TestResult`, listed per module in a `TESTS`
//! slice and gathered in `ALL` below, so adding a test is: write the function, add it
//! to its module's list. Output is one line per test and a closing
//! `N passed, N failed`; QEMU then exits through isa-debug-exit (33 = all passed).
//!
//! `test=user:PROGRAM,ARG,...` instead runs one ring-3 program from the initrd as
//! the whole test (`make fuzz` does): it ends the run with the `test_exit` system
//! call, which only such a run allows, or by exiting (0 = passed).

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
const ALL: &[&[KTest]] = &[crate::mm::tests::TESTS, crate::console::tests::TESTS, crate::sync::tests::TESTS, crate::sched::tests::TESTS, crate::sched::policy_tests::TESTS, crate::sched::trace::tests::TESTS, crate::proc::tests::TESTS];

/// Tests that crash the kernel on purpose, run only when the filter names them
/// (`test=deliberate::...`): the runner checks the panic report they produce.
const DELIBERATE: &[KTest] = &[
    KTest { name: "deliberate::page_fault", run: deliberate_page_fault },
    KTest { name: "deliberate::hang", run: deliberate_hang },
    KTest { name: "deliberate::hang_irqs_off", run: deliberate_hang_irqs_off },
];

/// Writes to an unmapped kernel address with no fixup: must panic with a report.
#[inline(never)]
fn deliberate_page_fault() -> TestResult {
    crate::arch::trap::unrecoverable_write(0xffff_d000_0bad_0000, 1);
    Err("the write to an unmapped address did not fault".into())
}

/// A task on cpu1 that never returns from poll: the watchdog must report it.
fn deliberate_hang() -> TestResult {
    hang_cpu1(false)
}

/// The same with interrupts disabled.
fn deliberate_hang_irqs_off() -> TestResult {
    hang_cpu1(true)
}

fn hang_cpu1(irqs_off: bool) -> TestResult {
    if crate::smp::online() < 2 {
        return Err("needs two CPUs (the watchdog runs on the other one)".into());
    }
    crate::sched::watchdog::set_limit(core::time::Duration::from_secs(1));
    let opts = executor::SpawnOptions { priority: executor::Priority::Normal, cpu: Some(1), pinned: true, name: "deliberate-spin" };
    crate::sched::exec().spawn_with(opts, async move { deliberate_spin(irqs_off) }).detach();
    crate::sched::block_on(executor::sleep(core::time::Duration::from_secs(30)));
    Err("the watchdog did not report the spinning task within 30 s".into())
}

#[inline(never)]
fn deliberate_spin(irqs_off: bool) {
    if irqs_off {
        crate::arch::irq::disable();
    }
    loop {
        core::hint::spin_loop();
    }
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
    if let Some(spec) = filter.and_then(|f| f.strip_prefix("user:")) {
        run_user(spec);
    }
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

/// Set while a ring-3 program drives the test run (`test=user:...`).
static USER_DRIVER: AtomicUsize = AtomicUsize::new(0);

/// Runs `PROGRAM,ARG,...` as the only test and ends the run with its verdict.
fn run_user(spec: &str) -> ! {
    let argv: alloc::vec::Vec<&str> = spec.split(',').collect();
    let path = alloc::format!("/{}", argv[0].trim_start_matches('/'));
    *CURRENT.lock() = Some("user");
    let pid = match crate::proc::spawn(&path, &argv, None) {
        Ok(pid) => pid,
        Err(e) => {
            report("user", Err(alloc::format!("starting {path}: {e}")));
            finish()
        }
    };
    USER_DRIVER.store(pid as usize, Ordering::SeqCst);
    let r = crate::sched::block_on(crate::proc::wait(crate::proc::KERNEL_PID, Some(pid)));
    let verdict = match r {
        Ok((_, status)) if abi::wait::exited(status) == Some(0) => Ok(()),
        Ok((_, status)) => Err(alloc::format!("{path} ended with status {status:#x} without test_exit")),
        Err(e) => Err(alloc::format!("waiting for {path}: {e}")),
    };
    report("user", verdict);
    finish()
}

/// The `test_exit(status)` system call of process `pid`: in a run driven by that
/// ring-3 program, ends the run (status 0 = passed); `PERM` otherwise.
pub fn ring3_exit(pid: u64, status: u64) -> Result<usize, abi::Errno> {
    if USER_DRIVER.load(Ordering::SeqCst) != pid as usize || pid == 0 {
        return Err(abi::Errno::PERM);
    }
    let name = crate::proc::name(pid).unwrap_or_default();
    let r = if status == 0 { Ok(()) } else { Err(alloc::format!("{name} called test_exit({status})")) };
    report("user", r);
    finish()
}

fn report(name: &str, r: TestResult) {
    *CURRENT.lock() = None;
    match r {
        Ok(()) => {
            PASSED.fetch_add(1, Ordering::Relaxed);
            kprintln!("test {name} ... ok");
        }
        Err(e) => {
            FAILED.fetch_add(1, Ordering::Relaxed);
            kprintln!("test {name} ... FAILED: {e}");
        }
    }
}

fn finish() -> ! {
    crate::sched::trace::dump();
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
