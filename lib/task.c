//@ 04
/* Tasks, wakers and the executor's loop; the rules are in ax/task.h and ax/future.h. */
#include "ax/task.h"
#include "ax/list.h"
#include "ax/reactor.h"
//> 05
#include "ax/clock.h"
//< 05
//> 08
#include "ax/pool.h"
//< 08
#include "executor.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

enum task_state { TASK_NEW, TASK_IDLE, TASK_QUEUED, TASK_RUNNING, TASK_RUNNING_WOKEN, TASK_DONE };

// snippet task-struct
struct ax_task {
    struct ax_task *next; /* the next task in the run queue, while TASK_QUEUED */
    union {
        struct ax_task *joiner; /* until TASK_DONE: the task awaiting this one, if any */
        ax_result result; /* from TASK_DONE on */
    };
    void *output; /* what the future handed over (ax_task_set_output), until taken */
    void (*drop_output)(void *output);
    uint64_t id;
    uint32_t refs; /* executor (until done) + handle + wakers */
    uint8_t state; /* enum task_state */
    //> 06
    bool aborted; /* ax_task_abort: dropped before its next poll, or as this one returns */
    //< 06
    alignas(max_align_t) unsigned char future[]; /* the task's future, in place */
};
// end snippet

static struct ax_future *future_of(struct ax_task *task)
{
    return (struct ax_future *)(void *)task->future;
}

/* The executor a task belongs to: its slab chunk's header says, so the task need not. */
static struct ax_executor *executor_of(const struct ax_task *task)
{
    return ax__slab_owner(task);
}

static void drop_output(struct ax_task *task)
{
    if (task->output != NULL && task->drop_output != NULL)
        task->drop_output(task->output);
    task->output = NULL;
}

static void release(struct ax_task *task)
{
    if (--task->refs > 0)
        return;
    drop_output(task); /* nobody took it */
    ax__slab_free(task);
}

static void enqueue(struct ax_run_queue *queue, struct ax_task *task)
{
    task->state = TASK_QUEUED;
    task->next = NULL;
    if (queue->tail != NULL)
        queue->tail->next = task;
    else
        queue->head = task;
    queue->tail = task;
}

static struct ax_task *dequeue(struct ax_run_queue *queue)
{
    struct ax_task *task = queue->head;
    if (task != NULL && (queue->head = task->next) == NULL)
        queue->tail = NULL;
    return task;
}

/* ---- wakers ---------------------------------------------------------------------- */

struct ax_waker ax_waker_clone(const struct ax_context *cx)
{
    cx->task->refs++;
    return (struct ax_waker){.task = cx->task, .executor = cx->executor};
}

