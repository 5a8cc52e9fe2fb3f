//! `timeout(f, d)`: run a future with a deadline, built on [`Sleep`].

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::timer::{sleep, Sleep};

/// Error of a [`Timeout`] whose deadline passed first.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

/// Future returned by [`timeout`]: `Ok(output)` if `f` finished first, else `Err(Elapsed)`.
/// When both are ready at the same poll, the output wins. Like [`Sleep`], it must run
/// inside this crate's executor.
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

/// Run `f` for at most `d` (counted from the first poll).
pub fn timeout<F: Future>(f: F, d: Duration) -> Timeout<F> {
    Timeout { future: f, sleep: sleep(d) }
}

impl<F> Timeout<F> {
    /// Give back the inner future (for a `Timeout` that was never pinned).
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `future`: we never move it out of a pinned
        // `Timeout` (`into_inner` takes `self` by value, so it needs an unpinned one),
        // `Timeout` has no `Drop` impl, and it is `Unpin` only when `F` is. `sleep` is
        // `Unpin` and not pinned structurally.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `future` stays where it is for as long as `self` is pinned.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(v) = future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}
