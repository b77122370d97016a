/* Exercise 08-shed-load: a solution. */
#include "shed.h"

static ax_result shed_request_poll(struct ax_future *self, struct ax_context *cx)
{
    struct shed_request *r = (struct shed_request *)self;
    if (!r->started) {
        ax_spawn_blocking_try_init(&r->work, r->pool, r->handler, r->arg, NULL);
        r->started = true;
    }
    ax_result rc = ax_poll(&r->work.base, cx);
    return rc == -EAGAIN ? SHED_BUSY : rc; /* no room: busy, and the handler never runs */
}

static void shed_request_drop(struct ax_future *self)
{
    struct shed_request *r = (struct shed_request *)self;
    if (r->started)
        ax_future_drop(&r->work.base);
    r->started = false;
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
