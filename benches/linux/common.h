/* Shared helpers for the Linux comparison benchmarks (the .c files beside it).
 *
 * Every program measures with clock_gettime(CLOCK_MONOTONIC) and prints the
 * line format of docs/benchmarking.md, unit=ns:
 *   BSAMPLES name=<metric> unit=ns v v v ...      (64 values a line, raw, in order)
 *   BENCH name=<metric> unit=ns min= p50= p99= max= n=
 * Percentiles are nearest-rank: the value at 1-based rank ceil(p*n/100) of the
 * sorted samples, exactly what benches/runner/bench.py recomputes.
 * Built with: gcc -static -O2 -pthread -Wall (see build-initramfs.sh). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void die(const char *what)
{
    fprintf(stderr, "BENCHERR %s: %s\n", what, strerror(errno));
    printf("BENCHERR %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

/* Pins the calling thread to one CPU; exits if that CPU does not exist. */
static inline void pin_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        die("sched_setaffinity");
}

/* Sample storage that a forked child can write too (MAP_SHARED). */
static inline void *shared_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap");
    memset(p, 0, bytes);
    return p;
}

/* Optional count override: argv[1] = number of samples. */
static inline size_t arg_count(int argc, char **argv, size_t dflt)
{
    if (argc > 1) {
        long v = atol(argv[1]);
        if (v > 0)
            return (size_t)v;
    }
    return dflt;
}

static inline int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted[0..n). */
static inline int64_t rank_pct(const int64_t *sorted, size_t n, unsigned p)
{
    size_t r = (p * n + 99) / 100;
    if (r < 1)
        r = 1;
    return sorted[r - 1];
}

/* Prints BSAMPLES lines (in measurement order) and the BENCH summary; sorts s. */
static inline void report(const char *name, int64_t *s, size_t n)
{
    for (size_t i = 0; i < n; i += 64) {
        printf("BSAMPLES name=%s unit=ns", name);
        for (size_t j = i; j < n && j < i + 64; j++)
            printf(" %lld", (long long)s[j]);
        putchar('\n');
    }
    qsort(s, n, sizeof *s, cmp_i64);
    if (n == 0) {
        printf("BENCH name=%s unit=ns min=0 p50=0 p99=0 max=0 n=0\n", name);
    } else {
        printf("BENCH name=%s unit=ns min=%lld p50=%lld p99=%lld max=%lld n=%zu\n", name,
               (long long)s[0], (long long)rank_pct(s, n, 50), (long long)rank_pct(s, n, 99),
               (long long)s[n - 1], n);
    }
    fflush(stdout);
}

/* Big stdout buffer: printing must not happen inside a measurement anyway, but
 * this keeps the console writes to a few large bursts. */
static inline void bench_init(void)
{
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
}

#endif
