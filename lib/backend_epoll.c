//@ 03
/*
 * The epoll backend: the kernel keeps the interest list, and a wait returns only
 * the fds that are ready.
 *
 * With select, the program hands the kernel its whole interest set on every wait
 * and scans every bit of the answer: O(watched fds) twice per iteration. epoll splits
 * the two jobs. epoll_ctl tells the kernel about a change of interest once, when it
 * happens; epoll_wait then returns a batch of only the ready fds, so one iteration
 * costs O(ready), however many idle connections are watched. That is what lets one
 * thread hold ten thousand connections (chapter 03).
 *
 * Level-triggered by default, like select: a fd that stays readable is reported on
 * every wait. AX_EDGE asks for EPOLLET, where it is reported once per arrival.
 * EPOLLHUP and EPOLLERR are always reported by the kernel; they become AX_HANGUP and
 * AX_ERROR, so a hung-up socket reaches its callback instead of spinning unseen.
 */
#include "ax/backend.h"
#include "ax/error.h"
#include "ax/reactor.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct epoll_state {
    int epfd;
    struct epoll_event *events; /* what epoll_wait fills in */
    int capacity;
};

static int epoll_create_state(void **state)
{
    struct epoll_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int err = ax__errno();
        free(s);
        return err;
    }
    *state = s;
    return 0;
}

static void epoll_free_state(void *state)
{
    struct epoll_state *s = state;
    close(s->epfd);
    free(s->events);
    free(s);
}

static int control(struct epoll_state *s, int op, int fd, int events)
{
    struct epoll_event ev = {.data.fd = fd};
    if (events & AX_READABLE)
        ev.events |= EPOLLIN;
    if (events & AX_WRITABLE)
        ev.events |= EPOLLOUT;
    if (events & AX_EDGE)
        ev.events |= EPOLLET;
    return epoll_ctl(s->epfd, op, fd, &ev) < 0 ? ax__errno() : 0;
}

static int epoll_add(void *state, int fd, int events)
{
    return control(state, EPOLL_CTL_ADD, fd, events);
}

static int epoll_modify(void *state, int fd, int old_events, int new_events)
{
    (void)old_events;
    return control(state, EPOLL_CTL_MOD, fd, new_events);
}

static int epoll_del(void *state, int fd, int old_events)
{
    (void)old_events;
    return control(state, EPOLL_CTL_DEL, fd, 0);
}

// snippet epoll-wait
static int epoll_wait_ready(void *state, int64_t timeout_ns, struct ax_fired *fired, int max)
{
    struct epoll_state *s = state;
    int room = max > 0 ? max : 1; /* epoll_wait wants room for at least one */
    if (room > s->capacity) { /* one event per watched fd: a wait never truncates */
        struct epoll_event *events = realloc(s->events, (size_t)room * sizeof *events);
        if (events == NULL)
            return -ENOMEM;
        s->events = events;
        s->capacity = room;
    }
    int timeout_ms = -1;
    if (timeout_ns >= 0) /* round up: never wake before the deadline */
        timeout_ms =
            timeout_ns / 1000000 >= INT_MAX ? INT_MAX : (int)((timeout_ns + 999999) / 1000000);

    int n = epoll_wait(s->epfd, s->events, room, timeout_ms);
    if (n < 0)
        return ax__errno();
    for (int i = 0; i < n && i < max; i++) { /* only the ready fds: no scan of idle ones */
        uint32_t e = s->events[i].events;
        fired[i] = (struct ax_fired){
            .fd = s->events[i].data.fd,
            .events = (e & EPOLLIN ? AX_READABLE : 0) | (e & EPOLLOUT ? AX_WRITABLE : 0) |
                      (e & EPOLLHUP ? AX_HANGUP : 0) | (e & EPOLLERR ? AX_ERROR : 0),
        };
    }
    return n;
}
// end snippet

const struct ax_backend ax_backend_epoll = {
    .name = "epoll",
    .create = epoll_create_state,
    .free = epoll_free_state,
    .add = epoll_add,
    .modify = epoll_modify,
    .del = epoll_del,
    .wait = epoll_wait_ready,
};
