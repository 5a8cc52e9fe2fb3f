//! `JoinHandle<T>`: await a task's output, detach it, or cancel it.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::state::{Cancel, CANCELLED, COMPLETE, JOIN_WAKER};
use crate::task::{released, TaskId, TaskRef};

/// Handle to a spawned task; a `Future` of its output.
///
/// - `.await` it to get the output (exactly once; polling again after that panics).
/// - Dropping it (or [`detach`](JoinHandle::detach)) lets the task run on; its output is
///   dropped when it finishes.
/// - [`cancel`](JoinHandle::cancel) stops it: the future is dropped by its home CPU's loop
///   (never by the caller), at the CPU's next turn or right after its current poll. It is
///   fire-and-forget and safe to call from any CPU.
#[must_use = "dropping a JoinHandle detaches the task"]
pub struct JoinHandle<T> {
    task: Option<TaskRef>,
    _output: PhantomData<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: TaskRef) -> Self {
        JoinHandle { task: Some(task), _output: PhantomData }
    }

    /// The task's id (`None` once the output has been taken).
    pub fn id(&self) -> Option<TaskId> {
        self.task.as_ref().map(|t| t.header().id)
    }

    /// True once the task completed or was cancelled (or its output was taken).
    pub fn is_finished(&self) -> bool {
        self.task
            .as_ref()
            .is_none_or(|t| t.header().state.load() & (COMPLETE | CANCELLED) != 0)
    }

    /// Let the task run on without a handle (same as dropping the handle).
    pub fn detach(self) {}

    /// Cancel the task. Returns true if it had not completed yet: its future will be dropped
    /// by its home CPU's loop without being polled again (if it is being polled right now
    /// and that poll returns Ready, the output is dropped instead). Returns false if it had
    /// already completed; its output is then dropped here.
    pub fn cancel(mut self) -> bool {
        let Some(task) = self.task.take() else { return false };
        let hdr = task.header();
        match hdr.state.cancel() {
            // (6)
            Cancel::TooLate => {
                release_handle(task);
                false
            }
            Cancel::Push => {
                let exec = hdr.exec;
                let me = exec.platform().cpu_id();
                // SAFETY: the queue's reference was added by the transition.
                exec.enqueue(unsafe { TaskRef::from_raw(task.as_ptr()) }, me);
                true // dropping `task` releases the handle's reference
            }
            Cancel::Noted => true,
        }
    }
}

/// Clear HANDLE and drop the handle's reference; drop the output if the task completed.
fn release_handle(task: TaskRef) {
    let hdr = task.header();
    let prev = hdr.state.release_handle(); // (9)
    if prev & COMPLETE != 0 {
        // SAFETY: COMPLETE was set while HANDLE was still ours, so the loop left the output
        // to us and nobody else touches the stage.
        unsafe { (hdr.vtable.drop_stage)(task.as_ptr()) };
    }
}

// The handle holds no `T` in place (the output lives in the task), so moving it is fine.
impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        {
            let hdr = self.task.as_ref().expect("JoinHandle polled after it returned its output").header();
            // Acquire: pairs with the Release that set COMPLETE, so the output is visible.
            let s = hdr.state.load();
            if s & COMPLETE == 0 {
                hdr.join_waker.register(cx.waker());
                // Re-check after registering: the loop sets COMPLETE, then wakes join_waker
                // if JOIN_WAKER is set. The first time, set it in the same step: either the
                // loop's completion comes later and sees it (our Release publishes the
                // registration), or we see COMPLETE here. Afterwards AtomicWaker's own
                // register/wake handshake covers a re-registration.
                let s = if s & JOIN_WAKER == 0 {
                    hdr.state.join_waker_registered() // (8)
                } else {
                    hdr.state.load()
                };
                if s & COMPLETE == 0 {
                    return Poll::Pending;
                }
            }
        }
        let task = self.task.take().expect("checked above");
        let mut out: Option<T> = None;
        // SAFETY: COMPLETE with HANDLE set means the output is ours alone, and `out` is an
        // `Option<T>` where `T` is the output type of the task this handle was made with.
        unsafe {
            (task.header().vtable.take_output)(task.as_ptr(), (&mut out as *mut Option<T>).cast())
        };
        // The stage is now empty, so clearing HANDLE and dropping the handle's reference
        // is one step.
        let p = task.into_raw();
        // SAFETY: `p` is live (we held a reference until the subtraction).
        let prev = unsafe { p.as_ref() }.state.output_taken(); // (10)
        // SAFETY: the subtraction gave up the handle's reference.
        unsafe { released(p, prev) };
        Poll::Ready(out.expect("task output already taken"))
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            release_handle(task);
        }
    }
}
