/* Exercise 06-hedged-request. Read chapter 06, section #scopes, first. */
#include "hedged_request.h"

#include "ax/async.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/task.h"

#include <errno.h>
#include <string.h>

/* ---- one attempt: given, nothing to do here ------------------------------------------- */

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

/* ---- the hedge: your work ------------------------------------------------------------- */

/* An attempt's end, from inside its poll: the first line wins and stops the other. */
static void attempt_over(struct hedged_request *h, int index, ax_result rc, const char *line)
{
    /* TODO: a failure is kept in h->error[index] and stops nothing (rule 3). The first
     * reply is copied to h->reply, its length kept, *h->winner set, and the scope
     * closed, which aborts the other attempt (rule 2; chapter 06, #scopes). */
    (void)h;
    (void)index;
    (void)rc;
    (void)line;
}

static ax_result hedged_request_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: the first poll makes the scope (ax_scope_new), its wait (ax_scope_wait_init)
     * and its deadline (ax_scope_cancel_at), starts A, and arms h->hedge with the hedge
     * delay. Every poll then starts B if it is due (rule 1: the hedge sleep finished, or
     * A failed, and nobody has won), before it polls the wait: the wait finishes once no
     * attempt runs, so B must be in the scope by then. When the wait finishes, the
     * result follows rules 2 to 4 (chapter 06, #scopes), and the sleep, the wait and
     * the scope are given back. */
    (void)self;
    (void)cx;
    (void)start_attempt; /* yours to call */
    return -ENOSYS;
}

static void hedged_request_drop(struct ax_future *self)
{
    /* TODO: give back what the first poll made (the sleep if armed, the wait, the
     * scope): dropping the wait closes the scope and aborts any attempt still running. */
    (void)self;
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
