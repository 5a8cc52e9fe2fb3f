//! Pure range checks for user pointers, done before the kernel looks at the
//! page tables.
//!
//! A user buffer `(addr, len)` is acceptable here when it lies entirely in
//! `[USER_BASE, USER_TOP)` without arithmetic overflow. The kernel must still
//! check, page by page ([`pages_of`]), that each page is mapped, user
//! accessible and writable where it writes: this module knows nothing about
//! mappings.

use abi::{Errno, PAGE_SIZE, USER_BASE, USER_TOP};
use core::iter::FusedIterator;
use core::ops::Range;

/// Checks that `len` bytes at `addr` lie in user space.
///
/// Returns the byte range `addr..addr + len`, or [`Errno::FAULT`] when the
/// range starts below [`USER_BASE`] (the null page), overflows, or ends
/// above [`USER_TOP`]. A zero-length range is always accepted (as
/// `addr..addr`, whatever `addr` is): it touches no memory, so `write(fd,
/// NULL, 0)` succeeds as on Linux.
pub fn check_user_range(addr: u64, len: u64) -> Result<Range<u64>, Errno> {
    if len == 0 {
        return Ok(addr..addr);
    }
    let end = addr.checked_add(len).ok_or(Errno::FAULT)?;
    if addr < USER_BASE || end > USER_TOP {
        return Err(Errno::FAULT);
    }
    Ok(addr..end)
}

/// Checks an array of `count` elements of `elem_size` bytes at `addr`
/// (e.g. `exec`'s argv of `UserStr`s), rejecting a size that overflows.
pub fn check_user_array(addr: u64, count: u64, elem_size: u64) -> Result<Range<u64>, Errno> {
    let len = count.checked_mul(elem_size).ok_or(Errno::FAULT)?;
    check_user_range(addr, len)
}

/// Whether `addr` is the start of a page.
pub const fn is_page_aligned(addr: u64) -> bool {
    addr.is_multiple_of(PAGE_SIZE)
}

/// The start of the page containing `addr`.
pub const fn page_floor(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

/// The start of the first page at or above `addr`, or `None` on overflow.
pub const fn page_ceil(addr: u64) -> Option<u64> {
    match addr.checked_add(PAGE_SIZE - 1) {
        Some(a) => Some(page_floor(a)),
        None => None,
    }
}

/// The addresses of the 4 KiB pages that `range` touches, in increasing
/// order. An empty range touches no page. Works for any range without
/// overflow (the last page of the address space ends the iteration).
pub fn pages_of(range: Range<u64>) -> Pages {
    if range.start >= range.end {
        Pages { next: None, end: 0 }
    } else {
        Pages {
            next: Some(page_floor(range.start)),
            end: range.end,
        }
    }
}

/// Iterator returned by [`pages_of`].
#[derive(Clone, Debug)]
pub struct Pages {
    next: Option<u64>,
    end: u64,
}

impl Iterator for Pages {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let page = self.next?;
        self.next = page.checked_add(PAGE_SIZE).filter(|&n| n < self.end);
        Some(page)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.next {
            None => (0, Some(0)),
            Some(p) => {
                let n = (self.end - p).div_ceil(PAGE_SIZE);
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                (n, Some(n))
            }
        }
    }
}

impl FusedIterator for Pages {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    #[test]
    fn accepts_user_ranges() {
        assert_eq!(check_user_range(USER_BASE, 1), Ok(USER_BASE..USER_BASE + 1));
        assert_eq!(check_user_range(0x40_0000, 4096), Ok(0x40_0000..0x40_1000));
        assert_eq!(
            check_user_range(USER_TOP - 1, 1),
            Ok(USER_TOP - 1..USER_TOP)
        );
        assert_eq!(
            check_user_range(USER_BASE, USER_TOP - USER_BASE),
            Ok(USER_BASE..USER_TOP)
        );
        assert_eq!(check_user_range(0, 0), Ok(0..0));
        assert_eq!(check_user_range(u64::MAX, 0), Ok(u64::MAX..u64::MAX));
    }

    #[test]
    fn rejects_bad_ranges() {
        let bad = [
            (0, 1),
            (USER_BASE - 1, 1),
            (0xffff_8000_0000_0000, 8),
            (USER_TOP, 1),
            (USER_TOP - 1, 2),
            (0x40_0000, u64::MAX),
            (u64::MAX, 1),
            (USER_BASE, USER_TOP),
        ];
        for (a, l) in bad {
            assert_eq!(check_user_range(a, l), Err(Errno::FAULT), "{a:#x}+{l:#x}");
        }
        assert_eq!(check_user_array(0x40_0000, u64::MAX, 16), Err(Errno::FAULT));
        assert_eq!(check_user_array(0x40_0000, 2, 16), Ok(0x40_0000..0x40_0020));
    }

    #[test]
    fn pages() {
        let v: Vec<u64> = pages_of(0x1fff..0x2001).collect();
        assert_eq!(v, vec![0x1000, 0x2000]);
        assert_eq!(pages_of(0x1000..0x2000).collect::<Vec<_>>(), vec![0x1000]);
        assert_eq!(pages_of(0x1000..0x1000).count(), 0);
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 5..1;
        assert_eq!(pages_of(reversed).count(), 0);
        let top: Vec<u64> = pages_of(u64::MAX - 10..u64::MAX).collect();
        assert_eq!(top, vec![page_floor(u64::MAX)]);
        assert_eq!(pages_of(0x1000..0x5000).size_hint(), (4, Some(4)));
        assert_eq!(page_ceil(u64::MAX), None);
        assert_eq!(page_ceil(1), Some(0x1000));
        assert!(is_page_aligned(0x2000) && !is_page_aligned(0x2001));
    }

    #[test]
    fn random_ranges_agree_with_model() {
        let mut rng = Rng::new(3);
        for _ in 0..100_000 {
            let addr = match rng.below(4) {
                0 => rng.next(),
                1 => rng.below(0x1_0000),
                2 => USER_TOP - rng.below(0x1_0000),
                _ => rng.below(USER_TOP),
            };
            let len = match rng.below(3) {
                0 => rng.next(),
                1 => rng.below(0x3000),
                _ => u64::MAX - rng.below(10),
            };
            let model =
                len == 0 || ((addr as u128 + len as u128) <= USER_TOP as u128 && addr >= USER_BASE);
            let got = check_user_range(addr, len);
            assert_eq!(got.is_ok(), model, "{addr:#x}+{len:#x}");
            if let Ok(r) = got {
                if len > 0 && len < 0x10_0000 {
                    let pages: Vec<u64> = pages_of(r.clone()).collect();
                    assert_eq!(pages.len() as u64, pages_of(r.clone()).size_hint().0 as u64);
                    assert_eq!(pages[0], page_floor(addr));
                    assert!(*pages.last().unwrap() < r.end);
                    assert!(pages.windows(2).all(|w| w[1] == w[0] + PAGE_SIZE));
                }
            }
        }
    }
}
