//@ 04
/* Tasks, wakers and the executor's loop; the rules are in ax/task.h and ax/future.h. */
#include "ax/task.h"
#include "ax/list.h"
#include "ax/reactor.h"
#include "executor.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

enum task_state { TASK_IDLE, TASK_QUEUED, TASK_RUNNING, TASK_RUNNING_WOKEN, TASK_DONE };

// snippet task-struct
struct ax_task {
    struct ax_list queued; /* in the run queue while TASK_QUEUED */
    struct ax_list alive; /* in the executor's task list until done */
    struct ax_executor *executor;
    ax_result result; /* valid once TASK_DONE */
    struct ax_waker joiner; /* the task awaiting this one's result, if any */
    uint32_t refs; /* executor (until done) + handle + wakers */
    uint8_t state; /* enum task_state */
    alignas(max_align_t) unsigned char future[]; /* the task's future, in place */
};
// end snippet

static struct ax_future *future_of(struct ax_task *task)
{
    return (struct ax_future *)(void *)task->future;
}

static void release(struct ax_task *task)
{
    if (--task->refs == 0)
        free(task);
}

/* ---- wakers ---------------------------------------------------------------------- */

struct ax_waker ax_waker_clone(const struct ax_context *cx)
{
    cx->task->refs++;
    return (struct ax_waker){.task = cx->task};
}

// snippet waker-wake
void ax_waker_wake(const struct ax_waker *waker)
{
    struct ax_task *task = waker->task;
    if (task == NULL)
        return;
    switch (task->state) {
    case TASK_IDLE:
        task->state = TASK_QUEUED;
        ax_list_push_back(&task->executor->run_queue, &task->queued);
        break;
    case TASK_RUNNING:
        task->state = TASK_RUNNING_WOKEN; /* queued again when its poll returns */
        break;
    default:
        break; /* already queued, already marked, or done: once is enough */
    }
}
// end snippet

void ax_waker_drop(struct ax_waker *waker)
{
    if (waker->task != NULL)
        release(waker->task);
    waker->task = NULL;
}

void ax_wake(struct ax_waker *waker)
{
    ax_waker_wake(waker);
    ax_waker_drop(waker);
}

// snippet coop-proceed
int ax_coop_proceed(struct ax_context *cx)
{
    if (cx->budget != 0) {
        cx->budget -= cx->budget > 0; /* -1: no limit */
        return 1;
    }
    ax_waker_wake(&(struct ax_waker){.task = cx->task}); /* again, after the others */
    return 0;
}
// end snippet

/* ---- tasks ----------------------------------------------------------------------- */

void *ax_task_alloc(struct ax_executor *executor, size_t size)
{
    struct ax_task *task = calloc(1, sizeof *task + size);
    if (task == NULL)
        return NULL;
    task->executor = executor;
    ax_list_init(&task->queued);
    ax_list_init(&task->alive);
    return task->future;
}

struct ax_task *ax_task_spawn(struct ax_future *future)
{
    struct ax_task *task = ax_container_of(future, struct ax_task, future);
    struct ax_executor *executor = task->executor;
    task->refs = 2; /* the executor's, until done, and the handle's */
    task->state = TASK_QUEUED;
    ax_list_push_back(&executor->run_queue, &task->queued);
    ax_list_push_back(&executor->tasks, &task->alive);
    executor->alive++;
    return task;
}

void ax_task_detach(struct ax_task *task)
{
    release(task);
}

/* The task is over, by its own result or because the executor is going away. */
static void finish(struct ax_task *task, ax_result result)
{
    task->result = result;
    task->state = TASK_DONE;
    ax_list_remove(&task->queued);
    ax_list_remove(&task->alive);
    task->executor->alive--;
    ax_future_drop(future_of(task));
    ax_wake(&task->joiner);
    release(task); /* the executor's reference */
}

// snippet run-task
static void run_task(struct ax_task *task)
{
    task->state = TASK_RUNNING;
    struct ax_context cx = {
        .task = task, .executor = task->executor, .budget = task->executor->coop_budget};
    ax_result result = ax_poll(future_of(task), &cx);
    if (result != AX_PENDING) {
        finish(task, result);
    } else if (task->state == TASK_RUNNING_WOKEN) {
        task->state = TASK_QUEUED; /* woken during its own poll: back of the queue */
        ax_list_push_back(&task->executor->run_queue, &task->queued);
    } else {
        task->state = TASK_IDLE; /* parked until a waker fires */
    }
}
// end snippet

/* ---- join -------------------------------------------------------------------------- */

