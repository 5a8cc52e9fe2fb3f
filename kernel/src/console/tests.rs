//! Tests of the console layer.

use super::fb::{TextConsole, CELL_H, CELL_W};
use crate::check;
use crate::ktest::{KTest, TestResult};
use alloc::vec;

/// Suites of this module.
pub const TESTS: &[KTest] = crate::ktests![fb_renders_and_scrolls];

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
