//! Ring-3 test: the simple system calls behave (getpid, time, getcpu,
//! yield, write, sleep, priority/affinity arguments, stats, `int 0x80`),
//! and an unknown system-call number returns `NOSYS`.

#![no_std]
#![no_main]

use usr::syscall::{int80_3, syscall0, syscall1};
use usr::*;

entry!(main);

fn main(_args: Args) -> i32 {
    let pid = getpid();
    check!(pid.is_ok(), "getpid: {pid:?}");
    check_eq!(getpid(), pid);

    // SAFETY: getpid through the int 0x80 gate touches no memory.
    let pid80 = Errno::from_ret(unsafe { int80_3(abi::nr::GETPID, 0, 0, 0) });
    check_eq!(pid80.map(|p| p as u64), pid, "int 0x80 getpid");

    let t1 = time_ns().unwrap_or(0);
    let t2 = time_ns().unwrap_or(0);
    check!(t1 > 0 && t2 >= t1, "time not monotonic: {t1} then {t2}");
    check_eq!(sleep_ms(2), Ok(()));
    let t3 = time_ns().unwrap_or(0);
    check!(
        t3 >= t2 + 2_000_000,
        "sleep(2ms) returned after {} ns",
        t3.saturating_sub(t2)
    );

    let st = stats();
    check!(st.is_ok(), "stats: {st:?}");
    let st = st.unwrap_or_default();
    check!(st.num_cpus >= 1, "num_cpus {}", st.num_cpus);
    check!(
        st.frames_free <= st.frames_total,
        "frames {} free of {}",
        st.frames_free,
        st.frames_total
    );
    check!(
        st.syscalls > 0 && st.processes >= 1 && st.uptime_ns > 0,
        "{st:?}"
    );

    let cpu = getcpu();
    check!(
        matches!(cpu, Ok(c) if c < st.num_cpus.max(1)),
        "getcpu {cpu:?} of {}",
        st.num_cpus
    );
    check_eq!(yield_now(), Ok(()));

    let msg = b"t_syscalls: write ok\n";
    check_eq!(write(abi::STDOUT, msg), Ok(msg.len()));
    check_eq!(write(abi::STDOUT, b""), Ok(0));

    check_eq!(set_priority(Priority::Low), Ok(()));
    check_eq!(set_priority(Priority::Normal), Ok(()));
    // SAFETY: no memory arguments.
    let bad_prio = Errno::from_ret(unsafe { syscall1(abi::nr::SET_PRIORITY, 3) });
    check_eq!(bad_prio, Err(Errno::INVAL));
    check_eq!(set_affinity(st.num_cpus + 1000), Err(Errno::INVAL));
    check_eq!(set_affinity(0), Ok(()));
    let _ = yield_now(); // a lazy kernel may migrate at the next switch
    check_eq!(getcpu(), Ok(0), "after set_affinity(0)");
    check_eq!(set_affinity(AFFINITY_ANY), Ok(()));

    check_eq!(ipc_send(abi::NUM_PORTS as u64, b"x"), Err(Errno::INVAL));
    let big = [0u8; abi::MAX_MSG + 1];
    check_eq!(ipc_send(40, &big), Err(Errno::MSGSIZE));

    for nr in [abi::nr::NR_SYSCALLS, 1000, u64::MAX] {
        // SAFETY: an unknown number does nothing.
        let r = unsafe { syscall0(nr) };
        check_eq!(r, Errno::NOSYS.as_neg(), "syscall {nr:#x}");
    }
    test::finish("t_syscalls")
}
