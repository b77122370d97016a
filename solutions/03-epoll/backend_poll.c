/* Exercise 03-poll-backend: a reference solution. */
#include "backend_poll.h"

#include "ax/error.h"
#include "ax/reactor.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct poll_state {
    struct pollfd *fds; /* the interest list poll() reads: `count` entries */
    int count, capacity;
    int *slot; /* slot[fd]: fd's entry in fds, -1 if not watched; `slots` entries */
    int slots;
};

static int poll_create(void **state)
{
    struct poll_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    *state = s;
    return 0;
}

static void poll_free(void *state)
{
    struct poll_state *s = state;
    free(s->fds);
    free(s->slot);
    free(s);
}

static short poll_events(int events)
{
    return (short)((events & AX_READABLE ? POLLIN : 0) | (events & AX_WRITABLE ? POLLOUT : 0));
}

static int poll_add(void *state, int fd, int events)
{
    struct poll_state *s = state;
    if (events & AX_EDGE)
        return -EOPNOTSUPP; /* poll only knows "ready now" */
    if (fd >= s->slots) {
        int slots = s->slots ? s->slots : 64;
        while (slots <= fd)
            slots *= 2;
        int *slot = realloc(s->slot, (size_t)slots * sizeof *slot);
        if (slot == NULL)
            return -ENOMEM;
        for (int i = s->slots; i < slots; i++)
            slot[i] = -1;
        s->slot = slot;
        s->slots = slots;
    }
    if (s->count == s->capacity) {
        int capacity = s->capacity ? 2 * s->capacity : 64;
        struct pollfd *fds = realloc(s->fds, (size_t)capacity * sizeof *fds);
        if (fds == NULL)
            return -ENOMEM;
        s->fds = fds;
        s->capacity = capacity;
    }
    s->fds[s->count] = (struct pollfd){.fd = fd, .events = poll_events(events)};
    s->slot[fd] = s->count++;
    return 0;
}

static int poll_modify(void *state, int fd, int old_events, int new_events)
{
    struct poll_state *s = state;
    (void)old_events;
    if (new_events & AX_EDGE)
        return -EOPNOTSUPP;
    s->fds[s->slot[fd]].events = poll_events(new_events);
    return 0;
}

static int poll_del(void *state, int fd, int old_events)
{
    struct poll_state *s = state;
    (void)old_events;
    int hole = s->slot[fd];
    s->fds[hole] = s->fds[--s->count]; /* the last entry fills the hole */
    s->slot[s->fds[hole].fd] = hole;
    s->slot[fd] = -1;
    return 0;
}

static int poll_wait(void *state, int64_t timeout_ns, struct ax_fired *fired, int max)
{
    struct poll_state *s = state;
    int timeout_ms = -1;
    if (timeout_ns >= 0) /* round up: never wake before the deadline */
        timeout_ms =
            timeout_ns / 1000000 >= INT_MAX ? INT_MAX : (int)((timeout_ns + 999999) / 1000000);
    int n = poll(s->fds, (nfds_t)s->count, timeout_ms);
    if (n < 0)
        return ax__errno();
    int count = 0; /* like select, the answer is found by scanning every entry */
    for (int i = 0; i < s->count && count < n && count < max; i++) {
        short r = s->fds[i].revents;
        if (r == 0)
            continue;
        fired[count++] = (struct ax_fired){
            .fd = s->fds[i].fd,
            .events = (r & POLLIN ? AX_READABLE : 0) | (r & POLLOUT ? AX_WRITABLE : 0) |
                      (r & POLLHUP ? AX_HANGUP : 0) | (r & (POLLERR | POLLNVAL) ? AX_ERROR : 0),
        };
    }
    return count;
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
