/* Exercise 06-request-deadline: a reference solution. */
#include "handle_request.h"

#include "ax/error.h"
#include "ax/timer.h"

#include <errno.h>
#include <string.h>

/* ---- the backend call: every step raced against the token ----------------------------- */

/* Awaits step against the token. The wait comes first in a biased select, so a token
 * already cancelled stops the call before the step is polled at all (no connect, no
 * send), and one cancelled while the step is ready still wins. */
static struct ax_future *watched(struct backend_call *c, struct ax_future *step)
{
    ax_cancel_wait_init(&c->cancelled, c->token);
    c->race[0] = &c->cancelled.base;
    c->race[1] = step;
    ax_select_init_biased(&c->select, c->race, 2);
    return &c->select.base;
}

/* What the step awaited last came to: its result, or -ECANCELED if the token won. */
static ax_result outcome(const struct backend_call *c)
{
    return c->select.winner == 0 ? -ECANCELED : c->rc;
}

/* The call's result, with the connection closed. */
static ax_result finish(struct backend_call *c, ax_result rc)
{
    if (c->conn != NULL)
        ax_source_close(c->conn);
    c->conn = NULL;
    return rc;
}

static ax_result backend_call_poll(struct ax_future *self, struct ax_context *cx)
{
    struct backend_call *c = (struct backend_call *)self;
    const struct backend_request *req = c->req;
    AX_ASYNC_BEGIN(&c->co);
    if (c->token == NULL || req->cap == 0)
        AX_ASYNC_RETURN(&c->co, -EINVAL);

    ax_connect_future_init(&c->io.connect, req->host, req->port, &c->conn);
    AX_AWAIT(&c->co, cx, watched(c, &c->io.connect.base), c->rc);
    if ((c->rc = outcome(c)) < 0)
        AX_ASYNC_RETURN(&c->co, finish(c, c->rc));

    ax_write_future_init(&c->io.write, c->conn, req->line, req->len);
    AX_AWAIT(&c->co, cx, watched(c, &c->io.write.base), c->rc);
    if ((c->rc = outcome(c)) < 0)
        AX_ASYNC_RETURN(&c->co, finish(c, c->rc));

    for (;;) {
        if (c->got == req->cap) /* full, and no "\n" in it */
            AX_ASYNC_RETURN(&c->co, finish(c, -EMSGSIZE));
        ax_read_future_init(&c->io.read, c->conn, req->reply + c->got, req->cap - c->got);
        AX_AWAIT(&c->co, cx, watched(c, &c->io.read.base), c->rc);
        if ((c->rc = outcome(c)) < 0)
            AX_ASYNC_RETURN(&c->co, finish(c, c->rc));
        if (c->rc == 0)
            AX_ASYNC_RETURN(&c->co, finish(c, AX_EOF));
        char *newline = memchr(req->reply + c->got, '\n', (size_t)c->rc);
        c->got += (size_t)c->rc;
        if (newline != NULL) {
            *newline = '\0';
            c->rc = newline - req->reply;
            break;
        }
    }
    AX_ASYNC_END(&c->co, finish(c, c->rc));
}

static void backend_call_drop(struct ax_future *self)
{
    struct backend_call *c = (struct backend_call *)self;
    AX_ASYNC_DROP(&c->co); /* the select: the token's wait and the step's I/O future */
    finish(c, 0);
    if (c->token != NULL)
        ax_cancel_release(c->token);
    c->token = NULL;
}

static const struct ax_future_ops backend_call_ops = {.poll = backend_call_poll,
                                                      .drop = backend_call_drop};

void backend_call_init(struct backend_call *call, struct ax_cancel_token *token,
                       const struct backend_request *req)
{
    *call = (struct backend_call){.base = {&backend_call_ops},
                                  .token = token != NULL ? ax_cancel_ref(token) : NULL,
                                  .req = req};
}

/* ---- the handler: one token for the deadline and the parent --------------------------- */

/* The handler's result, with its token given back (and with it, its deadline). */
static ax_result settle(struct handle_request *h, ax_result rc)
{
    if (h->calling)
        ax_future_drop(&h->call.base);
    h->calling = false;
    if (h->token != NULL)
        ax_cancel_release(h->token);
    h->token = NULL;
    return rc;
}

static ax_result handle_request_poll(struct ax_future *self, struct ax_context *cx)
{
    struct handle_request *h = (struct handle_request *)self;
    if (h->token == NULL) {
        if (h->parent == NULL || h->req->cap == 0)
            return -EINVAL;
        int rc = ax_cancel_child(h->parent, &h->token);
        if (rc < 0)
            return rc;
        /* The one place that turns a duration into a time: everything below gets it
         * inside the token. */
        uint64_t now = ax_executor_now(cx->executor);
        ax_cancel_at(h->token, cx->executor,
                     h->budget < UINT64_MAX - now ? now + h->budget : UINT64_MAX);
        backend_call_init(&h->call, h->token, h->req);
        h->calling = true;
    }
    ax_result rc = ax_poll(&h->call.base, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    if (rc == -ECANCELED)
        rc = ax_cancelled(h->parent) ? -ECANCELED : -ETIMEDOUT;
    return settle(h, rc);
}

static void handle_request_drop(struct ax_future *self)
{
    settle((struct handle_request *)self, 0);
}

static const struct ax_future_ops handle_request_ops = {.poll = handle_request_poll,
                                                        .drop = handle_request_drop};

void handle_request_init(struct handle_request *h, struct ax_cancel_token *parent,
                         uint64_t budget_ns, const struct backend_request *req)
{
    *h = (struct handle_request){
        .base = {&handle_request_ops}, .parent = parent, .budget = budget_ns, .req = req};
}
