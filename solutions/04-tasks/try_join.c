/* Exercise 04-first-error: a reference solution. */
#include "try_join.h"

#include <errno.h>

/* Drops every future still running: each is dropped once, as `dropped` records. */
static void drop_running(struct try_join *join)
{
    for (size_t i = 0; i < join->count; i++)
        if (!join->dropped[i]) {
            join->dropped[i] = true;
            ax_future_drop(join->futures[i]);
        }
    join->left = 0;
    join->decided = true;
}

static ax_result try_join_poll(struct ax_future *self, struct ax_context *cx)
{
    struct try_join *join = (struct try_join *)self;
    if (join->decided)
        return -EINVAL; /* polled after it finished */
    for (size_t i = 0; i < join->count; i++) {
        if (join->dropped[i])
            continue;
        ax_result result = ax_poll(join->futures[i], cx);
        if (result == AX_PENDING)
            continue;
        join->dropped[i] = true;
        ax_future_drop(join->futures[i]);
        join->left--;
        if (result < 0) {
            drop_running(join); /* cancel the rest now, not when the join goes */
            return result;
        }
        join->results[i] = result;
    }
    if (join->left > 0)
        return AX_PENDING;
    join->decided = true;
    return 0;
}

static void try_join_drop(struct ax_future *self)
{
    struct try_join *join = (struct try_join *)self;
    if (!join->decided)
        drop_running(join);
}

static const struct ax_future_ops try_join_ops = {.poll = try_join_poll, .drop = try_join_drop};

void try_join_init(struct try_join *join, struct ax_future **futures, ax_result *results,
                   bool *dropped, size_t n)
{
    *join = (struct try_join){.base = {&try_join_ops},
                              .futures = futures,
                              .results = results,
                              .dropped = dropped,
                              .count = n,
                              .left = n};
    for (size_t i = 0; i < n; i++)
        dropped[i] = false;
}
