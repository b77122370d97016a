/*
 * Exercise 07-fetch-limited: many requests, never more than N in flight.
 *
 * A crawler with ten thousand URLs to fetch must not open ten thousand connections at
 * once: the far servers would refuse it, the local descriptor limit would stop it, and
 * the memory of ten thousand half-read pages would be spent before the first is
 * parsed. A semaphore of N permits bounds that: each request holds one permit for as
 * long as it runs, so at most N run, whatever the number waiting. Shared between
 * several fetches (one per site, say), one semaphore bounds them all together.
 *
 * Where the wait goes matters. Spawning a task per request and letting each wait for a
 * permit bounds the requests in flight, but not the tasks: ten thousand of them exist
 * at once, parked. Taking the permit *before* the task is made bounds both, because the
 * loop that starts requests is itself held back: that is backpressure on the producer
 * of work, not only on the work.
 *
 * The rules:
 *  1. Each request runs in a task of its own, a child of a scope (ax/scope.h), and holds
 *     one permit of `limit` from before its task is spawned until it finishes or is
 *     dropped. Requests start in index order, each as soon as a permit is free.
 *  2. A request's result goes to results[i] when it finishes; an error does not stop
 *     the others. The fetch finishes with 0 once every request has finished.
 *  3. Dropped before that, the fetch stops every request still running: each gives its
 *     permit back to `limit` (which the caller owns and which outlives the fetch), and
 *     none writes to results after the drop. A request that never finished keeps
 *     AX_PENDING in results[i].
 *  4. -ENOMEM when a task cannot be made; the requests already started finish first.
 */
#ifndef FETCH_LIMITED_H
#define FETCH_LIMITED_H

#include "ax/future.h"
#include "ax/scope.h"
#include "ax/sem.h"

#include <stdbool.h>
#include <stddef.h>

/* Makes request `index` as a future in `storage` (request_size bytes, aligned for any
 * type, inside the task that will run it) and returns it. Its result is the request's:
 * >= 0, or a negative errno value. */
typedef struct ax_future *(*fetch_make_fn)(void *storage, size_t index, void *arg);

struct fetch_service {
    size_t request_size;
    fetch_make_fn make;
    void *arg;
};

struct fetch_all {
    struct ax_future base;
    const struct fetch_service *service;
    struct ax_sem *limit;
    size_t n;
    ax_result *results; /* n of them; AX_PENDING until request i finishes */
    /* the machinery, from the first poll on */
    struct ax_scope *scope; /* NULL before the first poll and once finished */
    struct ax_scope_wait wait;
    struct ax_sem_acquire acquire; /* the permit for request `started` */
    bool acquiring; /* `acquire` is initialised and not yet dropped */
    size_t started;
    int error; /* a task that could not be made: -ENOMEM */
};

/* Prepares a fetch of requests 0..n-1 made by service, at most as many at once as
 * limit has permits. service, limit and results (n of them) outlive the fetch. */
void fetch_all_init(struct fetch_all *f, const struct fetch_service *service, struct ax_sem *limit,
                    size_t n, ax_result *results);

#endif
