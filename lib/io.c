//@ 04
/*
 * I/O futures, and how they park a task on a file descriptor.
 *
 * The executor keeps, per fd, the waker of the task waiting to read and of the one
 * waiting to write (executor.h). The reactor watches exactly the directions somebody
 * waits for; when one fires, its waker is woken and taken out, and the interest goes
 * with it, so a ready fd that nobody reads yet cannot make the loop spin. The woken
 * task retries its call on its next poll and parks again if it must.
 */
#include "ax/io.h"
#include "ax/error.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "executor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ax_waker *slot(struct ax__io_waiters *waiters, int direction)
{
    return direction == AX_READABLE ? &waiters->readable : &waiters->writable;
}

static void on_ready(struct ax_reactor *reactor, int fd, int events, void *data);

/* Tells the reactor the directions somebody waits for on fd (none: unwatch). */
static int update_interest(struct ax_executor *executor, int fd)
{
    struct ax__io_waiters *w = &executor->io[fd];
    int events = (w->readable.task ? AX_READABLE : 0) | (w->writable.task ? AX_WRITABLE : 0);
    return ax_reactor_watch(executor->reactor, fd, events, on_ready, executor);
}

// snippet io-on-ready
static void on_ready(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor;
    struct ax_executor *executor = data;
    struct ax__io_waiters *w = &executor->io[fd];
    int failed = events & (AX_HANGUP | AX_ERROR); /* wakes both: each call will see it */
    if ((events & AX_READABLE) || failed)
        ax_wake(&w->readable);
    if ((events & AX_WRITABLE) || failed)
        ax_wake(&w->writable);
    update_interest(executor, fd);
}
// end snippet

// snippet io-park
/* Parks the polling task until fd is ready in `direction`. 0 or -errno. */
static int park(struct ax_io_park *p, struct ax_context *cx, int fd, int direction)
{
    struct ax_executor *executor = cx->executor;
    if (fd >= executor->io_capacity) {
        int capacity = executor->io_capacity ? executor->io_capacity : 64;
        while (capacity <= fd)
            capacity *= 2;
        struct ax__io_waiters *io = realloc(executor->io, (size_t)capacity * sizeof *io);
        if (io == NULL)
            return -ENOMEM;
        memset(io + executor->io_capacity, 0,
               (size_t)(capacity - executor->io_capacity) * sizeof *io);
        executor->io = io;
        executor->io_capacity = capacity;
    }
    struct ax_waker *waiter = slot(&executor->io[fd], direction);
    if (waiter->task != NULL && !ax_waker_wakes(waiter, cx))
        return -EBUSY; /* another task already waits on this fd in this direction */
    if (waiter->task == NULL)
        *waiter = ax_waker_clone(cx);
    int err = update_interest(executor, fd);
    if (err < 0) {
        ax_waker_drop(waiter);
        return err;
    }
    *p = (struct ax_io_park){.executor = executor, .task = cx->task};
    return 0;
}
// end snippet

/* Takes a parked future's interest back (when it is dropped, or done). */
static void unpark(struct ax_io_park *p, int fd, int direction)
{
    if (p->task == NULL)
        return;
    struct ax_executor *executor = p->executor;
    struct ax_waker *waiter = slot(&executor->io[fd], direction);
    if (waiter->task == p->task) {
        ax_waker_drop(waiter);
        update_interest(executor, fd);
    }
    p->task = NULL;
}

void ax__io_free(struct ax_executor *executor)
{
    for (int fd = 0; fd < executor->io_capacity; fd++) {
        ax_waker_drop(&executor->io[fd].readable);
        ax_waker_drop(&executor->io[fd].writable);
    }
    free(executor->io);
}

/* The shape every I/O future's poll shares: try, and park on -EAGAIN. */
static ax_result try_or_park(ax_result result, struct ax_io_park *p, struct ax_context *cx, int fd,
                             int direction)
{
    if (result != -EAGAIN) {
        unpark(p, fd, direction);
        return result;
    }
    int err = park(p, cx, fd, direction);
    return err < 0 ? err : AX_PENDING;
}

