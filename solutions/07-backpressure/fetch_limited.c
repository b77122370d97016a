/* Exercise 07-fetch-limited: a reference solution. */
#include "fetch_limited.h"

#include "ax/task.h"

#include <errno.h>

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

static void worker_finish(struct worker *w)
{
    if (w->running)
        ax_future_drop(w->request);
    w->running = false;
    if (w->holds_permit)
        ax_sem_release(w->limit, 1); /* hands it to the oldest acquire waiting */
    w->holds_permit = false;
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

/* Starts request f->started, whose permit the caller holds and hands over. */
static int start_request(struct fetch_all *f, struct ax_executor *executor)
{
    size_t index = f->started;
    struct worker *w = ax_task_alloc(executor, sizeof *w + f->service->request_size);
    if (w == NULL) {
        ax_sem_release(f->limit, 1);
        return -ENOMEM;
    }
    *w = (struct worker){.base = {&worker_ops},
                         .limit = f->limit,
                         .holds_permit = true,
                         .running = true,
                         .result = &f->results[index]};
    w->request = f->service->make(w->storage, index, f->service->arg);
    f->started++;
    /* Refused, the task is still dropped by the executor, and gives the permit back. */
    return ax_scope_spawn(f->scope, &w->base);
}

/* The fetch's result, with nothing of it left behind but its requests' results. */
static ax_result settle(struct fetch_all *f, ax_result rc)
{
    if (f->acquiring)
        ax_future_drop(&f->acquire.base); /* a permit handed to it goes back */
    f->acquiring = false;
    if (f->scope != NULL) {
        ax_future_drop(&f->wait.base); /* aborts the requests still running */
        ax_scope_release(f->scope);
    }
    f->scope = NULL;
    return rc;
}

static ax_result fetch_all_poll(struct ax_future *self, struct ax_context *cx)
{
    struct fetch_all *f = (struct fetch_all *)self;
    if (f->scope == NULL) {
        int rc = ax_scope_new(&f->scope, cx->executor, NULL);
        if (rc < 0)
            return rc;
        ax_scope_wait_init(&f->wait, f->scope);
    }
    while (f->started < f->n && f->error == 0) {
        if (!f->acquiring)
            ax_sem_acquire_init(&f->acquire, f->limit, 1);
        f->acquiring = true;
        if (ax_poll(&f->acquire.base, cx) == AX_PENDING)
            return AX_PENDING; /* the backpressure: no task is made without a permit */
        ax_future_drop(&f->acquire.base);
        f->acquiring = false;
        int rc = start_request(f, cx->executor);
        if (rc < 0)
            f->error = rc;
    }
    ax_result rc = ax_poll(&f->wait.base, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    return settle(f, f->error != 0 ? f->error : rc);
}

static void fetch_all_drop(struct ax_future *self)
{
    settle((struct fetch_all *)self, 0);
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
