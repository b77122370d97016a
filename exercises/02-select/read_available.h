/*
 * Exercise 02-read-available: take what a non-blocking socket has, then stop.
 *
 * When the reactor reports a socket readable, one byte may be waiting or a megabyte.
 * A callback reads until the socket answers EAGAIN, "nothing more for now", and then
 * returns to the loop: blocking would stall every other client, and reading on would
 * spin. It also stops early once its buffer holds as much as the caller allows. What
 * it leaves behind waits safely in the kernel, and TCP slows the sender down.
 */
#ifndef READ_AVAILABLE_H
#define READ_AVAILABLE_H

#include "ax/buf.h"

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads from the non-blocking socket fd and appends what arrives to `in`, after the
 * bytes already there, until one of these happens:
 *
 *  - the socket has nothing more for now (EAGAIN): returns how many bytes were
 *    appended, perhaps 0;
 *  - `in` holds `limit` unread bytes: returns how many were appended. It never
 *    appends past `limit`, and a buffer already at the limit is left alone;
 *  - the peer has closed its end: returns AX_EOF (the bytes that came before the end
 *    are in `in`);
 *  - a read fails: returns the error as a negative errno value (-ECONNRESET, ...),
 *    keeping the bytes read before it. -ENOMEM if `in` cannot grow.
 *
 * Never blocks; an interrupted read (EINTR) is simply retried.
 */
ssize_t read_available(int fd, struct ax_buf *in, size_t limit);

#endif
