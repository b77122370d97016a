//@ 02
/*
 * The select() backend: the oldest readiness API, and the simplest to read.
 *
 * The backend keeps two fd_sets, the fds to watch for reading and for writing, and
 * hands select() copies of them each time, because select overwrites its arguments
 * with the answer. The answer is found by testing every fd up to the highest one
 * watched: the O(n) scan that chapter 02 measures and chapter 03's epoll removes.
 * An fd_set is a fixed bitmap of FD_SETSIZE (1024) bits; an fd at or above it cannot
 * be watched at all, and is refused rather than written past the end of the set.
 */
#include "ax/backend.h"
#include "ax/error.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>

struct select_state {
    fd_set read;
    fd_set write;
    int max_fd; /* highest watched fd, -1 when none */
};

static int select_create(void **state)
{
    struct select_state *s = malloc(sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    FD_ZERO(&s->read);
    FD_ZERO(&s->write);
    s->max_fd = -1;
    *state = s;
    return 0;
}

static void select_free(void *state)
{
    free(state);
}

static void set_interest(struct select_state *s, int fd, int events)
{
    if (events & AX_READABLE)
        FD_SET(fd, &s->read);
    else
        FD_CLR(fd, &s->read);
    if (events & AX_WRITABLE)
        FD_SET(fd, &s->write);
    else
        FD_CLR(fd, &s->write);
}

static int select_add(void *state, int fd, int events)
{
    struct select_state *s = state;
    if (fd >= FD_SETSIZE)
        return -ERANGE; /* FD_SET past the bitmap would corrupt memory */
    //> 03
    if (events & AX_EDGE)
        return -EOPNOTSUPP; /* select only knows "ready now" */
    //< 03
    set_interest(s, fd, events);
    if (fd > s->max_fd)
        s->max_fd = fd;
    return 0;
}

static int select_modify(void *state, int fd, int old_events, int new_events)
{
    (void)old_events;
    //> 03
    if (new_events & AX_EDGE)
        return -EOPNOTSUPP;
    //< 03
    set_interest(state, fd, new_events);
    return 0;
}

static int select_del(void *state, int fd, int old_events)
{
    struct select_state *s = state;
    (void)old_events;
    set_interest(s, fd, 0);
    while (s->max_fd >= 0 && !FD_ISSET(s->max_fd, &s->read) && !FD_ISSET(s->max_fd, &s->write))
        s->max_fd--;
    return 0;
}

// snippet select-wait
static int select_wait(void *state, int64_t timeout_ns, struct ax_fired *fired, int max)
{
    struct select_state *s = state;
    fd_set readable = s->read, writable = s->write; /* select overwrites its sets */
    struct timeval timeout, *limit = NULL;
    if (timeout_ns >= 0) {
        int64_t us = (timeout_ns + 999) / 1000; /* round up: never wake before the deadline */
        timeout = (struct timeval){.tv_sec = us / 1000000, .tv_usec = us % 1000000};
        limit = &timeout;
    }
    int n = select(s->max_fd + 1, &readable, &writable, NULL, limit);
    if (n < 0)
        return ax__errno();

    int count = 0; /* the O(n) part: test every fd up to the highest watched */
    for (int fd = 0; fd <= s->max_fd && count < n && count < max; fd++) {
        int events = (FD_ISSET(fd, &readable) ? AX_READABLE : 0) |
                     (FD_ISSET(fd, &writable) ? AX_WRITABLE : 0);
        if (events != 0)
            fired[count++] = (struct ax_fired){.fd = fd, .events = events};
    }
    return count;
}
// end snippet

const struct ax_backend ax_backend_select = {
    .name = "select",
    .create = select_create,
    .free = select_free,
    .add = select_add,
    .modify = select_modify,
    .del = select_del,
    .wait = select_wait,
};
