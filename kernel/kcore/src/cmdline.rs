//! Kernel command-line parsing: mode (`run`, `test[=filter]`, `bench=name`),
//! log level (`log=level`), scheduler trace classes (`trace=...`, see [`crate::trace`])
//! and the scheduler's tunables (`steal=half`, `idle=poll:50`,
//! ...: see [`crate::tunables`]).
//!
//! The command line comes from the boot loader as raw bytes and may be
//! anything: parsing never fails. Whatever cannot be used is reported as a
//! human-readable warning for the kernel to print once the console is up,
//! and a default takes its place.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::tunables::Tunables;

/// What the kernel does after boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Start `/init` (the default).
    Run,
    /// Run the in-kernel and ring-3 tests whose name contains `filter`
    /// (all tests when `None`), then exit QEMU.
    Test {
        /// Substring a test name must contain to run.
        filter: Option<String>,
    },
    /// Run the named benchmark, then exit QEMU.
    Bench {
        /// Benchmark name.
        name: String,
    },
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Run => f.write_str("run"),
            Mode::Test { filter: None } => f.write_str("test"),
            Mode::Test { filter: Some(x) } => write!(f, "test={x}"),
            Mode::Bench { name } => write!(f, "bench={name}"),
        }
    }
}

/// Log verbosity, from least to most verbose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// Normal boot messages (the default).
    Info,
    /// Debugging detail.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// Parses a level name (`error`, `warn`, `info`, `debug`, `trace`).
    pub fn from_name(name: &str) -> Option<LogLevel> {
        Some(match name {
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return None,
        })
    }

    /// The level's name as accepted by [`LogLevel::from_name`].
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmdline {
    /// What to do after boot.
    pub mode: Mode,
    /// Log verbosity.
    pub log: LogLevel,
    /// Scheduler tunables (defaults where not given or not valid).
    pub tunables: Tunables,
    /// Scheduler trace classes (`trace=all`, `trace=poll,wake,...`; off by default).
    pub trace: crate::trace::Classes,
    /// `watchdog=<ms>|off`: time without progress that the hang watchdog reports
    /// (`None`: off). Default [`DEFAULT_WATCHDOG_MS`].
    pub watchdog_ms: Option<u32>,
    /// Problems found while parsing, one human-readable line each.
    pub warnings: Vec<String>,
}

impl Default for Cmdline {
    fn default() -> Self {
        Cmdline {
            mode: Mode::Run,
            log: LogLevel::Info,
            tunables: Tunables::default(),
            trace: crate::trace::Classes::default(),
            watchdog_ms: Some(DEFAULT_WATCHDOG_MS),
            warnings: Vec::new(),
        }
    }
}

/// The hang watchdog's default limit: 5 s without progress.
pub const DEFAULT_WATCHDOG_MS: u32 = 5000;

/// At most this many warnings are kept; the rest are summarised in one line.
pub const MAX_WARNINGS: usize = 16;
/// Longest token quoted in a warning, in bytes; longer ones are cut.
const MAX_QUOTE: usize = 48;

impl Cmdline {
    /// Parses a raw command line. Never fails: see the module docs.
    ///
    /// Tokens are separated by ASCII whitespace; trailing NUL bytes (a C
    /// string from the boot loader) are ignored. When several mode tokens
    /// are given, the last one wins (with a warning); a repeated `log=`
    /// silently overrides the earlier one.
    pub fn parse(bytes: &[u8]) -> Cmdline {
        let mut out = Cmdline::default();
        let mut end = bytes.len();
        while end > 0 && bytes[end - 1] == 0 {
            end -= 1;
        }
        let text = match core::str::from_utf8(&bytes[..end]) {
            Ok(t) => t,
            Err(_) => {
                out.warnings
                    .push("non-UTF-8 command line ignored".to_string());
                return out;
            }
        };
        let mut suppressed = 0usize;
        let mut mode_token: Option<&str> = None;
        for token in text.split_ascii_whitespace() {
            let warning = out.apply(token, &mut mode_token);
            if let Some(w) = warning {
                if out.warnings.len() < MAX_WARNINGS {
                    out.warnings.push(w);
                } else {
                    suppressed += 1;
                }
            }
        }
        if suppressed > 0 {
            out.warnings
                .push(format!("{suppressed} more warnings suppressed"));
        }
        out
    }

