//@ 06
/*
 * cancel: what stopping a parked task costs.
 *
 * 100,000 tasks are spawned and polled once, so that each is parked: as many as the
 * descriptor limit allows on a read of an eventfd nobody writes (a socket's interest in
 * the reactor), the rest on a sleep an hour long (a timer in the wheel). Then every one
 * is aborted through its handle (ax_task_abort, then ax_task_detach), and the time that
 * takes is divided by the tasks:
 *
 *     cancel.abort_ns           per task, over all of them: the future dropped, its
 *                               registration given back, its memory returned to the slab
 *     cancel.abort_ns.io        per task parked on a read: the source's waiter given back,
 *                               and the source closed (deregistered), as a connection's
 *                               task does when it is dropped
 *     cancel.abort_ns.timer     per task parked on a sleep: its timer cancelled
 *     cancel.tasks, cancel.io_tasks     how many in all, and how many parked on I/O
 *
 * The benchmark checks that nothing is left: no task alive, no timer pending.
 */
#include "bench.h"
#include "ax/io.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <sys/eventfd.h>
#include <sys/resource.h>

enum { TASKS = 100000 };

/* A task parked on either a read or a sleep. */
struct parked {
    struct ax_future base;
    struct ax_future *inner;
    struct ax_source *source; /* NULL: parked on the sleep */
    union {
        struct ax_read_future read;
        struct ax_sleep sleep;
    };
    uint64_t buf;
};

static ax_result parked_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(((struct parked *)self)->inner, cx);
}

static void parked_drop(struct ax_future *self)
{
    struct parked *p = (struct parked *)self;
    ax_future_drop(p->inner);
    if (p->source != NULL)
        ax_source_close(p->source);
}

static const struct ax_future_ops parked_ops = {.poll = parked_poll, .drop = parked_drop};

/* How many descriptors I/O tasks may take: the soft limit, raised to the hard one,
 * less some room for the executor and the C library. */
static int io_task_budget(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
        return 0;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    long room = (long)limit.rlim_cur - 64;
    return room <= 0 ? 0 : room < TASKS / 2 ? (int)room : TASKS / 2;
}

static struct ax_task *spawn_parked(struct ax_executor *executor, bool on_io)
{
    struct parked *p = ax_task_alloc(executor, sizeof *p);
    if (p == NULL)
        bench_fail("out of memory");
    *p = (struct parked){.base = {&parked_ops}};
    if (on_io) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            bench_fail("eventfd: %s", strerror(errno));
        int err = ax_source_open(executor, fd, &p->source);
        if (err < 0)
            bench_fail("registering an eventfd: %s", ax_strerror(err));
        ax_read_future_init(&p->read, p->source, &p->buf, sizeof p->buf);
        p->inner = &p->read.base;
    } else {
        ax_sleep_init(&p->sleep, 3600 * AX_NS_PER_S);
        p->inner = &p->sleep.base;
    }
    return ax_task_spawn(&p->base);
}

static ax_result done_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)self, (void)cx;
    return 0;
}

static const struct ax_future_ops done_ops = {.poll = done_poll};

int main(int argc, char **argv)
{
    bench_args(argc, argv, "aborting 100,000 tasks parked on I/O and on timers, per task");
    int io_tasks = io_task_budget();
    struct ax_executor *executor = bench_executor_new();
    static struct ax_task *tasks[TASKS];
    for (int i = 0; i < TASKS; i++)
        tasks[i] = spawn_parked(executor, i < io_tasks);
    /* One more task, spawned last: when it is done, every parked one has been polled. */
    struct ax_future *last = ax_task_alloc(executor, sizeof *last);
    *last = (struct ax_future){&done_ops};
    if (ax_block_on(executor, ax_task_spawn(last)) != 0)
        bench_fail("the tasks did not all park");
    if (ax_executor_timers(executor) != (size_t)(TASKS - io_tasks))
        bench_fail("%zu timers pending, not %d", ax_executor_timers(executor), TASKS - io_tasks);

    uint64_t t0 = ax_now_ns(), t_io = t0;
    for (int i = 0; i < TASKS; i++) {
        if (i == io_tasks)
            t_io = ax_now_ns();
        ax_task_abort(tasks[i]);
        ax_task_detach(tasks[i]);
    }
    uint64_t t1 = ax_now_ns();
    if (ax_executor_tasks(executor) != 0 || ax_executor_timers(executor) != 0)
        bench_fail("%zu tasks and %zu timers left after aborting them all",
                   ax_executor_tasks(executor), ax_executor_timers(executor));
    ax_executor_free(executor);
    bench_report("cancel.tasks", TASKS, "tasks");
    bench_report("cancel.io_tasks", io_tasks, "tasks");
    bench_report("cancel.abort_ns", (double)(t1 - t0) / TASKS, "ns");
    if (io_tasks > 0)
        bench_report("cancel.abort_ns.io", (double)(t_io - t0) / io_tasks, "ns");
    bench_report("cancel.abort_ns.timer", (double)(t1 - t_io) / (TASKS - io_tasks), "ns");
    return 0;
}
