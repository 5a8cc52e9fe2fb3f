//! Ring-3 test: exec of hostile ELF files (the paths in argv, made by the host
//! tool `mkbadelf`) is refused with `NOEXEC`, and the caller is unharmed: same
//! pid, memory intact, and no frame kept by the failed attempts (every file is
//! exec'd once to warm up, then again between two counts of free frames).

#![no_std]
#![no_main]

use usr::*;

entry!(main);

static mut DATA_CANARY: [u64; 8] = [0x5a5a_1234_dead_beef; 8];

fn exec_all(paths: &[&str], pid: u64, stack_canary: &[u64; 8]) {
    for &p in paths {
        let e = exec(p, &[p, "--hostile"]);
        check_eq!(e, Errno::NOEXEC, "exec {p}");
        check_eq!(getpid(), Ok(pid), "pid after exec {p}");
        // SAFETY: only this thread touches DATA_CANARY, and only reads it.
        let data = unsafe { core::ptr::addr_of!(DATA_CANARY).read_volatile() };
        check!(data.iter().all(|&w| w == 0x5a5a_1234_dead_beef), "data changed by exec {p}");
        check!(core::hint::black_box(stack_canary).iter().all(|&w| w == 0x0bad_e1f0_0bad_e1f0), "stack changed by exec {p}");
    }
}

fn main(args: Args) -> i32 {
    let mut paths = [""; abi::MAX_ARGS];
    let mut n = 0;
    for a in args.iter().skip(1) {
        if n < paths.len() {
            paths[n] = a;
            n += 1;
        }
    }
    let paths = &paths[..n];
    check!(!paths.is_empty(), "no files given");
    let pid = getpid().unwrap_or(0);
    let canary = [0x0bad_e1f0_0bad_e1f0u64; 8];
    exec_all(paths, pid, &canary);
    let before = stats().map(|s| s.frames_free);
    exec_all(paths, pid, &canary);
    let after = stats().map(|s| s.frames_free);
    check!(before.is_ok());
    check_eq!(after, before, "free frames around {} refused execs", paths.len());
    println!("t_badelf: {} hostile files refused twice", paths.len());
    test::finish("t_badelf")
}
