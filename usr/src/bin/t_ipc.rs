//! Ring-3 test: IPC between two processes on different CPUs. 10,000
//! ping-pong round trips over two ports with sequence numbers checked,
//! then the queue bound (the 17th message to an unread port is `AGAIN`),
//! truncation on receive, and `MSGSIZE` for oversized messages.

#![no_std]
#![no_main]

use usr::tsc::rdtsc;
use usr::*;

entry!(main);

const PING: u64 = 20;
const PONG: u64 = 21;
const FULL: u64 = 22;
const ROUNDS: u32 = 10_000;

fn child() -> i32 {
    let mut buf = [0u8; 8];
    for i in 0..ROUNDS {
        match ipc_recv(PING, &mut buf) {
            Ok(4) if u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) == i => {}
            r => {
                println!("  FAIL child: round {i}: recv {r:?} {:?}", &buf[..4]);
                return 1;
            }
        }
        if let Err(e) = ipc_send(PONG, &i.to_le_bytes()) {
            println!("  FAIL child: round {i}: send {e}");
            return 1;
        }
    }
    0
}

fn main(_args: Args) -> i32 {
    let cpus = stats().map(|s| s.num_cpus).unwrap_or(1);
    let here = getcpu().unwrap_or(0);
    let there = (here + 1) % cpus.max(1);
    match fork() {
        Ok(Fork::Child) => {
            if cpus > 1 {
                check_eq!(set_affinity(there), Ok(()));
                let _ = yield_now();
                check_eq!(getcpu(), Ok(there), "child not moved to CPU {there}");
            }
            exit(child() + test::failures() as i32)
        }
        Ok(Fork::Parent(pid)) => {
            if cpus > 1 {
                check_eq!(set_affinity(here), Ok(()));
            }
            let mut buf = [0u8; 8];
            let start = rdtsc();
            for i in 0..ROUNDS {
                if let Err(e) = ipc_send(PING, &i.to_le_bytes()) {
                    check!(false, "round {i}: send {e}");
                    break;
                }
                let r = ipc_recv(PONG, &mut buf);
                if r != Ok(4) || u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) != i {
                    check!(false, "round {i}: recv {r:?} {:?}", &buf[..4]);
                    break;
                }
            }
            let cycles = rdtsc().wrapping_sub(start) / ROUNDS as u64;
            println!(
                "t_ipc: {ROUNDS} round trips CPU {here} <-> CPU {there}, ~{cycles} cycles each"
            );
            let r = wait();
            check!(
                matches!(r, Ok((p, s)) if p == pid && exited(s) == Some(0)),
                "child: {r:?}"
            );
            let _ = set_affinity(AFFINITY_ANY);
        }
        Err(e) => check!(false, "fork: {e}"),
    }

    // Queue bound: 16 messages fit, the 17th is refused; then drain.
    for i in 0..abi::PORT_QUEUE as u8 {
        check_eq!(ipc_send(FULL, &[i]), Ok(()), "message {i}");
    }
    check_eq!(ipc_send(FULL, b"17th"), Err(Errno::AGAIN));
    let mut b = [0u8; 4];
    for i in 0..abi::PORT_QUEUE as u8 {
        check_eq!(ipc_recv(FULL, &mut b), Ok(1));
        check_eq!(b[0], i, "FIFO order");
    }

    // Truncation: the full length comes back, only buf.len() bytes copied.
    let long = [0xabu8; 100];
    check_eq!(ipc_send(FULL, &long), Ok(()));
    let mut small = [0u8; 10];
    check_eq!(ipc_recv(FULL, &mut small), Ok(100));
    check!(small.iter().all(|&x| x == 0xab));
    check_eq!(
        ipc_send(FULL, &[0u8; abi::MAX_MSG + 1]),
        Err(Errno::MSGSIZE)
    );
    check_eq!(ipc_send(FULL, &[0u8; abi::MAX_MSG]), Ok(()));
    let mut big = [0u8; abi::MAX_MSG];
    check_eq!(ipc_recv(FULL, &mut big), Ok(abi::MAX_MSG));
    test::finish("t_ipc")
}
