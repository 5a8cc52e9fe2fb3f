//! Process tests: each ring-3 test program from the initrd runs as a child of the
//! kernel and passes if it exits 0 (the programs print their own checks); plus
//! kernel-side checks of ELF rejection and of the process table.

use crate::ktest::{KTest, TestResult};
use crate::{check, ktests};
use abi::wait::{exit_status, exited, killed_by, signal_name};
use alloc::format;
use core::time::Duration;

pub const TESTS: &[KTest] = ktests![
    starts_a_program,
    bad_elf_rejected,
    hostile_elf_files_refused,
    syscalls,
    bad_pointers,
    fork_chain,
    copy_on_write,
    exec_argv,
    fork_bomb,
    ipc_across_cpus,
    faults_kill_only_the_process,
    preemption,
    user_threads_migrate,
    sse_state_per_thread,
    serial_read,
    no_frame_leak,
    signal_errors,
    shell_syscalls,
    timer_fires_beside_a_spinning_process,
    remote_wake_beside_a_spinning_process,
    context_switches_leave_the_timer_alone,
    syscall_fuzz,
];

/// Runs `/path argv...` and waits (bounded) for its exit status.
fn run(path: &str, argv: &[&str], limit: Duration) -> Result<i32, alloc::string::String> {
    check!(crate::INITRD.get().is_some(), "no initrd: the ring-3 programs are not available");
    let pid = super::spawn(path, argv, None).map_err(|e| format!("starting {path}: {e}"))?;
    match crate::sched::block_on(executor::timeout(super::wait(super::KERNEL_PID, Some(pid)), limit)) {
        Ok(Ok((p, status))) if p == pid => Ok(status),
        Ok(r) => Err(format!("wait for {path}: {r:?}")),
        Err(_) => Err(format!("{path} (pid {pid}) did not finish within {} s", limit.as_secs())),
    }
}

/// A ring-3 test program passes by exiting 0.
fn passes(path: &str, argv: &[&str], limit: Duration) -> TestResult {
    let status = run(path, argv, limit)?;
    match (exited(status), killed_by(status)) {
        (Some(0), _) => Ok(()),
        (Some(77), _) => crate::ktest::skip(&format!("{path} skipped itself (exit 77)")),
        (Some(c), _) => Err(format!("{path} exited {c} (see its FAIL lines above)")),
        (_, Some(s)) => Err(format!("{path} was killed by {}", signal_name(s))),
        _ => Err(format!("{path}: status {status:#x}")),
    }
}

const SHORT: Duration = Duration::from_secs(30);
const LONG: Duration = Duration::from_secs(120);

/// The kernel starts a program from the initrd and collects its exit status.
fn starts_a_program() -> TestResult {
    check!(run("/hello", &["hello", "-q"], SHORT)? == exit_status(0));
    Ok(())
}

/// Malformed images are refused with NOEXEC and leave no process behind.
fn bad_elf_rejected() -> TestResult {
    let before = super::count();
    let free = crate::mm::frame::free_count();
    let good = crate::INITRD.get().and_then(|rd| rd.find("hello")).ok_or("no /hello in the initrd")?;
    let mut truncated = alloc::vec::Vec::from(&good[..good.len().min(200)]);
    let mut bad_magic = alloc::vec::Vec::from(good);
    bad_magic[1] = b'X';
    let mut huge_phnum = alloc::vec::Vec::from(good);
    huge_phnum[56] = 0xff; // e_phnum
    huge_phnum[57] = 0xff;
    truncated.truncate(100);
    for (what, image) in [("empty", &[][..]), ("truncated", &truncated[..]), ("bad magic", &bad_magic[..]), ("e_phnum", &huge_phnum[..])] {
        let shared = super::create(super::KERNEL_PID, "bad").map_err(|e| format!("create: {e}"))?;
        let r = super::thread::Thread::new_program(shared.clone(), image, &[]);
        super::exit(shared.pid, 0);
        super::reap(super::KERNEL_PID, shared.pid);
        check!(matches!(r, Err(abi::Errno::NOEXEC)), "{what}: {:?}", r.err());
    }
    check!(super::count() == before, "process table grew");
    check!(crate::mm::frame::free_count() == free, "frames leaked: {} -> {}", free, crate::mm::frame::free_count());
    Ok(())
}

