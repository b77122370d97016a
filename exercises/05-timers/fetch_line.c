/* Exercise 05-deadline-layers. Read "Sleep, timeout and interval" in chapter 05 first. */
#include "fetch_line.h"

#include "ax/error.h"

#include <errno.h>
#include <string.h>

static ax_result fetch_line_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: a coroutine (AX_ASYNC_BEGIN ... AX_ASYNC_END, as in chapter 04's relay) of
     * three steps. Before each one, set *f->stage. Each step initialises its I/O future
     * in f->io (ax_connect_future_init into &f->conn, then ax_write_future_init, then
     * ax_read_future_init into the rest of f->reply), wraps it in f->timeout with
     * ax_timeout_init on f->deadline (chapter 05, "Sleep, timeout and interval"), and awaits the
     * timeout. The read step goes round until a "\n" has come. Every way out closes
     * f->conn if it is open. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void fetch_line_drop(struct ax_future *self)
{
    /* TODO: drop the step under way (AX_ASYNC_DROP), then close the connection if the
     * fetch has one. */
    (void)self;
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
