//@ 02
/*
 * The interface between the reactor and the kernel's readiness API.
 *
 * A backend is a name and six small functions, and it is deliberately dumb: it
 * keeps the kernel informed of which fds the reactor wants to hear about, and it
 * turns one wait into an array of (fd, events) pairs. It never calls a callback and
 * never decides anything; dispatch lives once, in reactor.c. That is what lets
 * select (chapter 02), epoll (chapter 03) and a reader's own poll backend sit behind
 * the same reactor and pass the same conformance tests.
 *
 * The reactor promises a backend: add is called only for an fd it does not watch,
 * modify and del only for one it does, with the interest it registered last; events
 * are AX_READABLE and/or AX_WRITABLE, never zero.
 */
#ifndef AX_BACKEND_H
#define AX_BACKEND_H

#include <stdint.h>

/* One ready fd, as a backend reports it. */
struct ax_fired {
    int fd;
    int events; /* AX_READABLE | AX_WRITABLE | AX_HANGUP | AX_ERROR (| AX_READ_CLOSED) */
    unsigned registration; /* filled in by the reactor, not the backend */
};

struct ax_backend {
    const char *name;
    /* Allocates the backend's state. 0 or -errno. */
    int (*create)(void **state);
    void (*free)(void *state);
    /* Starts, changes and stops watching fd. 0 or -errno. */
    int (*add)(void *state, int fd, int events);
    int (*modify)(void *state, int fd, int old_events, int new_events);
    int (*del)(void *state, int fd, int old_events);
    /* Waits until some fd is ready or timeout_ns passes (-1: no limit, 0: just look),
     * and stores at most max ready fds in fired[]. Returns their count or -errno
     * (-EINTR when a signal cut the wait short). */
    int (*wait)(void *state, int64_t timeout_ns, struct ax_fired *fired, int max);
};

extern const struct ax_backend ax_backend_select;
//> 03
extern const struct ax_backend ax_backend_epoll;
//< 03

#endif
