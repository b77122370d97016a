//@ 07
/*
 * A counting semaphore, fair: permits go to waiters in the order they asked.
 *
 * It bounds how much of something is in use at once (connections per host, requests
 * in flight, bytes buffered). Fairness is strict: a waiter asking for many permits at
 * the head of the line holds back smaller requests behind it, even when those would
 * fit, because letting them pass could starve it forever. So try_acquire fails while
 * anyone waits, and release hands permits to the waiters at the head, oldest first,
 * for as long as the head's whole request fits.
 *
 * Permits are *handed* to a waiter: release takes them from the count, marks the
 * waiter, and wakes it; the waiter owns them from then on, whether or not it has run
 * yet. So the cancellation rules are:
 *  - An acquire dropped while waiting leaves the line; if it was the head, the waiters
 *    behind it are looked at again (a smaller request may fit now).
 *  - An acquire dropped after it was handed its permits, but before it finished, gives
 *    them back, which hands them on to the next waiter. Nothing is lost either way.
 *  - Once the acquire has finished (0), the caller holds the permits and gives them
 *    back with ax_sem_release.
 *
 * Waiting for more permits than will ever be released waits forever; combine the
 * acquire with ax_timeout to bound it.
 */
#ifndef AX_SEM_H
#define AX_SEM_H

#include "ax/future.h"
#include "ax/waitq.h"

#include <stdbool.h>
#include <stddef.h>

struct ax_sem {
    size_t permits; /* free now */
    struct ax_waitq waiters; /* struct ax_sem_acquire, by waiter */
};

void ax_sem_init(struct ax_sem *sem, size_t permits);

/* Takes n permits without waiting: 0, or -EAGAIN when fewer are free or someone waits. */
int ax_sem_try_acquire(struct ax_sem *sem, size_t n);

/* Returns n permits, handing them to the waiters at the head as far as they go. */
void ax_sem_release(struct ax_sem *sem, size_t n);

static inline size_t ax_sem_available(const struct ax_sem *sem)
{
    return sem->permits;
}

enum ax_sem_acquire_state { AX_SEM_START, AX_SEM_WAITING, AX_SEM_HANDED, AX_SEM_DONE };

/* Finishes with 0 once n permits are the caller's. */
struct ax_sem_acquire {
    struct ax_future base;
    struct ax_sem *sem;
    size_t n;
    struct ax_waiter waiter;
    unsigned char state; /* enum ax_sem_acquire_state */
};

void ax_sem_acquire_init(struct ax_sem_acquire *acquire, struct ax_sem *sem, size_t n);

#endif
