//@ 04
/*
 * I/O futures: non-blocking socket calls that park the task instead of the thread.
 *
 * Each future tries its call at once. If the socket is not ready (-EAGAIN), it tells
 * the executor which fd and direction it waits for, together with the task's waker,
 * and returns AX_PENDING; the reactor wakes the task when the fd becomes ready, and
 * the next poll tries again. Dropping a future that is still waiting takes its
 * interest back, so nothing fires for it later.
 *
 * At most one task may wait to read and one to write on a given fd at a time; a
 * second one gets -EBUSY. Sockets must be non-blocking (ax_accept_future's sockets
 * already are; see ax/nonblock.h for the others).
 */
#ifndef AX_IO_H
#define AX_IO_H

#include "ax/future.h"
#include "ax/net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where an I/O future is parked, if it is: which task waits, on which executor. */
struct ax_io_park {
    struct ax_executor *executor;
    struct ax_task *task; /* NULL: not parked */
};

/* Reads what is there, at most len bytes: the count, 0 at end of stream, or -errno. */
struct ax_read_future {
    struct ax_future base;
    int fd;
    void *buf;
    size_t len;
    struct ax_io_park park;
};
void ax_read_future_init(struct ax_read_future *f, int fd, void *buf, size_t len);

/* Writes all len bytes, however many sends it takes: 0 or -errno. */
struct ax_write_future {
    struct ax_future base;
    int fd;
    const char *buf;
    size_t len;
    size_t done;
    struct ax_io_park park;
};
void ax_write_future_init(struct ax_write_future *f, int fd, const void *buf, size_t len);

/* Accepts one connection, non-blocking: the new fd or -errno. The peer's address is
 * stored in peer. */
struct ax_accept_future {
    struct ax_future base;
    int listen_fd;
    struct ax_io_park park;
    char peer[AX_ADDR_STRLEN];
};
void ax_accept_future_init(struct ax_accept_future *f, int listen_fd);

/* Connects to host:port: the connected, non-blocking fd, or -errno. */
struct ax_connect_future {
    struct ax_future base;
    const char *host;
    uint16_t port;
    int fd; /* -1 until started */
    struct ax_io_park park;
};
void ax_connect_future_init(struct ax_connect_future *f, const char *host, uint16_t port);

#endif
