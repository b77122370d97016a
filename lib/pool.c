//@ 08
/*
 * The thread pool and spawn_blocking; the rules are in ax/pool.h.
 *
 * Two worlds meet here, and each field belongs to one of them. Under the pool's mutex:
 * the queue of jobs waiting for a worker, each job's `taken`, and `stopping`; workers
 * sleep on a condition variable until a job or the shutdown comes. On the loop's thread
 * only: the count of jobs in flight, the futures waiting for room, and each job's
 * `future` and `arrived`. A job crosses from the workers back to the loop through the
 * inbox, whose mutex orders the worker's write of `result` before the loop's read.
 *
 * A job's life: submitted (queued, counted in flight, its post expected), taken by a
 * worker, run, posted; then, on the loop, arrived: the future takes the result, or, if
 * the future was dropped meanwhile, the job drops its arg and goes. A job withdrawn
 * before a worker took it never runs; its expected post is forgotten.
 */
#include "ax/pool.h"
#include "ax/remote.h"
#include "ax/task.h"
#include "executor.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

struct ax__job {
    struct ax_remote done; /* posted by the worker once fn has returned */
    struct ax_list link; /* in the pool's queue while waiting for a worker; under lock */
    bool taken; /* a worker has it, or the shutdown withdrew it; under lock */
    ax_blocking_fn fn;
    void *arg;
    void (*drop_arg)(void *arg);
    ax_result result; /* written by the worker before its post */
    struct ax_pool *pool;
    struct ax_blocking *future; /* loop only: NULL once the future was dropped */
    bool arrived; /* loop only: the result is here */
};

struct ax_pool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or the pool is stopping */
    struct ax_list queue; /* jobs no worker has taken yet; under lock */
    bool stopping; /* under lock */
    struct ax_executor *executor;
    int in_flight, capacity; /* loop only: submitted and not yet arrived; its bound */
    struct ax_list room; /* loop only: futures waiting for room, the first to wait first */
    int workers;
    pthread_t threads[];
};

/* ---- the workers ------------------------------------------------------------------ */

// snippet pool-worker
static void *worker_main(void *arg)
{
    struct ax_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (ax_list_empty(&pool->queue) && !pool->stopping)
            pthread_cond_wait(&pool->work, &pool->lock);
        struct ax_list *node = ax_list_pop_front(&pool->queue);
        if (node == NULL) /* stopping, and nothing left that was not withdrawn */
            break;
        struct ax__job *job = ax_container_of(node, struct ax__job, link);
        job->taken = true;
        pthread_mutex_unlock(&pool->lock);
        job->result = job->fn(job->arg); /* the blocking part, off the loop */
        ax_remote_post(&job->done); /* the job is the loop's again from here */
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}
// end snippet

/* ---- room in the pool -------------------------------------------------------------- */

static bool has_room(const struct ax_pool *pool)
{
    return pool->in_flight < pool->capacity;
}

/* Room appeared (or the first waiter left): the first waiter, if any, may now submit. */
static void wake_first_waiter(struct ax_pool *pool)
{
    if (has_room(pool) && !ax_list_empty(&pool->room))
        ax_waker_wake(&ax_container_of(pool->room.next, struct ax_blocking, room_link)->waker);
}

static void job_finished(struct ax_pool *pool)
{
    pool->in_flight--;
    wake_first_waiter(pool);
}

/* ---- the pool ---------------------------------------------------------------------- */

