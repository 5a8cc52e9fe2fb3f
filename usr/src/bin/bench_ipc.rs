//! Benchmark: one-way IPC latency between two processes on two CPUs, in TSC
//! cycles (metric `ipc_pingpong_user`).
//!
//! The parent pins itself to CPU 0 and forks a child that pins itself to
//! CPU 1 (with one CPU both share CPU 0, and a note says so). They bounce an
//! 8-byte sequence number over two IPC ports: the parent sends on `PING` and
//! waits on `PONG`, the child answers each ping on `PONG`. Start: `rdtsc` in
//! the parent just before `ipc_send(PING)`. Stop: `rdtsc` in the parent right
//! after `ipc_recv(PONG)` returned the answer. Sample = that round trip / 2,
//! i.e. the one-way latency of send + the receiver's wake-up + receive (two
//! system calls on each side per round trip). The first `WARMUP` round trips
//! are not samples. Prints `BSAMPLES`/`BENCH` lines and exits 0 (1 on error).
//!
//! A zero-length message on either port means "the other side failed; stop".

#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use usr::tsc::{rdtsc, report};
use usr::*;

entry!(main);

const PING: u64 = 40;
const PONG: u64 = 41;
const N: usize = 5_000;
const WARMUP: usize = 200;

/// Sample storage in .bss (too big for the user stack).
struct Samples(UnsafeCell<[u64; N]>);
// SAFETY: each process is single-threaded; only the parent touches it.
unsafe impl Sync for Samples {}
static SAMPLES: Samples = Samples(UnsafeCell::new([0; N]));

/// Pins the caller to `cpu` and checks that it got there.
fn pin(cpu: u64) -> Result<(), Errno> {
    set_affinity(cpu)?;
    yield_now()?;
    match getcpu()? {
        c if c == cpu => Ok(()),
        c => {
            println!("# bench_ipc: pid {} asked for CPU {cpu} but runs on CPU {c}", getpid().unwrap_or(0));
            Ok(())
        }
    }
}

fn word(buf: &[u8; 8]) -> u64 {
    u64::from_le_bytes(*buf)
}

/// The child: answer every ping until the parent's last one.
fn child(cpu: u64) -> i32 {
    if let Err(e) = pin(cpu) {
        println!("bench_ipc: child: set_affinity({cpu}): {e}");
        let _ = ipc_send(PONG, &[]);
        return 1;
    }
    let mut buf = [0u8; 8];
    for i in 0..(WARMUP + N) as u64 {
        match ipc_recv(PING, &mut buf) {
            Ok(8) if word(&buf) == i => {}
            Ok(0) => return 1, // the parent gave up
            r => {
                println!("bench_ipc: child: ping {i}: recv {r:?}, got {}", word(&buf));
                let _ = ipc_send(PONG, &[]);
                return 1;
            }
        }
        if let Err(e) = ipc_send(PONG, &buf) {
            println!("bench_ipc: child: pong {i}: send {e}");
            return 1;
        }
    }
    0
}

/// The parent: `WARMUP + N` timed round trips.
fn parent(samples: &mut [u64; N]) -> Result<(), &'static str> {
    let mut buf = [0u8; 8];
    for i in 0..(WARMUP + N) as u64 {
        let t0 = rdtsc();
        if ipc_send(PING, &i.to_le_bytes()).is_err() {
            return Err("send on PING failed");
        }
        let r = ipc_recv(PONG, &mut buf);
        let t1 = rdtsc();
        if r != Ok(8) || word(&buf) != i {
            return Err("bad or missing answer on PONG");
        }
        if let Some(s) = (i as usize).checked_sub(WARMUP).and_then(|k| samples.get_mut(k)) {
            *s = t1.wrapping_sub(t0) / 2;
        }
    }
    Ok(())
}

fn main(_args: Args) -> i32 {
    // SAFETY: the only reference to SAMPLES, in a single-threaded program.
    let samples = unsafe { &mut *SAMPLES.0.get() };
    let cpus = stats().map(|s| s.num_cpus).unwrap_or(1).max(1);
    let (mine, theirs) = (0, if cpus > 1 { 1 } else { 0 });
    if cpus == 1 {
        println!("# bench_ipc: one CPU: both processes share CPU 0 (not a cross-CPU number)");
    }
    if let Err(e) = pin(mine) {
        println!("bench_ipc: set_affinity({mine}): {e}");
        return 1;
    }
    let pid = match fork() {
        Ok(Fork::Child) => exit(child(theirs)),
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => {
            println!("bench_ipc: fork: {e}");
            return 1;
        }
    };
    let result = parent(samples);
    if result.is_err() {
        let _ = ipc_send(PING, &[]); // tell the child to stop
    }
    let status = wait();
    let _ = set_affinity(AFFINITY_ANY);
    if let Err(e) = result {
        println!("bench_ipc: {e}");
        return 1;
    }
    match status {
        Ok((p, s)) if p == pid && exited(s) == Some(0) => {}
        r => {
            println!("bench_ipc: child ended badly: {r:?}");
            return 1;
        }
    }
    println!("# ipc_pingpong_user: one-way = round trip / 2, CPU {mine} <-> CPU {theirs}, 8-byte messages");
    report("ipc_pingpong_user", samples);
    0
}
