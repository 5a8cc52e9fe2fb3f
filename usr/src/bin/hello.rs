//! `hello [-q] ARGS...`: prints its argv (one line each) and exits 0.
//! With `-q` as the first argument it prints nothing (for `t_leak`).

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(args: Args) -> i32 {
    if args.get(1) == Some("-q") {
        return 0;
    }
    println!("hello: argc={} pid={}", args.len(), getpid().unwrap_or(0));
    for (i, a) in args.iter().enumerate() {
        println!("hello: argv[{i}] = {a:?}");
    }
    0
}
