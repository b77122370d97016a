/* Exercise 07-barrier: a reference solution. */
#include "barrier.h"

void barrier_init(struct barrier *b, size_t parties)
{
    *b = (struct barrier){.parties = parties};
    ax_waitq_init(&b->waiters);
}

/* Whether the round w arrived in has ended. */
static bool round_over(const struct barrier_wait *w)
{
    return w->barrier->round != w->round;
}

static ax_result barrier_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct barrier_wait *w = (struct barrier_wait *)self;
    struct barrier *b = w->barrier;
    if (!w->arrived) {
        w->arrived = true;
        w->round = b->round;
        if (++b->arrived >= b->parties) {
            /* The last arrival: the round ends, and its waits are let go. */
            b->arrived = 0;
            b->round++;
            ax_waitq_wake_all(&b->waiters);
            return 1;
        }
    } else if (round_over(w)) {
        ax_waitq_cancel(&w->waiter); /* off the queue already: drops the waker */
        return 0;
    }
    ax_waitq_park(&b->waiters, &w->waiter, cx); /* a second park keeps the place */
    return AX_PENDING;
}

static void barrier_wait_drop(struct ax_future *self)
{
    struct barrier_wait *w = (struct barrier_wait *)self;
    ax_waitq_cancel(&w->waiter);
    if (w->arrived && !round_over(w))
        w->barrier->arrived--; /* rule 4: it leaves the round */
    w->arrived = false;
}

static const struct ax_future_ops barrier_wait_ops = {.poll = barrier_wait_poll,
                                                      .drop = barrier_wait_drop};

void barrier_wait_init(struct barrier_wait *w, struct barrier *b)
{
    *w = (struct barrier_wait){.base = {&barrier_wait_ops}, .barrier = b};
    ax_waiter_init(&w->waiter);
}
