/* Exercise 04-relay: a reference solution. */
#include "relay.h"

#include "ax/error.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static ax_result pump_poll(struct ax_future *self, struct ax_context *cx)
{
    struct pump *p = (struct pump *)self;
    AX_ASYNC_BEGIN(&p->co);
    for (;;) {
        ax_read_future_init(&p->io.read, p->from, p->buf, sizeof p->buf);
        AX_AWAIT(&p->co, cx, &p->io.read.base, p->rc);
        if (p->rc <= 0)
            break;
        ax_write_future_init(&p->io.write, p->to, p->buf, (size_t)p->rc);
        p->total += p->rc; /* counted now: the write below says only 0 or -errno */
        AX_AWAIT(&p->co, cx, &p->io.write.base, p->rc);
        if (p->rc < 0)
            break;
    }
    if (p->rc < 0)
        AX_ASYNC_RETURN(&p->co, p->rc);
    if (shutdown(ax_source_fd(p->to), SHUT_WR) < 0) /* pass the end of the stream on */
        AX_ASYNC_RETURN(&p->co, ax__errno());
    AX_ASYNC_END(&p->co, p->total);
}

static void pump_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct pump *)self)->co);
}

static const struct ax_future_ops pump_ops = {.poll = pump_poll, .drop = pump_drop};

void pump_init(struct pump *p, struct ax_source *from, struct ax_source *to)
{
    memset(p, 0, offsetof(struct pump, buf)); /* the buffer needs no clearing */
    p->base.ops = &pump_ops;
    p->from = from;
    p->to = to;
}

static void drop_running(struct relay *r)
{
    for (int i = 0; i < 2; i++)
        if (!r->done[i]) {
            r->done[i] = true;
            ax_future_drop(&r->pumps[i].base);
        }
    r->decided = true;
}

static ax_result relay_poll(struct ax_future *self, struct ax_context *cx)
{
    struct relay *r = (struct relay *)self;
    r->first = !r->first; /* a fixed order would always give one direction the first try */
    for (int turn = 0; turn < 2; turn++) {
        int i = turn ^ r->first;
        if (r->done[i])
            continue;
        ax_result rc = ax_poll(&r->pumps[i].base, cx);
        if (rc == AX_PENDING)
            continue;
        r->done[i] = true;
        ax_future_drop(&r->pumps[i].base);
        if (rc < 0) {
            drop_running(r); /* the other direction stops now */
            return rc;
        }
        r->total += rc;
    }
    if (!r->done[0] || !r->done[1])
        return AX_PENDING;
    r->decided = true;
    return r->total;
}

static void relay_drop(struct ax_future *self)
{
    struct relay *r = (struct relay *)self;
    if (!r->decided)
        drop_running(r);
}

static const struct ax_future_ops relay_ops = {.poll = relay_poll, .drop = relay_drop};

void relay_init(struct relay *r, struct ax_source *a, struct ax_source *b)
{
    r->base.ops = &relay_ops;
    pump_init(&r->pumps[0], a, b);
    pump_init(&r->pumps[1], b, a);
    r->done[0] = r->done[1] = false;
    r->first = 0;
    r->total = 0;
    r->decided = false;
}