int ax_pool_new(struct ax_pool **out, struct ax_executor *executor, int workers, int queue_depth)
{
    if (workers < 1 || workers > 256 || queue_depth < 1)
        return -EINVAL;
    struct ax_remote probe; /* opens the inbox now, so a post can never find it missing */
    int err = ax_remote_expect(&probe, executor, NULL);
    if (err < 0)
        return err;
    ax_remote_forget(&probe);
    struct ax_pool *pool = calloc(1, sizeof *pool + (size_t)workers * sizeof pool->threads[0]);
    if (pool == NULL)
        return -ENOMEM;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    ax_list_init(&pool->queue);
    ax_list_init(&pool->room);
    pool->executor = executor;
    pool->capacity = workers + queue_depth;

    sigset_t all, old; /* workers inherit this mask: signals go to the loop's thread */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (; pool->workers < workers; pool->workers++) {
        err = -pthread_create(&pool->threads[pool->workers], NULL, worker_main, pool);
        if (err < 0)
            break;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err < 0) {
        ax_pool_free(pool);
        return err;
    }
    *out = pool;
    return 0;
}

void ax_pool_free(struct ax_pool *pool)
{
    if (pool == NULL)
        return;
    struct ax_list withdrawn;
    ax_list_init(&withdrawn);
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    ax_list_splice_back(&withdrawn, &pool->queue);
    struct ax_list *node;
    ax_list_for_each(node, &withdrawn)
    {
        ax_container_of(node, struct ax__job, link)->taken = true;
    }
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);

    while ((node = ax_list_pop_front(&withdrawn)) != NULL) {
        struct ax__job *job = ax_container_of(node, struct ax__job, link);
        job->result = -ECANCELED;
        ax_remote_post(&job->done); /* arrives like any other: its future learns it */
    }
    for (int i = 0; i < pool->workers; i++)
        pthread_join(pool->threads[i], NULL); /* running work finishes first */
    ax__inbox_drain(pool->executor); /* every job of ours has been posted: take them now */

    while ((node = ax_list_pop_front(&pool->room)) != NULL) {
        struct ax_blocking *waiting = ax_container_of(node, struct ax_blocking, room_link);
        waiting->cancelled = true;
        ax_waker_wake(&waiting->waker);
    }
    if (pool->executor->pool == pool)
        pool->executor->pool = NULL;
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

int ax_executor_pool(struct ax_executor *executor, struct ax_pool **out)
{
    if (executor->pool == NULL) {
        const char *text = getenv("AX_POOL_WORKERS");
        int workers = text != NULL && atoi(text) > 0 ? atoi(text) : AX_POOL_WORKERS;
        int err = ax_pool_new(&executor->pool, executor, workers, AX_POOL_QUEUE_DEPTH);
        if (err < 0)
            return err;
    }
    *out = executor->pool;
    return 0;
}

int ax_pool_in_flight(const struct ax_pool *pool)
{
    return pool->in_flight;
}

/* ---- spawn_blocking ---------------------------------------------------------------- */

static void drop_arg(struct ax__job *job)
{
    if (job->drop_arg != NULL)
        job->drop_arg(job->arg);
}

// snippet pool-arrived
/* On the loop: the worker is done with the job. */
static void job_arrived(struct ax_remote *remote)
{
    struct ax__job *job = ax_container_of(remote, struct ax__job, done);
    job_finished(job->pool);
    if (job->future == NULL) { /* dropped while the work ran: its result goes too */
        drop_arg(job);
        free(job);
        return;
    }
    job->arrived = true;
    ax_waker_wake(&job->future->waker);
}
// end snippet

/* The future's waker wakes the task polling now (a task may be polled by another). */
static void keep_waker(struct ax_blocking *f, const struct ax_context *cx)
{
    if (!ax_waker_wakes(&f->waker, cx)) {
        ax_waker_drop(&f->waker);
        f->waker = ax_waker_clone(cx);
    }
}

