/*
 * Exercise 08-shed-load: say "busy" rather than queue without end.
 *
 * A server that hands each request's blocking work to a pool must decide what happens
 * when requests come faster than the workers finish them. Waiting for room (what
 * ax_spawn_blocking_init does) makes every request slower for as long as the overload
 * lasts. Shedding load answers the extra requests at once with "busy", so those the
 * pool accepts are served at full speed, and a client told "busy" can try elsewhere.
 *
 * A shed_request future runs handler(arg) on `pool`, a pool of the caller's
 * (ax_pool_new), with these rules:
 *
 *  - When the pool has room (fewer than workers + queue_depth jobs in flight), the
 *    handler runs on it and the request finishes with the handler's result.
 *  - When it has none, the request finishes at its first poll with SHED_BUSY, and the
 *    handler never runs for it.
 *  - arg is the caller's and outlives the pool. Dropped at any moment, the request
 *    leaves nothing behind; a handler already running finishes on its own.
 */
#ifndef SHED_H
#define SHED_H

#include "ax/future.h"
#include "ax/pool.h"

#include <errno.h>
#include <stdbool.h>

#define SHED_BUSY (-EBUSY)

struct shed_request {
    struct ax_future base;
    struct ax_pool *pool;
    ax_blocking_fn handler;
    void *arg;
    struct ax_blocking work;
    bool started;
};

void shed_request_init(struct shed_request *r, struct ax_pool *pool, ax_blocking_fn handler,
                       void *arg);

#endif