    /// Applies one token; returns a warning if it was not fully usable.
    fn apply<'a>(&mut self, token: &'a str, mode_token: &mut Option<&'a str>) -> Option<String> {
        let (key, value) = match token.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (token, None),
        };
        if let ("watchdog", Some(v)) = (key, value) {
            return match v {
                "off" => {
                    self.watchdog_ms = None;
                    None
                }
                _ => match v.parse::<u32>() {
                    Ok(ms) if (100..=3_600_000).contains(&ms) => {
                        self.watchdog_ms = Some(ms);
                        None
                    }
                    _ => {
                        self.watchdog_ms = Some(DEFAULT_WATCHDOG_MS);
                        Some(format!(
                            "bad watchdog '{}' (off or 100..=3600000 ms), using {DEFAULT_WATCHDOG_MS}",
                            quote(v)
                        ))
                    }
                },
            };
        }
        if let (true, Some(v)) = (Tunables::is_key(key), value) {
            return self.tunables.set(key, v).err().map(|e| {
                let default = Tunables::default().get(key).unwrap_or_default();
                format!("{e}; using {key}={default}")
            });
        }
        let new_mode = match (key, value) {
            ("run", None) => Mode::Run,
            ("test", None) => Mode::Test { filter: None },
            ("test", Some("")) => Mode::Test { filter: None },
            ("test", Some(f)) => Mode::Test {
                filter: Some(f.to_string()),
            },
            ("bench", Some(n)) if !n.is_empty() => Mode::Bench {
                name: n.to_string(),
            },
            ("bench", _) => {
                return Some(format!(
                    "option '{}' needs a benchmark name (bench=<name>)",
                    quote(token)
                ))
            }
            ("log", Some(v)) => {
                return match LogLevel::from_name(v) {
                    Some(level) => {
                        self.log = level;
                        None
                    }
                    None => {
                        self.log = LogLevel::Info;
                        Some(format!("bad log level '{}', using info", quote(v)))
                    }
                };
            }
            ("trace", Some(v)) => {
                let (classes, warning) = crate::trace::Classes::parse(v);
                self.trace = classes;
                return warning;
            }
            _ => return Some(format!("ignored unknown option '{}'", quote(token))),
        };
        let warning = mode_token.and_then(|prev| {
            (prev != token).then(|| {
                format!(
                    "conflicting modes '{}' and '{}', using '{}'",
                    quote(prev),
                    quote(token),
                    quote(token)
                )
            })
        });
        *mode_token = Some(token);
        self.mode = new_mode;
        warning
    }
}