static ax_result submit(struct ax_blocking *f, struct ax_context *cx)
{
    struct ax_pool *pool = f->pool;
    struct ax__job *job = malloc(sizeof *job);
    if (job == NULL)
        return -ENOMEM;
    int err = ax_remote_expect(&job->done, pool->executor, job_arrived);
    if (err < 0) {
        free(job);
        return err;
    }
    job->fn = f->fn;
    job->arg = f->arg;
    job->drop_arg = f->drop_arg;
    job->pool = pool;
    job->future = f;
    job->arrived = false;
    job->taken = false;
    keep_waker(f, cx);
    pool->in_flight++;
    f->job = job;
    pthread_mutex_lock(&pool->lock);
    ax_list_push_back(&pool->queue, &job->link);
    pthread_cond_signal(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    return AX_PENDING;
}

static ax_result poll_work(struct ax_blocking *f, struct ax_context *cx)
{
    if (f->job != NULL) {
        struct ax__job *job = f->job;
        if (!job->arrived)
            return AX_PENDING; /* its waker is kept from the submission */
        ax_result result = job->result;
        free(job);
        f->job = NULL;
        return result;
    }
    if (f->cancelled)
        return -ECANCELED;
    if (f->pool == NULL || f->use_own_pool) {
        f->use_own_pool = true;
        int err = ax_executor_pool(cx->executor, &f->pool);
        if (err < 0)
            return err;
    }
    struct ax_pool *pool = f->pool;
    if (pool->executor != cx->executor)
        return -EINVAL; /* its completions would reach another loop */
    bool first_in_line = ax_list_empty(&pool->room) || pool->room.next == &f->room_link;
    if (has_room(pool) && first_in_line) {
        ax_list_remove(&f->room_link);
        ax_result rc = submit(f, cx);
        wake_first_waiter(pool); /* room may be left for the next one */
        return rc;
    }
    if (f->try_only)
        return -EAGAIN;
    if (!ax_list_linked(&f->room_link))
        ax_list_push_back(&pool->room, &f->room_link);
    keep_waker(f, cx);
    return AX_PENDING;
}

static ax_result blocking_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_blocking *f = (struct ax_blocking *)self;
    f->owns_arg = true; /* from the first poll until a result */
    ax_result result = poll_work(f, cx);
    if (result != AX_PENDING)
        f->owns_arg = false; /* the caller's again */
    return result;
}

// snippet blocking-drop
static void blocking_drop(struct ax_future *self)
{
    struct ax_blocking *f = (struct ax_blocking *)self;
    if (ax_list_linked(&f->room_link)) {
        bool was_first = f->pool->room.next == &f->room_link;
        ax_list_remove(&f->room_link);
        if (was_first)
            wake_first_waiter(f->pool);
    }
    struct ax__job *job = f->job;
    f->job = NULL;
    ax_waker_drop(&f->waker);
    if (job == NULL) { /* never submitted: nobody else has arg */
        if (f->owns_arg && f->drop_arg != NULL)
            f->drop_arg(f->arg);
        f->owns_arg = false;
        return;
    }
    if (job->arrived) { /* the result came and nobody took it */
        drop_arg(job);
        free(job);
        return;
    }
    struct ax_pool *pool = job->pool;
    pthread_mutex_lock(&pool->lock);
    bool withdrawn = !job->taken; /* no worker has it: it never runs */
    if (withdrawn)
        ax_list_remove(&job->link);
    pthread_mutex_unlock(&pool->lock);
    if (!withdrawn) {
        job->future = NULL; /* running: job_arrived drops the result when it comes */
        return;
    }
    ax_remote_forget(&job->done);
    job_finished(pool);
    drop_arg(job);
    free(job);
}
// end snippet

static const struct ax_future_ops blocking_ops = {.poll = blocking_poll, .drop = blocking_drop};

void ax_spawn_blocking_init(struct ax_blocking *f, struct ax_pool *pool, ax_blocking_fn fn,
                            void *arg, void (*drop_arg)(void *arg))
{
    *f = (struct ax_blocking){
        .base = {&blocking_ops}, .pool = pool, .fn = fn, .arg = arg, .drop_arg = drop_arg};
    ax_list_init(&f->room_link);
}

void ax_spawn_blocking_try_init(struct ax_blocking *f, struct ax_pool *pool, ax_blocking_fn fn,
                                void *arg, void (*drop_arg)(void *arg))
{
    ax_spawn_blocking_init(f, pool, fn, arg, drop_arg);
    f->try_only = true;
}
