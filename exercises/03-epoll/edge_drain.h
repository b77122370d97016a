/*
 * Exercise 03-edge-drain: an edge-triggered reader that drains the socket.
 *
 * Watched with AX_READABLE | AX_EDGE (EPOLLET), a socket is reported once when data
 * arrives, not for as long as data waits. A callback that reads part of what is there
 * and returns will not be called again for the rest: no new data, no new edge, and the
 * bytes sit in the kernel while the connection stalls. So an edge-triggered reader
 * reads until the socket says EAGAIN, every time.
 */
#ifndef EDGE_DRAIN_H
#define EDGE_DRAIN_H

#include "ax/buf.h"
#include "ax/reactor.h"

#include <stdbool.h>

/* What one edge-triggered reader has taken from its socket. Start it zeroed. */
struct edge_reader {
    struct ax_buf in; /* every byte read, in order */
    bool eof; /* the peer closed its end */
    int error; /* the negative errno value a read failed with, or 0 */
};

/*
 * The callback for a non-blocking socket watched with AX_READABLE | AX_EDGE, with a
 * struct edge_reader as its data. Each call appends to `in` everything the socket
 * holds, reading until ax_recv returns -EAGAIN. A read of 0 sets eof; a failed read
 * (-ECONNRESET, ...) sets error, as does -ENOMEM from a buffer that cannot grow.
 *
 * Once eof or error is set, the reader has finished for good: the call that set it
 * returns without another read, and every later call (the reactor may report the fd
 * again) returns at once without reading at all, leaving `in` as it is. It never
 * unwatches or closes the fd: that is the caller's.
 */
void edge_reader_on_readable(struct ax_reactor *reactor, int fd, int events, void *data);

#endif
