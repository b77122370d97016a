/* Exercise 04-first-error. Read "join_all and select" in chapter 04 first. */
#include "try_join.h"

#include <errno.h>

static ax_result try_join_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: join_all's poll and select's poll, both in chapter 04 ("join_all and
     * select"), are most of this. Poll each future that is still running; drop the
     * ones that finish and keep their results; at the first negative result, drop
     * every future still running, mark the join decided and return that error. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void try_join_drop(struct ax_future *self)
{
    /* TODO: dropped before it was decided, the join drops every future still running,
     * each exactly once. */
    (void)self;
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