static ax_result join_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_join *join = (struct ax_join *)self;
    struct ax_task *task = join->task;
    if (task->state == TASK_DONE) {
        ax_result result = task->result;
        join->task = NULL;
        release(task); /* the handle */
        return result;
    }
    if (!ax_waker_wakes(&task->joiner, cx)) {
        ax_waker_drop(&task->joiner);
        task->joiner = ax_waker_clone(cx);
    }
    return AX_PENDING;
}

static void join_drop(struct ax_future *self)
{
    struct ax_join *join = (struct ax_join *)self;
    if (join->task == NULL)
        return;
    ax_waker_drop(&join->task->joiner);
    release(join->task);
    join->task = NULL;
}

static const struct ax_future_ops join_ops = {.poll = join_poll, .drop = join_drop};

void ax_join_init(struct ax_join *join, struct ax_task *task)
{
    *join = (struct ax_join){.base = {&join_ops}, .task = task};
}

/* ---- the executor ---------------------------------------------------------------- */

/* Builds an executor around its new reactor. */
static int executor_new(struct ax_executor **out, struct ax_reactor *reactor)
{
    struct ax_executor *executor = calloc(1, sizeof *executor);
    if (executor == NULL) {
        ax_reactor_free(reactor);
        return -ENOMEM;
    }
    executor->reactor = reactor;
    ax_list_init(&executor->run_queue);
    ax_list_init(&executor->tasks);
    executor->coop_budget = AX_COOP_BUDGET;
    *out = executor;
    return 0;
}

int ax_executor_new(struct ax_executor **out, const char *backend)
{
    struct ax_reactor *reactor;
    int err = ax_reactor_new(&reactor, backend);
    return err < 0 ? err : executor_new(out, reactor);
}

int ax_executor_new_with(struct ax_executor **out, const struct ax_backend *backend)
{
    struct ax_reactor *reactor;
    int err = ax_reactor_new_with(&reactor, backend);
    return err < 0 ? err : executor_new(out, reactor);
}

void ax_executor_free(struct ax_executor *executor)
{
    if (executor == NULL)
        return;
    /* Dropping one future may wake or finish others; take them one at a time. */
    while (!ax_list_empty(&executor->tasks)) {
        struct ax_task *task = ax_container_of(executor->tasks.next, struct ax_task, alive);
        finish(task, -ECANCELED);
    }
    ax_reactor_free(executor->reactor);
    free(executor);
}

void ax_executor_set_coop_budget(struct ax_executor *executor, int operations)
{
    executor->coop_budget = operations > 0 ? operations : -1;
}

struct ax_reactor *ax_executor_reactor(struct ax_executor *executor)
{
    return executor->reactor;
}

size_t ax_executor_tasks(const struct ax_executor *executor)
{
    return executor->alive;
}

/* Phase 1: poll the tasks that were woken, at most a budget's worth, so that a task
 * that keeps waking itself cannot keep the loop from looking at I/O. */
static void run_ready_tasks(struct ax_executor *executor)
{
    for (int polled = 0; polled < AX_EVENT_INTERVAL; polled++) {
        struct ax_list *node = ax_list_pop_front(&executor->run_queue);
        if (node == NULL)
            return;
        run_task(ax_container_of(node, struct ax_task, queued));
    }
}

/* Phase 2: collect I/O readiness, which wakes the tasks waiting for it. Block only
 * when no task is ready to run. */
static int poll_io(struct ax_executor *executor)
{
    bool idle = ax_list_empty(&executor->run_queue);
    /* A source registered for good but waited on by nobody can wake nobody. */
    size_t wakers = executor->io_waiters + (size_t)ax_reactor_watching(executor->reactor) -
                    executor->edge_sources;
    if (wakers == 0) /* no I/O that could wake a task */
        return idle ? -EDEADLK : 0; /* idle: every task waits, and nothing can wake one */
    int rc = ax_reactor_run_once(executor->reactor, idle ? -1 : 0);
    return rc < 0 ? rc : 0;
}

// snippet executor-loop
static int run_until(struct ax_executor *executor, struct ax_task *until)
{
    while (until != NULL ? until->state != TASK_DONE : executor->alive > 0) {
        run_ready_tasks(executor);
        if (until != NULL ? until->state == TASK_DONE : executor->alive == 0)
            break;
        int err = poll_io(executor);
        if (err < 0)
            return err;
    }
    return 0;
}
// end snippet

int ax_executor_run(struct ax_executor *executor)
{
    return run_until(executor, NULL);
}

ax_result ax_block_on(struct ax_executor *executor, struct ax_task *task)
{
    int err = run_until(executor, task);
    if (err < 0) {
        ax_task_detach(task);
        return err;
    }
    ax_result result = task->result;
    release(task); /* the handle */
    return result;
}
