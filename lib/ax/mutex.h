//@ 07
/*
 * An async mutex: a lock a task can hold across suspension points, with FIFO
 * hand-off.
 *
 * A task that must keep a shared thing consistent while it awaits (writing a whole
 * message to a shared connection) cannot use a pthread mutex: the thread would block,
 * and with it every task on the loop. An async mutex makes the waiting task return
 * pending instead. Most shared state in a one-thread runtime needs no lock at all
 * (nothing else runs between two awaits); reach for this one only when the critical
 * section itself awaits.
 *
 * Unlocking hands the lock straight to the oldest waiter (it is a semaphore of one
 * permit): the lock is never free while someone waits, so a task that unlocks and at
 * once locks again goes to the back of the line instead of barging ahead. A lock
 * future dropped after the lock was handed to it passes it on; dropped while waiting,
 * it simply leaves the line.
 */
#ifndef AX_MUTEX_H
#define AX_MUTEX_H

#include "ax/future.h"
#include "ax/sem.h"

#include <stdbool.h>

struct ax_mutex {
    struct ax_sem sem; /* one permit: the lock */
};

void ax_mutex_init(struct ax_mutex *m);

/* Takes the lock if it is free and nobody waits. */
bool ax_mutex_try_lock(struct ax_mutex *m);

/* Hands the lock to the oldest waiter, or frees it. Only the holder unlocks. */
void ax_mutex_unlock(struct ax_mutex *m);

static inline bool ax_mutex_locked(const struct ax_mutex *m)
{
    return ax_sem_available(&m->sem) == 0;
}

/* Finishes with 0 once the caller holds the lock. */
struct ax_mutex_lock {
    struct ax_future base;
    struct ax_sem_acquire acquire;
};

void ax_mutex_lock_init(struct ax_mutex_lock *lock, struct ax_mutex *m);

#endif
