"""Where things are and which metrics exist: shared by every runner module."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL = "target/x86_64-unknown-none/release/kernel"
INITRD = "build/initrd.cpio"
LOG_DIR = "build/bench"
LINUX_DIR = "build/linux"
RESULTS = "benches/results"

# Our metrics, in table order (others that a log reports are appended).
OUR_METRICS = [
    "timer_wake", "sleep_accuracy", "wake_same_cpu", "wake_cross_idle", "wake_cross_busy",
    "ipi_roundtrip", "ipc_pingpong_kernel", "ipc_pingpong_user", "syscall_getpid",
    "rdtsc_overhead", "user_ctx_switch",
] + ["spawn_rate_%dcpu" % n for n in range(1, 9)] + ["ap_bringup"]

# Units where a larger value is better (every other unit is a time: smaller is better).
HIGHER_IS_BETTER = {"ops_per_s"}

# THE mapping: Linux guest metric (benches/linux/<name>.c) -> our metrics it is
# compared with. Edit only here.
LINUX_MAP = {
    # clock_nanosleep(TIMER_ABSTIME) lateness, 1 ms sleeps, timer slack 1 ns
    "timer_wake": ["timer_wake", "sleep_accuracy"],
    # one-way futex wake between threads pinned to CPUs 0 and 1
    "futex_pingpong_cross": ["wake_cross_idle", "ipc_pingpong_user"],
    # one-way pipe message between processes pinned to CPUs 0 and 1
    "pipe_pingpong_cross": ["ipc_pingpong_user"],
    # raw syscall(SYS_getpid), per call
    "syscall_getpid": ["syscall_getpid"],
    # sched_yield between two processes pinned to one CPU, per switch
    "sched_yield_pingpong": ["user_ctx_switch"],
    # one clock_gettime(CLOCK_MONOTONIC): the clock-read cost inside each sample
    "clock_overhead": ["rdtsc_overhead"],
}

# Extra Linux command-line options (see docs/benchmarking.md, "The Linux guest"):
# tsc=reliable: under TCG Linux's TSC sync check fails and it falls back to the
#   HPET, making every clock_gettime a ~1 us trap; mello reads the TSC directly.
# idle=halt: -cpu max under TCG is an AMD family 0xf CPU, for which Linux picks
#   the E400-erratum idle routine; it delays cross-CPU pipe wake-ups to the next
#   4 ms tick. HLT idle is what mello does.
LINUX_APPEND = "console=ttyS0 quiet panic=-1 tsc=reliable idle=halt"

NOISE_SPREAD_PCT = 25.0
TAIL_LINES = 20


def order(names):
    """Metric names in table order: OUR_METRICS first, then the rest sorted."""
    known = [m for m in OUR_METRICS if m in names]
    return known + sorted(n for n in names if n not in OUR_METRICS)
