/*
 * Exercise 08-copy-file: copy a file through the pool, in bounded memory.
 *
 * A copy_file future copies everything in the file open as `from` to the file open as
 * `to`, both from offset 0, one COPY_CHUNK at a time through its own buffer: an
 * ax_file_read of at most COPY_CHUNK bytes into `chunk` at offset `copied`, then an
 * ax_file_write of what that read returned at the same offset, and round again, until a
 * read returns 0 (the end of the file). Each call runs on the executor's pool, so the
 * loop serves other tasks while the disk works; the copy never holds more than one
 * chunk, whatever the size of the file.
 *
 * It finishes with the number of bytes copied, or with the first error a read or a
 * write returned (-EBADF, -ENOSPC, ...), at once. It never closes either descriptor.
 * Dropped at any moment, it leaves nothing behind (ax/file.h: a call a worker already
 * has runs on, into a buffer of its own).
 */
#ifndef COPY_FILE_H
#define COPY_FILE_H

#include "ax/async.h"
#include "ax/file.h"
#include "ax/future.h"

#include <stdint.h>

#define COPY_CHUNK (64 * 1024)

struct copy_file {
    struct ax_future base;
    struct ax_coroutine co;
    int from, to;
    uint64_t copied; /* bytes read and written so far: the offset of the next chunk */
    ax_result got; /* what the last read or write returned */
    union {
        struct ax_file_read read;
        struct ax_file_write write;
    } io;
    char chunk[COPY_CHUNK];
};

void copy_file_init(struct copy_file *c, int from, int to);

#endif
