//! One function per (executor, workload): build the executor, run the shared workload from
//! `workload.rs`, return the elapsed time or the latency samples.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use executor::host::HostRuntime;
use futures::channel::oneshot;
use futures::executor::{block_on, LocalPool};
use futures::future::join_all;
use futures::task::LocalSpawnExt;

use crate::workload::{drive, spawn_join_loop, woken_from_outside, Baton, PingPong};

/// The executors compared.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Exec {
    Ours,
    TokioCurrent,
    TokioMulti,
    AsyncExecutor,
    LocalPool,
}

impl Exec {
    pub const ALL: [Exec; 5] =
        [Exec::Ours, Exec::TokioCurrent, Exec::TokioMulti, Exec::AsyncExecutor, Exec::LocalPool];

    pub fn name(self) -> &'static str {
        match self {
            Exec::Ours => "ours (executor)",
            Exec::TokioCurrent => "tokio current-thread",
            Exec::TokioMulti => "tokio multi-thread",
            Exec::AsyncExecutor => "async-executor",
            Exec::LocalPool => "futures LocalPool",
        }
    }

    /// The name `--only` takes.
    pub fn short(self) -> &'static str {
        match self {
            Exec::Ours => "ours",
            Exec::TokioCurrent => "tokio-current",
            Exec::TokioMulti => "tokio-multi",
            Exec::AsyncExecutor => "async-executor",
            Exec::LocalPool => "localpool",
        }
    }

    /// Single-threaded executors only run the 1-thread cases.
    pub fn max_threads(self) -> usize {
        match self {
            Exec::TokioCurrent | Exec::LocalPool => 1,
            _ => usize::MAX,
        }
    }
}

fn tokio_multi(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(threads).build().unwrap()
}

fn tokio_current() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

/// An async-executor with `threads` runner threads; call the returned closure to stop them.
fn async_executor(threads: usize) -> (&'static async_executor::Executor<'static>, impl FnOnce()) {
    let ex: &'static async_executor::Executor<'static> =
        Box::leak(Box::new(async_executor::Executor::new()));
    let (stops, handles): (Vec<_>, Vec<_>) = (0..threads)
        .map(|_| {
            let (tx, rx) = oneshot::channel::<()>();
            (tx, thread::spawn(move || block_on(ex.run(async { rx.await.ok() }))))
        })
        .unzip();
    let stop = move || {
        stops.into_iter().for_each(|tx| tx.send(()).unwrap());
        handles.into_iter().for_each(|h| {
            h.join().unwrap();
        });
    };
    (ex, stop)
}

/// Spawn+complete: `threads` root tasks each spawn and join `per_root` trivial tasks.
/// Returns the wall time of the whole run (executor start-up excluded).
pub fn spawn_throughput(e: Exec, threads: usize, per_root: usize) -> Duration {
    match e {
        Exec::Ours => {
            let rt = HostRuntime::new(threads);
            let exec = rt.executor();
            let t0 = Instant::now();
            let roots: Vec<_> = (0..threads)
                .map(|c| {
                    exec.spawn_on(c, spawn_join_loop(per_root, move |i| exec.spawn(async move { i })))
                })
                .collect();
            block_on(join_all(roots));
            t0.elapsed()
        }
        Exec::TokioCurrent => {
            let rt = tokio_current();
            let t0 = Instant::now();
            rt.block_on(spawn_join_loop(per_root, tokio_spawn));
            t0.elapsed()
        }
        Exec::TokioMulti => {
            let rt = tokio_multi(threads);
            let t0 = Instant::now();
            rt.block_on(async {
                let roots: Vec<_> = (0..threads)
                    .map(|_| tokio::spawn(spawn_join_loop(per_root, tokio_spawn)))
                    .collect();
                join_all(roots).await
            });
            t0.elapsed()
        }
        Exec::AsyncExecutor => {
            let (ex, stop) = async_executor(threads);
            let t0 = Instant::now();
            let roots: Vec<_> = (0..threads)
                .map(|_| ex.spawn(spawn_join_loop(per_root, move |i| ex.spawn(async move { i }))))
                .collect();
            block_on(join_all(roots));
            let d = t0.elapsed();
            stop();
            d
        }
        Exec::LocalPool => {
            let mut pool = LocalPool::new();
            let sp = pool.spawner();
            let t0 = Instant::now();
            pool.run_until(spawn_join_loop(per_root, |i| {
                sp.spawn_local_with_handle(async move { i }).unwrap()
            }));
            t0.elapsed()
        }
    }
}

fn tokio_spawn(i: u64) -> impl Future<Output = u64> {
    let h = tokio::spawn(async move { i });
    async move { h.await.unwrap() }
}

/// Our executor's own wake-latency histogram of the last run, converted to ns.
pub type Builtin = Option<executor::LatencySummary>;

fn builtin(exec: &executor::Executor, cpu: usize) -> Builtin {
    Some(exec.stats(cpu).wake_latency) // HostPlatform ticks are nanoseconds
}

