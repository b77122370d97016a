//@ 02
/*
 * The reactor: one thread waits for many file descriptors at once.
 *
 * A program registers interest in an fd (readable, writable, or both) together with
 * a callback and a pointer of its own. ax_reactor_run_once asks the backend which
 * fds are ready, then calls each one's callback with what happened. Everything else
 * in the runtime (tasks, timers, channels) is eventually woken from here.
 *
 * Rules the reactor keeps, and tests check for every backend:
 *  - A callback only ever sees events the fd is still interested in at the moment it
 *    runs: if an earlier callback in the same batch unwatched the fd (or unwatched it,
 *    closed it, and a new fd got the same number), the stale event is dropped.
 *  - End of stream, errors and hang-ups are delivered, never swallowed: the fd is
 *    reported readable (a read returns 0 or the error) and AX_HANGUP / AX_ERROR say
 *    so when the backend can tell.
 *  - An fd must be unwatched before it is closed (ax_reactor_close does both).
 */
#ifndef AX_REACTOR_H
#define AX_REACTOR_H

#include "ax/backend.h"

#include <stdint.h>

enum ax_events {
    AX_READABLE = 1 << 0,
    AX_WRITABLE = 1 << 1,
    AX_HANGUP = 1 << 2, /* reported, never requested: the peer closed */
    AX_ERROR = 1 << 3, /* reported, never requested: an error is pending */
    //> 03
    AX_EDGE = 1 << 4, /* requested: report readiness only when it arrives (edge-triggered) */
    AX_READ_CLOSED = 1 << 5, /* reported with AX_EDGE, beside AX_READABLE: the peer has shut
                                down its writing side; reads will end with end of stream */
    //< 03
};

struct ax_reactor;

typedef void (*ax_io_fn)(struct ax_reactor *reactor, int fd, int events, void *data);

/* A reactor on the named backend: "select", ...; NULL means the AX_BACKEND environment
 * variable, or the default. -EINVAL for an unknown name (ax_reactor_backend_names
 * lists the known ones), -ENOMEM. */
int ax_reactor_new(struct ax_reactor **out, const char *backend_name);

/* A reactor on a backend the caller provides (a reader's own, for instance). */
int ax_reactor_new_with(struct ax_reactor **out, const struct ax_backend *backend);

void ax_reactor_free(struct ax_reactor *reactor);

const char *ax_reactor_backend_name(const struct ax_reactor *reactor);

/* The built-in backends' names, space-separated, the default first. */
const char *ax_reactor_backend_names(void);

/* Sets fd's interest to `events` (AX_READABLE, AX_WRITABLE or both) with its callback
 * and data, replacing what was there; events == 0 stops watching. 0 or -errno
 * (-EBADF for a negative fd; a backend's limit, such as select's FD_SETSIZE, gives
 * -ERANGE). */
//> 03
/* With AX_EDGE, the callback runs once each time new data or room arrives, not for
 * as long as the fd stays ready: it must then read or write until -EAGAIN. Backends
 * that cannot do this (select) refuse it with -EOPNOTSUPP. */
//< 03
int ax_reactor_watch(struct ax_reactor *reactor, int fd, int events, ax_io_fn fn, void *data);

/* Stops watching fd (nothing if it was not watched). */
int ax_reactor_unwatch(struct ax_reactor *reactor, int fd);

/* Unwatches fd, then closes it. */
int ax_reactor_close(struct ax_reactor *reactor, int fd);

/* fd's current interest: 0 when not watched. */
int ax_reactor_interest(const struct ax_reactor *reactor, int fd);

/* Number of fds watched. */
int ax_reactor_watching(const struct ax_reactor *reactor);

/* Waits at most timeout_ns (-1: no limit) for readiness and runs the callbacks of
 * the ready fds. Returns how many callbacks ran, or -errno. */
int ax_reactor_run_once(struct ax_reactor *reactor, int64_t timeout_ns);

/* Runs until ax_reactor_stop is called or no fd is watched. 0 or -errno. */
int ax_reactor_run(struct ax_reactor *reactor);

/* Makes ax_reactor_run return after the current batch; safe from a callback. */
void ax_reactor_stop(struct ax_reactor *reactor);

#endif
