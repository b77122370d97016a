/* Exercise 07-barrier. Read chapter 07, section #wait-queues, first. */
#include "barrier.h"

#include <errno.h>

void barrier_init(struct barrier *b, size_t parties)
{
    *b = (struct barrier){.parties = parties};
    ax_waitq_init(&b->waiters);
}

static ax_result barrier_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: the first poll arrives (rule 1): note the round, count the arrival, and if it
     * is the last one, end the round (a new round number, the count back to 0, every
     * waiter woken with ax_waitq_wake_all) and finish with 1. A later poll finishes with
     * 0 if its round has ended (rule 2: compare round numbers, not the `woken` flag);
     * otherwise it parks, which keeps its place (rule 3; chapter 07, #wait-queues). */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void barrier_wait_drop(struct ax_future *self)
{
    /* TODO: leave the queue (ax_waitq_cancel), and un-count the arrival if the round it
     * arrived in is still open (rule 4). */
    (void)self;
}

static const struct ax_future_ops barrier_wait_ops = {.poll = barrier_wait_poll,
                                                      .drop = barrier_wait_drop};

void barrier_wait_init(struct barrier_wait *w, struct barrier *b)
{
    *w = (struct barrier_wait){.base = {&barrier_wait_ops}, .barrier = b};
    ax_waiter_init(&w->waiter);
}
