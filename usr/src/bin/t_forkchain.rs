//! Ring-3 test: a chain of 10 nested forks; each child exits with its
//! depth and each parent checks its child's pid and status with `wait`.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

const DEPTH: i32 = 10;
/// Exit code of a link in the chain that found a problem.
const BROKEN: i32 = 200;

fn main(_args: Args) -> i32 {
    let top = getpid().unwrap_or(0);
    let mut depth = 0;
    loop {
        if depth == DEPTH {
            exit(depth);
        }
        let me = getpid().unwrap_or(0);
        match fork() {
            Ok(Fork::Child) => {
                if getpid().unwrap_or(me) == me {
                    println!("  FAIL child at depth {} has its parent's pid", depth + 1);
                    exit(BROKEN);
                }
                depth += 1;
            }
            Ok(Fork::Parent(child)) => {
                let r = wait();
                let ok = match r {
                    Ok((pid, status)) => pid == child && exited(status) == Some(depth as u8 + 1),
                    Err(_) => false,
                };
                if depth > 0 {
                    exit(if ok { depth } else { BROKEN });
                }
                check!(
                    ok,
                    "chain broke below pid {top}: wait() = {r:?} for child {child}"
                );
                check_eq!(wait(), Err(Errno::CHILD));
                return test::finish("t_forkchain");
            }
            Err(e) => {
                println!("  FAIL fork at depth {depth}: {e}");
                if depth > 0 {
                    exit(BROKEN);
                }
                check!(false, "fork failed");
                return test::finish("t_forkchain");
            }
        }
    }
}
