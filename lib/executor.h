//@ 04
/*
 * Inside the executor: its state, shared by the files that implement it (task.c runs
 * tasks, source.c counts the futures parked on sockets). Not part of the public API.
 */
#ifndef AX_EXECUTOR_INTERNAL_H
#define AX_EXECUTOR_INTERNAL_H

#include "ax/future.h"
//> 05
#include "ax/wheel.h"
//< 05
#include "slab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ax_run_queue {
    struct ax_task *head, *tail; /* linked through the tasks: polled in the order queued */
};

struct ax_executor {
    struct ax_reactor *reactor;
    struct ax_run_queue events; /* tasks woken by the loop: their I/O, a timer, a post */
    struct ax_run_queue work; /* new tasks, and tasks woken by a task: after those */
    bool in_task; /* a task is being run: a wake now comes from a task */
    struct ax__slab tasks; /* every task's memory: the slab can visit them all */
    size_t alive; /* tasks spawned and not done */
    uint64_t last_id;
    int coop_budget; /* I/O operations per task poll; -1: no limit */
    size_t io_waiters; /* futures parked on sources (source.c) */
    size_t edge_sources; /* sources registered for good, waited on or not */
    //> 05
    struct ax_wheel timers; /* sleeps and timeouts (timer.c) */
    uint64_t now; /* the clock, read once per turn of the loop */
    bool paused; /* virtual time: the clock moves only when told to, or when idle */
    uint64_t virtual_now;
    //< 05
    //> 08
    struct ax__inbox *inbox; /* other threads' posts, made on first use (inbox.c) */
    size_t remote_expected; /* posts expected from other threads: they will wake tasks */
    struct ax_pool *pool; /* the executor's own thread pool, made on first use (pool.c) */
    //< 08
};

/* No task is waiting for its poll. */
static inline bool ax__nothing_ready(const struct ax_executor *executor)
{
    return executor->events.head == NULL && executor->work.head == NULL;
}
//> 05

/* The loop's timer phase: reads the clock and fires what is due (timer.c). */
void ax__run_timers(struct ax_executor *executor);

/* How long the loop may wait for I/O before the next timer is due: ns, or -1 when no
 * timer is pending. */
int64_t ax__time_to_next_timer(struct ax_executor *executor);

/* Virtual time with nothing to do: one look at I/O (if look_at_io), then, if no task is
 * ready, the clock jumps to the next timer. 0 or -errno. */
int ax__skip_to_next_timer(struct ax_executor *executor, bool look_at_io);
//< 05
//> 08

/* Runs what other threads have posted so far, on the loop's thread (inbox.c). */
void ax__inbox_drain(struct ax_executor *executor);

/* For ax_executor_free: waits for every expected post, then closes the inbox. */
void ax__inbox_free(struct ax_executor *executor);
//< 08

#endif
