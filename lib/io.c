//@ 04
/*
 * I/O futures over sources; the rules are in ax/io.h and ax/source.h.
 *
 * They share one loop, io_call: ask the source whether the direction is ready (which
 * parks the task when it is not), make the call, and on -EAGAIN forget the readiness
 * and ask again, which now parks. Everything else is the call itself.
 */
#include "ax/io.h"
#include "ax/error.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
//> 08
#include <netdb.h>
//< 08
#include <unistd.h>

// snippet io-call
/* One non-blocking call, made when the source is ready in `direction`: its result,
 * AX_PENDING with the task parked (or out of budget), or -errno. */
typedef ax_result (*io_fn)(struct ax_future *self, int fd);

static ax_result io_call(struct ax_future *self, struct ax_source_waiter *waiter, int direction,
                         struct ax_context *cx, io_fn call)
{
    for (;;) {
        ax_result ready = ax_source_poll_ready(waiter, direction, cx);
        if (ready != 0)
            return ready; /* parked, out of budget, or closed */
        ax_result result = call(self, waiter->source->fd);
        if (result != -EAGAIN)
            return result;
        ax_source_clear_ready(waiter->source, direction); /* used up: the next ask parks */
    }
}
// end snippet

/* ---- read ------------------------------------------------------------------------ */

static ax_result recv_some(struct ax_future *self, int fd)
{
    struct ax_read_future *f = (struct ax_read_future *)self;
    return ax_recv(fd, f->buf, f->len);
}

// snippet read-future
static ax_result read_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_read_future *f = (struct ax_read_future *)self;
    ax_result got = io_call(self, &f->waiter, AX_READABLE, cx, recv_some);
    struct ax_source *source = f->waiter.source;
    if (got > 0 && (size_t)got < f->len && source->short_read_drains && !source->read_closed)
        ax_source_clear_ready(source, AX_READABLE); /* nothing left: spare the -EAGAIN call */
    return got;
}
// end snippet

static void read_drop(struct ax_future *self)
{
    ax_source_waiter_drop(&((struct ax_read_future *)self)->waiter);
}

static const struct ax_future_ops read_ops = {.poll = read_poll, .drop = read_drop};

void ax_read_future_init(struct ax_read_future *f, struct ax_source *source, void *buf, size_t len)
{
    *f = (struct ax_read_future){.base = {&read_ops}, .buf = buf, .len = len};
    ax_source_waiter_init(&f->waiter, source);
}

/* ---- write all ------------------------------------------------------------------- */

// snippet write-future
static ax_result send_rest(struct ax_future *self, int fd)
{
    struct ax_write_future *f = (struct ax_write_future *)self;
    return ax_send(fd, f->buf + f->done, f->len - f->done);
}

static ax_result write_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_write_future *f = (struct ax_write_future *)self;
    while (f->done < f->len) {
        ax_result sent = io_call(self, &f->waiter, AX_WRITABLE, cx, send_rest);
        if (sent < 0)
            return sent; /* AX_PENDING (the rest waits) or an error */
        f->done += (size_t)sent; /* short: go round; the next send may park */
    }
    return 0;
}
// end snippet

static void write_drop(struct ax_future *self)
{
    ax_source_waiter_drop(&((struct ax_write_future *)self)->waiter);
}

static const struct ax_future_ops write_ops = {.poll = write_poll, .drop = write_drop};

void ax_write_future_init(struct ax_write_future *f, struct ax_source *source, const void *buf,
                          size_t len)
{
    *f = (struct ax_write_future){.base = {&write_ops}, .buf = buf, .len = len};
    ax_source_waiter_init(&f->waiter, source);
}

/* ---- accept ---------------------------------------------------------------------- */

static ax_result accept_one(struct ax_future *self, int fd)
{
    return ax_accept_nonblocking(fd, ((struct ax_accept_future *)self)->peer);
}

static ax_result accept_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_accept_future *f = (struct ax_accept_future *)self;
    return io_call(self, &f->waiter, AX_READABLE, cx, accept_one);
}

