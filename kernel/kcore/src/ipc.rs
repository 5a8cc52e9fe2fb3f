//! IPC ports: bounded message queues with asynchronous, FIFO-fair receive.
//!
//! There are [`NUM_PORTS`] ports, each a queue of at most [`PORT_QUEUE`]
//! messages of at most [`MAX_MSG`] bytes. [`PortTable::send`] never blocks:
//! a full queue is [`IpcError::QueueFull`]. [`PortTable::recv`] returns a
//! future that completes with the next message.
//!
//! # Fairness and hand-off
//!
//! Receivers that find the queue empty wait in a per-port FIFO list. A
//! message sent while receivers wait is *handed* to the oldest waiter that
//! has none yet (stored in its waiter slot), and only that waiter is woken:
//! no thundering herd, and no later receiver can overtake it. Invariants,
//! all under the port lock:
//!
//! - waiters holding a handed message form a prefix of the waiter list
//!   (`handed` of them), and their messages are in send order;
//! - if the queue is non-empty, no waiter is without a message (so a new
//!   receiver may take the queue head without jumping ahead of anyone);
//! - `queue.len() + handed <= PORT_QUEUE` (a handed message still occupies
//!   its place in the port's bound), and the queue's capacity is at least
//!   `queue.len() + handed`, so a message given back never allocates.
//!
//! A [`RecvFuture`] dropped while waiting removes its slot; if a message had
//! been handed to it, the message moves to the next waiter (shifting later
//! hand-offs down to keep send order) or back to the front of the queue.
//! Nothing is lost, and the message still goes out before every message
//! sent after it. (A receiver that already took a *later* message and
//! waits again may then get the earlier one: cancellation is the only way
//! one receiver can see a sender's messages out of order.)
//!
//! Wakers are never called with a port lock held: they are collected and
//! woken after unlocking. Memory for messages and waiter slots is reserved
//! with `try_reserve`, so exhaustion is [`IpcError::NoMemory`], not a panic.

use abi::{Errno, MAX_MSG, NUM_PORTS, PORT_QUEUE};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use spin::Mutex;

mod message;
pub use message::{Message, INLINE};

/// Why an IPC operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpcError {
    /// Port number `>= NUM_PORTS`.
    BadPort,
    /// Message longer than [`MAX_MSG`].
    TooBig,
    /// The port already holds [`PORT_QUEUE`] messages.
    QueueFull,
    /// Memory for the message or the waiter could not be allocated.
    NoMemory,
}

impl IpcError {
    /// The errno a system call returns for this error.
    pub const fn errno(self) -> Errno {
        match self {
            IpcError::BadPort => Errno::INVAL,
            IpcError::TooBig => Errno::MSGSIZE,
            IpcError::QueueFull => Errno::AGAIN,
            IpcError::NoMemory => Errno::NOMEM,
        }
    }
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpcError::BadPort => "no such port",
            IpcError::TooBig => "message too long",
            IpcError::QueueFull => "port queue full",
            IpcError::NoMemory => "out of memory",
        })
    }
}

/// Snapshot of the IPC counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpcStats {
    /// Messages accepted by `send`.
    pub sends: u64,
    /// Messages delivered to a receiver.
    pub recvs: u64,
    /// Sends refused because the queue was full.
    pub queue_full: u64,
}

/// A receiver waiting on a port.
struct Waiter {
    id: u64,
    waker: Waker,
    /// The message handed to this waiter, not yet picked up by its poll.
    msg: Option<Message>,
}

/// The FIFO list of a port's waiters, the oldest stored inline in the port. A port
/// usually has one receiver: its slot (and the message handed to it) then shares
/// cache lines with the port lock, so a message crosses between two CPUs with the
/// lock's lines alone, and registering allocates nothing.
#[repr(C)]
struct Waiters {
    /// The oldest waiter; `None` only if `rest` is empty too.
    first: Option<Waiter>,
    rest: VecDeque<Waiter>,
}

impl Waiters {
    const fn new() -> Waiters {
        Waiters { first: None, rest: VecDeque::new() }
    }

    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    fn iter(&self) -> impl Iterator<Item = &Waiter> {
        self.first.iter().chain(self.rest.iter())
    }

