//! The scheduler's tunables: every policy a user may want to try, as values that the
//! command line (`key=value` tokens) and the shell (`set key=value`) change without a
//! rebuild. This module only parses, checks and prints them; the kernel's
//! `sched::tunables` holds the live values and applies them.
//!
//! | key | values | default |
//! |---|---|---|
//! | `steal` | `none`, `one`, `half` | `half` |
//! | `wake_thieves` | `on`, `off` | `on` |
//! | `balance` | `off`, `<period_ms>[,<imbalance>]` | `100,2` |
//! | `slice_hz` | `1..=10000` (time slices per second) | `100` |
//! | `idle` | `halt`, `poll:<µs>`, `adaptive[:<max µs>]` | `adaptive:200` ([`DEFAULT_IDLE`]) |
//! | `timer_spin` | `0..=10000` (µs armed early, then spun) | `50` ([`DEFAULT_TIMER_SPIN_US`]) |
//!
//! A new policy is a variant here (its name in `parse`/`Display`) plus its
//! implementation in the executor or the kernel.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

/// Which tasks an idle CPU steals (executor `StealPolicy`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Steal {
    /// Never steal.
    None,
    /// One task from the first CPU that has one.
    One,
    /// Half the migratable tasks of the most loaded CPU.
    Half,
}

/// The periodic load balancer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Balance {
    /// No periodic balancing (idle stealing still runs).
    Off,
    /// Every `period_ms`, move tasks when the longest and shortest run queues differ by
    /// more than `imbalance`.
    Every {
        /// Period in milliseconds (1..=60000).
        period_ms: u32,
        /// Queue-length difference that triggers a move (0..=1000).
        imbalance: u32,
    },
}

/// What an idle CPU does before it halts (executor `IdlePolicy`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Idle {
    /// Halt at once.
    Halt,
    /// Poll its queues for `us` microseconds (1..=100000), then halt.
    Poll {
        /// Window in microseconds.
        us: u32,
    },
    /// A per-CPU window adapting between 0 and `max_us`, like KVM's halt polling.
    Adaptive {
        /// Largest window in microseconds (1..=100000).
        max_us: u32,
    },
}

/// The default idle policy: adaptive polling up to 200 µs. Against `halt` it cut every
/// idle-CPU wake 6-50x (docs/benchmarking.md, "Choosing the defaults", with the commands).
pub const DEFAULT_IDLE: Idle = Idle::Adaptive { max_us: DEFAULT_ADAPTIVE_MAX_US };
/// The default timer spin in µs: 50 cut ring-3 sleep lateness 4x for about 5 µs of
/// polling per sleep (docs/benchmarking.md, "Choosing the defaults").
pub const DEFAULT_TIMER_SPIN_US: u32 = 50;
/// `adaptive` without a maximum.
pub const DEFAULT_ADAPTIVE_MAX_US: u32 = 200;

/// Every tunable's value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Tunables {
    /// `steal=`
    pub steal: Steal,
    /// `wake_thieves=`
    pub wake_thieves: bool,
    /// `balance=`
    pub balance: Balance,
    /// `slice_hz=`
    pub slice_hz: u32,
    /// `idle=`
    pub idle: Idle,
    /// `timer_spin=` (µs)
    pub timer_spin_us: u32,
}

impl Default for Tunables {
    fn default() -> Self {
        Tunables {
            steal: Steal::Half,
            wake_thieves: true,
            balance: Balance::Every { period_ms: 100, imbalance: 2 },
            slice_hz: 100,
            idle: DEFAULT_IDLE,
            timer_spin_us: DEFAULT_TIMER_SPIN_US,
        }
    }
}

/// The tunables' keys, in the order [`Tunables`]'s `Display` prints them.
pub const KEYS: [&str; 6] = ["steal", "wake_thieves", "balance", "slice_hz", "idle", "timer_spin"];

fn number(key: &str, v: &str, lo: u32, hi: u32) -> Result<u32, String> {
    match v.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!("{key}: '{}' is not a number in {lo}..={hi}", cut(v))),
    }
}