// snippet waker-wake
void ax_waker_wake(const struct ax_waker *waker)
{
    struct ax_task *task = waker->task;
    if (task == NULL)
        return;
    struct ax_executor *executor = waker->executor;
    switch (task->state) {
    case TASK_IDLE: /* woken by a task: more work; by the loop (I/O, a timer): an event */
        enqueue(executor->in_task ? &executor->work : &executor->events, task);
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
    ax_waker_wake(&(struct ax_waker){cx->task, cx->executor}); /* again, after the others */
    return 0;
}
// end snippet

/* ---- tasks ----------------------------------------------------------------------- */

void *ax_task_alloc(struct ax_executor *executor, size_t size)
{
    struct ax_task *task = ax__slab_alloc(&executor->tasks, sizeof *task + size);
    return task == NULL ? NULL : task->future; /* zeroed: TASK_NEW */
}

struct ax_task *ax_task_spawn(struct ax_future *future)
{
    struct ax_task *task = ax_container_of(future, struct ax_task, future);
    struct ax_executor *executor = executor_of(task);
    task->refs = 2; /* the executor's, until done, and the handle's */
    task->id = ++executor->last_id;
    enqueue(&executor->work, task);
    executor->alive++;
    return task;
}

void ax_task_detach(struct ax_task *task)
{
    release(task);
}

uint64_t ax_task_id(const struct ax_task *task)
{
    return task->id;
}

// snippet task-set-output
void ax_task_set_output(struct ax_context *cx, void *output, void (*drop)(void *output))
{
    drop_output(cx->task); /* a second output replaces the first */
    cx->task->output = output;
    cx->task->drop_output = drop;
}
// end snippet

/* The task awaiting this one, as a waker. The header keeps only the task (a reference),
 * to stay small; a join is rare enough to look the executor up in the chunk. */
static struct ax_waker joiner_waker(const struct ax_task *task)
{
    struct ax_task *joiner = task->joiner;
    return (struct ax_waker){joiner, joiner != NULL ? executor_of(joiner) : NULL};
}

/* The task is over, by its own result or because the executor is going away. */
static void finish(struct ax_executor *executor, struct ax_task *task, ax_result result)
{
    task->state = TASK_DONE;
    executor->alive--;
    ax_future_drop(future_of(task));
    struct ax_waker joiner = joiner_waker(task); /* the union's other half takes its place */
    task->result = result;
    ax_wake(&joiner);
    release(task); /* the executor's reference */
}

// snippet run-task
static void run_task(struct ax_executor *executor, struct ax_task *task)
{
    //> 06
    if (task->aborted) { /* aborted while queued: never polled again */
        finish(executor, task, -ECANCELED);
        return;
    }
    //< 06
    task->state = TASK_RUNNING;
    struct ax_context cx = {.task = task, .executor = executor, .budget = executor->coop_budget};
    ax_result result = ax_poll(future_of(task), &cx);
    //> 06
    if (result == AX_PENDING && task->aborted)
        result = -ECANCELED; /* aborted during its own poll: dropped now that it returned */
    //< 06
    if (result != AX_PENDING)
        finish(executor, task, result);
    else if (task->state == TASK_RUNNING_WOKEN)
        enqueue(&executor->work, task); /* woken during its own poll: back of the line */
    else
        task->state = TASK_IDLE; /* parked until a waker fires */
}
// end snippet

//> 06
// snippet task-abort
void ax_task_abort(struct ax_task *task)
{
    switch (task->state) {
    case TASK_IDLE: /* parked: dropped now, which gives back whatever it waits on */
        finish(executor_of(task), task, -ECANCELED);
        break;
    case TASK_QUEUED: /* in the run queue, which only the executor may unlink from */
    case TASK_RUNNING: /* being polled: its future must not be dropped under the poll */
    case TASK_RUNNING_WOKEN:
        task->aborted = true; /* run_task drops it at its turn, or as this poll returns */
        break;
    default: /* done already, its result kept: nothing to stop */
        break;
    }
}
// end snippet
//< 06

/* Moves a finished task's output to *output (NULL: leave it, to be dropped with the
 * task), then gives the handle back. */
static ax_result take_result(struct ax_task *task, void **output)
{
    ax_result result = task->result;
    if (output != NULL) {
        *output = task->output;
        task->output = NULL;
    }
    release(task); /* the handle */
    return result;
}

/* ---- join -------------------------------------------------------------------------- */

static ax_result join_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_join *join = (struct ax_join *)self;
    struct ax_task *task = join->task;
    if (task == NULL)
        return -EINVAL; /* polled after it finished */
    if (task->state == TASK_DONE) {
        join->task = NULL;
        return take_result(task, join->output);
    }
    if (task->joiner != cx->task) {
        struct ax_waker old = joiner_waker(task);
        ax_waker_drop(&old);
        task->joiner = ax_waker_clone(cx).task; /* a reference, kept without its executor */
    }
    return AX_PENDING;
}

static void join_drop(struct ax_future *self)
{
    struct ax_join *join = (struct ax_join *)self;
    struct ax_task *task = join->task;
    if (task == NULL)
        return;
    if (task->state != TASK_DONE) { /* once done, that half of the union is the result */
        struct ax_waker joiner = joiner_waker(task);
        ax_waker_drop(&joiner);
        task->joiner = NULL; /* its end must not wake a joiner that may be gone */
    }
    release(task);
    join->task = NULL;
}

static const struct ax_future_ops join_ops = {.poll = join_poll, .drop = join_drop};

void ax_join_init(struct ax_join *join, struct ax_task *task)
{
    ax_join_init_output(join, task, NULL);
}