    /// Where waiter `id` is in the list.
    fn position(&self, id: u64) -> Option<usize> {
        self.iter().position(|w| w.id == id)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Waiter> {
        match i {
            0 => self.first.as_mut(),
            i => self.rest.get_mut(i - 1),
        }
    }

    fn remove(&mut self, i: usize) -> Option<Waiter> {
        match i {
            0 => {
                let w = self.first.take();
                self.first = self.rest.pop_front();
                w
            }
            i => self.rest.remove(i - 1),
        }
    }

    /// Room for one more, so that `push_back` cannot fail.
    fn try_reserve_one(&mut self) -> Result<(), alloc::collections::TryReserveError> {
        match self.first {
            None => Ok(()),
            Some(_) => self.rest.try_reserve(1),
        }
    }

    fn push_back(&mut self, w: Waiter) {
        match self.first {
            None => self.first = Some(w),
            Some(_) => self.rest.push_back(w),
        }
    }
}

/// One port, guarded by its lock. See the module docs for the invariants. `repr(C)`
/// with the fields the hand-off touches first: with the lock in front of it (see
/// [`Port`]), they fill the first 128 bytes of the port.
#[repr(C)]
struct PortState {
    handed: usize,
    waiters: Waiters,
    queue: VecDeque<Message>,
    next_id: u64,
    /// Counters, under the lock: no cache line of their own to pass between CPUs.
    sends: u64,
    recvs: u64,
    queue_full: u64,
}

impl PortState {
    const fn new() -> PortState {
        PortState {
            handed: 0,
            waiters: Waiters::new(),
            queue: VecDeque::new(),
            next_id: 0,
            sends: 0,
            recvs: 0,
            queue_full: 0,
        }
    }

    /// Removes waiter `id`. If it held a handed message, passes the message
    /// on (next waiter, shifting later hand-offs down, or the queue front).
    /// Returns the waker of a waiter that newly received a message.
    fn cancel(&mut self, id: u64) -> Option<Waker> {
        let pos = self.waiters.position(id)?;
        let removed = self.waiters.remove(pos)?;
        let mut carry = removed.msg?;
        self.handed = self.handed.saturating_sub(1);
        for i in pos..self.waiters.len() {
            let w = self.waiters.get_mut(i)?;
            match w.msg.as_mut() {
                Some(m) => core::mem::swap(m, &mut carry),
                None => {
                    w.msg = Some(carry);
                    self.handed += 1;
                    return Some(core::mem::replace(&mut w.waker, Waker::noop().clone()));
                }
            }
        }
        // Capacity for this was reserved when the message was handed out.
        self.queue.push_front(carry);
        None
    }
}

/// One port: its lock and state, on cache lines of its own (128-byte aligned, the
/// pair of lines a CPU's adjacent-line prefetch moves together). The two CPUs of a
/// conversation each take the lock for every message; packed ports (and table-wide
/// counters) also pulled a neighbour's lines, or the counters', from the other CPU.
#[repr(align(128))]
struct Port {
    state: Mutex<PortState>,
}

impl Port {
    const fn new() -> Port {
        Port { state: Mutex::new(PortState::new()) }
    }
}

/// All IPC ports and their counters. `PortTable::new` is `const`, so the
/// kernel can keep one in a `static`.
pub struct PortTable {
    ports: [Port; NUM_PORTS],
}

impl Default for PortTable {
    fn default() -> Self {
        Self::new()
    }
}

impl PortTable {
    /// A table of empty ports.
    pub const fn new() -> PortTable {
        PortTable { ports: [const { Port::new() }; NUM_PORTS] }
    }

    fn port(&self, port: usize) -> Result<&Port, IpcError> {
        self.ports.get(port).ok_or(IpcError::BadPort)
    }

    /// Queues a copy of `data` on `port`, or hands it to the oldest waiting
    /// receiver and wakes that receiver. Never blocks.
    pub fn send(&self, port: usize, data: &[u8]) -> Result<(), IpcError> {
        self.port(port)?;
        if data.len() > MAX_MSG {
            return Err(IpcError::TooBig);
        }
        // Copy outside the lock (inline when short: no allocation).
        let msg = Message::copy_of(data).ok_or(IpcError::NoMemory)?;
        self.send_message(port, msg)
    }

    /// [`send`](Self::send) for bytes the caller already owns (e.g. copied in from
    /// user space): a long buffer becomes the message itself, no second copy.
    pub fn send_vec(&self, port: usize, data: Vec<u8>) -> Result<(), IpcError> {
        self.port(port)?;
        if data.len() > MAX_MSG {
            return Err(IpcError::TooBig);
        }
        self.send_message(port, Message::from_vec(data))
    }