fn cut(s: &str) -> &str {
    let mut end = s.len().min(32);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl Tunables {
    /// Whether `key` names a tunable.
    pub fn is_key(key: &str) -> bool {
        KEYS.contains(&key)
    }

    /// Sets `key` to `value`. On error nothing changes and the message says what is
    /// accepted.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "steal" => {
                self.steal = match value {
                    "none" => Steal::None,
                    "one" => Steal::One,
                    "half" => Steal::Half,
                    _ => return Err(format!("steal: '{}' is not none, one or half", cut(value))),
                }
            }
            "wake_thieves" => {
                self.wake_thieves = match value {
                    "on" => true,
                    "off" => false,
                    _ => return Err(format!("wake_thieves: '{}' is not on or off", cut(value))),
                }
            }
            "balance" => {
                self.balance = match value.split_once(',') {
                    _ if value == "off" => Balance::Off,
                    None => Balance::Every {
                        period_ms: number(key, value, 1, 60_000)?,
                        imbalance: match self.balance {
                            Balance::Every { imbalance, .. } => imbalance,
                            Balance::Off => 2,
                        },
                    },
                    Some((p, i)) => Balance::Every {
                        period_ms: number(key, p, 1, 60_000)?,
                        imbalance: number(key, i, 0, 1000)?,
                    },
                }
            }
            "slice_hz" => self.slice_hz = number(key, value, 1, 10_000)?,
            "idle" => {
                self.idle = match value.split_once(':') {
                    None if value == "halt" => Idle::Halt,
                    None if value == "adaptive" => Idle::Adaptive { max_us: DEFAULT_ADAPTIVE_MAX_US },
                    Some(("poll", us)) => Idle::Poll { us: number(key, us, 1, 100_000)? },
                    Some(("adaptive", us)) => Idle::Adaptive { max_us: number(key, us, 1, 100_000)? },
                    _ => {
                        return Err(format!(
                            "idle: '{}' is not halt, poll:<us> or adaptive[:<max us>]",
                            cut(value)
                        ))
                    }
                }
            }
            "timer_spin" => self.timer_spin_us = number(key, value, 0, 10_000)?,
            _ => return Err(format!("unknown tunable '{}' (known: {})", cut(key), KEYS.join(", "))),
        }
        Ok(())
    }

    /// Sets from one `key=value` assignment (the shell's `set`).
    pub fn assign(&mut self, assignment: &str) -> Result<(), String> {
        match assignment.split_once('=') {
            Some((k, v)) => self.set(k.trim(), v.trim()),
            None => Err(format!("expected key=value, got '{}'", cut(assignment))),
        }
    }

    /// `key`'s current value as `set` accepts it.
    pub fn get(&self, key: &str) -> Option<String> {
        Some(match key {
            "steal" => match self.steal {
                Steal::None => "none",
                Steal::One => "one",
                Steal::Half => "half",
            }
            .to_string(),
            "wake_thieves" => if self.wake_thieves { "on" } else { "off" }.to_string(),
            "balance" => match self.balance {
                Balance::Off => "off".to_string(),
                Balance::Every { period_ms, imbalance } => format!("{period_ms},{imbalance}"),
            },
            "slice_hz" => self.slice_hz.to_string(),
            "idle" => match self.idle {
                Idle::Halt => "halt".to_string(),
                Idle::Poll { us } => format!("poll:{us}"),
                Idle::Adaptive { max_us } => format!("adaptive:{max_us}"),
            },
            "timer_spin" => self.timer_spin_us.to_string(),
            _ => return None,
        })
    }
}

/// All tunables as space-separated `key=value` (boot log, `BENCHINFO`, the shell's `get`).
impl fmt::Display for Tunables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, k) in KEYS.iter().enumerate() {
            let v = self.get(k).unwrap_or_default();
            write!(f, "{}{k}={v}", if i > 0 { " " } else { "" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip() {
        let t = Tunables::default();
        let text = t.to_string();
        assert_eq!(
            text,
            "steal=half wake_thieves=on balance=100,2 slice_hz=100 idle=adaptive:200 timer_spin=50"
        );
        let mut u = Tunables { steal: Steal::None, slice_hz: 7, ..t };
        for kv in text.split(' ') {
            u.assign(kv).unwrap();
        }
        assert_eq!(u, t);
    }

    #[test]
    fn every_value_parses_and_prints_back() {
        let mut t = Tunables::default();
        for (k, v) in [
            ("steal", "none"),
            ("steal", "one"),
            ("wake_thieves", "off"),
            ("balance", "off"),
            ("balance", "50,4"),
            ("slice_hz", "1000"),
            ("idle", "poll:50"),
            ("idle", "adaptive:400"),
            ("idle", "halt"),
            ("timer_spin", "20"),
        ] {
            t.set(k, v).unwrap();
            assert_eq!(t.get(k).unwrap(), v);
        }
        t.set("idle", "adaptive").unwrap();
        assert_eq!(t.idle, Idle::Adaptive { max_us: DEFAULT_ADAPTIVE_MAX_US });
        t.set("balance", "20").unwrap();
        assert_eq!(t.balance, Balance::Every { period_ms: 20, imbalance: 4 }, "keeps the imbalance");
    }

    #[test]
    fn bad_values_change_nothing_and_say_why() {
        let mut t = Tunables::default();
        for (k, v, msg) in [
            ("steal", "all", "not none, one or half"),
            ("wake_thieves", "1", "not on or off"),
            ("balance", "0", "1..=60000"),
            ("balance", "10,x", "0..=1000"),
            ("balance", ",", "1..=60000"),
            ("slice_hz", "0", "1..=10000"),
            ("slice_hz", "-5", "1..=10000"),
            ("slice_hz", "99999999999999999999", "1..=10000"),
            ("idle", "poll", "not halt"),
            ("idle", "poll:", "1..=100000"),
            ("idle", "poll:0", "1..=100000"),
            ("idle", "spin:5", "not halt"),
            ("timer_spin", "10001", "0..=10000"),
            ("frob", "1", "unknown tunable"),
        ] {
            let e = t.set(k, v).unwrap_err();
            assert!(e.contains(msg), "{k}={v}: {e}");
            assert_eq!(t, Tunables::default(), "{k}={v} changed something");
        }
        assert!(t.assign("steal").unwrap_err().contains("key=value"));
        assert!(t.set("steal", &"x".repeat(1000)).unwrap_err().len() < 100);
    }
}
