//@ 02
/*
 * The reactor's one dispatch loop, over whichever backend was chosen.
 *
 * State: a table indexed by fd of what each fd is watched for (the kernel's fd
 * numbers are small and dense, so an array beats a hash), and the array the backend
 * fills with ready fds. Each registration gets a number; a ready fd is stamped with
 * its registration before any callback runs, and an entry whose fd was unwatched or
 * re-registered since is dropped. That is how a callback may unwatch or close any fd,
 * its own or another's, without a stale event firing later in the same batch.
 */
#include "ax/reactor.h"
#include "ax/error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct watch {
    int events; /* 0: not watched */
    ax_io_fn fn;
    void *data;
    unsigned registration;
};

struct ax_reactor {
    const struct ax_backend *backend;
    void *state;
    struct watch *watches; /* indexed by fd; `capacity` entries */
    struct ax_fired *fired; /* `capacity` entries: at most one per watched fd */
    int capacity;
    int watching;
    unsigned next_registration;
    bool stopped;
};

// snippet backend-table
/* The built-in backends; the first is the default. */
static const struct ax_backend *const backends[] = {
    //> 03
    &ax_backend_epoll,
    //< 03
    &ax_backend_select,
};
enum { BACKEND_COUNT = sizeof backends / sizeof backends[0] };
// end snippet

const char *ax_reactor_backend_names(void)
{
    static char names[BACKEND_COUNT * 16]; /* a short name each, written once */
    if (names[0] == '\0') {
        size_t used = 0;
        for (int i = 0; i < BACKEND_COUNT && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? " " : "",
                                     backends[i]->name);
    }
    return names;
}

int ax_reactor_new(struct ax_reactor **out, const char *backend_name)
{
    if (backend_name == NULL)
        backend_name = getenv("AX_BACKEND");
    if (backend_name == NULL || backend_name[0] == '\0')
        return ax_reactor_new_with(out, backends[0]);
    for (int i = 0; i < BACKEND_COUNT; i++)
        if (strcmp(backends[i]->name, backend_name) == 0)
            return ax_reactor_new_with(out, backends[i]);
    return -EINVAL;
}

int ax_reactor_new_with(struct ax_reactor **out, const struct ax_backend *backend)
{
    struct ax_reactor *reactor = calloc(1, sizeof *reactor);
    if (reactor == NULL)
        return -ENOMEM;
    reactor->backend = backend;
    int err = backend->create(&reactor->state);
    if (err < 0) {
        free(reactor);
        return err;
    }
    *out = reactor;
    return 0;
}

void ax_reactor_free(struct ax_reactor *reactor)
{
    if (reactor == NULL)
        return;
    reactor->backend->free(reactor->state);
    free(reactor->watches);
    free(reactor->fired);
    free(reactor);
}

const char *ax_reactor_backend_name(const struct ax_reactor *reactor)
{
    return reactor->backend->name;
}

/* Makes the tables big enough to index fd. */
static int grow(struct ax_reactor *reactor, int fd)
{
    if (fd < reactor->capacity)
        return 0;
    int capacity = reactor->capacity ? reactor->capacity : 64;
    while (capacity <= fd)
        capacity *= 2;
    struct watch *watches = realloc(reactor->watches, (size_t)capacity * sizeof *watches);
    if (watches == NULL)
        return -ENOMEM;
    memset(watches + reactor->capacity, 0,
           (size_t)(capacity - reactor->capacity) * sizeof *watches);
    reactor->watches = watches;
    struct ax_fired *fired = realloc(reactor->fired, (size_t)capacity * sizeof *fired);
    if (fired == NULL)
        return -ENOMEM; /* the larger watch table is kept; it is harmless */
    reactor->fired = fired;
    reactor->capacity = capacity;
    return 0;
}

// snippet reactor-watch
int ax_reactor_watch(struct ax_reactor *reactor, int fd, int events, ax_io_fn fn, void *data)
{
    if (fd < 0)
        return -EBADF;
    events &= ~(AX_HANGUP | AX_ERROR); /* reported, never requested */
    if ((events & (AX_READABLE | AX_WRITABLE)) == 0)
        return ax_reactor_unwatch(reactor, fd);
    int err = grow(reactor, fd);
    if (err < 0)
        return err;

    struct watch *w = &reactor->watches[fd];
    if (w->events == 0)
        err = reactor->backend->add(reactor->state, fd, events);
    else if (w->events != events)
        err = reactor->backend->modify(reactor->state, fd, w->events, events);
    if (err < 0)
        return err;

    if (w->events == 0) {
        reactor->watching++;
        w->registration = ++reactor->next_registration;
    }
    w->events = events;
    w->fn = fn;
    w->data = data;
    return 0;
}
// end snippet

int ax_reactor_unwatch(struct ax_reactor *reactor, int fd)
{
    if (fd < 0 || fd >= reactor->capacity || reactor->watches[fd].events == 0)
        return 0;
    struct watch *w = &reactor->watches[fd];
    int err = reactor->backend->del(reactor->state, fd, w->events);
    *w = (struct watch){0}; /* registration 0: any pending event for fd is now stale */
    reactor->watching--;
    return err;
}

int ax_reactor_close(struct ax_reactor *reactor, int fd)
{
    int err = ax_reactor_unwatch(reactor, fd);
    int closed = close(fd) < 0 && errno != EINTR ? ax__errno() : 0;
    return err < 0 ? err : closed;
}

int ax_reactor_interest(const struct ax_reactor *reactor, int fd)
{
    return fd >= 0 && fd < reactor->capacity ? reactor->watches[fd].events : 0;
}

int ax_reactor_watching(const struct ax_reactor *reactor)
{
    return reactor->watching;
}

// snippet reactor-run-once
int ax_reactor_run_once(struct ax_reactor *reactor, int64_t timeout_ns)
{
    int ready =
        reactor->backend->wait(reactor->state, timeout_ns, reactor->fired, reactor->capacity);
    if (ready == -EINTR)
        return 0; /* a signal: the caller's loop simply goes round again */
    if (ready < 0)
        return ready;

    /* Stamp each ready fd with the registration it was reported for, before any
     * callback can change the table. */
    for (int i = 0; i < ready; i++)
        reactor->fired[i].registration = reactor->watches[reactor->fired[i].fd].registration;

    int ran = 0;
    for (int i = 0; i < ready; i++) {
        struct ax_fired fired = reactor->fired[i]; /* a callback may grow the arrays */
        struct watch *w = &reactor->watches[fired.fd];
        if (w->registration != fired.registration)
            continue; /* unwatched, or closed and reused, by an earlier callback */
        int wanted = w->events & (AX_READABLE | AX_WRITABLE);
        int events = fired.events & wanted;
        if (fired.events & (AX_HANGUP | AX_ERROR))
            events = wanted | (fired.events & (AX_HANGUP | AX_ERROR));
        //> 03
        if (events & AX_READABLE)
            events |= fired.events & AX_READ_CLOSED;
        //< 03
        if (events == 0)
            continue; /* interest in this direction was dropped meanwhile */
        w->fn(reactor, fired.fd, events, w->data);
        ran++;
    }
    return ran;
}
// end snippet

int ax_reactor_run(struct ax_reactor *reactor)
{
    reactor->stopped = false;
    while (!reactor->stopped && reactor->watching > 0) {
        int rc = ax_reactor_run_once(reactor, -1);
        if (rc < 0)
            return rc;
    }
    reactor->stopped = false;
    return 0;
}

void ax_reactor_stop(struct ax_reactor *reactor)
{
    reactor->stopped = true;
}
