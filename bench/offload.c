//@ 08
/*
 * offload: what crossing between the loop and other threads costs, and what it buys.
 *
 *     pool.roundtrip_ns            one task awaits ax_spawn_blocking of an empty job,
 *                                  ROUNDTRIPS times in a row: submitting (a mutex and a
 *                                  condition variable wake a worker), the worker's post
 *                                  (a mutex and an eventfd write), and the loop's wake-up
 *                                  from epoll_wait and drain (the median of ROUNDS runs)
 *     tasks.remote_wake_ns         one remote wake: a task arms a remote waker and hands
 *                                  it to a helper thread that is already spinning for it;
 *                                  the helper wakes it, and the loop, parked in
 *                                  epoll_wait, polls the task again. Per wake (median)
 *     tasks.remote_wake_batched_ns the same wake when BATCHED tasks are woken by one
 *                                  thread in a burst: coalescing turns the burst into
 *                                  a handful of eventfd writes and loop wake-ups
 *                                  (per wake, the median of ROUNDS runs)
 *
 * Then it runs chapter 08's loop-lag demo with --tsv and passes its lines on: the 99th
 * percentile of a 1 ms timer's lateness while a task hashes on the loop
 * (lag.inline_p99_us) and while it hands the hash to the pool (lag.offload_p99_us),
 * and the same for an echo's round trip.
 *
 * A remote wake is dearer than a wake on the loop's thread (tasks.switch_ns, bench/
 * tasks.c) by two orders of magnitude, because it crosses threads and the kernel; that
 * is why loop-thread wakes stay plain (ax/remote.h).
 */
#include "bench.h"
#include "ax/pool.h"
#include "ax/remote.h"
#include "ax/task.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

enum { ROUNDTRIPS = 5000, WAKES = 5000, BATCHED = 100000, ROUNDS = 3 };

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        bench_fail("executor: %s", ax_strerror(err));
    return executor;
}

static void *alloc_task(struct ax_executor *executor, size_t size)
{
    void *storage = ax_task_alloc(executor, size);
    if (storage == NULL)
        bench_fail("out of memory");
    return storage;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double values[ROUNDS])
{
    qsort(values, ROUNDS, sizeof values[0], by_value);
    return values[ROUNDS / 2];
}

static void run_to_end(struct ax_executor *executor, struct ax_task *task, const char *what)
{
    ax_result rc = ax_block_on(executor, task);
    if (rc < 0)
        bench_fail("%s: %s", what, ax_strerror((int)rc));
}

/* ---- pool round trip -------------------------------------------------------------- */

static ax_result nothing(void *arg)
{
    (void)arg;
    return 0;
}

struct round_tripper {
    struct ax_future base;
    struct ax_blocking job;
    int done;
    bool busy;
};

