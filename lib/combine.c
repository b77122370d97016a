//@ 04
/* join_all and select; see ax/combine.h. */
#include "ax/combine.h"

#include <errno.h>
#include <stdint.h>

/* ---- join all -------------------------------------------------------------------- */

// snippet join-all-poll
static ax_result join_all_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_join_all *join = (struct ax_join_all *)self;
    for (size_t i = 0; i < join->count && join->left > 0; i++) {
        if (join->finished[i])
            continue;
        ax_result result = ax_poll(join->futures[i], cx);
        if (result == AX_PENDING)
            continue;
        join->results[i] = result;
        join->finished[i] = true;
        ax_future_drop(join->futures[i]);
        join->left--;
    }
    return join->left == 0 ? 0 : AX_PENDING;
}
// end snippet

static void join_all_drop(struct ax_future *self)
{
    struct ax_join_all *join = (struct ax_join_all *)self;
    /* finished[] stays as it is: after a drop it tells the caller which futures
     * completed (their results stand) and which were abandoned. */
    for (size_t i = 0; i < join->count; i++)
        if (!join->finished[i])
            ax_future_drop(join->futures[i]);
    join->left = 0;
}

static const struct ax_future_ops join_all_ops = {.poll = join_all_poll, .drop = join_all_drop};

void ax_join_all_init(struct ax_join_all *join, struct ax_future **futures, ax_result *results,
                      bool *finished, size_t n)
{
    *join = (struct ax_join_all){.base = {&join_all_ops},
                                 .futures = futures,
                                 .results = results,
                                 .finished = finished,
                                 .count = n,
                                 .left = n};
    for (size_t i = 0; i < n; i++)
        finished[i] = false;
}

/* ---- select ---------------------------------------------------------------------- */

/* Drops every sub-future but `keep` (pass count to drop them all). */
static void drop_all_but(struct ax_select *select, size_t keep)
{
    for (size_t i = 0; i < select->count; i++)
        if (i != keep)
            ax_future_drop(select->futures[i]);
}

/* Which sub-future a fair select polls first: xorshift64, one state per thread, so a
 * run is repeatable and threads never share it. */
static size_t random_below(size_t n)
{
    static _Thread_local uint64_t state = 0x9E3779B97F4A7C15u;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (size_t)(state % n);
}

// snippet select-poll
static ax_result select_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_select *select = (struct ax_select *)self;
    if (select->decided)
        return -EINVAL; /* polled after it finished */
    size_t start = select->biased || select->count == 0 ? 0 : random_below(select->count);
    for (size_t k = 0; k < select->count; k++) {
        size_t i = (start + k) % select->count;
        ax_result result = ax_poll(select->futures[i], cx);
        if (result == AX_PENDING)
            continue;
        select->winner = i;
        select->decided = true;
        drop_all_but(select, i); /* the losers go now, not when the select goes */
        ax_future_drop(select->futures[i]);
        return result;
    }
    return AX_PENDING;
}
// end snippet

static void select_drop(struct ax_future *self)
{
    struct ax_select *select = (struct ax_select *)self;
    if (!select->decided)
        drop_all_but(select, select->count);
    select->decided = true;
}

static const struct ax_future_ops select_ops = {.poll = select_poll, .drop = select_drop};

void ax_select_init(struct ax_select *select, struct ax_future **futures, size_t n)
{
    *select = (struct ax_select){.base = {&select_ops}, .futures = futures, .count = n};
}

void ax_select_init_biased(struct ax_select *select, struct ax_future **futures, size_t n)
{
    ax_select_init(select, futures, n);
    select->biased = true;
}
