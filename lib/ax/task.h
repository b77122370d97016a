//@ 04
/*
 * Tasks and the executor: the part of the runtime that decides which future to poll.
 *
 * A task is one top-level future plus what the executor needs to run it: a place in
 * the run queue, its state, its result and output, and a reference count. Its future
 * is stored inside the task's own block of the executor's task slab (lib/slab.h), made
 * once by ax_task_alloc; the task never moves
 * and is freed only when the last reference goes, so a pending future may safely hold
 * pointers into itself and hand them to wakers and registrations (what Rust's Pin
 * promises, enforced here by construction).
 *
 * The executor owns a FIFO run queue of tasks that were woken and a reactor for I/O.
 * One thread runs it: tasks, wakers and the reactor are used from that thread only.
 *
 * References to a task: the executor holds one until the task finishes; the handle
 * returned by ax_task_spawn is one (give it back with ax_join or ax_task_detach); each
 * waker is one. Task states:
 *
 *     idle --wake--> queued --poll--> running --pending--> idle
 *                                        |  \--woken while running--> queued
 *                                        \--result--> done (future dropped)
 *
 * Waking a queued task does nothing (it is queued once); waking a running task marks
 * it to be queued again after its poll, so a wake that arrives before the poll
 * returns AX_PENDING is not lost; waking a done task does nothing.
 */
#ifndef AX_TASK_H
#define AX_TASK_H

#include "ax/future.h"

#include <stddef.h>
#include <stdint.h>

struct ax_executor;
struct ax_reactor;

/* An executor with its own reactor on the named backend (NULL: the default). */
int ax_executor_new(struct ax_executor **out, const char *backend);

/* An executor whose reactor runs on a backend the caller provides (ax/backend.h). */
struct ax_backend;
int ax_executor_new_with(struct ax_executor **out, const struct ax_backend *backend);

/* Drops every task that has not finished (each future's drop runs once), then frees
 * the executor and the memory of every task. Handles still held become invalid;
 * valgrind reports each task whose references were not all given back (a handle never
 * joined or detached, a waker never dropped) as leaked. */
void ax_executor_free(struct ax_executor *executor);

struct ax_reactor *ax_executor_reactor(struct ax_executor *executor);

/* Tasks not yet finished. */
size_t ax_executor_tasks(const struct ax_executor *executor);

/* Storage for a future of `size` bytes inside a new task (zeroed). Initialise the
 * future there, then start it with ax_task_spawn. NULL when out of memory. */
void *ax_task_alloc(struct ax_executor *executor, size_t size);

/* Queues the task whose storage holds `future` and returns its handle. */
struct ax_task *ax_task_spawn(struct ax_future *future);

/* Gives up a handle: the task runs on, and nobody will read its result. */
void ax_task_detach(struct ax_task *task);

/* The task's number, unique within its executor: 1 for the first task spawned. */
uint64_t ax_task_id(const struct ax_task *task);
//> 06

/*
 * Stops a task through its handle: its future is dropped at its next suspension
 * point, which releases everything it was waiting on (a socket's interest, a timer, a
 * place in an event's or a token's list), and its result becomes -ECANCELED, which a
 * join then returns. A parked task is dropped at once; a queued one when its turn
 * comes, without being polled; one being polled (a task aborting itself, or aborted by
 * a future it polls) when that poll returns, unless the poll finished it with a result,
 * which then stands. Aborting a finished task does nothing. The handle is still the
 * caller's and must be given back as usual (join or detach).
 */
void ax_task_abort(struct ax_task *task);
//< 06

/*
 * A task's output: more than a result. A future calls this while its task polls it,
 * usually just before it returns its result, to hand `output` (a page it fetched, a
 * struct of findings) to whoever joins the task. The task owns it until then; if
 * nobody takes it (a detached task, a join that asked for the result only), the task
 * calls drop(output) when its memory goes. A second call drops the first output.
 */
void ax_task_set_output(struct ax_context *cx, void *output, void (*drop)(void *output));

/* A future that waits for a task to finish, returns its result and gives the handle
 * back; if dropped before that, it gives the handle back anyway. With an output slot,
 * it also moves the task's output (NULL if it set none) to *output when it finishes:
 * the caller owns it from then on. */
struct ax_join {
    struct ax_future base;
    struct ax_task *task;
    void **output;
};

void ax_join_init(struct ax_join *join, struct ax_task *task);
void ax_join_init_output(struct ax_join *join, struct ax_task *task, void **output);

/* Runs the executor until the task finishes; returns its result and gives the handle
 * back. -EDEADLK if every remaining task is waiting and nothing can wake them. The
 * second form moves the task's output to *output, as a join does. */
ax_result ax_block_on(struct ax_executor *executor, struct ax_task *task);
ax_result ax_block_on_output(struct ax_executor *executor, struct ax_task *task, void **output);

/* Runs until no task is left. 0, or -EDEADLK as above, or a reactor error. */
int ax_executor_run(struct ax_executor *executor);

/* How many tasks the executor polls before it looks at I/O again. */
#define AX_EVENT_INTERVAL 64

/* How many I/O operations one poll of a task may do before ax_coop_proceed makes it
 * yield: the cooperative budget. */
#define AX_COOP_BUDGET 128

/* Sets the cooperative budget (0: no limit, which only a measurement of what the
 * budget prevents should want). */
void ax_executor_set_coop_budget(struct ax_executor *executor, int operations);

#endif
