//@ 04
/*
 * I/O futures: non-blocking socket calls that park the task instead of the thread.
 *
 * Each future works on an I/O source (ax/source.h), never on a bare fd. It tries its
 * call while the source is known ready; when the call says -EAGAIN it forgets that
 * readiness and parks the task on the source, which wakes it when the reactor reports
 * the direction ready again. Dropping a future that is still waiting unparks it, so
 * nothing fires for it later. A source closed under a future makes it finish with
 * -EBADF. Every call that goes ahead counts against the task's cooperative budget
 * (ax_coop_proceed), so a socket that is always ready cannot keep its task running
 * forever.
 */
#ifndef AX_IO_H
#define AX_IO_H

#include "ax/future.h"
#include "ax/net.h"
//> 08
#include "ax/resolve.h"
//< 08
#include "ax/source.h"

#include <stddef.h>
#include <stdint.h>

/* Reads what is there, at most len bytes: the count, 0 at end of stream, or -errno. */
struct ax_read_future {
    struct ax_future base;
    struct ax_source_waiter waiter;
    void *buf;
    size_t len;
};
void ax_read_future_init(struct ax_read_future *f, struct ax_source *source, void *buf, size_t len);

/* Writes all len bytes, however many sends it takes: 0 or -errno. */
struct ax_write_future {
    struct ax_future base;
    struct ax_source_waiter waiter;
    const char *buf;
    size_t len;
    size_t done;
};
void ax_write_future_init(struct ax_write_future *f, struct ax_source *source, const void *buf,
                          size_t len);

/* Accepts one connection from a listening source: the new fd (non-blocking, the
 * caller's to open as a source or close) or -errno. The peer's address is stored in
 * peer. */
struct ax_accept_future {
    struct ax_future base;
    struct ax_source_waiter waiter;
    char peer[AX_ADDR_STRLEN];
};
void ax_accept_future_init(struct ax_accept_future *f, struct ax_source *listener);

/* Connects to host:port: 0, with the connected socket stored in *out as a source the
 * caller now owns, or -errno. */
//> 08
/* The host's addresses are looked up on the executor's pool (ax/resolve.h; a numeric
 * address is parsed at once), then tried in turn, each after the one before has
 * failed, until one accepts; when none does, the result is the last one's error. A
 * name that does not exist is AX_ENOHOST. (Racing the next address after a delay,
 * instead of waiting for a failure, is Happy Eyeballs: chapter 05's exercise.) */
//< 08
struct ax_connect_future {
    struct ax_future base;
    const char *host;
    uint16_t port;
    struct ax_source **out;
    struct ax_source *source; /* the connecting socket, ours until handed out */
    struct ax_source_waiter waiter;
    //> 08
    struct ax_resolve resolve;
    bool resolved;
    struct addrinfo *addrs; /* what the lookup found: ours */
    const struct addrinfo *next; /* the next address to try */
    //< 08
};
void ax_connect_future_init(struct ax_connect_future *f, const char *host, uint16_t port,
                            struct ax_source **out);
//> 08

/* The same over addresses already known (from ax_resolve, or getaddrinfo), which stay
 * the caller's and must outlive the future. */
void ax_connect_future_init_addrs(struct ax_connect_future *f, const struct addrinfo *addrs,
                                  struct ax_source **out);
//< 08

#endif
