//! `init`: the first user process (pid 1), started by the kernel in `run` mode.
//! Starts `/hello` as a demonstration child, then reaps children for ever:
//! its own and every orphan the kernel hands to it. (A shell comes later.)

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(_args: Args) -> i32 {
    let pid = getpid().unwrap_or(0);
    let cpus = stats().map(|s| s.num_cpus).unwrap_or(0);
    println!("init: started (pid {pid}, {cpus} CPUs)");
    match fork() {
        Ok(Fork::Child) => exit(exec("/hello", &["hello", "from", "init"]) as i32 + 100),
        Ok(Fork::Parent(_)) => {}
        Err(e) => println!("init: fork failed: {e}"),
    }
    let mut idle_reported = false;
    loop {
        match wait() {
            Ok((child, status)) => {
                idle_reported = false;
                match (exited(status), killed_by(status)) {
                    (Some(code), _) => println!("init: reaped {child}, exit {code}"),
                    (_, Some(sig)) => println!(
                        "init: reaped {child}, killed by {}",
                        abi::wait::signal_name(sig)
                    ),
                    _ => println!("init: reaped {child}, status {status:#x}"),
                }
            }
            Err(Errno::CHILD) => {
                if !idle_reported {
                    println!("init: no children; reaping orphans as they come (quit QEMU with Ctrl-A X)");
                    idle_reported = true;
                }
                // Orphans are re-parented to init when their parent exits.
                let _ = sleep_ms(1000);
            }
            Err(e) => {
                println!("init: wait failed: {e}");
                let _ = sleep_ms(1000);
            }
        }
    }
}
