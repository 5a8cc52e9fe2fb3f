//! An IPC message: its bytes, stored inline when short (no allocation on the send and
//! none to free on the receive) and on the heap otherwise.
//!
//! Short messages are the common case on the wake path (a ping-pong sends 8 bytes);
//! `make experiment A="@<rev before>" B="" ONLY=ipc_pingpong_kernel` measures the gain.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

/// Messages up to this many bytes are stored inline.
pub const INLINE: usize = 48;

/// A received (or queued) message: exactly the bytes that were sent.
#[derive(Clone)]
pub struct Message(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Vec<u8>),
}

impl Message {
    /// A copy of `data`; `None` only if a long message's memory cannot be allocated.
    pub fn copy_of(data: &[u8]) -> Option<Message> {
        if data.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..data.len()].copy_from_slice(data);
            return Some(Message(Repr::Inline { len: data.len() as u8, bytes }));
        }
        let mut v = Vec::new();
        v.try_reserve_exact(data.len()).ok()?;
        v.extend_from_slice(data);
        Some(Message(Repr::Heap(v)))
    }

    /// The message whose bytes are `v` (no copy when it is long).
    pub fn from_vec(v: Vec<u8>) -> Message {
        if v.len() <= INLINE {
            // Short: inline, so the receiver frees nothing; `v` is dropped here.
            return Message::copy_of(&v).unwrap_or(Message(Repr::Heap(v)));
        }
        Message(Repr::Heap(v))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..*len as usize],
            Repr::Heap(v) => v,
        }
    }
}

impl Deref for Message {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Message {}

impl PartialEq<Vec<u8>> for Message {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<[u8]> for Message {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn short_messages_are_inline_and_long_ones_keep_their_buffer() {
        for n in [0, 1, 8, INLINE - 1, INLINE] {
            let data: Vec<u8> = (0..n as u8).collect();
            let m = Message::copy_of(&data).unwrap();
            assert!(matches!(m.0, Repr::Inline { .. }), "{n} bytes");
            assert_eq!(&*m, &data[..]);
            assert_eq!(Message::from_vec(data.clone()), data);
        }
        let long = vec![9u8; INLINE + 1];
        let ptr = long.as_ptr();
        let m = Message::from_vec(long);
        assert_eq!(m.as_ptr(), ptr, "a long message keeps the sender's buffer");
        assert_eq!(m.len(), INLINE + 1);
        assert_eq!(Message::copy_of(&[1, 2, 3]).unwrap(), Message::from_vec(vec![1, 2, 3]));
    }
}
