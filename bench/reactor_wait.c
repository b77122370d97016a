//@ 02
/*
 * reactor_wait: what one pass of the reactor costs as idle descriptors pile up.
 *
 * For every built-in backend and N = 10, 100, 500, 1000, a reactor watches N idle
 * sockets (nothing ever arrives on them) and one socket that is always readable (a
 * byte waits in it, never read), which has the highest descriptor number. One
 * ax_reactor_run_once then finds exactly one ready fd and runs one callback, so its
 * time is the price of asking about N + 1 descriptors to learn about one:
 *
 *     reactor.wait_ns.<backend>.<N>    median ns per ax_reactor_run_once
 *
 * With select that price grows with N: the kernel tests every fd up to the highest in
 * each set, and the backend scans the answer the same way. A backend that cannot watch
 * N descriptors (select stops below FD_SETSIZE) skips that N and says so on stderr.
 * Backends added later (epoll in chapter 03) are measured without changing this file.
 */
#include "bench.h"
#include "ax/reactor.h"

#include <sys/resource.h>
#include <sys/socket.h>

//> 02..03
//| static const int idle_counts[] = {10, 100, 500, 1000};
//| enum { MAX_IDLE = 1000, BATCHES = 7, BATCH_NS = 20 * 1000 * 1000 };
//< 02
//> 03
/* Chapter 03 goes on to C10K: epoll is measured up to 10,000 idle descriptors. */
static const int idle_counts[] = {10, 100, 500, 1000, 2000, 5000, 10000};
enum { MAX_IDLE = 10000, BATCHES = 7, BATCH_NS = 20 * 1000 * 1000 };
//< 03

static void count_call(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd, (void)events;
    ++*(long *)data;
}

/* N idle descriptors plus the ready pair and the standard three must fit. */
static void raise_fd_limit(rlim_t need)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < need) {
        limit.rlim_cur = need < limit.rlim_max ? need : limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// snippet wait-pass
/* ns per ax_reactor_run_once over `iterations` passes; each must run one callback. */
static double time_passes(struct ax_reactor *reactor, long iterations, long *calls)
{
    long before = *calls;
    uint64_t start = ax_now_ns();
    for (long i = 0; i < iterations; i++) {
        int ran = ax_reactor_run_once(reactor, -1); /* returns at once: one fd is ready */
        if (ran != 1)
            bench_fail("run_once ran %d callbacks, expected 1 (%s)", ran,
                       ran < 0 ? ax_strerror(ran) : "the ready fd was missed");
    }
    uint64_t elapsed = ax_now_ns() - start;
    if (*calls - before != iterations)
        bench_fail("the callback ran %ld times in %ld passes", *calls - before, iterations);
    return (double)elapsed / (double)iterations;
}
// end snippet

/* The median cost of one pass while `idle` descriptors are watched; -1 if the backend
 * cannot watch that many. */
static double measure(const char *backend, int idle)
{
    struct ax_reactor *reactor;
    int err = ax_reactor_new(&reactor, backend);
    if (err < 0)
        bench_fail("reactor on %s: %s", backend, ax_strerror(err));
    static int fds[MAX_IDLE + 2];
    long calls = 0;
    for (int i = 0; i < idle; i += 2) { /* both ends of a quiet pair: idle, and watched */
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds + i) < 0)
            bench_fail("socketpair: %s", ax_strerror(ax__errno()));
    }
    int *ready = fds + idle; /* created last: the highest numbers */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ready) < 0 || ax_write_all(ready[0], "!", 1) < 0)
        bench_fail("socketpair: %s", ax_strerror(ax__errno()));

    double result = -1;
    for (int i = 0; i < idle && err == 0; i++)
        err = ax_reactor_watch(reactor, fds[i], AX_READABLE, count_call, &calls);
    if (err == 0)
        err = ax_reactor_watch(reactor, ready[1], AX_READABLE, count_call, &calls);
    if (err == 0) {
        long iterations = 1; /* doubled until a batch lasts BATCH_NS; this warms up too */
        while (time_passes(reactor, iterations, &calls) * (double)iterations < BATCH_NS)
            iterations *= 2;
        double ns[BATCHES];
        for (int b = 0; b < BATCHES; b++)
            ns[b] = time_passes(reactor, iterations, &calls);
        result = bench_median(ns, BATCHES);
    } else {
        fprintf(stderr, "reactor_wait: %s cannot watch %d descriptors (%s); skipped\n", backend,
                idle + 1, ax_strerror(err));
    }

    ax_reactor_free(reactor);
    for (int i = 0; i < idle + 2; i++)
        close(fds[i]);
    return result;
}

