/*
 * Challenge 05-challenge-happy-eyeballs: connect to whichever of several addresses
 * answers first, without waiting long on the ones that do not.
 *
 * A name often resolves to several addresses, IPv6 and IPv4 ones, and some of them may
 * not work: a broken IPv6 route, a server that is down. Trying them one after another
 * sits out a full connect timeout (minutes, on Linux) on each dead one before the next
 * gets a chance; trying them all at once floods the network with connections that are
 * thrown away. Happy Eyeballs (RFC 8305) starts the attempts in order, a short delay
 * apart, lets the earlier ones carry on, and takes the first connection made. Names
 * are resolved in a later chapter: here the addresses are given.
 *
 * What a polled happy_eyeballs guarantees:
 *
 *  - The addresses are tried in the order given, a stream socket (TCP) each, one attempt
 *    per address; ordering them (section 4 of the RFC) is the caller's business. The
 *    first attempt starts at the first poll.
 *  - The next attempt starts attempt_delay after the last one started, unless a
 *    connection has been made by then, and at once when an attempt fails. Attempts
 *    already started carry on meanwhile.
 *  - The first attempt to connect wins: the future finishes with the index of its
 *    address, its socket stored in *out as a source (ax/source.h) that the caller now
 *    owns. Every other attempt has been abandoned and its socket closed by then, and no
 *    attempt starts after it.
 *  - When every attempt has failed, it finishes with the error of the one that failed
 *    last, with no socket left open. An attempt fails with whatever its socket(2),
 *    connect(2) or handshake said: -ECONNREFUSED, -ENETUNREACH, -EAFNOSUPPORT for a
 *    family the system cannot use, and so on.
 *  - If started_at is not NULL, started_at[i] holds the executor's time
 *    (ax_executor_now) at which the attempt on addrs[i] started, or HAPPY_EYEBALLS_NEVER.
 *  - Dropped at any moment, it has closed every socket it opened but the one it handed
 *    over, left no timer behind and freed everything it allocated.
 */
#ifndef HAPPY_EYEBALLS_H
#define HAPPY_EYEBALLS_H

#include "ax/clock.h"
#include "ax/future.h"
#include "ax/source.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* RFC 8305's recommended Connection Attempt Delay, section 8. */
#define HAPPY_EYEBALLS_DELAY_NS (250 * AX_NS_PER_MS)
#define HAPPY_EYEBALLS_NEVER    UINT64_MAX

/* One address to try: a struct sockaddr_in or sockaddr_in6 in addr, its length in len. */
struct happy_eyeballs_address {
    struct sockaddr_storage addr;
    socklen_t len;
};

struct happy_eyeballs {
    struct ax_future base;
    void *state; /* yours: what happy_eyeballs_init sets up and drop releases */
};

/*
 * Prepares he to connect to one of addrs[0..n), starting attempts attempt_delay_ns apart
 * (0: HAPPY_EYEBALLS_DELAY_NS). addrs, out and started_at (which may be NULL) stay the
 * caller's and must outlive he. Returns 0, or -EINVAL when the list is empty (n is 0 or
 * addrs is NULL) or out is NULL, or -ENOMEM. On failure he holds nothing: it must not be
 * polled, and dropping it does nothing.
 */
int happy_eyeballs_init(struct happy_eyeballs *he, const struct happy_eyeballs_address *addrs,
                        size_t n, uint64_t attempt_delay_ns, struct ax_source **out,
                        uint64_t *started_at);

#endif