/// Every hostile ELF of `kcore::elf::hostile` is in the initrd as generated (each
/// refused by the checks for its own reason), and exec'd from ring 3 by
/// /t_badelf: each refused with NOEXEC and a logged reason, the caller unharmed,
/// no frame kept, no process left.
fn hostile_elf_files_refused() -> TestResult {
    use kcore::elf::{hostile, parse_user_elf};
    let rd = crate::INITRD.get().ok_or("no initrd")?;
    let all = hostile::all();
    let mut paths = alloc::vec::Vec::new();
    for (name, bytes) in rd.iter() {
        let Some(short) = name.strip_prefix(hostile::PREFIX) else { continue };
        let h = all.iter().find(|h| h.name == short).ok_or_else(|| format!("{name}: not a file mkbadelf makes"))?;
        check!(h.bytes == bytes, "{name}: differs from what mkbadelf makes");
        let got = parse_user_elf(bytes);
        check!(matches!(got, Err(e) if hostile::matches(h.expect, e)), "{name}: refused as {:?}, want {:?}", got.err(), h.expect);
        paths.push(format!("/{name}"));
    }
    check!(paths.len() == all.len(), "{} of {} hostile files in the initrd", paths.len(), all.len());
    drop(all);
    let procs = super::count();
    let refused = super::exec::REFUSED.load(core::sync::atomic::Ordering::Relaxed);
    for batch in paths.chunks(abi::MAX_ARGS - 1) {
        let mut argv = alloc::vec!["t_badelf"];
        argv.extend(batch.iter().map(|p| p.as_str()));
        passes("/t_badelf", &argv, SHORT)?;
    }
    let logged = super::exec::REFUSED.load(core::sync::atomic::Ordering::Relaxed) - refused;
    check!(logged == 2 * paths.len() as u64, "{logged} refusals logged for {} execs", 2 * paths.len());
    check!(super::count() == procs, "processes: {procs} before, {} after", super::count());
    Ok(())
}

fn syscalls() -> TestResult {
    passes("/t_syscalls", &["t_syscalls"], SHORT)
}

fn bad_pointers() -> TestResult {
    passes("/t_badptr", &["t_badptr"], SHORT)
}

fn fork_chain() -> TestResult {
    passes("/t_forkchain", &["t_forkchain"], SHORT)
}

fn copy_on_write() -> TestResult {
    passes("/t_cow", &["t_cow"], SHORT)
}

fn exec_argv() -> TestResult {
    passes("/t_exec", &["t_exec"], SHORT)
}

fn fork_bomb() -> TestResult {
    passes("/t_forkbomb", &["t_forkbomb"], LONG)?;
    check!(super::count() == 0, "{} processes left after the fork bomb", super::count());
    Ok(())
}

fn ipc_across_cpus() -> TestResult {
    crate::ktest::need_cpus(2)?;
    passes("/t_ipc", &["t_ipc"], LONG)
}

fn faults_kill_only_the_process() -> TestResult {
    passes("/t_faults", &["t_faults"], SHORT)
}

fn preemption() -> TestResult {
    passes("/t_preempt", &["t_preempt"], SHORT)
}

fn user_threads_migrate() -> TestResult {
    crate::ktest::need_cpus(2)?;
    passes("/t_migrate", &["t_migrate"], SHORT)
}

fn sse_state_per_thread() -> TestResult {
    passes("/t_fpu", &["t_fpu"], SHORT)
}

/// The line boot/run-tests.sh types into the serial console (QEMU's stdin).
const SERIAL_LINE: &str = "mello-serial-check";

fn serial_read() -> TestResult {
    let waited = crate::sched::block_on(executor::timeout(
        async {
            while crate::console::serial::input_len() <= SERIAL_LINE.len() {
                executor::sleep(Duration::from_millis(10)).await;
            }
        },
        Duration::from_secs(5),
    ));
    check!(
        waited.is_ok(),
        "no serial input within 5 s: this test needs the line '{SERIAL_LINE}' typed into the console \
         (boot/run-tests.sh pipes it into QEMU's stdin)"
    );
    passes("/t_read", &["t_read", SERIAL_LINE], SHORT)
}

fn no_frame_leak() -> TestResult {
    passes("/t_leak", &["t_leak"], LONG)
}

