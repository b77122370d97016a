/*
 * Challenge 03-challenge-edge-echo: an echo server on edge-triggered epoll, in bounded
 * memory, that keeps serving at its descriptor limit.
 *
 * Edge triggering lets a server tell the kernel about each socket once and never
 * again: no epoll_ctl per event, however the connection's state changes. The price is
 * that the kernel reports a direction only when readiness arrives, so everything the
 * server does not finish in one go is its own to remember. This server registers each
 * descriptor once, and must still hold back a client that reads too little, bring it
 * back when it reads again, and shed connections it has no descriptor for.
 *
 * What it guarantees:
 *
 *  - Every byte a client sends comes back to it, in order, each client at its own
 *    pace. After a client's end of stream, it gets the rest of its echo, and then the
 *    server closes the connection.
 *  - Registration: the reactor runs on the backend the caller gives. Every descriptor
 *    the server watches (the listener and each client) is added to it once, with
 *    AX_EDGE, and removed once, when the server closes it or stops; its interest is
 *    never modified in between.
 *  - At most EDGE_ECHO_MAX_PENDING bytes per client are held: read and not yet sent
 *    back. A client that does not read its echo is not read from either (TCP then
 *    slows it down), and nobody else waits for it. When it reads again, its echo
 *    resumes, whether or not it sends anything more.
 *  - A client whose connection fails (a reset, any error on a read or a write) is
 *    closed; the others carry on.
 *  - At its descriptor limit (accept fails with EMFILE or ENFILE), every connection it
 *    has no descriptor for is closed at once, so its client sees the connection end
 *    rather than wait in the listener's queue, and the server carries on with the
 *    clients it has. A connection that arrives once a descriptor is free is served.
 *  - One thread serves everyone, and every socket it holds is non-blocking.
 */
#ifndef EDGE_ECHO_H
#define EDGE_ECHO_H

#include "ax/backend.h"

#define EDGE_ECHO_MAX_PENDING (64 * 1024)

/*
 * Serves echo on listen_fd, a listening socket the caller created and still owns, on a
 * reactor over `backend` (ax_reactor_new_with).
 *
 * Runs until the caller shuts the listener down (shutdown(listen_fd, SHUT_RDWR): the
 * listener then reports readable and accept fails with EINVAL); then closes every
 * client, frees everything and returns 0. Any accept failure other than EMFILE and
 * ENFILE ends it the same way but returns that error. Returns -EOPNOTSUPP at once if
 * the backend refuses AX_EDGE (select does); other errors (-ENOMEM, the backend's)
 * are negative errno values.
 */
int edge_echo_serve(int listen_fd, const struct ax_backend *backend);

#endif
