/* clock_overhead: cost of one clock_gettime(CLOCK_MONOTONIC) (vDSO), measured
 * as the difference of two back-to-back reads. Every Linux sample above
 * contains one or two of these; compared with mello's rdtsc_overhead. */
#include "common.h"

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
        int64_t t1 = now_ns();
        if (i >= WARMUP)
            s[i - WARMUP] = t1 - t0;
    }
    report("clock_overhead", s, n);
    return 0;
}
