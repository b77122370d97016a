/*
 * Exercise 06-request-deadline: one token carries a request's deadline and its parent's
 * cancellation down through every layer, and the top says which of the two fired.
 *
 * A server handles a request in three layers: the request (the server's connection to
 * its client, which the server may shut down and the client may hang up), a handler
 * that gives the request a budget (200 ms, say), and a call the handler makes to a
 * backend. Two different things can stop the backend call: the request's own deadline
 * (the backend is too slow: answer "timed out") and its parent (the server is shutting
 * down, or the client has gone: nobody wants the answer any more). Both must stop it at
 * once, and the answer must say which it was.
 *
 * The token tree does both with one mechanism. The handler makes its own token, a child
 * of the parent's (ax_cancel_child), and gives it the deadline (ax_cancel_at): the child
 * is now cancelled by whichever comes first, the deadline or the parent. It hands that
 * token, and nothing else, to the backend call, which watches it at every step and
 * gives up when it is cancelled. The call never computes "now + something" and arms no
 * timer of its own: one deadline, fixed once at the top, flows down inside the token
 * (Go's context.WithTimeout works so). When the call reports that its token was
 * cancelled, the handler asks the parent: cancelled too means "cancelled", otherwise
 * the deadline fired: "timed out".
 *
 * The backend call is a coroutine (ax/async.h), like chapter 05's fetch_line, that
 * races each step against the token with ax_select (ax/combine.h); the handler is a
 * small poll written by hand around it.
 */
#ifndef HANDLE_REQUEST_H
#define HANDLE_REQUEST_H

#include "ax/async.h"
#include "ax/cancel.h"
#include "ax/combine.h"
#include "ax/future.h"
#include "ax/io.h"

#include <stddef.h>
#include <stdint.h>

/* What to ask a backend, and where the answer goes. Both futures below keep a pointer
 * to it: it, host, line and reply must outlive them. */
struct backend_request {
    const char *host; /* a numeric address, such as "127.0.0.1" */
    uint16_t port;
    const char *line; /* the request, its "\n" included: sent as it is */
    size_t len;
    char *reply; /* room for cap >= 1 bytes: the reply line, without its "\n", NUL-ended */
    size_t cap;
};

/*
 * The innermost layer: one exchange with the backend (connect, send the request, read
 * one reply line) that watches a token and gives up the moment it is cancelled.
 *
 * Polled, it finishes with the length of the reply line, or with:
 *   -ECANCELED  the token was cancelled, before the call began or during any step;
 *   the step's own error: -ECONNREFUSED from connect, -ECONNRESET, and so on;
 *   AX_EOF      the backend ended the stream before a whole line came;
 *   -EMSGSIZE   the line does not fit in reply (more than cap - 1 bytes before "\n");
 *   -EINVAL     token is NULL or cap is 0 (nothing is sent).
 * Whichever way it ends, and when it is dropped, its connection is closed and it is no
 * longer on the token's list of waiters. It holds a reference to the token from init
 * to drop.
 */
struct backend_call {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_cancel_token *token;
    const struct backend_request *req;
    struct ax_source *conn; /* the connection, once made: the call closes it */
    size_t got; /* bytes of the reply read so far */
    ax_result rc; /* the result of the step awaited last */
    union { /* the step under way: one I/O future at a time */
        struct ax_connect_future connect;
        struct ax_write_future write;
        struct ax_read_future read;
    } io;
    struct ax_cancel_wait cancelled; /* raced against the step */
    struct ax_future *race[2]; /* the wait first, then the step */
    struct ax_select select;
};

void backend_call_init(struct backend_call *call, struct ax_cancel_token *token,
                       const struct backend_request *req);

/*
 * The handler: a request's budget and its parent's cancellation, made into one token
 * for the backend call.
 *
 * At its first poll it makes the request's token, a child of parent, with a deadline
 * budget_ns after the executor's time then (the only "now + something" in the three
 * layers), and starts a backend call on that token. Polled, it finishes with the
 * call's result, except that a call stopped by its token becomes:
 *   -ECANCELED  when parent is cancelled (by the time the handler sees the call's end:
 *               the parent wins a tie with the deadline);
 *   -ETIMEDOUT  otherwise: the request's own deadline passed.
 * And before any of that: -EINVAL when parent is NULL or req->cap is 0, -ENOMEM when the
 * token cannot be made. A budget of 0 times out without contacting the backend; so
 * does a parent that is cancelled already, with -ECANCELED.
 *
 * Whichever way it ends, and when it is dropped, the request's token is given back: its
 * deadline leaves the executor's timers and it leaves the parent's children. The handler
 * takes no reference to parent: the caller keeps it alive while the handler lives.
 */
struct handle_request {
    struct ax_future base;
    struct ax_cancel_token *parent;
    uint64_t budget; /* ns */
    const struct backend_request *req;
    struct ax_cancel_token *token; /* the request's own; NULL before the first poll */
    struct backend_call call; /* started at the first poll */
    bool calling; /* the call is initialised and not yet dropped */
};

void handle_request_init(struct handle_request *h, struct ax_cancel_token *parent,
                         uint64_t budget_ns, const struct backend_request *req);

#endif
