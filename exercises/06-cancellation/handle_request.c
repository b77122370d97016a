/* Exercise 06-request-deadline. Read chapter 06, section #cancel-deadlines, first. */
#include "handle_request.h"

#include "ax/error.h"
#include "ax/timer.h"

#include <errno.h>
#include <string.h>

static ax_result backend_call_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: chapter 05's fetch_line with a token in place of its deadline (chapter 06,
     * #cancel-deadlines). A coroutine of three steps, connect, write and read
     * a line, in which each step's I/O future is raced against a fresh ax_cancel_wait on
     * c->token in c->select: ax_select_init_biased, the wait first, so a token cancelled
     * already stops the call before the step is polled. c->select.winner says which
     * finished. A cancelled token is -ECANCELED; every way out closes c->conn. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void backend_call_drop(struct ax_future *self)
{
    /* TODO: drop what the coroutine awaits, close the connection if there is one, and
     * give back the reference to the token that init took. */
    (void)self;
}

static const struct ax_future_ops backend_call_ops = {.poll = backend_call_poll,
                                                      .drop = backend_call_drop};

void backend_call_init(struct backend_call *call, struct ax_cancel_token *token,
                       const struct backend_request *req)
{
    /* TODO: take a reference to the token (ax_cancel_ref) unless it is NULL. */
    *call = (struct backend_call){.base = {&backend_call_ops}, .token = token, .req = req};
}

static ax_result handle_request_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: at the first poll, make h->token a child of h->parent (ax_cancel_child) and
     * give it a deadline h->budget after ax_executor_now (ax_cancel_at): the one place
     * in the three layers that adds a duration to a time. Then start h->call on that
     * token, poll it, and when it reports -ECANCELED ask h->parent which of the two
     * fired. Give the token back however the handler ends (chapter 06,
     * #cancel-deadlines). */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void handle_request_drop(struct ax_future *self)
{
    /* TODO: drop the call if it is under way, and give the token back. */
    (void)self;
}

static const struct ax_future_ops handle_request_ops = {.poll = handle_request_poll,
                                                        .drop = handle_request_drop};

void handle_request_init(struct handle_request *h, struct ax_cancel_token *parent,
                         uint64_t budget_ns, const struct backend_request *req)
{
    *h = (struct handle_request){
        .base = {&handle_request_ops}, .parent = parent, .budget = budget_ns, .req = req};
}