/// `kill` and `set_foreground` refuse what does not exist; a signal ends a process
/// waiting in the kernel at once, with that signal's status.
fn signal_errors() -> TestResult {
    use super::signal::{kill, set_foreground};
    use abi::Errno;
    check!(kill(super::KERNEL_PID, 9) == Err(Errno::SRCH), "kill of the kernel pid");
    check!(kill(u64::MAX, 9) == Err(Errno::SRCH), "kill of a pid never used");
    check!(kill(u64::MAX, 1000) == Err(Errno::INVAL), "an unknown signal is INVAL before the pid is looked up");
    check!(set_foreground(u64::MAX) == Err(Errno::SRCH), "foreground: a pid never used");
    check!(super::signal::foreground() == 0, "no foreground process in test mode");
    // Ctrl-C (as the serial driver sends it) ends the foreground process, here one
    // spinning in ring 3, with SIGINT. Pid 1 counts as init (it may not be killed and
    // inherits orphans): when this test runs first, a short program takes it.
    if super::CREATED.load(core::sync::atomic::Ordering::Relaxed) == 0 {
        run("/hello", &["hello", "-q"], SHORT)?;
    }
    let pid = super::spawn("/spin", &["spin"], None).map_err(|e| format!("starting /spin: {e}"))?;
    crate::sched::block_on(executor::sleep(Duration::from_millis(50)));
    check!(set_foreground(pid) == Ok(0), "spin as the foreground");
    super::signal::interrupt_foreground(); // what Ctrl-C on COM1 does
    check!(set_foreground(0) == Ok(pid), "foreground reset");
    match crate::sched::block_on(executor::timeout(super::wait(super::KERNEL_PID, Some(pid)), SHORT)) {
        Ok(Ok((_, status))) => check!(killed_by(status) == Some(abi::wait::SIGINT), "status {status:#x}"),
        r => return Err(format!("spin did not die of SIGINT: {r:?}; {:?}", super::list().iter().find(|p| p.pid == pid))),
    }
    Ok(())
}

/// The shell's system calls from ring 3: results and error paths.
fn shell_syscalls() -> TestResult {
    passes("/t_ctl", &["t_ctl"], LONG)
}
/// A kernel timer on a CPU where a process spins in ring 3 fires on time, not at the end
/// of the process's time slice (regression: the timer interrupt went back to ring 3,
/// and only the executor's loop fires timers).
fn timer_fires_beside_a_spinning_process() -> TestResult {
    use crate::sched::tunables;
    let saved = tunables::get();
    let cpu = crate::smp::online() - 1;
    // Half-second slices; nothing moves the spinner away from `cpu`.
    for t in ["slice_hz=2", "steal=none", "balance=off"] {
        tunables::set(t).map_err(|e| format!("{t}: {e}"))?;
    }
    let result = (|| {
        let pid = super::spawn("/busy", &["busy", "800"], Some(cpu)).map_err(|e| format!("starting /busy: {e}"))?;
        let late_us = crate::sched::block_on(crate::sched::spawn_on(cpu, async {
            // The first sleep lets the spinner start; every sleep is measured.
            let mut worst = 0;
            for i in 0..10 {
                let ms = if i == 0 { 50 } else { 2 };
                let d = crate::arch::cpu::rdtsc() + crate::arch::time::ns_to_cycles(ms * 1_000_000);
                executor::sleep_until(d).await;
                worst = worst.max(crate::arch::cpu::rdtsc().saturating_sub(d));
            }
            crate::arch::time::cycles_to_ns(worst) / 1000
        }));
        let status = crate::sched::block_on(executor::timeout(super::wait(super::KERNEL_PID, Some(pid)), LONG));
        check!(matches!(status, Ok(Ok((_, s))) if exited(s) == Some(0)), "/busy: {status:?}");
        crate::kprintln!("    (10 sleeps of 2-50 ms beside a spinning process on cpu{cpu}: worst {late_us} us late; slice 500 ms)");
        check!(late_us < 50_000, "a timer fired {late_us} us late beside a spinning process");
        Ok(())
    })();
    crate::sched::tunables::apply(saved);
    result
}

/// Two processes that yield to each other on one CPU switch without writing that CPU's
/// timer on every switch (regression: each entry to ring 3 re-armed the timer for the
/// entering thread's own slice end; under QEMU every write is a host timer update and
/// a host system call, a fifth of `user_ctx_switch`). The timer is now only moved
/// earlier, never later: a switch leaves it alone unless it fired (or was disarmed)
/// since, so the writes are bounded by the timer interrupts taken, not by the switches.
/// (Under TCG a switch takes ~7 us and the timer fires ~150 times in the run; under a
/// slow nested KVM a switch can take longer than the 1 ms wake-up granule, and then it
/// fires, and is re-armed, every few switches.)
fn context_switches_leave_the_timer_alone() -> TestResult {
    use crate::metrics;
    use core::sync::atomic::Ordering;
    // Summed over the CPUs: the program pins itself where it runs, which need not be
    // where it started. The other CPUs write their timers only after interrupts and for
    // their own few deadlines (tens in the run).
    let cpus = crate::smp::online();
    let sum = |f: fn(usize) -> u64| (0..cpus).map(f).sum::<u64>();
    let counts = || (sum(metrics::timer_arms), sum(metrics::timer_ticks), metrics::SWITCHES.load(Ordering::Relaxed));
    let before = counts();
    // It pins itself and its child to the CPU it runs on, and yields 2 x 10,500 times.
    passes("/bench_yield", &["bench_yield", "--table"], LONG)?;
    let after = counts();
    let (arms, irqs, switches) = (after.0 - before.0, after.1 - before.1, after.2 - before.2);
    crate::kprintln!("    ({switches} switches, {arms} timer writes, {irqs} timer interrupts on {cpus} CPUs)");
    check!(switches >= 20_000, "only {switches} switches: the processes did not alternate");
    check!(arms <= irqs + switches / 10, "{arms} timer writes for {switches} switches and {irqs} timer interrupts");
    Ok(())
}

