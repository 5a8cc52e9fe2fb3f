//! `init`: the first user process. Prints a banner, then reaps children
//! until it has none, and exits 0. (It starts nothing yet: the shell comes
//! later.)

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(_args: Args) -> i32 {
    let pid = getpid().unwrap_or(0);
    let cpus = stats().map(|s| s.num_cpus).unwrap_or(0);
    println!("init: started (pid {pid}, {cpus} CPUs)");
    loop {
        match wait() {
            Ok((child, status)) => match (exited(status), killed_by(status)) {
                (Some(code), _) => println!("init: reaped {child}, exit {code}"),
                (_, Some(sig)) => {
                    println!(
                        "init: reaped {child}, killed by {}",
                        abi::wait::signal_name(sig)
                    )
                }
                _ => println!("init: reaped {child}, status {status:#x}"),
            },
            Err(Errno::CHILD) => break,
            Err(e) => {
                println!("init: wait failed: {e}");
                break;
            }
        }
    }
    println!("init: no children left, exiting");
    0
}
