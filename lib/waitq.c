//@ 07
/* The wait queue every chapter-07 primitive parks on; the rules are in ax/waitq.h. */
#include "ax/waitq.h"

void ax_waitq_init(struct ax_waitq *q)
{
    ax_list_init(&q->waiters);
}

static void set_waker(struct ax_waiter *w, struct ax_context *cx)
{
    w->woken = false;
    if (!ax_waker_wakes(&w->waker, cx)) {
        ax_waker_drop(&w->waker);
        w->waker = ax_waker_clone(cx);
    }
}

void ax_waitq_park(struct ax_waitq *q, struct ax_waiter *w, struct ax_context *cx)
{
    if (!ax_waiter_parked(w))
        ax_list_push_back(&q->waiters, &w->link); /* polled again: keeps its place */
    set_waker(w, cx);
}

void ax_waitq_park_front(struct ax_waitq *q, struct ax_waiter *w, struct ax_context *cx)
{
    if (!ax_waiter_parked(w))
        ax_list_push_front(&q->waiters, &w->link);
    set_waker(w, cx);
}

// snippet waitq-wake-one
bool ax_waitq_wake_one(struct ax_waitq *q)
{
    struct ax_list *node = ax_list_pop_front(&q->waiters);
    if (node == NULL)
        return false;
    struct ax_waiter *w = ax_container_of(node, struct ax_waiter, link);
    w->woken = true; /* off the queue first: a wake is delivered once */
    ax_wake(&w->waker);
    return true;
}
// end snippet

size_t ax_waitq_wake_all(struct ax_waitq *q)
{
    size_t n = 0;
    while (ax_waitq_wake_one(q))
        n++;
    return n;
}
