/* Challenge 08-challenge-parallel-map: a solution. Each of `limit` slots runs one call
 * at a time; every poll refills the free slots in input order, then polls the busy
 * ones, so a slot that finishes is refilled on the same poll. */
#include "parallel_map.h"

#include <errno.h>

static void abandon(struct parallel_map *m)
{
    for (int s = 0; s < m->limit && s < PARALLEL_MAP_MAX_LIMIT; s++)
        if (m->busy[s]) {
            ax_future_drop(&m->calls[s].base); /* runs on; its result goes nowhere */
            m->busy[s] = false;
        }
}

static ax_result parallel_map_poll(struct ax_future *self, struct ax_context *cx)
{
    struct parallel_map *m = (struct parallel_map *)self;
    if (m->limit < 1 || m->limit > PARALLEL_MAP_MAX_LIMIT)
        return -EINVAL;
    for (bool progress = true; progress;) {
        progress = false;
        for (int s = 0; s < m->limit; s++) {
            if (!m->busy[s] && m->next < m->count) {
                ax_spawn_blocking_init(&m->calls[s], NULL, m->fn, m->inputs[m->next], NULL);
                m->input_of[s] = m->next++;
                m->busy[s] = true;
            }
            if (!m->busy[s])
                continue;
            ax_result rc = ax_poll(&m->calls[s].base, cx);
            if (rc == AX_PENDING)
                continue;
            ax_future_drop(&m->calls[s].base);
            m->busy[s] = false;
            if (rc < 0) {
                abandon(m);
                return rc;
            }
            m->results[m->input_of[s]] = rc;
            m->finished++;
            progress = true; /* a slot is free: fill it before parking */
        }
    }
    return m->finished == m->count ? 0 : AX_PENDING;
}

static void parallel_map_drop(struct ax_future *self)
{
    abandon((struct parallel_map *)self);
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
