//! Ring-3 test: every system call that takes a user pointer returns
//! `FAULT` for a null, kernel-half, unmapped or overflowing buffer, and the
//! process carries on.

#![no_std]
#![no_main]

use usr::abi::nr;
use usr::syscall::{syscall1, syscall2, syscall3, syscall4};
use usr::*;

entry!(main);

/// (address, description) of buffers the kernel must refuse.
const BAD: [(u64, &str); 4] = [
    (0, "null"),
    (0xffff_8000_0000_0000, "kernel half"),
    (0x7000_0000_0000, "unmapped"),
    (abi::USER_TOP - 8, "crossing USER_TOP"),
];
const LEN: u64 = 16;
const PORT: u64 = 200;

fn expect_fault(what: &str, ptr: &str, r: isize) {
    check_eq!(
        Errno::from_ret(r),
        Err(Errno::FAULT),
        "{what} with {ptr} buffer"
    );
}

fn main(_args: Args) -> i32 {
    let mut buf = [0u8; 64];
    let good = buf.as_mut_ptr() as u64;

    for (ptr, desc) in BAD {
        // SAFETY: (all calls below) the kernel must refuse these buffers;
        // if it wrongly accepts one, the test fails rather than corrupting
        // memory we use (the addresses are not ours).
        unsafe {
            expect_fault("write", desc, syscall3(nr::WRITE, abi::STDOUT, ptr, LEN));
            expect_fault("ipc_send", desc, syscall3(nr::IPC_SEND, PORT, ptr, LEN));
            // The buffer must be checked before waiting for a message.
            expect_fault("ipc_recv", desc, syscall3(nr::IPC_RECV, PORT, ptr, LEN));
            expect_fault(
                "stats",
                desc,
                syscall2(nr::STATS, ptr, abi::Stats::SIZE as u64),
            );
            expect_fault("exec path", desc, syscall4(nr::EXEC, ptr, LEN, 0, 0));
        }
    }
    // SAFETY: as above; the length overflows the address space.
    unsafe {
        let huge = u64::MAX;
        expect_fault(
            "write",
            "u64::MAX-long",
            syscall3(nr::WRITE, abi::STDOUT, good, huge),
        );
        expect_fault(
            "ipc_send",
            "u64::MAX-long",
            syscall3(nr::IPC_SEND, PORT, good, huge),
        );
        expect_fault(
            "ipc_recv",
            "u64::MAX-long",
            syscall3(nr::IPC_RECV, PORT, good, huge),
        );
        expect_fault("stats", "u64::MAX-long", syscall2(nr::STATS, good, huge));
    }

    // wait: needs a child, or the kernel may answer CHILD before looking
    // at the pointer.
    match fork() {
        Ok(Fork::Child) => exit(0),
        Ok(Fork::Parent(_)) => {
            // The status is 4 bytes: cross USER_TOP with 2 of them. A null
            // status_ptr means "no status" (like wait(NULL)), so the null-page
            // case uses address 8 instead.
            let adjust = |p: u64| match p {
                0 => 8,
                p if p == abi::USER_TOP - 8 => p + 6,
                p => p,
            };
            for (ptr, desc) in BAD.map(|(p, d)| (adjust(p), d))
            {
                // SAFETY: as above.
                expect_fault("wait", desc, unsafe { syscall1(nr::WAIT, ptr) });
            }
            // The child is reaped here (or already was by a faulting wait).
            while wait().is_ok() {}
            check_eq!(wait(), Err(Errno::CHILD));
        }
        Err(e) => check!(false, "fork: {e}"),
    }

    // The process is intact and the buffers were never touched.
    check!(buf.iter().all(|&b| b == 0));
    check!(getpid().is_ok());
    test::finish("t_badptr")
}
