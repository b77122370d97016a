/* Exercise 07-fetch-limited. Read chapter 07, section #semaphore, first. */
#include "fetch_limited.h"

#include "ax/task.h"

#include <errno.h>

/* ---- a request's task: partly given -------------------------------------------------- */

/* One request in a task of its own, holding one permit of the shared semaphore. Its
 * task may be dropped after the fetch is gone (a scope aborts a queued child at its
 * turn), so its drop touches only what outlives the fetch: the semaphore. */
struct worker {
    struct ax_future base;
    struct ax_sem *limit;
    bool holds_permit;
    bool running; /* the request is made and not yet dropped */
    ax_result *result;
    struct ax_future *request;
    max_align_t storage[]; /* the request, service->request_size bytes */
};

/* The end of a request's task, however it ends: it finished (from worker_poll) or it
 * was dropped (worker_drop, perhaps after the fetch is gone). */
static void worker_finish(struct worker *w)
{
    /* TODO: drop the request if it is still running, and give the permit back to
     * w->limit if it is still held (rule 3; chapter 07, #semaphore). Clear both flags:
     * this runs once from the poll and once more from the drop. */
    (void)w;
}

static ax_result worker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct worker *w = (struct worker *)self;
    ax_result rc = ax_poll(w->request, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    *w->result = rc;
    worker_finish(w);
    return 0; /* an error is the request's, not the scope's: the others go on */
}

static void worker_drop(struct ax_future *self)
{
    worker_finish((struct worker *)self);
}

static const struct ax_future_ops worker_ops = {.poll = worker_poll, .drop = worker_drop};

/* ---- the fetch: your work ------------------------------------------------------------ */

static ax_result fetch_all_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: the first poll makes the scope and its wait (ax_scope_new, ax_scope_wait_init).
     * Then, while requests remain: acquire one permit (an ax_sem_acquire in f->acquire,
     * kept across polls), and only once it is held make the request's task: a struct
     * worker from ax_task_alloc with room for service->request_size more bytes, the
     * request made in its storage, the permit marked as the worker's, spawned into the
     * scope (rule 1; chapter 07, #semaphore). When every request has started, poll the
     * wait; when it finishes, give back the acquire, the wait and the scope, and finish
     * with 0, or the first -ENOMEM (rule 4). */
    (void)self;
    (void)cx;
    (void)worker_ops; /* yours to use */
    return -ENOSYS;
}

static void fetch_all_drop(struct ax_future *self)
{
    /* TODO: give back what the poll holds: the acquire if one is waiting (a permit
     * handed to it goes back), the wait (dropping it aborts the requests still running,
     * and each worker's drop gives its permit back) and the scope. */
    (void)self;
}

static const struct ax_future_ops fetch_all_ops = {.poll = fetch_all_poll, .drop = fetch_all_drop};

void fetch_all_init(struct fetch_all *f, const struct fetch_service *service, struct ax_sem *limit,
                    size_t n, ax_result *results)
{
    *f = (struct fetch_all){
        .base = {&fetch_all_ops}, .service = service, .limit = limit, .n = n, .results = results};
    for (size_t i = 0; i < n; i++)
        results[i] = AX_PENDING;
}
