/*
 * Exercise 04-relay: a two-way relay, written with the coroutine macros.
 *
 * A relay (the heart of a TCP proxy, or of `socat`) joins two connections: whatever
 * arrives on one is written to the other, in both directions at once, until both
 * sides have finished. Each direction is a pump: read from one socket, write all of it
 * to the other, repeat; when its source ends, the pump passes the end on by shutting
 * down the writing side of its destination (the other side may still be sending, so
 * the sockets stay open). The relay polls its two pumps side by side, in one task.
 *
 * Write the pump with AX_ASYNC_BEGIN, AX_AWAIT and AX_ASYNC_END (see ax/async.h for
 * their rules), and the relay's poll by hand.
 */
#ifndef RELAY_H
#define RELAY_H

#include "ax/async.h"
#include "ax/future.h"
#include "ax/io.h"

#include <stdbool.h>
#include <stdint.h>

enum { PUMP_BUF = 16 * 1024 };

/* One direction, from -> to. Finishes with the number of bytes it copied once `from`
 * has ended and `to` has been shut down for writing; or with the error a read, a write
 * or the shutdown returned (after a failed read or write it shuts down nothing).
 *
 * The count is the sum of what the reads returned, each read's bytes having then been
 * written in full: a write future finishes with 0 or an error, never with a count,
 * so the number of bytes comes from the read. */
struct pump {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_source *from, *to;
    ax_result rc; /* the result of the read or write awaited last */
    int64_t total; /* bytes read and then written in full */
    union { /* one I/O future at a time */
        struct ax_read_future read;
        struct ax_write_future write;
    } io;
    char buf[PUMP_BUF];
};

void pump_init(struct pump *p, struct ax_source *from, struct ax_source *to);

/*
 * Both directions between the sockets of sources a and b (the caller's: the relay
 * never closes them). Finishes with the total number of bytes
 * relayed both ways once both pumps have finished. If either pump fails, the relay
 * drops the other one at once (so nothing of it waits on the sockets any more) and
 * finishes with that error. Dropped early, it drops the pumps still running.
 */
struct relay {
    struct ax_future base;
    struct pump pumps[2]; /* [0]: a -> b, [1]: b -> a */
    bool done[2]; /* pumps[i] has finished and been dropped */
    int first; /* the pump the next poll starts with: they take turns going first */
    int64_t total;
    bool decided;
};

void relay_init(struct relay *r, struct ax_source *a, struct ax_source *b);

#endif
