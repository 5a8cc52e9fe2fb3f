//! Ring-3 test: fork until the kernel says `AGAIN` (process limit), then
//! release and reap every child. Passes if `AGAIN` was seen, every child
//! exited 0 and was reaped, and the system still works.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

/// Children block here until released.
const PORT: u64 = 10;
/// Give up (and fail) if no limit is hit by then.
const MAX_FORKS: u32 = 4096;

fn main(_args: Args) -> i32 {
    let mut children = 0u32;
    let mut again = false;
    while children < MAX_FORKS {
        match fork() {
            Ok(Fork::Child) => {
                let mut b = [0u8; 1];
                let r = ipc_recv(PORT, &mut b);
                exit(if r == Ok(1) { 0 } else { 1 })
            }
            Ok(Fork::Parent(_)) => children += 1,
            Err(Errno::AGAIN) => {
                again = true;
                break;
            }
            Err(e) => {
                check!(
                    false,
                    "fork #{} failed with {e}, expected AGAIN",
                    children + 1
                );
                break;
            }
        }
    }
    println!(
        "t_forkbomb: {children} children, then {}",
        if again { "AGAIN" } else { "no limit" }
    );
    check!(again, "no AGAIN after {children} forks");
    check!(children > 0);

    // Release the children (the port holds 16 messages; retry when full).
    let mut released = 0;
    while released < children {
        match ipc_send(PORT, b"g") {
            Ok(()) => released += 1,
            Err(Errno::AGAIN) => {
                let _ = yield_now();
            }
            Err(e) => {
                check!(false, "ipc_send: {e}");
                break;
            }
        }
    }
    let mut reaped = 0;
    loop {
        match wait() {
            Ok((_, status)) => {
                reaped += 1;
                check_eq!(exited(status), Some(0), "child status {status:#x}");
            }
            Err(Errno::CHILD) => break,
            Err(e) => {
                check!(false, "wait: {e}");
                break;
            }
        }
    }
    check_eq!(reaped, children);
    // After the bomb, fork works again.
    match fork() {
        Ok(Fork::Child) => exit(0),
        Ok(Fork::Parent(_)) => check!(wait().is_ok()),
        Err(e) => check!(false, "fork after reaping: {e}"),
    }
    test::finish("t_forkbomb")
}
