/* Exercise 08-unblock-checksum. Read "Blocking the loop" in chapter 08 first. */
#include "checksum.h"

#include <errno.h>
#include <stdlib.h>

/* TODO: this poll blocks the loop for as long as sum runs. Move the call to the
 * executor's pool (chapter 08, "spawn_blocking"): at the first poll, put the arguments
 * in a struct checksum_job that the work owns (malloc it: it must outlive this future
 * if the future is dropped while a worker runs), ax_spawn_blocking_init c->work with a
 * function that calls job->sum(job->data, job->len) and with free as its drop; then
 * poll c->work, and free the job yourself once it hands back a result. */
static ax_result checksum_poll(struct ax_future *self, struct ax_context *cx)
{
    struct checksum *c = (struct checksum *)self;
    (void)cx;
    return c->sum(c->data, c->len);
}

static void checksum_drop(struct ax_future *self)
{
    /* TODO: drop the work, which frees the job when no worker can still use it. */
    (void)self;
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
