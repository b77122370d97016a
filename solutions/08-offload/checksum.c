/* Exercise 08-unblock-checksum: a solution. */
#include "checksum.h"

#include <errno.h>
#include <stdlib.h>

static ax_result run_sum(void *arg) /* on a worker */
{
    struct checksum_job *job = arg;
    return job->sum(job->data, job->len);
}

static ax_result checksum_poll(struct ax_future *self, struct ax_context *cx)
{
    struct checksum *c = (struct checksum *)self;
    if (!c->started) {
        c->job = malloc(sizeof *c->job);
        if (c->job == NULL)
            return -ENOMEM;
        *c->job = (struct checksum_job){.sum = c->sum, .data = c->data, .len = c->len};
        ax_spawn_blocking_init(&c->work, NULL, run_sum, c->job, free);
        c->started = true;
    }
    ax_result rc = ax_poll(&c->work.base, cx);
    if (rc != AX_PENDING) {
        free(c->job); /* a result: the job is ours again */
        c->job = NULL;
    }
    return rc;
}

static void checksum_drop(struct ax_future *self)
{
    struct checksum *c = (struct checksum *)self;
    if (c->started)
        ax_future_drop(&c->work.base); /* a job still out is freed when the worker is done */
    c->job = NULL;
    c->started = false;
}

static const struct ax_future_ops checksum_ops = {.poll = checksum_poll, .drop = checksum_drop};

void checksum_init(struct checksum *c, checksum_fn sum, const void *data, size_t len)
{
    c->base.ops = &checksum_ops;
    c->job = NULL;
    c->sum = sum;
    c->data = data;
    c->len = len;
    c->started = false;
}
