/*
 * Exercise 03-hangup-spin: a callback that spins on a hung-up socket, to diagnose and
 * fix.
 *
 * A level-triggered reactor reports a socket readable for as long as a read would not
 * block, and a socket whose peer has gone never blocks again: every read returns 0
 * (or the error). A callback that treats that as "nothing for now" and returns is
 * called again on the very next wait, and the next, at 100 % CPU, while serving
 * nobody. top shows the process busy; strace shows epoll_wait returning at once, over
 * and over, for the same fd.
 */
#ifndef HANGUP_SPIN_H
#define HANGUP_SPIN_H

#include "ax/reactor.h"

#include <stdbool.h>
#include <stddef.h>

/* One client of a server that only counts what it receives. Start it zeroed. */
struct counting_conn {
    size_t received; /* bytes read from the client */
    int calls; /* how often the callback ran */
    bool closed; /* the callback closed the fd */
    int error; /* the error that ended the connection, or 0 at a clean end */
};

/*
 * The callback for a non-blocking client socket watched with AX_READABLE
 * (level-triggered), with a struct counting_conn as its data. Counts the call, reads
 * what has arrived until -EAGAIN, adding to `received`. When the client is gone, at
 * the end of the stream (a read of 0) or a failed read (error set to it), it reads
 * nothing more: it closes the fd with ax_reactor_close and sets `closed`.
 */
void counting_on_readable(struct ax_reactor *reactor, int fd, int events, void *data);

#endif
