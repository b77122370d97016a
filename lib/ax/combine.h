//@ 04
/*
 * Combinators: futures made of other futures, polled together by one task.
 *
 * Both poll their sub-futures with the same context, so any sub-future's wake
 * brings the whole combinator (and its task) back; each poll then retries every
 * sub-future still pending. That is O(n) per wake: fine for the handful of futures a
 * join or select usually holds, and the reason tasks, not combinators, are the tool
 * for thousands of concurrent jobs.
 *
 * The combinator owns its sub-futures from init on: it drops each exactly once, when
 * that sub-future finishes, when it loses a select, or when the combinator itself is
 * dropped.
 */
#ifndef AX_COMBINE_H
#define AX_COMBINE_H

#include "ax/future.h"

#include <stdbool.h>
#include <stddef.h>

/* All of n futures: finishes with 0 when every one has, results[i] holding the result
 * of futures[i] in order (errors included: a join waits for all). */
struct ax_join_all {
    struct ax_future base;
    struct ax_future **futures;
    ax_result *results;
    bool *finished;
    size_t count;
    size_t left;
};

/* `finished` needs room for n flags; futures, results and finished stay the caller's
 * memory and must outlive the join. A join dropped before it finished leaves finished[i]
 * true exactly for the futures that completed, whose results[i] stand; the others were
 * dropped unfinished. */
void ax_join_all_init(struct ax_join_all *join, struct ax_future **futures, ax_result *results,
                      bool *finished, size_t n);

/* The first of n futures to finish: its result, with its index in `winner`. The others
 * are dropped at once, each exactly once. Polled again after it has decided, it
 * returns -EINVAL (rule 2 of ax/future.h, checked).
 *
 * Each poll starts with a sub-future picked at random, so when several are ready at
 * once none is always preferred: a select in a loop over a busy socket and a shutdown
 * signal still sees the signal. ax_select_init_biased polls them in order, first to
 * last, for code that means "this one first" (tokio's `biased;`). */
struct ax_select {
    struct ax_future base;
    struct ax_future **futures;
    size_t count;
    size_t winner;
    bool decided;
    bool biased;
};

void ax_select_init(struct ax_select *select, struct ax_future **futures, size_t n);
void ax_select_init_biased(struct ax_select *select, struct ax_future **futures, size_t n);

#endif