static void accept_drop(struct ax_future *self)
{
    ax_source_waiter_drop(&((struct ax_accept_future *)self)->waiter);
}

static const struct ax_future_ops accept_ops = {.poll = accept_poll, .drop = accept_drop};

void ax_accept_future_init(struct ax_accept_future *f, struct ax_source *listener)
{
    *f = (struct ax_accept_future){.base = {&accept_ops}};
    ax_source_waiter_init(&f->waiter, listener);
}

/* ---- connect --------------------------------------------------------------------- */

/* Writable means the handshake is over; SO_ERROR says how it went. */
static ax_result connect_result(struct ax_future *self, int fd)
{
    (void)self;
    return ax_connect_finish(fd);
}

static ax_result connect_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_connect_future *f = (struct ax_connect_future *)self;
    //> 08
    if (!f->resolved) { /* first, the host's addresses, looked up off the loop */
        ax_result found = ax_poll(&f->resolve.base, cx);
        if (found == AX_PENDING || found < 0)
            return found; /* pending, or AX_ENOHOST, AX_ERESOLVE, ... */
        f->resolved = true;
        f->next = f->addrs;
    }
    //< 08
    if (f->source == NULL) {
        int fd = -1;
        //> 04..08
        //| int rc = ax_connect_start(f->host, f->port, &fd);
        //| if (rc < 0 && rc != -EINPROGRESS)
        //|     return rc;
        //< 04
        //> 08
        if (f->next == NULL)
            return -EINVAL; /* polled after it finished */
        int rc = ax_connect_start_addr(f->next, &fd);
        f->next = f->next->ai_next;
        if (rc < 0 && rc != -EINPROGRESS)
            return f->next != NULL ? connect_poll(self, cx) : rc; /* the next address */
        //< 08
        int err = ax_source_open(cx->executor, fd, &f->source);
        if (err < 0) {
            close(fd);
            return err;
        }
        if (rc == -EINPROGRESS) /* not writable until the handshake is over */
            ax_source_clear_ready(f->source, AX_WRITABLE);
        ax_source_waiter_init(&f->waiter, f->source);
    }
    ax_result result = io_call(self, &f->waiter, AX_WRITABLE, cx, connect_result);
    if (result == AX_PENDING)
        return result;
    ax_source_waiter_drop(&f->waiter);
    if (result == 0)
        *f->out = f->source; /* the caller's now */
    else
        ax_source_close(f->source);
    f->source = NULL;
    //> 08
    if (result < 0 && f->next != NULL)
        return connect_poll(self, cx); /* refused or unreachable there: the next address */
    //< 08
    return result;
}

static void connect_drop(struct ax_future *self)
{
    struct ax_connect_future *f = (struct ax_connect_future *)self;
    //> 08
    ax_future_drop(&f->resolve.base); /* a lookup still under way is abandoned */
    if (f->addrs != NULL)
        freeaddrinfo(f->addrs);
    f->addrs = NULL;
    //< 08
    if (f->source == NULL)
        return;
    ax_source_waiter_drop(&f->waiter);
    ax_source_close(f->source); /* a connection nobody will get */
    f->source = NULL;
}

static const struct ax_future_ops connect_ops = {.poll = connect_poll, .drop = connect_drop};

void ax_connect_future_init(struct ax_connect_future *f, const char *host, uint16_t port,
                            struct ax_source **out)
{
    *f = (struct ax_connect_future){.base = {&connect_ops}, .host = host, .port = port, .out = out};
    //> 08
    ax_resolve_init(&f->resolve, host, port, &f->addrs);
    //< 08
}
//> 08

void ax_connect_future_init_addrs(struct ax_connect_future *f, const struct addrinfo *addrs,
                                  struct ax_source **out)
{
    *f = (struct ax_connect_future){
        .base = {&connect_ops}, .out = out, .resolved = true, .next = addrs};
    ax_resolve_init(&f->resolve, NULL, 0, NULL); /* never polled: dropping it is harmless */
}
//< 08