    fn send_message(&self, port: usize, msg: Message) -> Result<(), IpcError> {
        let p = self.port(port)?;
        if msg.len() > MAX_MSG {
            return Err(IpcError::TooBig);
        }
        let wake = {
            let mut st = p.state.lock();
            if st.queue.len() + st.handed >= PORT_QUEUE {
                st.queue_full += 1;
                return Err(IpcError::QueueFull);
            }
            // Keep room for every handed message to come back (see `cancel`).
            let room = st.handed + 1;
            st.queue.try_reserve(room).map_err(|_| IpcError::NoMemory)?;
            st.sends += 1;
            let first_free = st.handed;
            match st.waiters.get_mut(first_free) {
                Some(w) => {
                    w.msg = Some(msg);
                    let waker = core::mem::replace(&mut w.waker, Waker::noop().clone());
                    st.handed += 1;
                    Some(waker)
                }
                None => {
                    st.queue.push_back(msg);
                    None
                }
            }
        };
        if let Some(w) = wake {
            w.wake();
        }
        Ok(())
    }

    /// A future that completes with the next message on `port` (or
    /// `BadPort` / `NoMemory`). Dropping it while it waits cancels the
    /// receive without losing a message.
    pub fn recv(&self, port: usize) -> RecvFuture<'_> {
        RecvFuture {
            table: self,
            port,
            state: RecvState::Start,
        }
    }

    /// Takes the next queued message without waiting: `Ok(None)` if the
    /// queue is empty.
    pub fn try_recv(&self, port: usize) -> Result<Option<Message>, IpcError> {
        let mut st = self.port(port)?.state.lock();
        let msg = st.queue.pop_front();
        st.recvs += u64::from(msg.is_some());
        Ok(msg)
    }

    /// Messages queued or handed out but not yet received on `port`.
    pub fn pending(&self, port: usize) -> Result<usize, IpcError> {
        let st = self.port(port)?.state.lock();
        Ok(st.queue.len() + st.handed)
    }

    /// Receivers currently waiting on `port` (including those that have
    /// been handed a message but not yet polled).
    pub fn waiting(&self, port: usize) -> Result<usize, IpcError> {
        Ok(self.port(port)?.state.lock().waiters.len())
    }

    /// The counters, summed over the ports (each port's lock taken in turn).
    pub fn stats(&self) -> IpcStats {
        self.ports.iter().fold(IpcStats::default(), |mut s, p| {
            let st = p.state.lock();
            s.sends += st.sends;
            s.recvs += st.recvs;
            s.queue_full += st.queue_full;
            s
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RecvState {
    /// Not registered: the next poll looks at the queue.
    Start,
    /// Registered as waiter `id`.
    Waiting(u64),
}

/// Future returned by [`PortTable::recv`].
///
/// Polling it again after it returned `Ready` starts a new receive.
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a> {
    table: &'a PortTable,
    port: usize,
    state: RecvState,
}

impl RecvFuture<'_> {
    /// The port this future receives from.
    pub fn port(&self) -> usize {
        self.port
    }
}

impl Future for RecvFuture<'_> {
    type Output = Result<Message, IpcError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let p = match self.table.port(self.port) {
            Ok(p) => p,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let mut st = p.state.lock();
        if let RecvState::Waiting(id) = self.state {
            match st.waiters.position(id) {
                Some(pos) => {
                    let handed = st.waiters.get_mut(pos).and_then(|w| w.msg.take());
                    if let Some(msg) = handed {
                        st.waiters.remove(pos);
                        st.handed = st.handed.saturating_sub(1);
                        st.recvs += 1;
                        drop(st);
                        self.state = RecvState::Start;
                        return Poll::Ready(Ok(msg));
                    }
                    if let Some(w) = st.waiters.get_mut(pos) {
                        if !w.waker.will_wake(cx.waker()) {
                            w.waker = cx.waker().clone();
                        }
                    }
                    return Poll::Pending;
                }
                // Unreachable by the invariants; recover by starting over.
                None => self.state = RecvState::Start,
            }
        }
        if let Some(msg) = st.queue.pop_front() {
            st.recvs += 1;
            return Poll::Ready(Ok(msg));
        }
        if st.waiters.try_reserve_one().is_err() {
            return Poll::Ready(Err(IpcError::NoMemory));
        }
        let id = st.next_id;
        st.next_id = st.next_id.wrapping_add(1);
        st.waiters.push_back(Waiter {
            id,
            waker: cx.waker().clone(),
            msg: None,
        });
        drop(st);
        self.state = RecvState::Waiting(id);
        Poll::Pending
    }
}

impl Drop for RecvFuture<'_> {
    fn drop(&mut self) {
        if let RecvState::Waiting(id) = self.state {
            if let Ok(p) = self.table.port(self.port) {
                let wake = p.state.lock().cancel(id);
                if let Some(w) = wake {
                    w.wake();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