/// Cuts `s` to at most [`MAX_QUOTE`] bytes on a character boundary.
fn quote(s: &str) -> String {
    if s.len() <= MAX_QUOTE {
        return s.to_string();
    }
    let mut cut = MAX_QUOTE;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &s[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    fn p(s: &str) -> Cmdline {
        Cmdline::parse(s.as_bytes())
    }

    #[test]
    fn defaults() {
        for s in ["", "   ", "\0\0", "\t\n"] {
            assert_eq!(p(s), Cmdline::default(), "{s:?}");
        }
        assert_eq!(p("run").mode, Mode::Run);
    }

    #[test]
    fn modes() {
        assert_eq!(p("test").mode, Mode::Test { filter: None });
        assert_eq!(p("test=").mode, Mode::Test { filter: None });
        assert_eq!(
            p("test=ipc").mode,
            Mode::Test {
                filter: Some("ipc".into())
            }
        );
        assert_eq!(
            p("test=a=b").mode,
            Mode::Test {
                filter: Some("a=b".into())
            }
        );
        assert_eq!(
            p("bench=wake").mode,
            Mode::Bench {
                name: "wake".into()
            }
        );
        let c = p("bench=");
        assert_eq!(c.mode, Mode::Run);
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("needs a benchmark name"));
        assert_eq!(p("test=x").mode.to_string(), "test=x");
        assert!(p("test log=debug\0").warnings.is_empty());
    }

    #[test]
    fn log_levels() {
        for (s, l) in [
            ("error", LogLevel::Error),
            ("warn", LogLevel::Warn),
            ("info", LogLevel::Info),
            ("debug", LogLevel::Debug),
            ("trace", LogLevel::Trace),
        ] {
            let c = p(&format!("log={s}"));
            assert_eq!(c.log, l);
            assert!(c.warnings.is_empty());
            assert_eq!(l.as_str(), s);
        }
        let c = p("log=loud");
        assert_eq!(c.log, LogLevel::Info);
        assert_eq!(
            c.warnings,
            vec!["bad log level 'loud', using info".to_string()]
        );
        assert_eq!(p("log=debug log=trace").log, LogLevel::Trace);
        assert!(LogLevel::Error < LogLevel::Trace);
    }

    #[test]
    fn trace_classes() {
        use crate::trace::{Classes, ALL, IPI, POLL};
        assert_eq!(p("bench=x").trace, Classes(0));
        assert_eq!(p("bench=x trace=all").trace, Classes(ALL));
        let c = p("trace=poll,ipi,nope");
        assert_eq!(c.trace, Classes(POLL | IPI));
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("nope"));
    }

    #[test]
    fn warnings() {
        let c = p("foo test  bar=1");
        assert_eq!(c.mode, Mode::Test { filter: None });
        assert_eq!(
            c.warnings,
            vec![
                "ignored unknown option 'foo'".to_string(),
                "ignored unknown option 'bar=1'".to_string()
            ]
        );
        let c = p("test bench=x");
        assert_eq!(c.mode, Mode::Bench { name: "x".into() });
        assert_eq!(
            c.warnings,
            vec!["conflicting modes 'test' and 'bench=x', using 'bench=x'".to_string()]
        );
        assert!(p("test test").warnings.is_empty());
        let c = Cmdline::parse(b"test \xff\xfe");
        assert_eq!(c.mode, Mode::Run);
        assert_eq!(
            c.warnings,
            vec!["non-UTF-8 command line ignored".to_string()]
        );
    }

    #[test]
    fn tunables() {
        use crate::tunables::{Idle, Steal};
        let c = p("bench=all steal=none idle=poll:50 slice_hz=1000");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.tunables.steal, Steal::None);
        assert_eq!(c.tunables.idle, Idle::Poll { us: 50 });
        assert_eq!(c.tunables.slice_hz, 1000);
        let c = p("idle=poll:0 steal=half steal");
        assert_eq!(c.tunables, Tunables::default());
        assert_eq!(
            c.warnings,
            vec![
                "idle: '0' is not a number in 1..=100000; using idle=adaptive:200".to_string(),
                "ignored unknown option 'steal'".to_string()
            ]
        );
    }

    #[test]
    fn watchdog() {
        assert_eq!(p("").watchdog_ms, Some(DEFAULT_WATCHDOG_MS));
        assert_eq!(p("watchdog=60000").watchdog_ms, Some(60000));
        assert_eq!(p("watchdog=off").watchdog_ms, None);
        let c = p("watchdog=5");
        assert_eq!(c.watchdog_ms, Some(DEFAULT_WATCHDOG_MS));
        assert!(c.warnings[0].contains("bad watchdog '5'"), "{:?}", c.warnings);
    }

    #[test]
    fn warnings_are_bounded() {
        let long = "x".repeat(1000);
        let c = p(&long);
        assert!(c.warnings[0].len() < 100);
        let c = p(&"é".repeat(100));
        assert!(c.warnings[0].ends_with("...'"));
        let many = "a ".repeat(100);
        let c = p(&many);
        assert_eq!(c.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(c.warnings[MAX_WARNINGS], "84 more warnings suppressed");
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = Rng::new(7);
        let alphabet = b"testbnchrulog=fiEo \t\0\xff\xc3\xa9";
        for _ in 0..20_000 {
            let len = rng.below(40) as usize;
            let bytes: Vec<u8> = if rng.below(2) == 0 {
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                    .collect()
            };
            let c = Cmdline::parse(&bytes);
            assert!(c.warnings.len() <= MAX_WARNINGS + 1);
        }
    }
}
