//@ 08
/*
 * A thread pool beside the loop, for work that cannot be made asynchronous.
 *
 * Some work blocks a thread whatever we do: reading a file (the kernel reports a
 * regular file always ready, then makes read wait for the disk), getaddrinfo, a
 * library call that was never meant for an event loop, and CPU-heavy computation,
 * which blocks the loop simply by running on it. Each would stall every task behind
 * it. The answer of libuv, Node and tokio alike is a pool of threads beside the loop:
 * the task hands the work over and waits for it like for any other future, and the
 * loop goes on serving everybody else.
 *
 * The pool has a fixed number of workers and a bounded queue. A job is submitted on
 * the loop's thread, runs on a worker, and comes back through the executor's inbox
 * (ax/remote.h): the worker posts the finished job, and the loop, on its own thread,
 * wakes the task that waits for it. At most `workers + queue_depth` jobs are in flight
 * (queued, running, or finished and not yet back on the loop); a submission beyond
 * that waits for room, as a bounded channel's sender does, in the order the waits
 * began, or fails at once with -EAGAIN from the try variant. That is backpressure: a
 * loop that can submit faster than the workers finish does not queue without limit.
 *
 * ax_spawn_blocking_init makes the future: fn(arg) runs on a worker and its result
 * (a value >= 0 or -errno) is the future's. The work owns arg from the first poll; arg
 * is the caller's again when the future returns its result.
 *
 * Cancellation. Dropping the future cannot stop a function a worker is running: C has
 * no safe way to interrupt a thread in the middle of a call. So, as with tokio's
 * spawn_blocking, the work goes on, and its result is dropped when it arrives: the pool
 * calls drop_arg(arg) on the loop's thread then (if drop_arg is not NULL), and not
 * before, since the worker may be using arg until it returns. Work that no worker has
 * started yet is withdrawn at once instead, and never runs (tokio's abort does the
 * same). Work must therefore own everything it touches: memory the caller may free
 * after dropping the future must not be in arg's reach (see ax/file.h, which copies).
 *
 * Shutdown. ax_pool_free, on the loop's thread, withdraws what is still queued (each
 * such future finishes with -ECANCELED, as do futures waiting for room), lets running
 * work finish, joins the workers, and hands every completion to the loop before the
 * memory goes. Free a pool before its executor. The executor's own pool
 * (ax_executor_pool) is freed by ax_executor_free, after its tasks are dropped.
 *
 * Workers start with every signal blocked, so a signal meant for the loop (chapter 06's
 * signalfd or self-pipe) is never delivered to a worker.
 */
#ifndef AX_POOL_H
#define AX_POOL_H

#include "ax/future.h"
#include "ax/list.h"

#include <stdbool.h>
#include <stdint.h>

struct ax_executor;
struct ax_pool;
struct ax__job;

/* Workers and queue depth of the executor's own pool; AX_POOL_WORKERS overrides the
 * first (libuv's UV_THREADPOOL_SIZE is 4 too). */
#define AX_POOL_WORKERS     4
#define AX_POOL_QUEUE_DEPTH 256

/* A pool whose jobs complete on executor's loop, with `workers` threads (1..256) and
 * room for queue_depth (>= 1) jobs waiting for one. 0, -EINVAL, -ENOMEM, or what
 * pthread_create said (-EAGAIN). On the loop's thread. */
int ax_pool_new(struct ax_pool **out, struct ax_executor *executor, int workers, int queue_depth);

/* Shuts the pool down as described above; NULL does nothing. On the loop's thread. */
void ax_pool_free(struct ax_pool *pool);

/* The executor's own pool, made on first use: 0 and *out, or ax_pool_new's error. */
int ax_executor_pool(struct ax_executor *executor, struct ax_pool **out);

/* Jobs submitted and not yet back on the loop. */
int ax_pool_in_flight(const struct ax_pool *pool);

typedef ax_result (*ax_blocking_fn)(void *arg);

/* The future of fn(arg) run on a pool. */
struct ax_blocking {
    struct ax_future base;
    struct ax_pool *pool; /* NULL until the first poll: the executor's own */
    ax_blocking_fn fn;
    void *arg;
    void (*drop_arg)(void *arg);
    bool try_only; /* a full pool is -EAGAIN, not a wait */
    bool use_own_pool; /* pool was NULL at init: the polling executor's own pool */
    bool cancelled; /* the pool shut down while this waited for room */
    bool owns_arg; /* polled, and no result yet: arg is the work's */
    struct ax__job *job; /* submitted: until the result is handed over or dropped */
    struct ax_list room_link; /* waiting for room in the pool */
    struct ax_waker waker;
};

/* Runs fn(arg) on `pool` (NULL: the polling executor's own pool). Its result, or
 * -ECANCELED when the pool shut down first, or -ENOMEM. */
void ax_spawn_blocking_init(struct ax_blocking *f, struct ax_pool *pool, ax_blocking_fn fn,
                            void *arg, void (*drop_arg)(void *arg));

/* The same, except that a pool with no room makes the first poll return -EAGAIN
 * (arg stays the caller's) instead of waiting. */
void ax_spawn_blocking_try_init(struct ax_blocking *f, struct ax_pool *pool, ax_blocking_fn fn,
                                void *arg, void (*drop_arg)(void *arg));

#endif