static ax_result round_tripper_poll(struct ax_future *self, struct ax_context *cx)
{
    struct round_tripper *r = (struct round_tripper *)self;
    for (; r->done < ROUNDTRIPS; r->done++) {
        if (!r->busy) {
            ax_spawn_blocking_init(&r->job, NULL, nothing, NULL, NULL);
            r->busy = true;
        }
        ax_result rc = ax_poll(&r->job.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&r->job.base);
        r->busy = false;
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void round_tripper_drop(struct ax_future *self)
{
    struct round_tripper *r = (struct round_tripper *)self;
    if (r->busy)
        ax_future_drop(&r->job.base);
}

static const struct ax_future_ops round_tripper_ops = {.poll = round_tripper_poll,
                                                       .drop = round_tripper_drop};

static double roundtrip_ns(void)
{
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool;
    int err = ax_executor_pool(executor, &pool); /* started before the clock starts */
    if (err < 0)
        bench_fail("pool: %s", ax_strerror(err));
    struct round_tripper *r = alloc_task(executor, sizeof *r);
    *r = (struct round_tripper){.base = {&round_tripper_ops}};
    uint64_t start = ax_now_ns();
    run_to_end(executor, ax_task_spawn(&r->base), "round trips");
    uint64_t end = ax_now_ns();
    ax_executor_free(executor);
    return (double)(end - start) / ROUNDTRIPS;
}

/* ---- one remote wake at a time ---------------------------------------------------- */

struct handoff {
    _Atomic(struct ax_remote_waker *) waker; /* armed by the loop, taken by the helper */
    atomic_bool stop;
};

static void *helper_main(void *arg)
{
    struct handoff *h = arg;
    for (unsigned idle = 0; !atomic_load(&h->stop);) {
        struct ax_remote_waker *waker = atomic_exchange(&h->waker, NULL);
        if (waker != NULL) {
            ax_remote_waker_wake(waker);
            idle = 0;
        } else if (++idle % 64 == 0) {
            sched_yield(); /* a machine with one core must let the loop run */
        }
    }
    return NULL;
}

struct pinger {
    struct ax_future base;
    struct handoff *handoff;
    struct ax_remote_waker waker;
    int woken;
    bool armed;
};

static ax_result pinger_poll(struct ax_future *self, struct ax_context *cx)
{
    struct pinger *p = (struct pinger *)self;
    if (p->armed) {
        p->armed = false; /* the arrival ran: the waker is free again */
        p->woken++;
    }
    if (p->woken == WAKES)
        return 0;
    int err = ax_remote_waker_init(&p->waker, cx);
    if (err < 0)
        return err;
    p->armed = true;
    atomic_store(&p->handoff->waker, &p->waker);
    return AX_PENDING;
}

static const struct ax_future_ops pinger_ops = {.poll = pinger_poll};

static double remote_wake_ns(void)
{
    struct ax_executor *executor = new_executor();
    struct handoff handoff = {0};
    pthread_t helper;
    if (pthread_create(&helper, NULL, helper_main, &handoff) != 0)
        bench_fail("cannot start a thread");
    struct pinger *p = alloc_task(executor, sizeof *p);
    *p = (struct pinger){.base = {&pinger_ops}, .handoff = &handoff};
    uint64_t start = ax_now_ns();
    run_to_end(executor, ax_task_spawn(&p->base), "remote wakes");
    uint64_t end = ax_now_ns();
    atomic_store(&handoff.stop, true);
    pthread_join(helper, NULL);
    ax_executor_free(executor);
    return (double)(end - start) / WAKES;
}

/* ---- a burst of remote wakes ------------------------------------------------------ */

struct sleeper {
    struct ax_future base;
    struct ax_remote_waker *waker; /* in the burst's array, which outlives the task */
    bool armed;
};

static ax_result sleeper_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sleeper *s = (struct sleeper *)self;
    if (s->armed)
        return 0;
    int err = ax_remote_waker_init(s->waker, cx);
    if (err < 0)
        return err;
    s->armed = true;
    return AX_PENDING;
}

static const struct ax_future_ops sleeper_ops = {.poll = sleeper_poll};

static void *wake_all(void *arg)
{
    struct ax_remote_waker *wakers = arg;
    for (int i = 0; i < BATCHED; i++)
        ax_remote_waker_wake(&wakers[i]);
    return NULL;
}

static ax_result finish_at_once(struct ax_future *self, struct ax_context *cx)
{
    (void)self, (void)cx;
    return 0;
}

static const struct ax_future_ops at_once_ops = {.poll = finish_at_once};

static double batched_wake_ns(void)
{
    struct ax_executor *executor = new_executor();
    struct ax_remote_waker *wakers = calloc(BATCHED, sizeof *wakers);
    if (wakers == NULL)
        bench_fail("out of memory");
    for (int i = 0; i < BATCHED; i++) {
        struct sleeper *s = alloc_task(executor, sizeof *s);
        *s = (struct sleeper){.base = {&sleeper_ops}, .waker = &wakers[i]};
        ax_task_detach(ax_task_spawn(&s->base));
    }
    struct ax_future *last = alloc_task(executor, sizeof *last); /* polled after them all */
    *last = (struct ax_future){&at_once_ops};
    run_to_end(executor, ax_task_spawn(last), "arming");
    uint64_t start = ax_now_ns();
    pthread_t thread;
    if (pthread_create(&thread, NULL, wake_all, wakers) != 0)
        bench_fail("cannot start a thread");
    int err = ax_executor_run(executor); /* until every sleeper has been woken */
    uint64_t end = ax_now_ns();
    if (err < 0)
        bench_fail("burst: %s", ax_strerror(err));
    pthread_join(thread, NULL);
    ax_executor_free(executor);
    free(wakers);
    return (double)(end - start) / BATCHED;
}

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "crossing threads: a pool round trip, a remote wake alone and in a burst; and "
               "chapter 08's loop lag, hashing inline and on the pool");
    double roundtrip[ROUNDS], wake[ROUNDS], batched[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        roundtrip[i] = roundtrip_ns();
        wake[i] = remote_wake_ns();
        batched[i] = batched_wake_ns();
    }
    bench_report("pool.roundtrip_ns", median(roundtrip), "ns");
    bench_report("tasks.remote_wake_ns", median(wake), "ns");
    bench_report("tasks.remote_wake_batched_ns", median(batched), "ns");
    bench_relay("loop-lag --tsv");
    return 0;
}
