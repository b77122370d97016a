/*
 * Exercise 04-first-error: join futures that all must succeed, and give up on all of
 * them at the first failure.
 *
 * ax_join_all waits for every future, errors included. Often one failure makes the
 * rest pointless: a page needs its HTML and its three images, and if one fetch fails
 * the page has failed, so the other fetches should stop now rather than run to the
 * end. try_join is a join and a race at once. Success needs every future; the first
 * error wins the race and cancels the rest, which in this runtime means dropping them
 * (tokio's try_join!, or Go's errgroup with its context).
 */
#ifndef TRY_JOIN_H
#define TRY_JOIN_H

#include "ax/future.h"

#include <stdbool.h>
#include <stddef.h>

struct try_join {
    struct ax_future base;
    struct ax_future **futures;
    ax_result *results;
    bool *dropped; /* dropped[i]: futures[i] has been dropped (finished, or cancelled) */
    size_t count;
    size_t left; /* futures still running */
    bool decided; /* finished, or dropped: nothing is left to drop */
};

/*
 * Prepares a join of futures[0..n). results and dropped have room for n entries; the
 * three arrays stay the caller's memory and must outlive the join (with n == 0,
 * futures may be NULL, and the join finishes with 0 on its first poll). The join owns the
 * futures from here on and drops each one exactly once: as soon as it finishes, when
 * another one fails (at that moment, not later), or when the join itself is dropped
 * before it is decided.
 *
 * Polled, it polls every future still running, in index order, and finishes with:
 *   0 when every future has finished with a result >= 0; results[i] holds each one;
 *   the first negative result it sees: every future still running is dropped before
 *     the poll returns (the rest of that round is not polled), and the results of the
 *     futures that had not finished are left as they were.
 */
void try_join_init(struct try_join *join, struct ax_future **futures, ax_result *results,
                   bool *dropped, size_t n);

#endif
