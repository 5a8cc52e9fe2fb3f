/* futex_pingpong_cross: one-way wake latency between two threads of one
 * process pinned to CPUs 0 and 1 (the receiver is asleep in FUTEX_WAIT, its CPU
 * idle). The sender takes t0 = clock_gettime(), publishes it, flips the shared
 * futex word to the receiver's id and calls FUTEX_WAKE; the receiver's sample is
 * clock_gettime() right after its FUTEX_WAIT returns with the word set - t0.
 * Then it sends back the same way. Both directions are samples.
 * Compared with mello's wake_cross_idle and ipc_pingpong_user. */
#include "common.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#define WARMUP 200

static _Atomic int turn;                 /* whose turn: 0 or 1 */
static _Atomic int64_t t_sent;
static size_t rounds;
static int64_t *samples[2];

static void futex_wait(_Atomic int *addr, int val)
{
    syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *addr)
{
    syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *side(void *arg)
{
    int me = (int)(intptr_t)arg, other = 1 - me;
    pin_cpu(me);
    for (size_t i = 0; i < rounds + WARMUP; i++) {
        while (atomic_load(&turn) != me)
            futex_wait(&turn, other);
        int64_t t1 = now_ns();
        if (i >= WARMUP)
            samples[me][i - WARMUP] = t1 - atomic_load(&t_sent);
        atomic_store(&t_sent, now_ns());
        atomic_store(&turn, other);
        futex_wake(&turn);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bench_init();
    rounds = arg_count(argc, argv, 10000) / 2;
    int64_t *s = calloc(2 * rounds, sizeof *s);
    if (!s)
        die("calloc");
    samples[0] = s;
    samples[1] = s + rounds;
    atomic_store(&turn, 1);              /* thread 1 goes first */
    atomic_store(&t_sent, now_ns());
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, side, (void *)(intptr_t)i) != 0)
            die("pthread_create");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    report("futex_pingpong_cross", s, 2 * rounds);
    return 0;
}
