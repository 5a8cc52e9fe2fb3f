//! Tests of the console layer.

use super::fb::{TextConsole, CELL_H, CELL_W};
use crate::check;
use crate::ktest::{KTest, TestResult};
use alloc::vec;

/// Suites of this module.
pub const TESTS: &[KTest] = crate::ktests![fb_renders_and_scrolls, fb_line_editing];

fn fb_renders_and_scrolls() -> TestResult {
    let (w, h) = (CELL_W * 4, CELL_H * 2);
    let mut px = vec![0u32; w * h];
    let mut c = TextConsole::new(&mut px, w, h, w);
    c.put(b'H');
    let lit = (0..CELL_W).flat_map(|x| (0..CELL_H).map(move |y| (x, y))).filter(|&(x, y)| c.lit(x, y)).count();
    check!(lit > 10, "glyph 'H' lit only {lit} pixels");
    for _ in 0..3 {
        c.put(b'\n');
    }
    c.put(0xff); // non-ASCII becomes '?', must not panic
    let top_lit = (0..CELL_W).flat_map(|x| (0..CELL_H).map(move |y| (x, y))).filter(|&(x, y)| c.lit(x, y)).count();
    check!(top_lit == 0, "scrolling left {top_lit} pixels of the old first row");
    Ok(())
}

/// What the shell's line editor sends: backspace, `ESC [ K` and cursor moves act on
/// the grid, and no escape byte shows as a glyph.
fn fb_line_editing() -> TestResult {
    let (w, h) = (CELL_W * 8, CELL_H * 2);
    let mut px = vec![0u32; w * h];
    let mut c = TextConsole::new(&mut px, w, h, w);
    let cell_lit = |c: &TextConsole, col: usize| (0..CELL_W).any(|x| (0..CELL_H).any(|y| c.lit(col * CELL_W + x, y)));
    for &b in b"ab\x08 \x08" {
        c.put(b);
    }
    check!(cell_lit(&c, 0) && !cell_lit(&c, 1), "backspace did not erase the second cell");
    for &b in b"\x1b[12;3mxyz\x1b[2D\x1b[K" {
        c.put(b);
    }
    // "a" then "xyz" from cell 1; two left and erase to the end leaves "ax".
    check!(cell_lit(&c, 1) && !cell_lit(&c, 2) && !cell_lit(&c, 3), "ESC [ 2 D, ESC [ K");
    check!(!cell_lit(&c, 4) && !cell_lit(&c, 5), "an escape sequence was drawn");
    Ok(())
}
