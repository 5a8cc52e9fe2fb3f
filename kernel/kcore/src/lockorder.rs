//! A pure model of the kernel's debug lock-order checker.
//!
//! Every lock belongs to a class with a rank in `0..=MAX_RANK`. Each CPU
//! keeps a bitmask of the ranks it currently holds; a lock may only be taken
//! when its rank is strictly greater than every rank held, which rules out
//! deadlock between ranked locks (no cycle can form in a strict order). The
//! kernel keeps the mask in its per-CPU data and calls [`acquire`] /
//! [`release`] around each ranked lock in debug builds.

use core::fmt;

/// Highest rank a lock class may have (the mask is a `u64`).
pub const MAX_RANK: u8 = 63;

/// A class of locks: every lock of the class shares its rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockClass {
    /// Name, for violation reports.
    pub name: &'static str,
    /// Rank: locks are acquired in strictly increasing rank.
    pub rank: u8,
}

impl LockClass {
    /// A class with a name and rank.
    pub const fn new(name: &'static str, rank: u8) -> LockClass {
        LockClass { name, rank }
    }
}

/// Checks a fixed list of classes: ranks in range and pairwise distinct.
/// `const`, so a kernel can check its table at compile time:
/// `const _: () = assert!(lockorder::classes_valid(&CLASSES));`.
pub const fn classes_valid(classes: &[LockClass]) -> bool {
    let mut seen: u64 = 0;
    let mut i = 0;
    while i < classes.len() {
        let r = classes[i].rank;
        if r > MAX_RANK || seen & (1u64 << r) != 0 {
            return false;
        }
        seen |= 1u64 << r;
        i += 1;
    }
    true
}

/// The class with `rank` in `classes`, for reports.
pub fn class_of(classes: &[LockClass], rank: u8) -> Option<&LockClass> {
    classes.iter().find(|c| c.rank == rank)
}

/// An attempt to take a lock out of order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockOrderViolation {
    /// The highest rank held when the acquisition was attempted (for a
    /// rank above [`MAX_RANK`], which can never be taken: `MAX_RANK`).
    pub held_max: u8,
    /// The rank being acquired.
    pub acquiring: u8,
}

impl fmt::Display for LockOrderViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.acquiring > MAX_RANK {
            write!(
                f,
                "lock rank {} is out of range (max {})",
                self.acquiring, MAX_RANK
            )
        } else {
            write!(
                f,
                "lock order violation: acquiring rank {} while holding rank {}",
                self.acquiring, self.held_max
            )
        }
    }
}

/// The highest rank in `held`, if any.
pub const fn held_max(held: u64) -> Option<u8> {
    if held == 0 {
        None
    } else {
        Some(63 - held.leading_zeros() as u8)
    }
}

/// Records taking a lock of `rank` with `held` already held; returns the
/// new mask, or the violation if `rank` is not above every held rank
/// (including re-taking a rank already held).
pub const fn acquire(held: u64, rank: u8) -> Result<u64, LockOrderViolation> {
    if rank > MAX_RANK {
        return Err(LockOrderViolation {
            held_max: MAX_RANK,
            acquiring: rank,
        });
    }
    if let Some(max) = held_max(held) {
        if max >= rank {
            return Err(LockOrderViolation {
                held_max: max,
                acquiring: rank,
            });
        }
    }
    Ok(held | (1u64 << rank))
}

/// Records releasing a lock of `rank` (in any order); a rank not held or
/// out of range leaves the mask unchanged.
pub const fn release(held: u64, rank: u8) -> u64 {
    if rank > MAX_RANK {
        held
    } else {
        held & !(1u64 << rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    const CLASSES: [LockClass; 3] = [
        LockClass::new("frames", 10),
        LockClass::new("page_table", 5),
        LockClass::new("console", 60),
    ];
    const _: () = assert!(classes_valid(&CLASSES));

    #[test]
    fn increasing_order_is_fine() {
        let h = acquire(0, 5).unwrap();
        let h = acquire(h, 10).unwrap();
        let h = acquire(h, 60).unwrap();
        assert_eq!(held_max(h), Some(60));
        let h = release(h, 10);
        assert_eq!(h, (1 << 5) | (1 << 60));
        // Releasing out of order does not allow going back below the max.
        assert_eq!(
            acquire(h, 10),
            Err(LockOrderViolation {
                held_max: 60,
                acquiring: 10
            })
        );
        let h = release(release(h, 60), 5);
        assert_eq!(h, 0);
        assert_eq!(acquire(0, 0), Ok(1));
        assert_eq!(acquire(0, 63), Ok(1 << 63));
    }

    #[test]
    fn violations() {
        let h = acquire(0, 10).unwrap();
        let v = acquire(h, 5).unwrap_err();
        assert_eq!(
            v,
            LockOrderViolation {
                held_max: 10,
                acquiring: 5
            }
        );
        assert_eq!(
            v.to_string(),
            "lock order violation: acquiring rank 5 while holding rank 10"
        );
        assert_eq!(
            acquire(h, 10),
            Err(LockOrderViolation {
                held_max: 10,
                acquiring: 10
            })
        );
        let v = acquire(0, 64).unwrap_err();
        assert!(v.to_string().contains("out of range"));
        assert_eq!(release(h, 200), h);
        assert_eq!(release(h, 3), h);
        assert_eq!(class_of(&CLASSES, 60).map(|c| c.name), Some("console"));
        assert!(class_of(&CLASSES, 61).is_none());
    }

    #[test]
    fn class_tables() {
        assert!(classes_valid(&[]));
        assert!(!classes_valid(&[
            LockClass::new("a", 1),
            LockClass::new("b", 1)
        ]));
        assert!(!classes_valid(&[LockClass::new("a", 64)]));
    }

    #[test]
    fn random_sequences_match_model() {
        let mut rng = Rng::new(11);
        for _ in 0..2_000 {
            let mut held = 0u64;
            let mut stack: Vec<u8> = Vec::new();
            for _ in 0..50 {
                let rank = rng.below(70) as u8;
                if rng.below(3) == 0 {
                    held = release(held, rank);
                    stack.retain(|&r| r != rank);
                } else {
                    let ok = rank <= MAX_RANK && stack.iter().all(|&r| r < rank);
                    match acquire(held, rank) {
                        Ok(h) => {
                            assert!(ok);
                            held = h;
                            stack.push(rank);
                        }
                        Err(_) => assert!(!ok),
                    }
                }
                let model = stack.iter().fold(0u64, |m, &r| m | (1 << r));
                assert_eq!(held, model);
            }
        }
    }
}
