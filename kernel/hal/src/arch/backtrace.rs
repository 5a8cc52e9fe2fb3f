//! Frame-pointer backtraces (the kernel is built with frame pointers forced on).

/// Calls `f(depth, return_address)` for each frame of the current stack, reading the
/// frame chain with fault-tolerant loads so a corrupt chain ends the walk, not the kernel.
pub fn walk(f: impl FnMut(usize, u64)) {
    let rbp: u64;
    // SAFETY: reads the frame-pointer register only.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) };
    walk_from(rbp, f)
}

/// The same walk from frame pointer `rbp` (e.g. an interrupted context's, from its
/// trap frame).
pub fn walk_from(mut rbp: u64, mut f: impl FnMut(usize, u64)) {
    for depth in 0..32 {
        if rbp == 0 || !rbp.is_multiple_of(8) || rbp < 0xffff_8000_0000_0000 {
            break;
        }
        let (Ok(next), Ok(ret)) = (super::trap::probe_read(rbp), super::trap::probe_read(rbp + 8)) else {
            break;
        };
        if ret == 0 {
            break;
        }
        f(depth, ret);
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}
