//@ 08
/*
 * The executor's inbox, the one door from other threads into the loop; the design and
 * the rules are in ax/remote.h.
 *
 * What the mutex guards: the list of posted records, `signalled` and `signals`. What
 * only the loop's thread touches: everything else, including the executor's count of
 * expected posts. The eventfd is written under the mutex, so once a post has unlocked,
 * the loop may drain the record, free it, even close the inbox, and the posting thread
 * has nothing of the executor's left in hand.
 */
#include "ax/remote.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/reactor.h"
#include "ax/task.h"
#include "executor.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ax__inbox {
    pthread_mutex_t lock;
    struct ax_remote *head, *tail; /* posted, not yet taken; under lock */
    bool signalled; /* the eventfd was written since the last drain; under lock */
    uint64_t signals; /* eventfd writes so far; under lock */
    int fd; /* the eventfd */
};

// snippet inbox-drain
/* The loop's side: reset the eventfd, take everything posted, and let each record do
 * what it came for, here, on the loop's thread. The eventfd is read before the list is
 * taken: a post that comes after the read either lands in the list taken now or,
 * finding `signalled` cleared, writes the eventfd again. No post is left unseen. */
static void drain(struct ax_executor *executor)
{
    struct ax__inbox *inbox = executor->inbox;
    uint64_t count;
    while (read(inbox->fd, &count, sizeof count) < 0 && errno == EINTR)
        continue; /* -EAGAIN: nothing was written; the list may still hold records */
    pthread_mutex_lock(&inbox->lock);
    struct ax_remote *remote = inbox->head;
    inbox->head = inbox->tail = NULL;
    inbox->signalled = false;
    pthread_mutex_unlock(&inbox->lock);
    while (remote != NULL) {
        struct ax_remote *next = remote->next; /* `arrived` may free the record */
        executor->remote_expected--;
        remote->arrived(remote);
        remote = next;
    }
}
// end snippet

void ax__inbox_drain(struct ax_executor *executor)
{
    if (executor->inbox != NULL)
        drain(executor);
}

static void on_inbox_ready(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd, (void)events;
    drain(data);
}

static int inbox_open(struct ax_executor *executor)
{
    struct ax__inbox *inbox = calloc(1, sizeof *inbox);
    if (inbox == NULL)
        return -ENOMEM;
    inbox->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (inbox->fd < 0) {
        int err = ax__errno();
        free(inbox);
        return err;
    }
    /* Level-triggered on every backend: the callback reads the eventfd each time. */
    int err = ax_reactor_watch(executor->reactor, inbox->fd, AX_READABLE, on_inbox_ready, executor);
    if (err < 0) {
        close(inbox->fd);
        free(inbox);
        return err;
    }
    pthread_mutex_init(&inbox->lock, NULL);
    executor->edge_sources++; /* registered for good, it wakes nobody by itself */
    executor->inbox = inbox;
    return 0;
}

int ax_remote_expect(struct ax_remote *remote, struct ax_executor *executor,
                     void (*arrived)(struct ax_remote *self))
{
    if (executor->inbox == NULL) {
        int err = inbox_open(executor);
        if (err < 0)
            return err;
    }
    *remote = (struct ax_remote){.arrived = arrived, .executor = executor};
    executor->remote_expected++;
    return 0;
}

// snippet inbox-post
void ax_remote_post(struct ax_remote *remote)
{
    struct ax__inbox *inbox = remote->executor->inbox;
    pthread_mutex_lock(&inbox->lock);
    remote->next = NULL;
    if (inbox->tail != NULL)
        inbox->tail->next = remote;
    else
        inbox->head = remote;
    inbox->tail = remote;
    if (!inbox->signalled) { /* the first since the last drain: wake the loop */
        inbox->signalled = true;
        inbox->signals++;
        uint64_t one = 1;
        while (write(inbox->fd, &one, sizeof one) < 0 && errno == EINTR)
            continue; /* never full: the loop resets it before the next write */
    }
    pthread_mutex_unlock(&inbox->lock);
}
// end snippet

void ax_remote_forget(struct ax_remote *remote)
{
    remote->executor->remote_expected--;
}

void ax__inbox_free(struct ax_executor *executor)
{
    struct ax__inbox *inbox = executor->inbox;
    if (inbox == NULL)
        return;
    while (executor->remote_expected > 0) { /* rule 3: work still out there finishes first */
        struct pollfd ready = {.fd = inbox->fd, .events = POLLIN};
        if (poll(&ready, 1, -1) > 0 || errno == EINTR)
            drain(executor);
    }
    drain(executor); /* posts of records that were expected and then forgotten: none */
    ax_reactor_unwatch(executor->reactor, inbox->fd);
    executor->edge_sources--;
    close(inbox->fd);
    pthread_mutex_destroy(&inbox->lock);
    free(inbox);
    executor->inbox = NULL;
}

size_t ax_executor_remote_expected(const struct ax_executor *executor)
{
    return executor->remote_expected;
}

uint64_t ax_executor_remote_signals(struct ax_executor *executor)
{
    if (executor->inbox == NULL)
        return 0;
    pthread_mutex_lock(&executor->inbox->lock);
    uint64_t signals = executor->inbox->signals;
    pthread_mutex_unlock(&executor->inbox->lock);
    return signals;
}

/* ---- remote wakers ----------------------------------------------------------------- */

static void remote_waker_arrived(struct ax_remote *remote)
{
    ax_wake(&ax_container_of(remote, struct ax_remote_waker, remote)->waker);
}

int ax_remote_waker_init(struct ax_remote_waker *waker, const struct ax_context *cx)
{
    int err = ax_remote_expect(&waker->remote, cx->executor, remote_waker_arrived);
    if (err < 0)
        return err;
    waker->waker = ax_waker_clone(cx);
    return 0;
}

void ax_remote_waker_wake(struct ax_remote_waker *waker)
{
    ax_remote_post(&waker->remote);
}

void ax_remote_waker_cancel(struct ax_remote_waker *waker)
{
    ax_remote_forget(&waker->remote);
    ax_waker_drop(&waker->waker);
}