/* ---- read ------------------------------------------------------------------------ */

static ax_result read_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_read_future *f = (struct ax_read_future *)self;
    return try_or_park(ax_recv(f->fd, f->buf, f->len), &f->park, cx, f->fd, AX_READABLE);
}

static void read_drop(struct ax_future *self)
{
    struct ax_read_future *f = (struct ax_read_future *)self;
    unpark(&f->park, f->fd, AX_READABLE);
}

static const struct ax_future_ops read_ops = {.poll = read_poll, .drop = read_drop};

void ax_read_future_init(struct ax_read_future *f, int fd, void *buf, size_t len)
{
    *f = (struct ax_read_future){.base = {&read_ops}, .fd = fd, .buf = buf, .len = len};
}

/* ---- write all ------------------------------------------------------------------- */

// snippet write-future
static ax_result write_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_write_future *f = (struct ax_write_future *)self;
    while (f->done < f->len) {
        ssize_t sent = ax_send(f->fd, f->buf + f->done, f->len - f->done);
        if (sent < 0)
            return try_or_park(sent, &f->park, cx, f->fd, AX_WRITABLE);
        f->done += (size_t)sent; /* short: go round; the next send may say -EAGAIN */
    }
    unpark(&f->park, f->fd, AX_WRITABLE);
    return 0;
}
// end snippet

static void write_drop(struct ax_future *self)
{
    struct ax_write_future *f = (struct ax_write_future *)self;
    unpark(&f->park, f->fd, AX_WRITABLE);
}

static const struct ax_future_ops write_ops = {.poll = write_poll, .drop = write_drop};

void ax_write_future_init(struct ax_write_future *f, int fd, const void *buf, size_t len)
{
    *f = (struct ax_write_future){.base = {&write_ops}, .fd = fd, .buf = buf, .len = len};
}

/* ---- accept ---------------------------------------------------------------------- */

static ax_result accept_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_accept_future *f = (struct ax_accept_future *)self;
    return try_or_park(ax_accept_nonblocking(f->listen_fd, f->peer), &f->park, cx, f->listen_fd,
                       AX_READABLE);
}

static void accept_drop(struct ax_future *self)
{
    struct ax_accept_future *f = (struct ax_accept_future *)self;
    unpark(&f->park, f->listen_fd, AX_READABLE);
}

static const struct ax_future_ops accept_ops = {.poll = accept_poll, .drop = accept_drop};

void ax_accept_future_init(struct ax_accept_future *f, int listen_fd)
{
    *f = (struct ax_accept_future){.base = {&accept_ops}, .listen_fd = listen_fd};
}

/* ---- connect --------------------------------------------------------------------- */

static ax_result connect_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_connect_future *f = (struct ax_connect_future *)self;
    int rc;
    if (f->fd < 0) {
        rc = ax_connect_start(f->host, f->port, &f->fd);
        if (rc == 0)
            return f->fd;
        if (rc != -EINPROGRESS)
            return rc;
        rc = -EAGAIN; /* under way: wait for writability */
    } else {
        rc = ax_connect_finish(f->fd);
        if (rc == 0) {
            unpark(&f->park, f->fd, AX_WRITABLE);
            int fd = f->fd;
            f->fd = -1; /* the fd is the caller's now */
            return fd;
        }
    }
    ax_result result =
        try_or_park(rc == -EINPROGRESS ? -EAGAIN : rc, &f->park, cx, f->fd, AX_WRITABLE);
    if (result != AX_PENDING && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    return result;
}

static void connect_drop(struct ax_future *self)
{
    struct ax_connect_future *f = (struct ax_connect_future *)self;
    if (f->fd >= 0) {
        unpark(&f->park, f->fd, AX_WRITABLE);
        close(f->fd);
    }
}

static const struct ax_future_ops connect_ops = {.poll = connect_poll, .drop = connect_drop};

void ax_connect_future_init(struct ax_connect_future *f, const char *host, uint16_t port)
{
    *f = (struct ax_connect_future){.base = {&connect_ops}, .host = host, .port = port, .fd = -1};
}
