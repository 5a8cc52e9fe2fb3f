/* sched_yield_pingpong: one context switch between two processes on one CPU.
 * Both processes are pinned to CPU 0 and loop on sched_yield(). Before
 * yielding, a process stores clock_gettime() in shared memory; when a process
 * comes back from sched_yield() (or starts) and sees that the other one ran
 * last, its sample is clock_gettime() - that stored time, i.e. one yield +
 * switch + return to user. A yield that did not switch gives no sample.
 * Compared with mello's user_ctx_switch. */
#include "common.h"
#include <stdatomic.h>
#include <sys/wait.h>

#define WARMUP 500

struct shared {
    _Atomic int owner;          /* who took the last timestamp: 0, 1; -1 = none */
    _Atomic int64_t t;
    _Atomic size_t count;       /* switches seen, warm-up included */
    _Atomic int done;
    int64_t s[];
};

static void side(int me, struct shared *sh, size_t n)
{
    pin_cpu(0);
    while (!atomic_load(&sh->done)) {
        int64_t t1 = now_ns();
        int owner = atomic_load(&sh->owner);
        if (owner != me && owner != -1) {
            size_t c = atomic_fetch_add(&sh->count, 1);
            if (c >= WARMUP + n) {
                atomic_store(&sh->done, 1);
                break;
            }
            if (c >= WARMUP)
                sh->s[c - WARMUP] = t1 - atomic_load(&sh->t);
        }
        atomic_store(&sh->owner, me);
        atomic_store(&sh->t, now_ns());
        sched_yield();
    }
}

int main(int argc, char **argv)
{
    bench_init();
    size_t n = arg_count(argc, argv, 20000);
    struct shared *sh = shared_alloc(sizeof *sh + n * sizeof(int64_t));
    atomic_store(&sh->owner, -1);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        side(1, sh, n);
        _exit(0);
    }
    side(0, sh, n);
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("child");
    report("sched_yield_pingpong", sh->s, n);
    return 0;
}
