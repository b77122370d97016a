//@ 07
/* The async mutex: a fair semaphore of one permit; the rules are in ax/mutex.h. */
#include "ax/mutex.h"

void ax_mutex_init(struct ax_mutex *m)
{
    ax_sem_init(&m->sem, 1);
}

bool ax_mutex_try_lock(struct ax_mutex *m)
{
    return ax_sem_try_acquire(&m->sem, 1) == 0;
}

void ax_mutex_unlock(struct ax_mutex *m)
{
    ax_sem_release(&m->sem, 1); /* straight to the oldest waiter, if there is one */
}

static ax_result lock_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct ax_mutex_lock *)self)->acquire.base, cx);
}

static void lock_drop(struct ax_future *self)
{
    ax_future_drop(&((struct ax_mutex_lock *)self)->acquire.base);
}

static const struct ax_future_ops lock_ops = {.poll = lock_poll, .drop = lock_drop};

void ax_mutex_lock_init(struct ax_mutex_lock *lock, struct ax_mutex *m)
{
    lock->base.ops = &lock_ops;
    ax_sem_acquire_init(&lock->acquire, &m->sem, 1);
}
