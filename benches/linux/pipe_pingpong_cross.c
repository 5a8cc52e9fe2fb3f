/* pipe_pingpong_cross: one-way message latency between two processes pinned
 * to CPUs 0 and 1, over a pair of pipes. The sender writes its clock_gettime()
 * (8 bytes) into the pipe; the receiver, blocked in read(), takes
 * clock_gettime() when read() returns and its sample is the difference. Then it
 * answers the same way. Both directions are samples (shared memory).
 * Compared with mello's ipc_pingpong_user. */
#include "common.h"
#include <sys/wait.h>

#define WARMUP 200

static void xread(int fd, int64_t *v)
{
    ssize_t r;
    while ((r = read(fd, v, sizeof *v)) < 0 && errno == EINTR)
        ;
    if (r != sizeof *v)
        die("read");
}

static void xwrite(int fd, int64_t v)
{
    if (write(fd, &v, sizeof v) != sizeof v)
        die("write");
}

/* me 0 starts by sending; me 1 starts by receiving. */
static void side(int me, int rfd, int wfd, int64_t *out, size_t rounds)
{
    pin_cpu(me);
    if (me == 0)
        xwrite(wfd, now_ns());
    for (size_t i = 0; i < rounds + WARMUP; i++) {
        int64_t t0;
        xread(rfd, &t0);
        int64_t t1 = now_ns();
        if (i >= WARMUP)
            out[i - WARMUP] = t1 - t0;
        if (!(me == 0 && i + 1 == rounds + WARMUP))
            xwrite(wfd, now_ns());
    }
}

int main(int argc, char **argv)
{
    bench_init();
    size_t rounds = arg_count(argc, argv, 10000) / 2;
    int64_t *s = shared_alloc(2 * rounds * sizeof *s);
    int a2b[2], b2a[2];
    if (pipe(a2b) || pipe(b2a))
        die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        side(1, a2b[0], b2a[1], s + rounds, rounds);
        _exit(0);
    }
    side(0, b2a[0], a2b[1], s, rounds);
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("child");
    report("pipe_pingpong_cross", s, 2 * rounds);
    return 0;
}
