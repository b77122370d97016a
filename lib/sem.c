//@ 07
/* The fair semaphore; the rules are in ax/sem.h. */
#include "ax/sem.h"

#include <errno.h>

void ax_sem_init(struct ax_sem *sem, size_t permits)
{
    sem->permits = permits;
    ax_waitq_init(&sem->waiters);
}

int ax_sem_try_acquire(struct ax_sem *sem, size_t n)
{
    if (!ax_waitq_empty(&sem->waiters) || sem->permits < n)
        return -EAGAIN; /* someone waits: taking permits now would jump the line */
    sem->permits -= n;
    return 0;
}

// snippet sem-hand-off
/* Hands permits to the head of the line while its whole request fits. A head that does
 * not fit stops everyone behind it: that is the fairness. */
static void hand_off(struct ax_sem *sem)
{
    struct ax_waiter *w;
    while ((w = ax_waitq_front(&sem->waiters)) != NULL) {
        struct ax_sem_acquire *a = ax_container_of(w, struct ax_sem_acquire, waiter);
        if (a->n > sem->permits)
            return;
        sem->permits -= a->n;
        a->state = AX_SEM_HANDED; /* the permits are its own from here, run or not */
        ax_waitq_wake_one(&sem->waiters);
    }
}
// end snippet

void ax_sem_release(struct ax_sem *sem, size_t n)
{
    sem->permits += n;
    hand_off(sem);
}

static ax_result acquire_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_sem_acquire *a = (struct ax_sem_acquire *)self;
    switch (a->state) {
    case AX_SEM_DONE:
        return -EINVAL; /* polled after it finished */
    case AX_SEM_HANDED:
        ax_waitq_cancel(&a->waiter); /* off the queue already; lets the waker go */
        a->state = AX_SEM_DONE;
        return 0;
    case AX_SEM_START:
        if (ax_sem_try_acquire(a->sem, a->n) == 0) {
            a->state = AX_SEM_DONE;
            return 0;
        }
        break;
    default:
        break;
    }
    ax_waitq_park(&a->sem->waiters, &a->waiter, cx); /* polled again: keeps its place */
    a->state = AX_SEM_WAITING;
    return AX_PENDING;
}

// snippet sem-acquire-drop
static void acquire_drop(struct ax_future *self)
{
    struct ax_sem_acquire *a = (struct ax_sem_acquire *)self;
    struct ax_sem *sem = a->sem;
    if (a->state == AX_SEM_WAITING) {
        bool was_head = ax_waitq_front(&sem->waiters) == &a->waiter;
        ax_waitq_cancel(&a->waiter);
        if (was_head)
            hand_off(sem); /* it may have been all that held the next ones back */
    } else if (a->state == AX_SEM_HANDED) {
        ax_waitq_cancel(&a->waiter);
        ax_sem_release(sem, a->n); /* handed but never used: on to the next */
    }
    a->state = AX_SEM_DONE;
}
// end snippet

static const struct ax_future_ops acquire_ops = {.poll = acquire_poll, .drop = acquire_drop};

void ax_sem_acquire_init(struct ax_sem_acquire *a, struct ax_sem *sem, size_t n)
{
    *a = (struct ax_sem_acquire){.base = {&acquire_ops}, .sem = sem, .n = n};
    ax_waiter_init(&a->waiter);
}
