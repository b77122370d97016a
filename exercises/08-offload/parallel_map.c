/* Challenge 08-challenge-parallel-map. Read "spawn_blocking" in chapter 08 first. */
#include "parallel_map.h"

#include <errno.h>

static ax_result parallel_map_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: the behaviour is in parallel_map.h (see chapter 08, "spawn_blocking"). */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void parallel_map_drop(struct ax_future *self)
{
    /* TODO */
    (void)self;
}

static const struct ax_future_ops parallel_map_ops = {.poll = parallel_map_poll,
                                                      .drop = parallel_map_drop};

void parallel_map_init(struct parallel_map *m, ax_blocking_fn fn, void *const *inputs,
                       ax_result *results, size_t count, int limit)
{
    m->base.ops = &parallel_map_ops;
    m->fn = fn;
    m->inputs = inputs;
    m->results = results;
    m->count = count;
    m->limit = limit;
    m->next = m->finished = 0;
    for (int i = 0; i < PARALLEL_MAP_MAX_LIMIT; i++)
        m->busy[i] = false;
}
