//! In-kernel tests of memory management: frames, paging, heap, W^X, fault handling.

use super::frame::{self, Frame};
use super::paging::{self, ScratchMapping};
use super::{heap, stack, PAGE};
use crate::arch::trap::{probe_read, probe_write};
use crate::check;
use crate::ktest::{KTest, TestResult};
use alloc::vec::Vec;
use x86_64::structures::paging::PageTableFlags as F;

/// Suites of this module.
pub const TESTS: &[KTest] = crate::ktests![
    frames_alloc_free_counts,
    frames_zeroed_and_distinct,
    frames_refcount_share,
    paging_map_translate_unmap,
    heap_grows_beyond_initial,
    kernel_is_wx_clean,
    kernel_sections_permissions,
    page_fault_is_caught_and_reported,
    stack_guard_page_unmapped,
];

fn frames_alloc_free_counts() -> TestResult {
    let before = frame::free_count();
    check!(before > 0 && before <= frame::total());
    let got: Vec<Frame> = (0..100).filter_map(|_| Frame::alloc()).collect();
    check!(got.len() == 100, "allocated only {} of 100 frames", got.len());
    check!(frame::free_count() == before - 100);
    drop(got);
    check!(frame::free_count() == before, "free count {} != {before} after freeing", frame::free_count());
    Ok(())
}

fn frames_zeroed_and_distinct() -> TestResult {
    let a = Frame::alloc().ok_or("no frame")?;
    a.write(0, &[0xaa; 4096]);
    drop(a);
    let frames: Vec<Frame> = (0..64).filter_map(|_| Frame::alloc_zeroed()).collect();
    let zeroed = frames.iter().all(|f| {
        let mut b = [0xffu8; 4096];
        f.read(0, &mut b);
        b.iter().all(|&x| x == 0)
    });
    let mut v: Vec<u64> = frames.iter().map(Frame::pa).collect();
    drop(frames);
    check!(zeroed, "alloc_zeroed returned a dirty frame");
    v.sort_unstable();
    v.dedup();
    check!(v.len() == 64, "allocator handed out the same frame twice");
    check!(v.iter().all(|f| f % PAGE == 0 && *f >= 1 << 20), "frame misaligned or in low memory");
    Ok(())
}

fn frames_refcount_share() -> TestResult {
    let before = frame::free_count();
    let f = Frame::alloc().ok_or("no frame")?;
    let g = f.share();
    check!(f.ref_count() == 2 && g.pa() == f.pa());
    drop(f);
    check!(frame::free_count() == before - 1, "frame freed while still shared");
    check!(g.ref_count() == 1);
    drop(g);
    check!(frame::free_count() == before, "last reference did not free the frame");
    Ok(())
}

const TEST_VA: u64 = 0xffff_d000_0000_0000;

fn paging_map_translate_unmap() -> TestResult {
    let f = Frame::alloc_zeroed().ok_or("no frame")?;
    let pa = f.pa();
    let map = ScratchMapping::new(TEST_VA, f.share(), true).map_err(|e| alloc::format!("{e:?}"))?;
    let tr = paging::translate_kernel(TEST_VA + 0x123);
    check!(tr.map(|x| x.0) == Some(pa + 0x123), "translate gave {tr:?}");
    probe_write(TEST_VA, 0x1234_5678).map_err(|f| alloc::format!("write faulted: {f:?}"))?;
    check!(f.read_u64(0) == 0x1234_5678, "write through the new mapping not visible via the frame");
    let again = ScratchMapping::new(TEST_VA, f.share(), true).map(|_| ());
    check!(again.is_err_and(|e| e == paging::MapError::AlreadyMapped), "double map gave {again:?}");
    let outside = ScratchMapping::new(0xffff_c000_0000_0000, f.share(), true).map(|_| ());
    check!(outside.is_err_and(|e| e == paging::MapError::OutsideScratch), "map outside scratch gave {outside:?}");
    let back = map.unmap()?;
    check!(back.pa() == pa);
    check!(paging::translate_kernel(TEST_VA).is_none());
    check!(probe_read(TEST_VA).is_err(), "read of an unmapped page did not fault");
    let shared = back.ref_count();
    drop((f, back));
    check!(shared == 2, "the mapping did not hold its own reference ({shared})");
    Ok(())
}

fn heap_grows_beyond_initial() -> TestResult {
    let mapped = heap::mapped_bytes();
    let big: Vec<Vec<u8>> = (0..6).map(|i| alloc::vec![i as u8; 3 << 20]).collect();
    check!(big.iter().enumerate().all(|(i, v)| v.iter().all(|&b| b == i as u8)));
    check!(heap::mapped_bytes() > mapped, "heap did not grow ({mapped} bytes mapped)");
    drop(big);
    Ok(())
}

fn kernel_is_wx_clean() -> TestResult {
    let bad = paging::wx_violations();
    check!(bad == 0, "{bad} kernel mappings are writable and executable");
    Ok(())
}

fn kernel_sections_permissions() -> TestResult {
    let [text, rodata, data] = paging::kernel_sections();
    let fl = |va| paging::translate_kernel(va).map(|x| x.1);
    let (t, r, d) = (fl(text.0).ok_or("text unmapped")?, fl(rodata.0).ok_or("rodata unmapped")?, fl(data.0).ok_or("data unmapped")?);
    check!(!t.contains(F::WRITABLE) && !t.contains(F::NO_EXECUTE), "text flags {t:?}");
    check!(!r.contains(F::WRITABLE) && r.contains(F::NO_EXECUTE), "rodata flags {r:?}");
    check!(d.contains(F::WRITABLE) && d.contains(F::NO_EXECUTE), "data flags {d:?}");
    // Writing to text must fault (CR0.WP makes it apply to the kernel too).
    let before = probe_read(text.0).map_err(|_| "text unreadable")?;
    check!(probe_write(text.0, before).is_err(), "kernel text is writable");
    Ok(())
}

fn page_fault_is_caught_and_reported() -> TestResult {
    let addr = 0xffff_d000_dead_0000;
    match probe_read(addr) {
        Ok(v) => Err(alloc::format!("read of unmapped {addr:#x} returned {v:#x}")),
        Err(f) => {
            check!(f.addr == addr, "fault address {:#x} != {addr:#x}", f.addr);
            check!(f.code & 1 == 0, "error code {:#x} says present", f.code);
            crate::kprintln!("    (caught: page fault at {:#x}, {})", f.addr, crate::arch::trap::describe_pf(f.code));
            Ok(())
        }
    }
}

fn stack_guard_page_unmapped() -> TestResult {
    let s = stack::alloc(4).ok_or("no stack")?;
    let writable = |va| paging::translate_kernel(va).is_some_and(|(_, f)| f.contains(F::WRITABLE));
    check!(writable(s.bottom()), "stack bottom not writable");
    check!(writable(s.top() - 8), "stack top not writable");
    check!(probe_read(s.top() - 8).is_ok(), "stack top not readable");
    check!(paging::translate_kernel(s.guard()).is_none(), "guard page below the stack is mapped");
    let f = probe_write(s.guard() + PAGE - 8, 1);
    check!(f.is_err_and(|f| f.code != u64::MAX), "a write to the guard page did not fault");
    Ok(())
}