/// Same-thread wake latency: two tasks on one worker thread bounce a baton.
pub fn same_thread_latency(e: Exec, rounds: usize) -> (Vec<u64>, Builtin) {
    let mut own = None;
    let pp = PingPong::default();
    let (a, b) = (pp.clone().ping(rounds), pp.pong(rounds));
    let (mut x, y) = match e {
        Exec::Ours => {
            let rt = HostRuntime::new(1);
            let exec = rt.executor();
            let hb = exec.spawn_on(0, b);
            let ha = exec.spawn_on(0, a);
            let r = block_on(async { (ha.await, hb.await) });
            own = builtin(exec, 0);
            r
        }
        Exec::TokioCurrent => tokio_current().block_on(async {
            let hb = tokio::spawn(b);
            let ha = tokio::spawn(a);
            (ha.await.unwrap(), hb.await.unwrap())
        }),
        Exec::TokioMulti => tokio_multi(1).block_on(async {
            let hb = tokio::spawn(b);
            let ha = tokio::spawn(a);
            (ha.await.unwrap(), hb.await.unwrap())
        }),
        Exec::AsyncExecutor => {
            let (ex, stop) = async_executor(1);
            let hb = ex.spawn(b);
            let ha = ex.spawn(a);
            let r = block_on(async { (ha.await, hb.await) });
            stop();
            r
        }
        Exec::LocalPool => {
            let mut pool = LocalPool::new();
            let hb = pool.spawner().spawn_local_with_handle(b).unwrap();
            let ha = pool.spawner().spawn_local_with_handle(a).unwrap();
            pool.run_until(async { (ha.await, hb.await) })
        }
    };
    x.extend(y);
    (x, own)
}

/// Cross-thread wake latency: a plain OS thread wakes a task. With `busy`, a second task on
/// the same worker yields in a loop, so the worker never sleeps (the queue hand-off alone);
/// without, the worker is idle and must be woken (executor + OS thread wake-up).
pub fn cross_thread_latency(e: Exec, rounds: usize, pause_ns: u64, busy: bool) -> (Vec<u64>, Builtin) {
    let mut own = None;
    let baton = Arc::new(Baton::default());
    let ack = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(!busy));
    let target = {
        let (baton, ack, done) = (baton.clone(), ack.clone(), done.clone());
        async move {
            let v = woken_from_outside(rounds, baton, ack).await;
            done.store(true, Ordering::Relaxed);
            v
        }
    };
    let yielder = async move {
        while !done.load(Ordering::Relaxed) {
            executor::yield_now().await; // a plain self-wake: works on every executor
        }
    };
    let driver = thread::spawn(move || drive(rounds, baton, ack, pause_ns));
    let v = match e {
        Exec::Ours => {
            let rt = HostRuntime::new(1);
            let exec = rt.executor();
            exec.spawn_on(0, yielder).detach();
            let v = block_on(exec.spawn_on(0, target));
            own = builtin(exec, 0);
            v
        }
        Exec::TokioCurrent => tokio_current().block_on(async {
            tokio::spawn(yielder);
            tokio::spawn(target).await.unwrap()
        }),
        Exec::TokioMulti => tokio_multi(1).block_on(async {
            tokio::spawn(yielder);
            tokio::spawn(target).await.unwrap()
        }),
        Exec::AsyncExecutor => {
            let (ex, stop) = async_executor(1);
            ex.spawn(yielder).detach();
            let v = block_on(ex.spawn(target));
            stop();
            v
        }
        Exec::LocalPool => {
            let mut pool = LocalPool::new();
            pool.spawner().spawn_local(yielder).unwrap();
            let h = pool.spawner().spawn_local_with_handle(target).unwrap();
            pool.run_until(h)
        }
    };
    driver.join().unwrap();
    (v, own)
}

/// Ours only: ping-pong between tasks pinned to two different CPUs (threads), each side
/// halting between hops — the kernel's cross-CPU wake with an idle target.
pub fn ours_cross_cpu_pingpong(rounds: usize) -> (Vec<u64>, Builtin) {
    let rt = HostRuntime::new(2);
    let exec = rt.executor();
    let pp = PingPong::default();
    let hb = exec.spawn_on(1, pp.clone().pong(rounds));
    let ha = exec.spawn_on(0, pp.ping(rounds));
    let (mut x, y) = block_on(async { (ha.await, hb.await) });
    x.extend(y);
    let both = executor::Log2Histogram::new();
    both.merge_from(exec.wake_latency(0));
    both.merge_from(exec.wake_latency(1));
    (x, Some(executor::LatencySummary::of(&both)))
}

/// Ours only: two tasks on one worker thread bounce an 8-byte message through a kernel
/// IPC port table (`kcore::ipc`, ports 0 and 1), as the kernel's `ipc_pingpong_kernel`
/// does across two CPUs. Under callgrind, its instructions per round minus `pingpong`'s
/// are what IPC costs beyond the two wakes (same-thread: no cross-CPU traffic).
pub fn ours_ipc_pingpong(rounds: usize) {
    let ports: &'static kcore::ipc::PortTable = Box::leak(Box::new(kcore::ipc::PortTable::new()));
    let rt = HostRuntime::new(1);
    let exec = rt.executor();
    let server = exec.spawn_on(0, async move {
        for i in 0..rounds as u64 {
            let m = ports.recv(0).await.expect("server recv");
            assert_eq!(m[..], i.to_le_bytes());
            ports.send(1, &m).expect("server send");
        }
    });
    let client = exec.spawn_on(0, async move {
        for i in 0..rounds as u64 {
            ports.send(0, &i.to_le_bytes()).expect("client send");
            let m = ports.recv(1).await.expect("client recv");
            assert_eq!(m[..], i.to_le_bytes());
        }
    });
    block_on(async { (client.await, server.await) });
}
