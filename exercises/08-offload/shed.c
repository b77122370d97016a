/* Exercise 08-shed-load. Read "A pool beside the loop" in chapter 08 first. */
#include "shed.h"

static ax_result shed_request_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: at the first poll, start r->work with the try variant of spawn_blocking
     * (chapter 08, "A pool beside the loop"), on r->pool. Then poll it: its -EAGAIN
     * means the pool had no room, which this request reports as SHED_BUSY; anything
     * else is the handler's result, or AX_PENDING while it runs. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void shed_request_drop(struct ax_future *self)
{
    /* TODO: drop the work, if it was started. */
    (void)self;
}

static const struct ax_future_ops shed_request_ops = {.poll = shed_request_poll,
                                                      .drop = shed_request_drop};

void shed_request_init(struct shed_request *r, struct ax_pool *pool, ax_blocking_fn handler,
                       void *arg)
{
    r->base.ops = &shed_request_ops;
    r->pool = pool;
    r->handler = handler;
    r->arg = arg;
    r->started = false;
}
