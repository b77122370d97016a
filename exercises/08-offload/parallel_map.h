/*
 * Challenge 08-challenge-parallel-map: run a blocking function over many inputs on the
 * thread pool, a bounded number at a time, and keep the results in input order.
 *
 * What a polled parallel_map guarantees:
 *
 *  - fn(inputs[i]) runs on the executor's own pool for every i in 0..count, once each,
 *    unless the map fails first; results[i] gets what it returned, whatever order the
 *    calls finish in.
 *  - At most `limit` calls are in flight at any moment (handed to the pool and not yet
 *    finished), and the map keeps `limit` in flight while inputs remain: a call that
 *    finishes is replaced at once, not when the calls started with it have finished.
 *    Calls start in input order.
 *  - It finishes with 0 once every result is in. When a call returns a negative
 *    result, the map starts no more calls and finishes with that result at once; the
 *    calls still in flight are abandoned (they run on; their results go nowhere and
 *    their results[] entries are not written).
 *  - count 0 finishes with 0 at once. A limit below 1 or above PARALLEL_MAP_MAX_LIMIT
 *    is -EINVAL, and nothing runs.
 *  - inputs, and what they point to, are the caller's and outlive the executor; fn
 *    only reads them.
 *  - Dropped at any moment, it abandons what is in flight in the same way and leaves
 *    nothing behind.
 */
#ifndef PARALLEL_MAP_H
#define PARALLEL_MAP_H

#include "ax/future.h"
#include "ax/pool.h"

#include <stdbool.h>
#include <stddef.h>

#define PARALLEL_MAP_MAX_LIMIT 16

struct parallel_map {
    struct ax_future base;
    ax_blocking_fn fn;
    void *const *inputs;
    ax_result *results;
    size_t count;
    int limit;
    /* Yours: what the map keeps between polls. */
    struct ax_blocking calls[PARALLEL_MAP_MAX_LIMIT];
    size_t input_of[PARALLEL_MAP_MAX_LIMIT]; /* which input each busy call runs */
    bool busy[PARALLEL_MAP_MAX_LIMIT];
    size_t next; /* the next input to start */
    size_t finished;
};

void parallel_map_init(struct parallel_map *m, ax_blocking_fn fn, void *const *inputs,
                       ax_result *results, size_t count, int limit);

#endif
