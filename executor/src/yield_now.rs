//! `yield_now()`: let the other ready tasks of this CPU run once.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

/// Give up the CPU: the task wakes itself and goes to the back of its run queue (the wake
/// during the poll re-queues it exactly once, after the poll). Works on any executor.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
