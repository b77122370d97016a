/* Exercise 04-relay. Read "Async/await without a compiler" in chapter 04 first. */
#include "relay.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static ax_result pump_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: the loop of echo-tasks' connection task (chapter 04, "Async/await without
     * a compiler"), with two sockets: AX_ASYNC_BEGIN; read from p->from into p->buf
     * (AX_AWAIT on p->io.read), stop at 0, fail on an error; write what was read to
     * p->to (AX_AWAIT on p->io.write); add it to p->total; repeat. At the end of the
     * stream, shutdown(ax_source_fd(p->to), SHUT_WR) and AX_ASYNC_END with the total.
     * Everything that lives across an AX_AWAIT must be in the struct. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void pump_drop(struct ax_future *self)
{
    /* TODO: drop the read or write under way, if any (AX_ASYNC_DROP). */
    (void)self;
}

static const struct ax_future_ops pump_ops = {.poll = pump_poll, .drop = pump_drop};

void pump_init(struct pump *p, struct ax_source *from, struct ax_source *to)
{
    memset(p, 0, offsetof(struct pump, buf)); /* the buffer needs no clearing */
    p->base.ops = &pump_ops;
    p->from = from;
    p->to = to;
}

static ax_result relay_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: poll each pump that is not done (both with the same cx: either one's wake
     * brings this task back), starting with pumps[r->first] and flipping r->first on
     * every poll. A pump that finishes is dropped and marked done, and its
     * count added to the total. A pump that fails: drop the other one if it is still
     * running, mark the relay decided, and return the error. When both are done, the
     * total. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void relay_drop(struct ax_future *self)
{
    /* TODO: if the relay has not decided, drop each pump that is not done. */
    (void)self;
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
