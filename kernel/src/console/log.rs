//! `log` backend: `[   0.012345] cpu0 INFO  module: message` on every console.

use core::sync::atomic::{AtomicBool, Ordering};
use kcore::cmdline::LogLevel;
use log::{Level, LevelFilter, Metadata, Record};

struct KernelLog;

static LOGGER: KernelLog = KernelLog;
static INSTALLED: AtomicBool = AtomicBool::new(false);

impl log::Log for KernelLog {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let t = crate::arch::time::uptime_ns();
        let lvl = match r.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        let module = r.module_path().unwrap_or("?").trim_start_matches("kernel::");
        crate::kprintln!(
            "[{:4}.{:06}] cpu{} {lvl} {module}: {}",
            t / 1_000_000_000,
            (t / 1000) % 1_000_000,
            crate::arch::cpu_id(),
            r.args()
        );
    }

    fn flush(&self) {}
}

/// Installs the logger (idempotent) at `level`.
pub fn init(level: LogLevel) {
    if !INSTALLED.swap(true, Ordering::Relaxed) {
        let _ = log::set_logger(&LOGGER);
    }
    log::set_max_level(match level {
        LogLevel::Error => LevelFilter::Error,
        LogLevel::Warn => LevelFilter::Warn,
        LogLevel::Info => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
        LogLevel::Trace => LevelFilter::Trace,
    });
}
