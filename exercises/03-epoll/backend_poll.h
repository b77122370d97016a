/*
 * Exercise 03-poll-backend: a third reactor backend, on poll().
 *
 * poll() sits between select and epoll. Like select, it is handed the whole interest
 * list on every call and the answer is found by scanning it: O(watched fds) per wait.
 * Unlike select, the list is an array of struct pollfd that the program sizes itself,
 * so there is no FD_SETSIZE: any descriptor number can be watched. Behind struct
 * ax_backend (lib/ax/backend.h) it needs no change to the reactor, and it must pass
 * the same conformance suite as select and epoll.
 */
#ifndef BACKEND_POLL_H
#define BACKEND_POLL_H

#include "ax/backend.h"

/*
 * A backend named "poll". add, modify and del keep an array of struct pollfd (one
 * entry per watched fd, any fd number) in step with the reactor's interest; wait calls
 * poll() on it and reports the entries with revents set: POLLIN as AX_READABLE,
 * POLLOUT as AX_WRITABLE, POLLHUP as AX_HANGUP, POLLERR (and POLLNVAL) as AX_ERROR.
 * timeout_ns is rounded up to whole milliseconds (-1: no limit). AX_EDGE is refused
 * with -EOPNOTSUPP by add and modify: poll only knows "ready now". Other errors are
 * negative errno values: -ENOMEM when an array cannot grow, and from wait, -EINTR
 * when a signal cut the wait short (as ax/backend.h says) or what poll() reported.
 */
extern const struct ax_backend exercise_backend_poll;

#endif
