//! Ring-3 test: fork, and the child execs `/hello a b`; the parent checks
//! it exits 0. A child execs this program again with arguments that the new
//! image checks exactly (count, bytes, empty and non-ASCII strings) and with
//! a fresh copy of its data. Also: exec of a missing path returns `NOENT`
//! and the caller carries on.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

/// Arguments the re-executed image must see, exactly.
const ARGV: [&str; 5] = ["t_exec", "--child", "a b", "\u{fc}n\u{ef}", ""];

/// Changed before the exec; the new image must see the initial value again.
static mut MARK: u32 = 1;

/// The re-executed image: exit 0 only if argv and the data are as expected.
fn child_checks(args: &Args) -> i32 {
    let seen: [Option<&str>; 5] = core::array::from_fn(|i| args.get(i));
    // SAFETY: single-threaded program; a plain read of the static.
    let mark = unsafe { MARK };
    if args.len() == ARGV.len() && seen.iter().zip(ARGV).all(|(s, a)| *s == Some(a)) && mark == 1 {
        0
    } else {
        println!("  FAIL exec'd image saw argc={} argv={seen:?} mark={mark}", args.len());
        3
    }
}

fn main(args: Args) -> i32 {
    if args.get(1) == Some("--child") {
        return child_checks(&args);
    }
    check_eq!(exec("/no/such/program", &["x"]), Errno::NOENT);
    match fork() {
        Ok(Fork::Child) => {
            // SAFETY: single-threaded program.
            unsafe { MARK = 2 };
            exit(exec("/t_exec", &ARGV) as i32 + 100)
        }
        Ok(Fork::Parent(_)) => {
            let r = wait();
            check!(matches!(r, Ok((_, s)) if exited(s) == Some(0)), "exec with argv: {r:?}");
        }
        Err(e) => check!(false, "fork: {e}"),
    }
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
