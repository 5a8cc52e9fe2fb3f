//! The atomics the state word and the idle handshake use: core's, or loom's under
//! `--cfg loom`, so that `tests/loom_*.rs` model-check the very code the executor runs.

#[cfg(loom)]
pub(crate) use loom::sync::atomic;

#[cfg(not(loom))]
pub(crate) use core::sync::atomic;
