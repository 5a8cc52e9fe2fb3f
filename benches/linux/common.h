/* Shared helpers for the Linux comparison benchmarks (the .c files beside it).
 *
 * Every program measures with clock_gettime(CLOCK_MONOTONIC) and prints the
 * line format of docs/benchmarking.md, unit=ns:
 *   BSAMPLES name=<metric> unit=ns v v v ...      (64 values a line, raw, in order)
 * and nothing else about them: every statistic is computed by benches/runner.
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

/* Prints the samples as BSAMPLES lines, in measurement order. */
static inline void report(const char *name, const int64_t *s, size_t n)
{
    for (size_t i = 0; i < n; i += 64) {
        printf("BSAMPLES name=%s unit=ns", name);
        for (size_t j = i; j < n && j < i + 64; j++)
            printf(" %lld", (long long)s[j]);
        putchar('\n');
    }
    if (n == 0)
        printf("# %s: no samples\n", name);
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
