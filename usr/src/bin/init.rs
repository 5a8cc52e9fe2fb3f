//! `init`: the first user process (pid 1), started by the kernel in `run` mode.
//! Starts the shell (`/sh`) on the console, starts it again if it ends, and reaps
//! every orphan the kernel hands over in between.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

/// Starts `/sh`; its pid, or `None` if it could not be started.
fn start_shell() -> Option<u64> {
    match fork() {
        Ok(Fork::Child) => {
            let e = exec("/sh", &["sh"]);
            println!("init: cannot run /sh: {e}");
            exit(127)
        }
        Ok(Fork::Parent(pid)) => Some(pid),
        Err(e) => {
            println!("init: fork failed: {e}");
            None
        }
    }
}

fn main(_args: Args) -> i32 {
    let pid = getpid().unwrap_or(0);
    let cpus = stats().map(|s| s.num_cpus).unwrap_or(0);
    println!("init: started (pid {pid}, {cpus} CPUs)");
    let mut shell = start_shell();
    loop {
        match wait() {
            Ok((child, status)) if Some(child) == shell => {
                match (exited(status), killed_by(status)) {
                    (Some(code), _) => println!("init: shell (pid {child}) exited {code}; starting a new one"),
                    (_, Some(sig)) => println!("init: shell (pid {child}) killed by {}; starting a new one", abi::wait::signal_name(sig)),
                    _ => println!("init: shell (pid {child}) ended; starting a new one"),
                }
                // A shell that cannot start at all would otherwise spin here.
                if exited(status) == Some(127) {
                    let _ = sleep_ms(1000);
                }
                shell = start_shell();
            }
            // Orphans handed over by the kernel: reaped quietly.
            Ok(_) => {}
            Err(Errno::CHILD) => {
                shell = start_shell();
                if shell.is_none() {
                    let _ = sleep_ms(1000);
                }
            }
            Err(e) => {
                println!("init: wait failed: {e}");
                let _ = sleep_ms(1000);
            }
        }
    }
}
