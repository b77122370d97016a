/* Challenge 05-challenge-happy-eyeballs. Read "Sleep, timeout and interval" in chapter 05 first. */
#include "happy_eyeballs.h"

#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/timer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

static ax_result eyeballs_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: a challenge, so no steps here: happy_eyeballs.h says what must happen.
     * Chapter 05 ("Sleep, timeout and interval") has the timers, chapter 04 the sources and a
     * future that polls several others at once ("join_all and select"), and
     * ax_connect_future in lib/io.c shows one connect from start to finish. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void eyeballs_drop(struct ax_future *self)
{
    (void)self;
}

static const struct ax_future_ops eyeballs_ops = {.poll = eyeballs_poll, .drop = eyeballs_drop};

int happy_eyeballs_init(struct happy_eyeballs *he, const struct happy_eyeballs_address *addrs,
                        size_t n, uint64_t attempt_delay_ns, struct ax_source **out,
                        uint64_t *started_at)
{
    (void)addrs;
    (void)n;
    (void)attempt_delay_ns;
    (void)out;
    (void)started_at;
    *he = (struct happy_eyeballs){.base = {&eyeballs_ops}};
    return -ENOSYS;
}
