/* Exercise 06-hedged-request: a reference solution. */
#include "hedged_request.h"

#include "ax/async.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/task.h"

#include <errno.h>
#include <string.h>

/* ---- one attempt (given) -------------------------------------------------------------- */

/*
 * One attempt: connect to one backend, send the request, read one line, in a task of its
 * own that is a child of the request's scope. It always finishes with 0 and tells the
 * hedged request how it went through attempt_over instead: a child's error would close
 * the scope and abort the other attempt, and rule 3 wants that one to go on.
 *
 * It touches the hedged request only in its poll. An attempt aborted by the scope is
 * dropped without another poll, and its drop closes its own socket and nothing else, so
 * a hedged request that is gone is never reached.
 */
struct attempt {
    struct ax_future base;
    struct ax_coroutine co;
    struct hedged_request *h;
    int index; /* 0 for A, 1 for B */
    struct ax_source *conn;
    size_t got;
    ax_result rc;
    union {
        struct ax_connect_future connect;
        struct ax_write_future write;
        struct ax_read_future read;
    } io;
    char line[]; /* h->cap bytes, allocated with the task */
};

static void attempt_over(struct hedged_request *h, int index, ax_result rc, const char *line);

static ax_result attempt_end(struct attempt *a, ax_result rc)
{
    if (a->conn != NULL)
        ax_source_close(a->conn);
    a->conn = NULL;
    attempt_over(a->h, a->index, rc, a->line);
    return 0;
}

static ax_result attempt_poll(struct ax_future *self, struct ax_context *cx)
{
    struct attempt *a = (struct attempt *)self;
    struct hedged_request *h = a->h;
    AX_ASYNC_BEGIN(&a->co);
    ax_connect_future_init(&a->io.connect, h->backend[a->index].host, h->backend[a->index].port,
                           &a->conn);
    AX_AWAIT(&a->co, cx, &a->io.connect.base, a->rc);
    if (a->rc < 0)
        AX_ASYNC_RETURN(&a->co, attempt_end(a, a->rc));
    ax_write_future_init(&a->io.write, a->conn, h->request, h->request_len);
    AX_AWAIT(&a->co, cx, &a->io.write.base, a->rc);
    if (a->rc < 0)
        AX_ASYNC_RETURN(&a->co, attempt_end(a, a->rc));
    for (;;) {
        if (a->got == h->cap) /* full, and no "\n" in it */
            AX_ASYNC_RETURN(&a->co, attempt_end(a, -EMSGSIZE));
        ax_read_future_init(&a->io.read, a->conn, a->line + a->got, h->cap - a->got);
        AX_AWAIT(&a->co, cx, &a->io.read.base, a->rc);
        if (a->rc <= 0)
            AX_ASYNC_RETURN(&a->co, attempt_end(a, a->rc == 0 ? AX_EOF : a->rc));
        char *newline = memchr(a->line + a->got, '\n', (size_t)a->rc);
        a->got += (size_t)a->rc;
        if (newline != NULL) {
            *newline = '\0';
            a->rc = newline - a->line;
            break;
        }
    }
    AX_ASYNC_END(&a->co, attempt_end(a, a->rc));
}

static void attempt_drop(struct ax_future *self)
{
    struct attempt *a = (struct attempt *)self;
    AX_ASYNC_DROP(&a->co);
    if (a->conn != NULL)
        ax_source_close(a->conn);
}

static const struct ax_future_ops attempt_ops = {.poll = attempt_poll, .drop = attempt_drop};

/* Starts attempt `index` as a child of the scope (given too). 0, or -ENOMEM, or the
 * scope's refusal. */
static int start_attempt(struct hedged_request *h, struct ax_executor *executor, int index)
{
    h->started++;
    struct attempt *a = ax_task_alloc(executor, sizeof *a + h->cap);
    if (a == NULL)
        return -ENOMEM;
    *a = (struct attempt){.base = {&attempt_ops}, .h = h, .index = index};
    return ax_scope_spawn(h->scope, &a->base); /* on a refusal the executor drops it */
}

/* ---- the hedge ------------------------------------------------------------------------ */

/* An attempt's end, from inside its poll: the first line wins and stops the other. */
static void attempt_over(struct hedged_request *h, int index, ax_result rc, const char *line)
{
    if (rc < 0) {
        h->error[index] = rc;
        return;
    }
    if (h->won)
        return; /* both replied in one turn: the first one polled stands */
    h->won = true;
    *h->winner = index;
    memcpy(h->reply, line, (size_t)rc + 1);
    h->reply_len = (size_t)rc;
    ax_scope_cancel(h->scope); /* aborts the other; this one's result stands */
}

/* The request's result, with nothing of it left behind. */
static ax_result settle(struct hedged_request *h, ax_result rc)
{
    if (h->hedging)
        ax_future_drop(&h->hedge.base);
    h->hedging = false;
    if (h->scope != NULL) {
        ax_future_drop(&h->wait.base); /* closes the scope if an attempt still runs */
        ax_scope_release(h->scope);
    }
    h->scope = NULL;
    return rc;
}

static ax_result hedged_request_poll(struct ax_future *self, struct ax_context *cx)
{
    struct hedged_request *h = (struct hedged_request *)self;
    if (h->started == 0) {
        if (h->cap == 0)
            return -EINVAL;
        int rc = ax_scope_new(&h->scope, cx->executor, NULL);
        if (rc < 0)
            return rc;
        ax_scope_wait_init(&h->wait, h->scope);
        ax_scope_cancel_at(h->scope, h->deadline);
        rc = start_attempt(h, cx->executor, 0);
        if (rc < 0)
            return settle(h, rc);
        ax_sleep_init(&h->hedge, h->hedge_delay);
        h->hedging = true;
    }
    /* B goes out when the delay is up, or at once when A has failed already. Before the
     * wait is polled: with A over, the scope must not look finished. */
    if (h->hedging && !h->won && (h->error[0] != 0 || ax_poll(&h->hedge.base, cx) != AX_PENDING)) {
        ax_future_drop(&h->hedge.base);
        h->hedging = false;
        int rc = start_attempt(h, cx->executor, 1);
        if (rc < 0)
            h->error[1] = rc;
    }
    ax_result rc = ax_poll(&h->wait.base, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    if (h->won)
        return settle(h, (ax_result)h->reply_len);
    /* No reply: the scope closed on its deadline, or both attempts failed. */
    return settle(h, rc < 0 ? -ETIMEDOUT : h->error[0]);
}

static void hedged_request_drop(struct ax_future *self)
{
    settle((struct hedged_request *)self, 0);
}

static const struct ax_future_ops hedged_request_ops = {.poll = hedged_request_poll,
                                                        .drop = hedged_request_drop};

void hedged_request_init(struct hedged_request *h, const struct hedge_backend *a,
                         const struct hedge_backend *b, const char *request, size_t request_len,
                         uint64_t hedge_delay_ns, uint64_t deadline_ns, char *reply, size_t cap,
                         int *winner)
{
    *h = (struct hedged_request){.base = {&hedged_request_ops},
                                 .backend = {*a, *b},
                                 .request = request,
                                 .request_len = request_len,
                                 .hedge_delay = hedge_delay_ns,
                                 .deadline = deadline_ns,
                                 .reply = reply,
                                 .cap = cap,
                                 .winner = winner};
    *winner = -1;
}
