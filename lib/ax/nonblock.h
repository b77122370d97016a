//@ 02
/*
 * Non-blocking socket I/O: calls that return at once instead of putting the thread
 * to sleep.
 *
 * On a socket with O_NONBLOCK, a call that would have to wait fails with EAGAIN
 * instead, and the program goes on to other work until the reactor says the socket
 * is ready. These helpers give the calls the course's shape: results are counts or
 * negative errno values, -EAGAIN means "not now, wait for readiness", EINTR is
 * retried, and SIGPIPE never fires. A read loop on a non-blocking socket must stop
 * at -EAGAIN: the data that is there has been taken, and reading on would only spin.
 */
#ifndef AX_NONBLOCK_H
#define AX_NONBLOCK_H

#include "ax/buf.h"
#include "ax/net.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Turns O_NONBLOCK on or off. 0 or -errno. */
int ax_set_nonblocking(int fd, bool on);

/* Takes one pending connection, already non-blocking. The new fd, -EAGAIN when none
 * is pending, or -errno (-EMFILE when the process is out of descriptors). */
int ax_accept_nonblocking(int listen_fd, char peer[AX_ADDR_STRLEN]);

/* Starts connecting a non-blocking socket to host:port and stores it in *fd. Returns
 * 0 when already connected, -EINPROGRESS when the connection is under way (wait for
 * writable, then call ax_connect_finish), or another -errno (nothing to close). */
int ax_connect_start(const char *host, uint16_t port, int *fd);

/* After a started connection became writable: 0 if it succeeded, or why it failed
 * (-ECONNREFUSED, -ETIMEDOUT, ...), read from SO_ERROR. */
int ax_connect_finish(int fd);

/* One recv (a read, for a pipe or other non-socket): the count, 0 at end of stream,
 * -EAGAIN when nothing is there yet, or -errno. */
ssize_t ax_recv(int fd, void *buf, size_t n);

/* One send (a write, for a non-socket): the count (perhaps short), -EAGAIN when the
 * buffer is full, or -errno (-EPIPE when the peer has gone; never SIGPIPE from a
 * socket). */
ssize_t ax_send(int fd, const void *buf, size_t n);

/* Sends as much of `out` as the socket takes now and consumes what was sent. 0 when
 * `out` is empty, -EAGAIN when bytes remain (watch for writable and call it again),
 * or -errno. This is how a server buffers partial writes per connection. */
int ax_flush(int fd, struct ax_buf *out);

#endif