//> 03
/*
 * reactor.syscalls_per_batch: how many calls into the kernel's readiness API one batch
 * of ready fds costs. A wrapper backend counts every call the reactor makes to epoll's
 * wait, add, modify and del. SYSCALL_WATCHED socket pairs are watched; before each
 * pass, one byte is written into SYSCALL_READY of them (the bench's own writes are not
 * counted), and the pass's callbacks read it. The interest never changes, so the
 * reactor never has to tell the kernel anything between waits:
 *
 *     reactor.syscalls_per_batch    epoll_wait + epoll_ctl calls per ax_reactor_run_once
 *     reactor.events_per_batch      callbacks that one batch ran
 */
enum { SYSCALL_WATCHED = 1000, SYSCALL_READY = 64, SYSCALL_PASSES = 2000 };

static long waits, controls; /* calls counted by the wrapper */

// snippet counting-backend
static int counting_create(void **state)
{
    return ax_backend_epoll.create(state); /* the state is epoll's own */
}

static void counting_free(void *state)
{
    ax_backend_epoll.free(state);
}

static int counting_add(void *state, int fd, int events)
{
    controls++;
    return ax_backend_epoll.add(state, fd, events);
}

static int counting_modify(void *state, int fd, int old_events, int new_events)
{
    controls++;
    return ax_backend_epoll.modify(state, fd, old_events, new_events);
}

static int counting_del(void *state, int fd, int old_events)
{
    controls++;
    return ax_backend_epoll.del(state, fd, old_events);
}

static int counting_wait(void *state, int64_t timeout_ns, struct ax_fired *fired, int max)
{
    waits++;
    return ax_backend_epoll.wait(state, timeout_ns, fired, max);
}

/* epoll, with every call into the kernel's readiness API counted. */
static const struct ax_backend counting_epoll = {
    .name = "counting-epoll",
    .create = counting_create,
    .free = counting_free,
    .add = counting_add,
    .modify = counting_modify,
    .del = counting_del,
    .wait = counting_wait,
};
// end snippet

static void read_byte(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)events;
    char byte;
    if (recv(fd, &byte, 1, 0) != 1)
        bench_fail("a ready fd had no byte");
    ++*(long *)data;
}

static void measure_syscalls(void)
{
    struct ax_reactor *reactor;
    int err = ax_reactor_new_with(&reactor, &counting_epoll);
    if (err < 0)
        bench_fail("reactor on counting epoll: %s", ax_strerror(err));
    static int pairs[SYSCALL_WATCHED][2];
    long calls = 0;
    for (int i = 0; i < SYSCALL_WATCHED; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]) < 0)
            bench_fail("socketpair: %s", ax_strerror(ax__errno()));
        err = ax_reactor_watch(reactor, pairs[i][1], AX_READABLE, read_byte, &calls);
        if (err < 0)
            bench_fail("watch: %s", ax_strerror(err));
    }
    waits = controls = 0; /* the setup's adds are not part of a batch */
    for (int pass = 0; pass < SYSCALL_PASSES; pass++) {
        for (int i = 0; i < SYSCALL_READY; i++) {
            int k = (pass * SYSCALL_READY + i * 7) % SYSCALL_WATCHED; /* spread out */
            if (ax_write_all(pairs[k][0], "!", 1) < 0)
                bench_fail("write: %s", ax_strerror(ax__errno()));
        }
        long before = calls;
        int ran = ax_reactor_run_once(reactor, -1);
        if (ran != SYSCALL_READY || calls - before != SYSCALL_READY)
            bench_fail("a pass ran %d callbacks, expected %d", ran, SYSCALL_READY);
    }
    bench_report("reactor.syscalls_per_batch", (double)(waits + controls) / SYSCALL_PASSES,
                 "calls");
    bench_report("reactor.events_per_batch", (double)calls / SYSCALL_PASSES, "events");
    ax_reactor_free(reactor);
    for (int i = 0; i < SYSCALL_WATCHED; i++) {
        close(pairs[i][0]);
        close(pairs[i][1]);
    }
}
//< 03

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "the cost of one reactor wait as idle descriptors pile up, and syscalls per batch");
    raise_fd_limit(MAX_IDLE + 64);
    char names[256];
    snprintf(names, sizeof names, "%s", ax_reactor_backend_names());
    for (char *backend = strtok(names, " "); backend != NULL; backend = strtok(NULL, " ")) {
        for (size_t i = 0; i < sizeof idle_counts / sizeof idle_counts[0]; i++) {
            double ns = measure(backend, idle_counts[i]);
            if (ns < 0)
                continue;
            char name[64];
            snprintf(name, sizeof name, "reactor.wait_ns.%s.%d", backend, idle_counts[i]);
            bench_report(name, ns, "ns");
        }
    }
    //> 03
    measure_syscalls();
    //< 03
    return 0;
}
