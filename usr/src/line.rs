//! A line editor for the serial console: echo, backspace, Ctrl-U (erase to the
//! start), Ctrl-A/Ctrl-E (start/end), left/right arrows, and a history of recent
//! lines on up/down. The terminal is raw (the kernel does no echo or editing; it
//! turns `\r` into `\n`), so everything the user sees is written here, with plain
//! VT100 sequences (`ESC [ K`, `ESC [ n D`).

use crate::sys::{read, write_all};
use abi::{Errno, STDIN, STDOUT};

/// Longest line, in bytes; a longer one is refused as a whole ([`Line::TooLong`]).
pub const LINE_MAX: usize = 255;
/// Lines kept in the history.
pub const HISTORY: usize = 16;

/// What [`Editor::read_line`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A line of this many bytes (in the caller's buffer, without the newline).
    Done(usize),
    /// The line had more than [`LINE_MAX`] bytes; it was read to its end and
    /// dropped. The total typed is given.
    TooLong(usize),
    /// Ctrl-C: the line was abandoned.
    Interrupted,
}

/// Escape-sequence state of the input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    /// After ESC.
    Start,
    /// After `ESC [` or `ESC O`: parameters until a final byte.
    Csi,
}

/// Line editor state: typed-ahead input and the history.
pub struct Editor {
    input: [u8; 128],
    in_pos: usize,
    in_len: usize,
    history: [[u8; LINE_MAX]; HISTORY],
    hist_len: [usize; HISTORY],
    /// Lines ever added (the newest is at `(added - 1) % HISTORY`).
    added: usize,
}

impl Default for Editor {
    fn default() -> Self {
        Self::new()
    }
}

/// A small output buffer, so one key costs one `write`.
struct Out {
    buf: [u8; 2 * LINE_MAX + 64],
    len: usize,
}

impl Out {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    fn num(&mut self, mut n: usize) {
        let mut d = [0u8; 20];
        let mut i = d.len();
        loop {
            i -= 1;
            d[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&d[i..]);
    }

    fn flush(&mut self) {
        let _ = write_all(STDOUT, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl Editor {
    /// An editor with no history.
    pub const fn new() -> Editor {
        Editor {
            input: [0; 128],
            in_pos: 0,
            in_len: 0,
            history: [[0; LINE_MAX]; HISTORY],
            hist_len: [0; HISTORY],
            added: 0,
        }
    }

    fn next_byte(&mut self) -> Result<u8, Errno> {
        if self.in_pos == self.in_len {
            self.in_len = read(STDIN, &mut self.input)?;
            self.in_pos = 0;
            if self.in_len == 0 {
                return Err(Errno::AGAIN);
            }
        }
        let b = self.input[self.in_pos];
        self.in_pos += 1;
        Ok(b)
    }

    /// History entry `back` lines before the newest (0 = newest), if kept.
    fn recalled(&self, back: usize) -> Option<&[u8]> {
        if back >= self.added.min(HISTORY) {
            return None;
        }
        let i = (self.added - 1 - back) % HISTORY;
        Some(&self.history[i][..self.hist_len[i]])
    }

    fn remember(&mut self, line: &[u8]) {
        if line.iter().all(|b| b.is_ascii_whitespace()) || self.recalled(0) == Some(line) {
            return;
        }
        let i = self.added % HISTORY;
        self.history[i][..line.len()].copy_from_slice(line);
        self.hist_len[i] = line.len();
        self.added += 1;
    }

    /// Shows `prompt` and reads one line into `buf`, editing as keys arrive.
    pub fn read_line(&mut self, prompt: &str, buf: &mut [u8; LINE_MAX]) -> Result<Line, Errno> {
        let mut out = Out { buf: [0; 2 * LINE_MAX + 64], len: 0 };
        out.put(prompt.as_bytes());
        out.flush();
        let (mut len, mut cur) = (0usize, 0usize);
        let mut overflow = 0usize; // bytes typed beyond LINE_MAX
        let mut esc = Esc::None;
        let mut browsing: Option<usize> = None; // history position while using up/down
        loop {
            let b = self.next_byte()?;
            let mut redraw = false;
            match (esc, b) {
                (Esc::Start, b'[' | b'O') => esc = Esc::Csi,
                (Esc::Start, _) => esc = Esc::None,
                (Esc::Csi, 0x40..=0x7e) => {
                    esc = Esc::None;
                    match b {
                        b'D' if cur > 0 => {
                            cur -= 1;
                            out.put(b"\x1b[D");
                        }
                        b'C' if cur < len => {
                            cur += 1;
                            out.put(b"\x1b[C");
                        }
                        b'A' | b'B' if overflow == 0 => {
                            let want = match (b, browsing) {
                                (b'A', None) => Some(0),
                                (b'A', Some(i)) => Some(i + 1),
                                (_, Some(0)) | (_, None) => None,
                                (_, Some(i)) => Some(i - 1),
                            };
                            match want.and_then(|i| self.recalled(i).map(|l| (i, l))) {
                                Some((i, l)) => {
                                    buf[..l.len()].copy_from_slice(l);
                                    len = l.len();
                                    browsing = Some(i);
                                }
                                None if b == b'B' => {
                                    len = 0;
                                    browsing = None;
                                }
                                None => {}
                            }
                            cur = len;
                            redraw = true;
                        }
                        _ => {}
                    }
                }
                (Esc::Csi, _) => {}
                (Esc::None, 0x1b) => esc = Esc::Start,
                (Esc::None, b'\n') => {
                    out.put(b"\n");
                    out.flush();
                    if overflow > 0 {
                        return Ok(Line::TooLong(LINE_MAX + overflow));
                    }
                    self.remember(&buf[..len]);
                    return Ok(Line::Done(len));
                }
                (Esc::None, 0x03) => {
                    out.put(b"^C\n");
                    out.flush();
                    return Ok(Line::Interrupted);
                }
                (Esc::None, _) if overflow > 0 => overflow += 1,
                (Esc::None, 0x7f | 0x08) if cur > 0 => {
                    buf.copy_within(cur..len, cur - 1);
                    cur -= 1;
                    len -= 1;
                    if cur == len {
                        out.put(b"\x08 \x08");
                    } else {
                        redraw = true;
                    }
                }
                (Esc::None, 0x15) => {
                    buf.copy_within(cur..len, 0);
                    len -= cur;
                    cur = 0;
                    redraw = true;
                }
                (Esc::None, 0x01) => {
                    cur = 0;
                    redraw = true;
                }
                (Esc::None, 0x05) => {
                    cur = len;
                    redraw = true;
                }
                (Esc::None, 0x20..=0x7e) if len == LINE_MAX => overflow = 1,
                (Esc::None, 0x20..=0x7e) => {
                    buf.copy_within(cur..len, cur + 1);
                    buf[cur] = b;
                    len += 1;
                    cur += 1;
                    if cur == len {
                        out.put(&[b]);
                    } else {
                        redraw = true;
                    }
                }
                _ => {}
            }
            if redraw {
                out.put(b"\r");
                out.put(prompt.as_bytes());
                out.put(&buf[..len]);
                out.put(b"\x1b[K");
                if cur < len {
                    out.put(b"\x1b[");
                    out.num(len - cur);
                    out.put(b"D");
                }
            }
            // Flush once the typed-ahead input is used up (one write per burst).
            if self.in_pos == self.in_len {
                out.flush();
            }
        }
    }
}
