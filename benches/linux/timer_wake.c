/* timer_wake: lateness of an absolute-deadline sleep.
 * Each sample: deadline = now + 1 ms; clock_nanosleep(CLOCK_MONOTONIC,
 * TIMER_ABSTIME, deadline); sample = clock_gettime() after the wake - deadline.
 * Timer slack is set to 1 ns (prctl PR_SET_TIMERSLACK; Linux's default 50 us
 * would otherwise be added on purpose to every wake). Compared with mello's
 * timer_wake and sleep_accuracy. */
#include "common.h"
#include <sys/prctl.h>

#define PERIOD_NS 1000000LL
#define WARMUP 100

int main(int argc, char **argv)
{
    bench_init();
    size_t n = arg_count(argc, argv, 2000);
    int64_t *s = calloc(n, sizeof *s);
    if (!s)
        die("calloc");
    if (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) != 0)
        die("prctl(PR_SET_TIMERSLACK)");
    pin_cpu(0);
    for (size_t i = 0; i < n + WARMUP; i++) {
        int64_t deadline = now_ns() + PERIOD_NS;
        struct timespec ts = {deadline / 1000000000LL, deadline % 1000000000LL};
        int r;
        while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
            ;
        if (r != 0) {
            errno = r;
            die("clock_nanosleep");
        }
        int64_t late = now_ns() - deadline;
        if (i >= WARMUP)
            s[i - WARMUP] = late;
    }
    report("timer_wake", s, n);
    return 0;
}
