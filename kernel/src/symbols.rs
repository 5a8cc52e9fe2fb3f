//! Kernel symbols for backtraces, from `kernel.sym` in the initrd (written by
//! `mkinitrd --ksyms` from the kernel ELF: one `ADDR SIZE NAME` line per function,
//! hex, sorted, names already demangled).

use alloc::vec::Vec;

struct Sym {
    addr: u64,
    size: u64,
    name: &'static str,
}

static SYMS: spin::Once<Vec<Sym>> = spin::Once::new();

/// Loads the table from the text of `kernel.sym`; malformed lines are skipped.
pub fn load(text: &'static [u8]) -> usize {
    let text = core::str::from_utf8(text).unwrap_or("");
    let syms = SYMS.call_once(|| {
        let mut v: Vec<Sym> = text
            .lines()
            .filter_map(|l| {
                let mut it = l.splitn(3, ' ');
                let addr = u64::from_str_radix(it.next()?, 16).ok()?;
                let size = u64::from_str_radix(it.next()?, 16).ok()?;
                Some(Sym { addr, size, name: it.next()? })
            })
            .collect();
        v.sort_unstable_by_key(|s| s.addr);
        v
    });
    syms.len()
}

/// The function containing `addr` and the offset into it.
pub fn lookup(addr: u64) -> Option<(&'static str, u64)> {
    let syms = SYMS.get()?;
    let i = syms.partition_point(|s| s.addr <= addr).checked_sub(1)?;
    let s = &syms[i];
    (addr < s.addr + s.size.max(1)).then(|| (s.name, addr - s.addr))
}
