//@ 04
/*
 * Futures: a computation that finishes later, advanced by being polled.
 *
 * A future is a struct whose first member is `struct ax_future`, a pointer to its
 * operations. Polling it asks "can you make progress now?". It either finishes and
 * returns its result, or returns AX_PENDING after arranging to be woken, through the
 * waker in the context, when polling again could get further. Nothing runs a future
 * but its poller: there are no threads and no callbacks hidden inside it, which is
 * what makes futures cheap enough to have a million of them.
 *
 * Results follow the library's convention, widened to 64 bits: a value >= 0, or a
 * negative errno value. AX_PENDING, the most negative int64_t, is neither.
 *
 * The rules, which every future in the library keeps and the tests check:
 *  1. A future that returns AX_PENDING has stored a waker (ax_waker_clone) and will
 *     wake it when it is worth polling again. Returning AX_PENDING without that
 *     leaves the task asleep forever.
 *  2. Once a future has returned a result it is not polled again.
 *  3. drop releases what the future holds (memory, registered interest, wakers). It
 *     runs exactly once, whether the future finished or was abandoned while pending,
 *     and after it nothing the future registered can fire.
 *  4. A future does not move while it is pending: wakers and registrations may point
 *     into it. Tasks guarantee this by allocating their future once, in place.
 */
#ifndef AX_FUTURE_H
#define AX_FUTURE_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t ax_result;
#define AX_PENDING INT64_MIN

struct ax_future;
struct ax_context;
struct ax_executor;

struct ax_future_ops {
    ax_result (*poll)(struct ax_future *self, struct ax_context *cx);
    void (*drop)(struct ax_future *self); /* may be NULL: nothing to release */
};

struct ax_future {
    const struct ax_future_ops *ops;
};

static inline ax_result ax_poll(struct ax_future *future, struct ax_context *cx)
{
    return future->ops->poll(future, cx);
}

static inline void ax_future_drop(struct ax_future *future)
{
    if (future->ops->drop != NULL)
        future->ops->drop(future);
}

/*
 * A waker wakes one task: it asks the executor to poll that task again. It is a
 * counted reference to the task, so it stays valid after the poll that produced it,
 * even after the task has finished (waking a finished task does nothing). Every
 * ax_waker_clone is balanced by one ax_waker_drop, or by ax_wake, which wakes and
 * drops in one step.
 */
struct ax_task;
struct ax_executor;
struct ax_waker {
    struct ax_task *task; /* NULL: an empty waker; waking or dropping it does nothing */
    struct ax_executor *executor; /* whose run queue the task goes back to */
};

/* What a poll is given: which task is polling, through it the executor, and how many
 * more I/O operations this poll of the task may do (ax_coop_proceed). */
struct ax_context {
    struct ax_task *task;
    struct ax_executor *executor;
    int budget;
};

struct ax_waker ax_waker_clone(const struct ax_context *cx);
void ax_waker_wake(const struct ax_waker *waker); /* wake, keep the reference */
void ax_waker_drop(struct ax_waker *waker); /* release the reference */
void ax_wake(struct ax_waker *waker); /* wake, then release */

/* The cooperative budget. A future about to do an operation that would succeed at once
 * asks first: true means go ahead (one operation is counted); false means the task has
 * done its share for this poll, has been woken to run again after the other ready
 * tasks, and the future must return AX_PENDING. Without it, a task whose socket is
 * always ready would never return pending, and nothing else would run. */
int ax_coop_proceed(struct ax_context *cx);

/* True when `waker` would wake the task polling in cx: lets a future skip cloning a
 * waker it already holds. */
static inline int ax_waker_wakes(const struct ax_waker *waker, const struct ax_context *cx)
{
    return waker->task == cx->task;
}

#endif
