//! `ipc_pingpong_kernel`: one-way latency of a kernel IPC message between two CPUs.
//!
//! A client task on CPU 0 and a server task on CPU 1 bounce an 8-byte message through
//! two kernel IPC ports (`crate::ipc::PORTS`, asynchronous `recv`). Start: `rdtsc` in the
//! client just before `send` on the ping port. Stop: `rdtsc` in the client right after
//! its `recv` on the pong port returned the answer. The sample is that round trip
//! divided by 2, i.e. the metric is the ONE-WAY latency (send, hand-off to the waiting
//! receiver, its wake-up on the other CPU, and the receive), in cycles.
//!
//! Both tasks wait in `recv` with nothing else to do, so each CPU goes idle between
//! messages and each one-way trip usually includes a RESCHEDULE IPI to a halted CPU:
//! this is the latency an idle kernel service sees.
//!
//! Operation (`BCOUNTS ops`): one one-way message (two per round trip), warm-up
//! included.

use super::{report, BenchResult};
use crate::arch::cpu::rdtsc;
use crate::ipc::PORTS;
use crate::sched::{block_on, spawn_on};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const SAMPLES: usize = 5000;
const WARMUP: usize = 200;
/// Ports the in-kernel tests do not use (they use 200..250).
const PING: usize = 252;
const PONG: usize = 253;

fn drain() {
    for p in [PING, PONG] {
        while let Ok(Some(_)) = PORTS.try_recv(p) {}
    }
}

/// `ipc_pingpong_kernel`: see the module docs.
pub fn ipc_pingpong_kernel() -> BenchResult {
    drain();
    let total = WARMUP + SAMPLES;
    let server = spawn_on(1, async move {
        let r = async {
            for i in 0..total as u64 {
                let m = PORTS.recv(PING).await.map_err(|e| format!("server recv: {e}"))?;
                if m[..] != i.to_le_bytes() {
                    return Err(format!("server: message {i} wrong ({m:?})"));
                }
                PORTS.send(PONG, &m).map_err(|e| format!("server send: {e}"))?;
            }
            Ok::<(), String>(())
        }
        .await;
        if r.is_err() {
            let _ = PORTS.send(PONG, &[]); // poison: the client stops with an error
        }
        r
    });
    let client = spawn_on(0, async move {
        let mut out = Vec::with_capacity(SAMPLES);
        for i in 0..total as u64 {
            let t0 = rdtsc();
            PORTS.send(PING, &i.to_le_bytes()).map_err(|e| format!("client send: {e}"))?;
            let m = PORTS.recv(PONG).await.map_err(|e| format!("client recv: {e}"))?;
            let t1 = rdtsc();
            if m[..] != i.to_le_bytes() {
                return Err(format!("client: reply {i} wrong ({m:?})"));
            }
            if i as usize >= WARMUP {
                out.push((t1 - t0) / 2);
            }
        }
        Ok::<_, String>(out)
    });
    let got = block_on(client);
    if got.is_err() {
        server.cancel(); // it may be waiting for a ping that never comes
        drain();
        return got.map(|_| 0);
    }
    let served = block_on(server);
    drain();
    let v = got?;
    served?;
    crate::kprintln!("# ipc_pingpong_kernel: one-way latency = round trip / 2 (CPU 0 <-> CPU 1, 8-byte messages)");
    report("ipc_pingpong_kernel", "cycles", &v);
    Ok(2 * total as u64)
}
