/*
 * Exercise 08-lookup-all: look up several host names at once, off the loop.
 *
 * A lookup_all future resolves hosts[0..count) (with port LOOKUP_PORT) all at the same
 * time: at its first poll it starts one ax_resolve per host, and each name lookup goes
 * to the executor's pool at once, not after the one before has finished, so a slow name
 * server costs the slowest lookup, not their sum. (A numeric address is parsed on the
 * loop and needs no worker.) For each host it stores:
 *
 *   results[i]  what its ax_resolve finished with: the number of addresses found, or
 *               its error (AX_ENOHOST for a name that does not exist, AX_ERESOLVE, ...)
 *   text[i]     its first address as ax_format_addr writes it ("127.0.0.1:80",
 *               "[::1]:80"), or "" when the lookup failed
 *
 * It frees every address list as soon as it has the text, and finishes with 0 once
 * every lookup has finished, whatever each found. More than LOOKUP_MAX hosts is
 * -EINVAL. Dropped at any moment, it drops the lookups still under way and leaves
 * nothing behind.
 */
#ifndef LOOKUP_ALL_H
#define LOOKUP_ALL_H

#include "ax/future.h"
#include "ax/net.h"
#include "ax/resolve.h"

#include <stdbool.h>
#include <stddef.h>

#define LOOKUP_MAX  16
#define LOOKUP_PORT 80

struct lookup_all {
    struct ax_future base;
    const char *const *hosts;
    size_t count;
    ax_result *results;
    char (*text)[AX_ADDR_STRLEN];
    bool started;
    size_t left; /* lookups not finished yet */
    struct ax_resolve lookups[LOOKUP_MAX];
    struct addrinfo *found[LOOKUP_MAX];
    bool done[LOOKUP_MAX];
};

void lookup_all_init(struct lookup_all *l, const char *const *hosts, size_t count,
                     ax_result *results, char (*text)[AX_ADDR_STRLEN]);

#endif
