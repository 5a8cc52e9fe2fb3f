/* syscall_getpid: cost of a raw system call, per call. One sample times a
 * batch of 10 back-to-back syscall(SYS_getpid) (the glibc wrapper is bypassed)
 * with clock_gettime() around the batch, divided by 10, so the clock read
 * (itself 20-100 ns, more under TCG) is amortised. Compared with mello's
 * syscall_getpid (one rdtsc-timed call per sample). */
#include "common.h"
#include <sys/syscall.h>

#define BATCH 10
#define WARMUP 1000

int main(int argc, char **argv)
{
    bench_init();
    size_t n = arg_count(argc, argv, 10000);
    int64_t *s = calloc(n, sizeof *s);
    if (!s)
        die("calloc");
    pin_cpu(0);
    for (size_t i = 0; i < n + WARMUP; i++) {
        int64_t t0 = now_ns();
        for (int j = 0; j < BATCH; j++)
            syscall(SYS_getpid);
        int64_t t1 = now_ns();
        if (i >= WARMUP)
            s[i - WARMUP] = (t1 - t0) / BATCH;
    }
    report("syscall_getpid", s, n);
    return 0;
}
