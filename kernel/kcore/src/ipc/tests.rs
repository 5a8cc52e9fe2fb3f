//! Host tests for IPC ports: bounds, FIFO hand-off, cancellation, and
//! multi-threaded stress with real cross-thread wake-ups.

use super::*;
use crate::testutil::Rng;
use futures::executor::block_on;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Wake;
use std::thread;

/// A waker that counts its wake-ups.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The message with bytes `b`.
fn msg(b: &[u8]) -> Message {
    Message::copy_of(b).unwrap()
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn wakes(c: &Counter) -> usize {
    c.0.load(Ordering::SeqCst)
}

fn poll_once(f: &mut RecvFuture<'_>, w: &Waker) -> Poll<Result<Message, IpcError>> {
    Pin::new(f).poll(&mut Context::from_waker(w))
}

impl PortTable {
    /// Checks the invariants listed in the module docs for `port`.
    fn check_invariants(&self, port: usize) {
        let st = self.ports[port].state.lock();
        let handed = st.waiters.iter().take_while(|w| w.msg.is_some()).count();
        assert_eq!(handed, st.handed, "handed waiters are a prefix");
        assert!(st.waiters.iter().skip(handed).all(|w| w.msg.is_none()));
        assert!(st.queue.is_empty() || st.waiters.len() == st.handed);
        assert!(st.queue.len() + st.handed <= PORT_QUEUE);
        assert!(st.handed == 0 || st.queue.capacity() >= st.queue.len() + st.handed);
    }
}

/// The kernel keeps the table in a `static`.
static STATIC_TABLE: PortTable = PortTable::new();

#[test]
fn table_can_be_a_static() {
    fn shared<T: Send + Sync>(_: &T) {}
    shared(&STATIC_TABLE);
    STATIC_TABLE.send(0, b"s").unwrap();
    assert_eq!(STATIC_TABLE.try_recv(0), Ok(Some(msg(b"s"))));
}

#[test]
fn send_then_receive() {
    let t = PortTable::new();
    t.send(3, b"hello").unwrap();
    assert_eq!(t.pending(3), Ok(1));
    assert_eq!(block_on(t.recv(3)), Ok(msg(b"hello")));
    assert_eq!(t.try_recv(3), Ok(None));
    t.send(3, b"").unwrap();
    assert_eq!(t.try_recv(3), Ok(Some(msg(&[]))));
    assert_eq!(
        t.stats(),
        IpcStats {
            sends: 2,
            recvs: 2,
            queue_full: 0
        }
    );
}

#[test]
fn bounds() {
    let t = PortTable::new();
    for p in [NUM_PORTS, NUM_PORTS + 1, usize::MAX] {
        assert_eq!(t.send(p, b"x"), Err(IpcError::BadPort));
        assert_eq!(block_on(t.recv(p)), Err(IpcError::BadPort));
        assert_eq!(t.try_recv(p), Err(IpcError::BadPort));
        assert_eq!(t.pending(p), Err(IpcError::BadPort));
        assert_eq!(t.waiting(p), Err(IpcError::BadPort));
    }
    let big = vec![7u8; MAX_MSG + 1];
    assert_eq!(t.send(0, &big), Err(IpcError::TooBig));
    t.send(NUM_PORTS - 1, &big[..MAX_MSG]).unwrap();
    assert_eq!(t.try_recv(NUM_PORTS - 1).unwrap().unwrap().len(), MAX_MSG);
    assert_eq!(IpcError::QueueFull.errno(), Errno::AGAIN);
    assert_eq!(IpcError::TooBig.errno(), Errno::MSGSIZE);
    assert_eq!(IpcError::BadPort.errno(), Errno::INVAL);
    assert_eq!(IpcError::NoMemory.errno(), Errno::NOMEM);
    assert_eq!(IpcError::QueueFull.to_string(), "port queue full");
}

#[test]
fn seventeenth_send_is_refused() {
    let t = PortTable::new();
    for i in 0..PORT_QUEUE {
        t.send(9, &[i as u8]).unwrap();
    }
    assert_eq!(t.send(9, b"x"), Err(IpcError::QueueFull));
    assert_eq!(t.send(9, b"y"), Err(IpcError::QueueFull));
    assert_eq!(t.stats().queue_full, 2);
    // Other ports are independent.
    t.send(10, b"z").unwrap();
    assert_eq!(t.try_recv(9), Ok(Some(msg(&[0]))));
    t.send(9, b"again").unwrap();
    for i in 1..PORT_QUEUE {
        assert_eq!(t.try_recv(9), Ok(Some(msg(&[i as u8]))));
    }
    assert_eq!(t.try_recv(9), Ok(Some(msg(b"again"))));
    t.check_invariants(9);
}

#[test]
fn waiters_are_served_fifo_and_only_the_oldest_is_woken() {
    let t = PortTable::new();
    let (c1, w1) = counter();
    let (c2, w2) = counter();
    let (c3, w3) = counter();
    let mut f1 = t.recv(1);
    let mut f2 = t.recv(1);
    let mut f3 = t.recv(1);
    assert!(poll_once(&mut f1, &w1).is_pending());
    assert!(poll_once(&mut f2, &w2).is_pending());
    assert!(poll_once(&mut f3, &w3).is_pending());
    assert_eq!(t.waiting(1), Ok(3));
    t.send(1, b"a").unwrap();
    assert_eq!((wakes(&c1), wakes(&c2), wakes(&c3)), (1, 0, 0));
    // A newcomer cannot take the handed message.
    let mut late = t.recv(1);
    assert!(poll_once(&mut late, &w3).is_pending());
    // f2 polled before f1 still sees nothing.
    assert!(poll_once(&mut f2, &w2).is_pending());
    t.send(1, b"b").unwrap();
    assert_eq!((wakes(&c1), wakes(&c2), wakes(&c3)), (1, 1, 0));
    t.check_invariants(1);
    assert_eq!(poll_once(&mut f2, &w2), Poll::Ready(Ok(msg(b"b"))));
    assert_eq!(poll_once(&mut f1, &w1), Poll::Ready(Ok(msg(b"a"))));
    t.send(1, b"c").unwrap();
    assert_eq!(wakes(&c3), 1);
    assert_eq!(poll_once(&mut f3, &w3), Poll::Ready(Ok(msg(b"c"))));
    drop(late);
    assert_eq!(t.waiting(1), Ok(0));
    t.check_invariants(1);
}

#[test]
fn repoll_with_new_waker_updates_it() {
    let t = PortTable::new();
    let (c1, w1) = counter();
    let (c2, w2) = counter();
    let mut f = t.recv(0);
    assert!(poll_once(&mut f, &w1).is_pending());
    assert!(poll_once(&mut f, &w2).is_pending());
    t.send(0, b"m").unwrap();
    assert_eq!((wakes(&c1), wakes(&c2)), (0, 1));
    assert_eq!(poll_once(&mut f, &w2), Poll::Ready(Ok(msg(b"m"))));
    // Polling again after completion starts a new receive.
    assert!(poll_once(&mut f, &w2).is_pending());
    t.send(0, b"n").unwrap();
    assert_eq!(poll_once(&mut f, &w2), Poll::Ready(Ok(msg(b"n"))));
}

#[test]
fn handed_messages_count_toward_the_bound() {
    let t = PortTable::new();
    let (_c, w) = counter();
    let mut f = t.recv(4);
    assert!(poll_once(&mut f, &w).is_pending());
    for i in 0..PORT_QUEUE {
        t.send(4, &[i as u8]).unwrap();
    }
    assert_eq!(t.pending(4), Ok(PORT_QUEUE));
    assert_eq!(t.send(4, b"x"), Err(IpcError::QueueFull));
    t.check_invariants(4);
    // Cancelling gives the handed message back to the front: order kept.
    drop(f);
    t.check_invariants(4);
    for i in 0..PORT_QUEUE {
        assert_eq!(t.try_recv(4), Ok(Some(msg(&[i as u8]))));
    }
}

#[test]
fn cancelled_receiver_gives_its_message_back() {
    let t = PortTable::new();
    let (_c, w) = counter();
    let mut f = t.recv(2);
    assert!(poll_once(&mut f, &w).is_pending());
    t.send(2, b"m1").unwrap();
    t.send(2, b"m2").unwrap();
    drop(f);
    assert_eq!(t.waiting(2), Ok(0));
    assert_eq!(t.try_recv(2), Ok(Some(msg(b"m1"))));
    assert_eq!(t.try_recv(2), Ok(Some(msg(b"m2"))));
    assert_eq!(t.stats().recvs, 2);
}

#[test]
fn cancelled_receiver_passes_its_message_to_the_next_waiter() {
    let t = PortTable::new();
    let (ca, wa) = counter();
    let (cb, wb) = counter();
    let (cc, wc) = counter();
    let mut a = t.recv(5);
    let mut b = t.recv(5);
    let mut c = t.recv(5);
    for (f, w) in [(&mut a, &wa), (&mut b, &wb), (&mut c, &wc)] {
        assert!(poll_once(f, w).is_pending());
    }
    t.send(5, b"m1").unwrap();
    t.send(5, b"m2").unwrap();
    assert_eq!((wakes(&ca), wakes(&cb), wakes(&cc)), (1, 1, 0));
    drop(a);
    t.check_invariants(5);
    // b now holds m1 (older message to the older waiter), c got m2 and a wake.
    assert_eq!((wakes(&cb), wakes(&cc)), (1, 1));
    assert_eq!(poll_once(&mut c, &wc), Poll::Ready(Ok(msg(b"m2"))));
    assert_eq!(poll_once(&mut b, &wb), Poll::Ready(Ok(msg(b"m1"))));
    t.check_invariants(5);
}

#[test]
fn cancelled_idle_waiter_is_just_removed() {
    let t = PortTable::new();
    let (ca, wa) = counter();
    let (cb, wb) = counter();
    let mut a = t.recv(6);
    let mut b = t.recv(6);
    assert!(poll_once(&mut a, &wa).is_pending());
    assert!(poll_once(&mut b, &wb).is_pending());
    drop(a);
    t.send(6, b"x").unwrap();
    assert_eq!((wakes(&ca), wakes(&cb)), (0, 1));
    assert_eq!(poll_once(&mut b, &wb), Poll::Ready(Ok(msg(b"x"))));
    // A future that never polled registers nothing.
    drop(t.recv(6));
    assert_eq!(t.waiting(6), Ok(0));
}

/// Random single-threaded interleavings of send / poll / cancel, checking
/// the invariants after every step and that nothing is lost or duplicated.
#[test]
fn random_interleavings_keep_invariants() {
    let t = PortTable::new();
    let mut rng = Rng::new(99);
    let (_c, w) = counter();
    let mut next = 0u32;
    let mut got: Vec<u32> = Vec::new();
    for round in 0..300 {
        let mut futs: Vec<RecvFuture<'_>> = Vec::new();
        for _ in 0..200 {
            match rng.below(5) {
                0 | 1 => next += u32::from(t.send(7, &next.to_le_bytes()).is_ok()),
                2 => futs.push(t.recv(7)),
                3 if !futs.is_empty() => {
                    let i = rng.below(futs.len() as u64) as usize;
                    if let Poll::Ready(m) = poll_once(&mut futs[i], &w) {
                        let m = m.unwrap();
                        got.push(u32::from_le_bytes(m[..].try_into().unwrap()));
                        drop(futs.swap_remove(i));
                    }
                }
                _ if !futs.is_empty() => {
                    let i = rng.below(futs.len() as u64) as usize;
                    drop(futs.swap_remove(i));
                }
                _ => {}
            }
            t.check_invariants(7);
        }
        drop(futs);
        t.check_invariants(7);
        assert_eq!(t.waiting(7), Ok(0), "round {round}");
        while let Some(m) = t.try_recv(7).unwrap() {
            got.push(u32::from_le_bytes(m[..].try_into().unwrap()));
        }
    }
    got.sort_unstable();
    assert_eq!(got, (0..next).collect::<Vec<_>>());
    let s = t.stats();
    assert_eq!((s.sends, s.recvs), (next as u64, next as u64));
}

const STOP: u8 = 0xff;

fn encode(sender: u8, seq: u32) -> [u8; 5] {
    let s = seq.to_le_bytes();
    [sender, s[0], s[1], s[2], s[3]]
}

/// Sends, retrying while the queue is full.
fn send_retry(t: &PortTable, port: usize, data: &[u8]) {
    loop {
        match t.send(port, data) {
            Ok(()) => return,
            Err(IpcError::QueueFull) => thread::yield_now(),
            Err(e) => panic!("send: {e}"),
        }
    }
}

/// Receives on `port` until a STOP message; with `cancel`, half of the
/// attempts poll once, yield, and drop the future (racing with senders).
fn receiver(t: &PortTable, port: usize, seed: u64, cancel: bool) -> Vec<(u8, u32)> {
    let mut rng = Rng::new(seed);
    let (_c, w) = counter();
    let mut got = Vec::new();
    loop {
        let m = if cancel && rng.below(2) == 0 {
            let mut f = t.recv(port);
            match poll_once(&mut f, &w) {
                Poll::Ready(m) => m.unwrap(),
                Poll::Pending => {
                    // Give senders time to hand `f` a message, then drop it.
                    for _ in 0..rng.below(4) {
                        thread::yield_now();
                    }
                    continue;
                }
            }
        } else {
            block_on(t.recv(port)).unwrap()
        };
        if m[..] == [STOP] {
            return got;
        }
        let seq = u32::from_le_bytes([m[1], m[2], m[3], m[4]]);
        got.push((m[0], seq));
    }
}

fn stress(senders: u8, per_sender: u32, receivers: usize, cancel: bool) {
    let t = PortTable::new();
    let port = 42;
    let results: Vec<Vec<(u8, u32)>> = thread::scope(|s| {
        let rx: Vec<_> = (0..receivers)
            .map(|r| {
                let t = &t;
                s.spawn(move || receiver(t, port, r as u64 + 1, cancel))
            })
            .collect();
        let tx: Vec<_> = (0..senders)
            .map(|id| {
                let t = &t;
                s.spawn(move || {
                    for seq in 0..per_sender {
                        send_retry(t, port, &encode(id, seq));
                    }
                })
            })
            .collect();
        for h in tx {
            h.join().unwrap();
        }
        for _ in 0..receivers {
            send_retry(&t, port, &[STOP]);
        }
        rx.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // FIFO per sender as seen by each receiver (cancellation may legally
    // hand a receiver an older message it was not first in line for).
    for r in results.iter().filter(|_| !cancel) {
        for id in 0..senders {
            let seqs: Vec<u32> = r.iter().filter(|m| m.0 == id).map(|m| m.1).collect();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "order broken for sender {id}"
            );
        }
    }
    // Every message exactly once.
    let mut all: Vec<(u8, u32)> = results.into_iter().flatten().collect();
    all.sort_unstable();
    let want: Vec<(u8, u32)> = (0..senders)
        .flat_map(|id| (0..per_sender).map(move |s| (id, s)))
        .collect();
    assert_eq!(all.len(), want.len());
    assert_eq!(all, want);
    t.check_invariants(port);
    assert_eq!(t.waiting(port), Ok(0));
    assert_eq!(t.pending(port), Ok(0));
    let st = t.stats();
    assert_eq!(st.sends, st.recvs);
}

#[test]
fn stress_one_receiver_is_strictly_fifo_per_sender() {
    stress(4, 5_000, 1, false);
}

#[test]
fn stress_many_receivers_every_message_once() {
    stress(4, 5_000, 3, false);
}

#[test]
fn stress_cancelling_receivers_lose_nothing() {
    stress(3, 5_000, 4, true);
}

#[test]
fn send_vec_takes_an_owned_buffer_with_the_same_checks() {
    let t = PortTable::new();
    assert_eq!(t.send_vec(NUM_PORTS, vec![1]), Err(IpcError::BadPort));
    assert_eq!(t.send_vec(3, vec![0; MAX_MSG + 1]), Err(IpcError::TooBig));
    let msg = vec![7u8; 100];
    let ptr = msg.as_ptr();
    t.send_vec(3, msg).unwrap();
    let got = t.try_recv(3).unwrap().unwrap();
    assert_eq!(got, vec![7u8; 100]);
    assert_eq!(got.as_ptr(), ptr, "the buffer was copied, not moved");
    for i in 0..PORT_QUEUE {
        t.send_vec(4, vec![i as u8]).unwrap();
    }
    assert_eq!(t.send_vec(4, vec![0]), Err(IpcError::QueueFull));
}

/// The hand-off's fields (the lock, `handed`, the first waiter's slot with its inline
/// message) lie within the first 128 bytes of a port: a message between two CPUs moves
/// that pair of cache lines and nothing else of the port.
#[test]
fn hand_off_fields_fit_the_ports_first_128_bytes() {
    use core::mem::{align_of, offset_of, size_of};
    assert_eq!(align_of::<Port>(), 128);
    // The lock word comes before the state (spin's Mutex keeps its data last).
    let port = Port::new();
    let data_at = &*port.state.lock() as *const PortState as usize - &port as *const Port as usize;
    let lock_and_pad = size_of::<Mutex<PortState>>() - size_of::<PortState>();
    assert_eq!(data_at, lock_and_pad, "the lock is not in front of the state");
    let end_of_first = offset_of!(PortState, waiters) + offset_of!(Waiters, first) + size_of::<Option<Waiter>>();
    assert!(lock_and_pad + end_of_first <= 128, "{lock_and_pad} + {end_of_first} > 128");
}
