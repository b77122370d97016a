/*
 * Exercise 08-unblock-checksum: a future that blocks the loop, to diagnose and fix.
 *
 * A checksum future runs sum(data, len), a function that takes a long time (it hashes
 * megabytes, or it reads a device), and finishes with its result. The version in
 * checksum.c works: its result is right. But it calls sum inside its poll, on the
 * loop's thread, and while sum runs no other task runs, no timer fires and no socket
 * is read: every task of the program waits for it (chapter 08, "Blocking the loop").
 *
 * Fix it so that sum runs on the executor's pool and the loop goes on meanwhile:
 *
 *  - sum(data, len) runs once, on a pool worker, never on the loop's thread; the
 *    future finishes with what it returned.
 *  - While it runs, other tasks on the loop run, timers fire and sockets are served.
 *  - data stays the caller's and outlives the executor; sum only reads it. Dropped
 *    while sum runs, the checksum does not wait for it (the worker finishes on its own)
 *    and leaves nothing behind.
 */
#ifndef CHECKSUM_H
#define CHECKSUM_H

#include "ax/future.h"
#include "ax/pool.h"

#include <stdbool.h>
#include <stddef.h>

typedef ax_result (*checksum_fn)(const void *data, size_t len);

/* What the work needs, in one place a worker may read. */
struct checksum_job {
    checksum_fn sum;
    const void *data;
    size_t len;
};

struct checksum {
    struct ax_future base;
    struct checksum_job *job; /* yours to use: where the work's arguments live */
    struct ax_blocking work; /* yours to use: the work on the pool */
    checksum_fn sum;
    const void *data;
    size_t len;
    bool started;
};

void checksum_init(struct checksum *c, checksum_fn sum, const void *data, size_t len);

#endif
