/*
 * Exercise 06-hedged-request: ask a second backend when the first is slow, keep the
 * first answer, and stop the other attempt.
 *
 * A service whose replies usually take 10 ms sometimes takes a second: a garbage
 * collection, a full queue, a slow disk. Dean and Barroso's "The Tail at Scale" (2013)
 * cuts that tail with a hedged request: send the request to backend A; if no reply has
 * come within the hedge delay (about the 95th percentile of the usual reply time), send
 * the same request to backend B as well; take whichever reply comes first and abandon
 * the other. Most requests never reach B, so the extra load is a few percent, and a
 * request is slow only when both backends are.
 *
 * "Abandon" is where cancellation comes in. Each attempt is a task of its own, a child
 * of a structured scope (ax/scope.h): the first reply closes the scope, which aborts the
 * other attempt wherever it is (connecting, sending or reading), its socket closed at
 * once; a deadline on the scope stops both; and dropping the hedged request closes the
 * scope too. Nothing an attempt started outlives the request.
 *
 * The rules:
 *  1. A's request is sent at once; B's when the hedge delay has passed since the first
 *     poll with no reply from A, or at once when A fails before that (there is then no
 *     reason to wait). With a reply from A before the hedge delay, B is never contacted.
 *  2. The first reply line wins: it goes to reply, *winner says whose it was (0 for A,
 *     1 for B), and the other attempt is aborted.
 *  3. An attempt that fails (refused, reset, the stream ended, a line too long) stops
 *     alone: the other goes on. When both have failed, the result is A's error: B is
 *     only there to make A faster, so a failed hedge must not change the error a caller
 *     would have seen without it.
 *  4. When the deadline passes with no reply, both attempts are aborted and the result
 *     is -ETIMEDOUT, whatever failed before.
 * Whichever way it ends, or when it is dropped, no attempt, socket or timer is left:
 * every connection it opened is closed and its tasks are gone from the executor.
 */
#ifndef HEDGED_REQUEST_H
#define HEDGED_REQUEST_H

#include "ax/future.h"
#include "ax/scope.h"
#include "ax/timer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a backend listens: a numeric address, such as "127.0.0.1", and a port. */
struct hedge_backend {
    const char *host;
    uint16_t port;
};

struct hedged_request {
    struct ax_future base;
    /* the question */
    struct hedge_backend backend[2]; /* A, then B */
    const char *request;
    size_t request_len;
    uint64_t hedge_delay; /* ns */
    uint64_t deadline; /* ns, on the executor's clock */
    char *reply;
    size_t cap;
    int *winner;
    /* the race */
    struct ax_scope *scope; /* NULL before the first poll and once finished */
    struct ax_scope_wait wait; /* on the scope, from the first poll until the end */
    struct ax_sleep hedge; /* the hedge delay, while B has not been sent */
    bool hedging; /* `hedge` is initialised and not yet dropped */
    int started; /* attempts started so far: 0, 1 or 2 */
    ax_result error[2]; /* each attempt's error; 0 while it has none */
    bool won;
    size_t reply_len;
};

/*
 * Prepares a hedged request: request_len bytes of request (its "\n" included) to a and,
 * perhaps, to b; one reply line in reply, which has room for cap >= 1 bytes (without
 * its "\n", NUL-terminated). hedge_delay_ns counts from the first poll; deadline_ns is
 * an absolute time on the executor's clock (ax_executor_now). The future keeps copies
 * of a and b; their hosts, request, reply and winner must outlive it.
 *
 * Polled, it finishes with the length of the reply line, *winner saying whose it was,
 * or with A's error when both attempts failed, -ETIMEDOUT when the deadline passed
 * first, -EINVAL when cap is 0 (nothing is sent), or -ENOMEM. *winner is -1 until an
 * attempt has won.
 */
void hedged_request_init(struct hedged_request *h, const struct hedge_backend *a,
                         const struct hedge_backend *b, const char *request, size_t request_len,
                         uint64_t hedge_delay_ns, uint64_t deadline_ns, char *reply, size_t cap,
                         int *winner);

#endif
