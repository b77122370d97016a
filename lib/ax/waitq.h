//@ 07
/*
 * A wait queue: the one list of parked futures that every chapter-07 primitive is
 * built on (the channel, the semaphore, the mutex).
 *
 * Chapter 04's event wakes every waiter when it is set. That is right for a flag, but
 * wrong for a resource only one waiter can use: a freed channel slot or one semaphore
 * permit would wake a thousand tasks to let one of them through and send the rest back
 * to sleep (the thundering herd). A wait queue can wake one, in the order the waiters
 * came, or all of them.
 *
 * The waiter lives inside the future that waits (intrusive, like the event's), so
 * parking allocates nothing and cannot fail. Rules:
 *  1. A waiter is parked at most once: parking it again only refreshes its waker, so
 *     a future polled twice keeps its place in line.
 *  2. Waking takes the waiter off the queue before it wakes its task and marks it
 *     `woken`. What a wake *means* is the primitive's business: "a value may be there"
 *     for a channel's receiver, "these permits are yours" for a semaphore's acquirer.
 *  3. ax_waitq_cancel (for a future's drop) leaves the queue consistent and says
 *     whether the waiter had been woken. A waiter that was woken and is dropped
 *     before it acted on the wake must pass it on, or the next waiter sleeps forever
 *     (the lost wakeup): the primitive does that, because only it knows what the wake
 *     carried (permits to give back, a value still to be read).
 *
 * One thread: a wait queue belongs to the thread that runs its executor.
 */
#ifndef AX_WAITQ_H
#define AX_WAITQ_H

#include "ax/future.h"
#include "ax/list.h"

#include <stdbool.h>
#include <stddef.h>

// snippet waitq-struct
struct ax_waitq {
    struct ax_list waiters; /* struct ax_waiter, by link, oldest first */
};

struct ax_waiter {
    struct ax_list link; /* self-linked while not parked */
    struct ax_waker waker;
    bool woken; /* taken off the queue by a wake, not yet cleared by the primitive */
};
// end snippet

void ax_waitq_init(struct ax_waitq *q);

static inline bool ax_waitq_empty(const struct ax_waitq *q)
{
    return ax_list_empty(&q->waiters);
}

/* The oldest parked waiter, or NULL: lets a primitive look before it wakes (a
 * semaphore checks whether the head's request fits). */
static inline struct ax_waiter *ax_waitq_front(const struct ax_waitq *q)
{
    return ax_waitq_empty(q) ? NULL : ax_container_of(q->waiters.next, struct ax_waiter, link);
}

static inline void ax_waiter_init(struct ax_waiter *w)
{
    ax_list_init(&w->link);
    w->waker = (struct ax_waker){NULL, NULL};
    w->woken = false;
}

static inline bool ax_waiter_parked(const struct ax_waiter *w)
{
    return ax_list_linked(&w->link);
}

/* Parks w at the tail (rule 1: if it is parked already, it keeps its place) and makes
 * its waker wake the task polling in cx. Clears `woken`. */
void ax_waitq_park(struct ax_waitq *q, struct ax_waiter *w, struct ax_context *cx);

/* Parks w at the head instead: for a waiter that was woken and found the thing taken
 * by someone who never waited. It had reached the front; sending it to the back would
 * let the greedy one win every time. */
void ax_waitq_park_front(struct ax_waitq *q, struct ax_waiter *w, struct ax_context *cx);

/* Takes the oldest waiter off the queue, marks it woken and wakes its task. False
 * when nobody waits. */
bool ax_waitq_wake_one(struct ax_waitq *q);

/* Wakes every waiter, oldest first; returns how many. */
size_t ax_waitq_wake_all(struct ax_waitq *q);

/* For a future's drop: leaves the queue if parked, drops the waker. Returns true when
 * the waiter had been woken and not yet cleared (rule 3: pass the wake on). Safe to
 * call more than once. Inline, because a future that never waited (the common case of
 * a channel that is neither full nor empty) calls it too, and finds nothing to do. */
static inline bool ax_waitq_cancel(struct ax_waiter *w)
{
    ax_list_remove(&w->link);
    if (w->waker.task != NULL)
        ax_waker_drop(&w->waker);
    bool woken = w->woken;
    w->woken = false;
    return woken;
}

#endif
