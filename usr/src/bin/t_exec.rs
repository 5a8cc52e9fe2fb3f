//! Ring-3 test: fork, and the child execs `/hello a b`; the parent checks
//! it exits 0. Also: exec of a missing path returns `NOENT` and the caller
//! carries on.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(_args: Args) -> i32 {
    check_eq!(exec("/no/such/program", &["x"]), Errno::NOENT);
    match fork() {
        Ok(Fork::Child) => {
            let e = exec("/hello", &["hello", "a", "b"]);
            println!("  FAIL exec /hello: {e}");
            exit(127)
        }
        Ok(Fork::Parent(child)) => match wait() {
            Ok((pid, status)) => {
                check_eq!(pid, child);
                check_eq!(exited(status), Some(0), "status {status:#x}");
            }
            Err(e) => check!(false, "wait: {e}"),
        },
        Err(e) => check!(false, "fork: {e}"),
    }
    // Initrd names work without the leading slash too.
    match fork() {
        Ok(Fork::Child) => exit(exec("hello", &["hello", "-q"]) as i32),
        Ok(Fork::Parent(_)) => {
            let r = wait();
            check!(
                matches!(r, Ok((_, s)) if exited(s) == Some(0)),
                "exec hello: {r:?}"
            );
        }
        Err(e) => check!(false, "fork: {e}"),
    }
    test::finish("t_exec")
}