/// The ring-3 system-call fuzzer, a bounded pass with a fixed seed (`make fuzz`
/// runs long ones): it checks the answers, the frames and the process count
/// itself; here, that it passed and left no process behind.
fn syscall_fuzz() -> TestResult {
    let procs = super::count();
    passes("/fuzz", &["fuzz", "seed=13", "calls=3000", "procs=6"], LONG)?;
    check!(super::count() == procs, "processes: {procs} before, {} after", super::count());
    Ok(())
}

/// A task woken from another CPU, on a CPU where a process spins in ring 3 without
/// system calls, runs within about the wake-up granule (1 ms), not when the spinner next
/// traps on its own (regression: the CPU was not idle, so the wake sent no IPI and
/// waited for the next timer interrupt there).
fn remote_wake_beside_a_spinning_process() -> TestResult {
    use crate::sched::tunables;
    use core::sync::atomic::{AtomicU64, Ordering};
    use futures_util::task::AtomicWaker;
    crate::ktest::need_cpus(2)?;
    static RAISED_AT: AtomicU64 = AtomicU64::new(0);
    static RAISES: AtomicU64 = AtomicU64::new(0);
    static WAKER: AtomicWaker = AtomicWaker::new();
    let saved = tunables::get();
    let cpu = crate::smp::online() - 1;
    for t in ["slice_hz=2", "steal=none", "balance=off"] {
        tunables::set(t).map_err(|e| format!("{t}: {e}"))?;
    }
    let result = (|| {
        let pid = super::spawn("/busy", &["busy", "800", "quiet"], Some(cpu)).map_err(|e| format!("starting /busy: {e}"))?;
        RAISED_AT.store(0, Ordering::Relaxed);
        RAISES.store(0, Ordering::Relaxed);
        // The waiter measures from the latest raise to its poll; it stops after seeing
        // the 10th raise (a slow wake sees several at once and is measured once).
        let waiter = crate::sched::spawn_on(cpu, async {
            let (mut seen, mut worst) = (0, 0);
            while seen < 10 {
                let (n, late) = core::future::poll_fn(|cx| {
                    WAKER.register(cx.waker());
                    let n = RAISES.load(Ordering::Acquire);
                    if n == seen {
                        return core::task::Poll::Pending;
                    }
                    let at = RAISED_AT.load(Ordering::Relaxed);
                    core::task::Poll::Ready((n, crate::arch::cpu::rdtsc().saturating_sub(at)))
                })
                .await;
                seen = n;
                worst = worst.max(late);
            }
            crate::arch::time::cycles_to_ns(worst) / 1000
        });
        let raiser = crate::sched::spawn_on(0, async {
            executor::sleep(Duration::from_millis(50)).await; // the spinner is running
            for _ in 0..10 {
                RAISED_AT.store(crate::arch::cpu::rdtsc(), Ordering::Relaxed);
                RAISES.fetch_add(1, Ordering::Release);
                WAKER.wake();
                executor::sleep(Duration::from_millis(20)).await;
            }
        });
        crate::sched::block_on(raiser);
        let late_us = crate::sched::block_on(executor::timeout(waiter, LONG)).map_err(|_| "the waiter never saw the wakes")?;
        let status = crate::sched::block_on(executor::timeout(super::wait(super::KERNEL_PID, Some(pid)), LONG));
        check!(matches!(status, Ok(Ok((_, s))) if exited(s) == Some(0)), "/busy: {status:?}");
        crate::kprintln!("    (10 wakes from cpu0 of a task on cpu{cpu} beside a spinning process: worst {late_us} us; slice 500 ms)");
        check!(late_us < 50_000, "a remote wake waited {late_us} us beside a spinning process");
        Ok(())
    })();
    crate::sched::tunables::apply(saved);
    result
}