void ax_join_init_output(struct ax_join *join, struct ax_task *task, void **output)
{
    *join = (struct ax_join){.base = {&join_ops}, .task = task, .output = output};
    if (output != NULL)
        *output = NULL;
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
    ax__slab_init(&executor->tasks, executor);
    executor->coop_budget = AX_COOP_BUDGET;
    //> 05
    executor->now = ax_now_ns();
    ax_wheel_init(&executor->timers, executor->now);
    //< 05
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

/* For ax_executor_free's passes over the slab. */
static void cancel_unfinished(void *block, void *found)
{
    struct ax_task *task = block;
    if (task->state != TASK_NEW && task->state != TASK_DONE) {
        finish(executor_of(task), task, -ECANCELED);
        *(bool *)found = true;
    }
}

static void drop_leftover_output(void *block, void *unused)
{
    (void)unused;
    drop_output(block);
}

void ax_executor_free(struct ax_executor *executor)
{
    if (executor == NULL)
        return;
    executor->events = executor->work = (struct ax_run_queue){NULL, NULL};
    /* Dropping one future may wake, finish or even spawn others: go round until a pass
     * finds nothing left to cancel. */
    for (bool found = true; found;) {
        found = false;
        ax__slab_visit(&executor->tasks, cancel_unfinished, &found);
    }
    //> 08
    ax_pool_free(executor->pool); /* its queued work withdrawn, its running work waited for */
    ax__inbox_free(executor); /* and every other thread's work still under way */
    //< 08
    ax__slab_visit(&executor->tasks, drop_leftover_output, NULL); /* references still held */
    ax__slab_destroy(&executor->tasks);
    //> 05
    ax_wheel_clear(&executor->timers); /* what is still armed belongs to no task */
    if (executor->paused)
        ax_clock_set(NULL, NULL); /* back to the real clock */
    //< 05
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

// snippet next-ready
/* The next task to poll. Tasks woken by the loop (their I/O, a timer, another thread's
 * post) come first: the world outside the program is answered before more of its own
 * work is done, so a burst of spawns cannot make a task whose timer fired wait behind
 * it. The first poll of each turn comes from the work all the same, so that no flood
 * of events can keep a new task from ever starting. */
static struct ax_task *next_ready(struct ax_executor *executor, int polled)
{
    struct ax_task *task = polled == 0 ? dequeue(&executor->work) : NULL;
    if (task == NULL)
        task = dequeue(&executor->events);
    return task != NULL ? task : dequeue(&executor->work);
}
// end snippet

/* Phase 1: poll the tasks that are ready, at most a budget's worth, so that a task
 * that keeps waking itself cannot keep the loop from looking at I/O. */
static void run_ready_tasks(struct ax_executor *executor)
{
    for (int polled = 0; polled < AX_EVENT_INTERVAL; polled++) {
        struct ax_task *task = next_ready(executor, polled);
        if (task == NULL)
            return;
        executor->in_task = true; /* what it wakes is work the tasks made */
        run_task(executor, task);
        executor->in_task = false;
    }
}

/* Phase 2: collect I/O readiness, which wakes the tasks waiting for it. Block only
 * when no task is ready to run. */
static int poll_io(struct ax_executor *executor)
{
    bool idle = ax__nothing_ready(executor);
    /* A source registered for good but waited on by nobody can wake nobody. */
    size_t wakers = executor->io_waiters + (size_t)ax_reactor_watching(executor->reactor) -
                    executor->edge_sources;
    //> 08
    wakers += executor->remote_expected; /* work on other threads, which will wake a task */
    //< 08
    //> 04..05
    //| if (wakers == 0) /* no I/O that could wake a task */
    //|     return idle ? -EDEADLK : 0; /* idle: every task waits, and nothing can wake one */
    //| int rc = ax_reactor_run_once(executor->reactor, idle ? -1 : 0);
    //< 04
    //> 05
    bool time_may_jump = idle && executor->paused && executor->timers.count > 0;
    //< 05
    //> 08
    time_may_jump &= executor->remote_expected == 0; /* other threads' work takes real time */
    //< 08
    //> 05
    if (time_may_jump)
        return ax__skip_to_next_timer(executor, wakers > 0); /* virtual time: no waiting */
    int64_t timeout = idle ? ax__time_to_next_timer(executor) : 0; /* -1: no timer */
    if (wakers == 0 && (timeout < 0 || !idle)) /* no I/O, and no timer if idle */
        return idle ? -EDEADLK : 0; /* idle: every task waits, and nothing can wake one */
    int rc = ax_reactor_run_once(executor->reactor, timeout); /* until I/O or the timer */
    //< 05
    return rc < 0 ? rc : 0;
}

// snippet executor-loop
static int run_until(struct ax_executor *executor, struct ax_task *until)
{
    while (until != NULL ? until->state != TASK_DONE : executor->alive > 0) {
        //> 05
        ax__run_timers(executor);
        //< 05
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
    return ax_block_on_output(executor, task, NULL);
}

ax_result ax_block_on_output(struct ax_executor *executor, struct ax_task *task, void **output)
{
    if (output != NULL)
        *output = NULL;
    int err = run_until(executor, task);
    if (err < 0) {
        ax_task_detach(task);
        return err;
    }
    return take_result(task, output);
}
