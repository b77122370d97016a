//@ 08
/*
 * Name resolution off the loop: getaddrinfo on the thread pool.
 *
 * getaddrinfo is a blocking call with no asynchronous twin in libc: it reads
 * /etc/hosts, asks the name servers in /etc/resolv.conf and waits for them, seconds if
 * one does not answer. Called on the loop, as chapter 04's connect future did, it
 * stalls every task for as long. So a lookup runs on the executor's own pool (libuv's
 * uv_getaddrinfo and tokio's lookup_host do the same), and the loop goes on meanwhile.
 *
 * A numeric address ("127.0.0.1", "::1") needs no name server: it is parsed on the
 * loop at once (getaddrinfo with AI_NUMERICHOST, which never blocks), and no thread is
 * involved.
 *
 * Errors: AX_ENOHOST when the name does not exist (EAI_NONAME: the name servers said
 * so), AX_ERESOLVE when they could not be asked just now (EAI_AGAIN), -ENOMEM, or
 * -EINVAL for anything else getaddrinfo refuses. A dropped lookup cannot stop the
 * worker's getaddrinfo; the addresses it finds are freed when it returns (ax/pool.h).
 */
#ifndef AX_RESOLVE_H
#define AX_RESOLVE_H

#include "ax/future.h"
#include "ax/pool.h"

#include <stdbool.h>
#include <stdint.h>

struct addrinfo;
struct resolve_job;

/* Looks up host's stream addresses for port, IPv4 and IPv6, in the order getaddrinfo
 * prefers (RFC 6724). The number of addresses found (at least 1), with the list stored
 * in *out for the caller to free with freeaddrinfo, or an error as above. host is
 * copied at the first poll: it need not outlive it. */
struct ax_resolve {
    struct ax_future base;
    const char *host;
    uint16_t port;
    struct addrinfo **out;
    struct resolve_job *job; /* the worker's copy of the question, and its answer */
    struct ax_blocking work;
    bool started;
};

void ax_resolve_init(struct ax_resolve *f, const char *host, uint16_t port, struct addrinfo **out);

/* Starts connecting a new non-blocking socket to one resolved address, as
 * ax_connect_start does for a host: 0 when already connected, -EINPROGRESS when under
 * way (the socket is stored in *fd either way), or another -errno (nothing to close). */
int ax_connect_start_addr(const struct addrinfo *addr, int *fd);

#endif
