/* Exercise 05-deadline-layers: a reference solution. */
#include "fetch_line.h"

#include "ax/error.h"

#include <errno.h>
#include <string.h>

/* Awaits the step under way in f->io under a timeout on the fetch's one deadline: each
 * step gets what is left of the time, not a duration of its own. */
static struct ax_future *bounded(struct fetch_line *f, struct ax_future *step)
{
    ax_timeout_init(&f->timeout, step, f->deadline);
    return &f->timeout.base;
}

/* The fetch's result, with the connection closed. */
static ax_result finish(struct fetch_line *f, ax_result rc)
{
    if (f->conn != NULL)
        ax_source_close(f->conn);
    f->conn = NULL;
    return rc;
}

static ax_result fetch_line_poll(struct ax_future *self, struct ax_context *cx)
{
    struct fetch_line *f = (struct fetch_line *)self;
    AX_ASYNC_BEGIN(&f->co);

    *f->stage = FETCH_CONNECT;
    ax_connect_future_init(&f->io.connect, f->host, f->port, &f->conn);
    AX_AWAIT(&f->co, cx, bounded(f, &f->io.connect.base), f->rc);
    if (f->rc < 0)
        AX_ASYNC_RETURN(&f->co, finish(f, f->rc));

    *f->stage = FETCH_WRITE;
    ax_write_future_init(&f->io.write, f->conn, f->request, f->request_len);
    AX_AWAIT(&f->co, cx, bounded(f, &f->io.write.base), f->rc);
    if (f->rc < 0)
        AX_ASYNC_RETURN(&f->co, finish(f, f->rc));

    *f->stage = FETCH_READ;
    for (;;) {
        if (f->got == f->cap) /* full, and no "\n" in it */
            AX_ASYNC_RETURN(&f->co, finish(f, -EMSGSIZE));
        /* Up to the last byte, the NUL's place: a "\n" read there still fits. */
        ax_read_future_init(&f->io.read, f->conn, f->reply + f->got, f->cap - f->got);
        AX_AWAIT(&f->co, cx, bounded(f, &f->io.read.base), f->rc);
        if (f->rc < 0)
            AX_ASYNC_RETURN(&f->co, finish(f, f->rc));
        if (f->rc == 0)
            AX_ASYNC_RETURN(&f->co, finish(f, AX_EOF));
        char *newline = memchr(f->reply + f->got, '\n', (size_t)f->rc);
        f->got += (size_t)f->rc;
        if (newline != NULL) {
            *newline = '\0';
            f->rc = newline - f->reply;
            break;
        }
    }
    *f->stage = FETCH_DONE;
    AX_ASYNC_END(&f->co, finish(f, f->rc));
}

static void fetch_line_drop(struct ax_future *self)
{
    struct fetch_line *f = (struct fetch_line *)self;
    AX_ASYNC_DROP(&f->co); /* the timeout, and with it the step's I/O future */
    finish(f, 0);
}

static const struct ax_future_ops fetch_line_ops = {.poll = fetch_line_poll,
                                                    .drop = fetch_line_drop};

void fetch_line_init(struct fetch_line *f, const char *host, uint16_t port, const char *request,
                     size_t request_len, uint64_t deadline_ns, char *reply, size_t cap,
                     enum fetch_stage *stage)
{
    *f = (struct fetch_line){.base = {&fetch_line_ops},
                             .host = host,
                             .port = port,
                             .request = request,
                             .request_len = request_len,
                             .deadline = deadline_ns,
                             .reply = reply,
                             .cap = cap,
                             .stage = stage};
    *stage = FETCH_CONNECT;
}
