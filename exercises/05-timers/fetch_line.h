/*
 * Exercise 05-deadline-layers: one deadline for a whole exchange, handed down to each
 * step.
 *
 * A client that asks a server one question (connect, send a request, read the reply
 * line) must give up on a server that is too slow: it has two seconds in all, say. Give
 * each step two seconds of its own and the exchange can take six. Give each read a fresh
 * two seconds and a server that trickles a byte a second keeps the client forever. The
 * cure is to fix one absolute deadline at the top (now + 2 s) and pass that same
 * deadline down to every step, each of which bounds its own wait with it: time spent in
 * one step is then gone for the next, and the exchange ends at the deadline whichever
 * step is under way. (libdill gives every blocking call a deadline this way, and Go's
 * context.WithDeadline carries one through a call tree.)
 *
 * fetch_line is written with the coroutine macros (ax/async.h): three steps, connect,
 * write and read, each one awaited under an ax_timeout on the fetch's deadline.
 */
#ifndef FETCH_LINE_H
#define FETCH_LINE_H

#include "ax/async.h"
#include "ax/future.h"
#include "ax/io.h"
#include "ax/timer.h"

#include <stddef.h>
#include <stdint.h>

/* The step a fetch is in; when it has finished, the step that ended it. */
enum fetch_stage {
    FETCH_CONNECT, /* connecting to host:port */
    FETCH_WRITE, /* sending the request */
    FETCH_READ, /* reading the reply line */
    FETCH_DONE, /* the reply line is in */
};

struct fetch_line {
    struct ax_future base;
    struct ax_coroutine co;
    /* the question */
    const char *host;
    uint16_t port;
    const char *request;
    size_t request_len;
    uint64_t deadline; /* ns, on the executor's clock */
    char *reply;
    size_t cap;
    enum fetch_stage *stage;
    /* the exchange */
    struct ax_source *conn; /* the connection, once made: the fetch closes it */
    size_t got; /* bytes of the reply read so far */
    ax_result rc; /* the result of the step awaited last */
    union { /* the step under way: one I/O future at a time */
        struct ax_connect_future connect;
        struct ax_write_future write;
        struct ax_read_future read;
    } io;
    struct ax_timeout timeout; /* around io, always on `deadline` */
};

/*
 * Prepares a fetch: connect to host:port (a numeric address), send the request_len
 * bytes of request (with its "\n": they are sent as they are), and read one reply line,
 * all by deadline_ns, an absolute time on the executor's clock (ax_executor_now, which
 * is ax_now_ns() unless time is paused). host and request must outlive the fetch.
 *
 * The reply line goes to reply, which has room for cap >= 1 bytes: without its "\n",
 * NUL-terminated. Whatever the server sent after that "\n" is ignored.
 *
 * *stage says which step the fetch is in: FETCH_CONNECT, FETCH_WRITE or FETCH_READ,
 * set as each step begins, and FETCH_DONE once the reply is in. After a failure it
 * names the step that failed.
 *
 * Polled, it finishes with the length of the reply line, or with:
 *   -ETIMEDOUT  when the deadline passed, in whichever step (*stage says which);
 *   the step's own error: -ECONNREFUSED from connect, -EPIPE or -ECONNRESET from write,
 *               -ECONNRESET from read, and so on;
 *   AX_EOF      when the server closed the connection before a whole line came;
 *   -EMSGSIZE   when the line does not fit in reply (more than cap - 1 bytes before its
 *               "\n").
 * The connection is closed whichever way the fetch ends, and when it is dropped before
 * that; a dropped fetch leaves no timer behind.
 */
void fetch_line_init(struct fetch_line *f, const char *host, uint16_t port, const char *request,
                     size_t request_len, uint64_t deadline_ns, char *reply, size_t cap,
                     enum fetch_stage *stage);

#endif
