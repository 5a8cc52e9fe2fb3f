//! What the scheduler trace costs the executor, counted in instructions: a fixed
//! single-CPU workload (spawn a task that yields 4 times, await it; 20 000 times) with
//! tracing off or on (`on`: every class to a `kcore::trace::ring::Ring`, as the kernel
//! records). Meant to run under callgrind, which counts the workload's instructions:
//!
//! ```text
//! cargo build --release -p benches --bin trace-cost
//! valgrind --tool=callgrind --toggle-collect='*workload*' target/release/trace-cost off
//! valgrind --tool=callgrind --toggle-collect='*workload*' target/release/trace-cost on
//! ```
//!
//! The numbers and the "before" build (the executor without the hooks) are in
//! docs/benchmarking.md, "Scheduler trace".

use executor::host::HostPlatform;
use executor::trace::{class, Event, TraceSink};
use executor::Executor;
use kcore::trace::ring::Ring;
use kcore::trace::{Kind, Record};

const TASKS: usize = 20_000;
const YIELDS: usize = 4;

/// Records executor events in one ring, TSC-stamped, as the kernel's sink does.
struct RingSink(Ring);

impl TraceSink for RingSink {
    fn record(&self, ev: Event) {
        let (kind, task, a) = match ev {
            Event::PollBegin { task, .. } => (Kind::PollBegin, task.get(), 0),
            Event::PollEnd { task, ready } => (Kind::PollEnd, task.get(), ready as u32),
            Event::Wake { task, target } => (Kind::Wake, task.get(), target as u32),
            _ => (Kind::Steal, 0, 0),
        };
        self.0.push(&Record {
            tsc: tsc(),
            kind,
            task,
            a,
            b: 0,
        });
    }
}

fn tsc() -> u64 {
    // SAFETY: `rdtsc` has no preconditions on x86_64.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
}

#[inline(never)]
fn workload(exec: &'static Executor) -> usize {
    exec.block_on(0, async move {
        let mut done = 0;
        for _ in 0..TASKS {
            done += exec
                .spawn(async {
                    for _ in 0..YIELDS {
                        executor::yield_now().await;
                    }
                    1
                })
                .await;
        }
        done
    })
}

fn main() {
    let on = std::env::args().nth(1).as_deref() == Some("on");
    let (_, exec) = HostPlatform::executor(1);
    let sink: &'static RingSink = Box::leak(Box::new(RingSink(Ring::new(16384))));
    if on {
        exec.set_trace(
            class::POLL | class::WAKE | class::TIMER | class::STEAL | class::IDLE,
            Some(sink),
        );
    }
    let done = workload(exec);
    assert_eq!(done, TASKS);
    println!(
        "trace {}: {TASKS} tasks x {YIELDS} yields, {} events recorded",
        if on { "on" } else { "off" },
        sink.0.pushed()
    );
}
