//! Finds the ACPI S5 ("soft off") sleep types in a DSDT's AML without an AML
//! interpreter: the object `Name(_S5, Package(n) {SLP_TYPa, SLP_TYPb, ...})` is
//! a fixed byte pattern, `08 [5C] "_S5_" 12 PkgLength NumElements elements`, where
//! each element is Zero (0x00), One (0x01), Ones (0xFF) or `0A byte` (BytePrefix).
//! Writing `SLP_TYPa << 10 | SLP_EN` to PM1a_CNT (and b to PM1b) then powers off.
//! A `_S5` that is computed (a method) is not found: the caller falls back.

/// The `_S5` sleep types, for PM1a_CNT and PM1b_CNT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SleepTypes {
    /// SLP_TYP for PM1a_CNT (3 bits).
    pub a: u16,
    /// SLP_TYP for PM1b_CNT (3 bits).
    pub b: u16,
}

/// The SLP_EN bit of PM1x_CNT.
pub const SLP_EN: u16 = 1 << 13;

/// The PM1x_CNT value that enters S5 with sleep type `typ`.
pub const fn pm1_cnt_value(typ: u16) -> u16 {
    ((typ & 7) << 10) | SLP_EN
}

/// One package element: `(value, bytes used)`.
fn element(aml: &[u8]) -> Option<(u16, usize)> {
    match *aml.first()? {
        0x00 => Some((0, 1)),
        0x01 => Some((1, 1)),
        0xff => Some((7, 1)),
        0x0a => Some((*aml.get(1)? as u16, 2)),
        _ => None,
    }
}

/// The sleep types of the first well-formed `Name(_S5, Package{...})` in `aml`.
pub fn find(aml: &[u8]) -> Option<SleepTypes> {
    let mut i = 0;
    while let Some(off) = aml.get(i..)?.windows(4).position(|w| w == b"_S5_") {
        let at = i + off;
        i = at + 1;
        let name_op = match at.checked_sub(1).and_then(|p| aml.get(p)) {
            Some(0x08) => true,
            Some(0x5c) => at.checked_sub(2).and_then(|p| aml.get(p)) == Some(&0x08),
            _ => false,
        };
        if !name_op || aml.get(at + 4) != Some(&0x12) {
            continue;
        }
        let pkg = at + 5;
        let Some(&lead) = aml.get(pkg) else { continue };
        let elements = pkg + 1 + (lead >> 6) as usize + 1; // PkgLength, then NumElements
        let Some((a, used)) = aml.get(elements..).and_then(element) else { continue };
        let Some((b, _)) = aml.get(elements + used..).and_then(element) else { continue };
        return Some(SleepTypes { a, b });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_style_zero_package() {
        // Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero })
        let aml = [0x10, 0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00];
        assert_eq!(find(&aml), Some(SleepTypes { a: 0, b: 0 }));
    }

    #[test]
    fn byte_prefix_and_root_prefix() {
        // Name (\_S5, Package (0x02) { 0x05, 0x05 }) after a decoy "_S5_" in a string
        let aml = [
            b'_', b'S', b'5', b'_', 0x00, 0x08, 0x5c, b'_', b'S', b'5', b'_', 0x12, 0x08, 0x02, 0x0a, 0x05, 0x0a,
            0x05,
        ];
        assert_eq!(find(&aml), Some(SleepTypes { a: 5, b: 5 }));
        assert_eq!(pm1_cnt_value(5), (5 << 10) | (1 << 13));
    }

    #[test]
    fn malformed_is_none_never_a_panic() {
        assert_eq!(find(&[]), None);
        assert_eq!(find(b"_S5_"), None);
        assert_eq!(find(&[0x08, b'_', b'S', b'5', b'_', 0x12]), None);
        assert_eq!(find(&[0x08, b'_', b'S', b'5', b'_', 0x12, 0xc0, 0, 0]), None);
        // A method (_S5 computed) is not a package.
        assert_eq!(find(&[0x14, b'_', b'S', b'5', b'_', 0x00]), None);
        // Every prefix of a good encoding is handled.
        let good = [0x08, b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0x0a, 0x07, 0x01];
        for n in 0..good.len() {
            let _ = find(&good[..n]);
        }
        assert_eq!(find(&good), Some(SleepTypes { a: 7, b: 1 }));
    }
}
