/*
 * Challenge 02-challenge-proxy: a TCP proxy on one thread, in bounded memory.
 *
 * Every client that connects to the proxy gets a connection of its own to one backend,
 * and the proxy copies bytes both ways between the two until both have finished. Unlike
 * an echo server, the party that sends too much is not the party that reads too
 * little: a fast client uploading to a backend that reads slowly is the backend's
 * problem to slow down, and the proxy must pass that on to the client instead of
 * keeping the difference.
 *
 * What it guarantees:
 *
 *  - Bytes go from client to backend and from backend to client unchanged and in
 *    order, each direction at its own pace; what a client sends before its backend
 *    connection is established is delivered once it is.
 *  - For each direction of each session, the proxy holds at most PROXY_MAX_PENDING
 *    bytes that it has read from one side and not yet written to the other. A side
 *    that does not read makes the proxy stop reading the other side (which TCP then
 *    slows down), and nothing else: other sessions, and the other direction of the
 *    same session, go on.
 *  - End of stream is passed on: when one side ends its stream, the other side's
 *    writing half is shut down (shutdown(fd, SHUT_WR)) once everything that came
 *    before the end has been written to it, and the other direction carries on. When
 *    both directions have ended, both sockets are closed.
 *  - A session whose backend cannot be reached (refused, unreachable, ...) closes its
 *    client's connection without sending it anything. A session in which either
 *    connection fails (a reset, any error on a read or a write) closes both at once;
 *    what was pending is dropped.
 *  - Nothing waits for one session while another could be served: one thread, one
 *    reactor, and every socket the proxy holds is non-blocking.
 */
#ifndef PROXY_H
#define PROXY_H

#include <stdint.h>

#define PROXY_MAX_PENDING (64 * 1024)

/*
 * Proxies every client that connects to listen_fd (a listening socket the caller
 * created and still owns) to host:port, where host is a numeric IPv4 or IPv6 address.
 *
 * Runs until the caller shuts the listener down (shutdown(listen_fd, SHUT_RDWR): the
 * listener then reports readable and accept fails with EINVAL); then closes every
 * connection, frees everything and returns 0. Any other accept failure ends it the same
 * way but returns that error. Returns -EINVAL at once, before accepting anyone, when
 * host is not a numeric address or port is 0; other errors (-ENOMEM, the reactor's)
 * are negative errno values.
 */
int proxy_serve(int listen_fd, const char *host, uint16_t port);

#endif
