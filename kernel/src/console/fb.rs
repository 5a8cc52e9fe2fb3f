//! Framebuffer text console: 8x8 glyphs (font8x8) scaled 1x2 to 8x16 cells, 32 bpp.
//!
//! Rendering works on any `&mut [u32]` pixel buffer, so the in-kernel test drives it
//! with a buffer on the heap when the boot path has no framebuffer (PVH).

use crate::sync::IrqMutex;
use core::fmt;
use font8x8::legacy::BASIC_LEGACY;

/// Cell size in pixels.
pub const CELL_W: usize = 8;
/// Cell height (8x8 glyphs doubled vertically).
pub const CELL_H: usize = 16;

/// A text grid over a 32-bpp pixel buffer.
pub struct TextConsole<'a> {
    pixels: &'a mut [u32],
    width: usize,
    height: usize,
    stride: usize,
    col: usize,
    row: usize,
    fg: u32,
    /// Where an escape sequence from the shell's line editor stands.
    esc: Esc,
}

/// VT100 escape-sequence state: the framebuffer console understands the few
/// sequences the shell's line editor and `top` send (`ESC [ n C/D/K/H/J`) and
/// swallows the others, so they never show as `?`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    /// After ESC.
    Start,
    /// After `ESC [`, with the number read so far.
    Csi(usize),
}

impl<'a> TextConsole<'a> {
    /// A console over `pixels` (`stride` pixels per line).
    pub fn new(pixels: &'a mut [u32], width: usize, height: usize, stride: usize) -> Self {
        TextConsole { pixels, width, height, stride, col: 0, row: 0, fg: 0x00c0_c0c0, esc: Esc::None }
    }

    fn cols(&self) -> usize {
        self.width / CELL_W
    }

    fn rows(&self) -> usize {
        self.height / CELL_H
    }

    fn glyph(&mut self, c: u8) {
        let g = BASIC_LEGACY.get(c as usize).copied().unwrap_or([0; 8]);
        let (x0, y0) = (self.col * CELL_W, self.row * CELL_H);
        for (gy, bits) in g.iter().enumerate() {
            for dy in 0..2 {
                let y = y0 + gy * 2 + dy;
                for gx in 0..8 {
                    let on = bits & (1 << gx) != 0;
                    if let Some(p) = self.pixels.get_mut(y * self.stride + x0 + gx) {
                        *p = if on { self.fg } else { 0 };
                    }
                }
            }
        }
    }

    fn newline(&mut self) {
        self.col = 0;
        self.row += 1;
        if self.row >= self.rows() {
            let line = self.stride * CELL_H;
            let used = self.stride * CELL_H * self.rows();
            self.pixels.copy_within(line..used.min(self.pixels.len()), 0);
            let start = used.saturating_sub(line).min(self.pixels.len());
            let end = used.min(self.pixels.len());
            self.pixels[start..end].fill(0);
            self.row = self.rows() - 1;
        }
    }

    /// Blanks cells `from..to` of the current row.
    fn blank(&mut self, from: usize, to: usize) {
        let keep = self.col;
        for col in from..to.min(self.cols()) {
            self.col = col;
            self.glyph(b' ');
        }
        self.col = keep;
    }

    /// Acts on the final byte of `ESC [ n <final>`.
    fn csi(&mut self, n: usize, fin: u8) {
        match fin {
            b'D' => self.col = self.col.saturating_sub(n.max(1)),
            b'C' => self.col = (self.col + n.max(1)).min(self.cols() - 1),
            b'K' => self.blank(self.col, self.cols()),
            b'H' => (self.row, self.col) = (0, 0),
            b'J' if n == 2 => {
                self.pixels.fill(0);
                (self.row, self.col) = (0, 0);
            }
            _ => {}
        }
    }

    /// Writes one byte (printable ASCII, `\n`, `\r`, backspace, the escape
    /// sequences of [`Esc`]; others as `?`).
    pub fn put(&mut self, c: u8) {
        if self.rows() == 0 || self.cols() == 0 {
            return;
        }
        match (self.esc, c) {
            (Esc::Start, b'[') => {
                self.esc = Esc::Csi(0);
                return;
            }
            (Esc::Start, _) => {
                self.esc = Esc::None;
                return;
            }
            (Esc::Csi(n), b'0'..=b'9') => {
                self.esc = Esc::Csi(n.saturating_mul(10).saturating_add((c - b'0') as usize));
                return;
            }
            (Esc::Csi(n), 0x40..=0x7e) => {
                self.esc = Esc::None;
                self.csi(n, c);
                return;
            }
            (Esc::Csi(_), _) => return,
            (Esc::None, _) => {}
        }
        match c {
            0x1b => self.esc = Esc::Start,
            0x08 => self.col = self.col.saturating_sub(1),
            b'\n' => self.newline(),
            b'\r' => self.col = 0,
            0x20..=0x7e => {
                self.glyph(c);
                self.col += 1;
                if self.col >= self.cols() {
                    self.newline();
                }
            }
            _ => self.put(b'?'),
        }
    }

    /// Whether the pixel at (x, y) is lit (for tests).
    pub fn lit(&self, x: usize, y: usize) -> bool {
        self.pixels.get(y * self.stride + x).is_some_and(|&p| p != 0)
    }
}

impl fmt::Write for TextConsole<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.put(b));
        Ok(())
    }
}

static CONSOLE: IrqMutex<Option<TextConsole<'static>>> = IrqMutex::ranked(None, crate::sync::order::FRAMEBUFFER);

/// Attaches the boot framebuffer (32 bpp only; others are reported and skipped).
pub fn attach(info: &hal::boot::FramebufferInfo) -> Result<(), &'static str> {
    if info.bpp != 32 {
        return Err("framebuffer is not 32 bpp; framebuffer console disabled");
    }
    let stride = info.pitch as usize / 4;
    let len = stride * info.height as usize;
    let pixels = crate::mm::fb_pixels(info.phys, len)?;
    pixels.fill(0);
    *CONSOLE.lock() = Some(TextConsole::new(pixels, info.width as usize, info.height as usize, stride));
    Ok(())
}

/// Prints to the framebuffer console if one is attached.
pub fn print(args: fmt::Arguments) {
    if let Some(mut g) = CONSOLE.try_lock() {
        if let Some(c) = g.as_mut() {
            let _ = fmt::Write::write_fmt(c, args);
        }
    }
}
