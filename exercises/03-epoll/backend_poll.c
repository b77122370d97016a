/* Exercise 03-poll-backend. Read "The backend, chosen at run time" in chapter 03 first. */
#include "backend_poll.h"

#include "ax/error.h"
#include "ax/reactor.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

/* TODO: write the poll backend (see chapter 03, "The backend, chosen at run time", and
 * compare lib/backend_select.c and lib/backend_epoll.c). Keep a growable array of
 * struct pollfd, one entry per watched fd, and a way to find an fd's entry (an array
 * indexed by fd works: the numbers are small). del can move the last entry into the
 * hole. wait hands the array to poll() and scans it for entries with revents set.
 * Until then, create fails, so every reactor on this backend fails to start. */
static int poll_create(void **state)
{
    (void)state;
    return -ENOSYS;
}

static void poll_free(void *state)
{
    (void)state;
}

static int poll_add(void *state, int fd, int events)
{
    (void)state, (void)fd, (void)events;
    return -ENOSYS;
}

static int poll_modify(void *state, int fd, int old_events, int new_events)
{
    (void)state, (void)fd, (void)old_events, (void)new_events;
    return -ENOSYS;
}

static int poll_del(void *state, int fd, int old_events)
{
    (void)state, (void)fd, (void)old_events;
    return -ENOSYS;
}

static int poll_wait(void *state, int64_t timeout_ns, struct ax_fired *fired, int max)
{
    (void)state, (void)timeout_ns, (void)fired, (void)max;
    return -ENOSYS;
}

const struct ax_backend exercise_backend_poll = {
    .name = "poll",
    .create = poll_create,
    .free = poll_free,
    .add = poll_add,
    .modify = poll_modify,
    .del = poll_del,
    .wait = poll_wait,
};
