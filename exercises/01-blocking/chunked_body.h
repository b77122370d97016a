/*
 * Challenge 01-challenge-chunked: read a body in HTTP/1.1's chunked transfer coding
 * from a blocking socket, and leave the connection exactly where the body ended.
 *
 * An HTTP/1.1 server that does not know a body's length in advance sends it in
 * chunks: each chunk is its size in hexadecimal on a line of its own, then that many
 * bytes of data and a line end; a chunk of size 0 ends the body, followed by optional
 * trailer fields and an empty line. On a connection that stays open, the next response
 * starts on the byte after that empty line, so a reader that reads ahead must hand back
 * what it read too far.
 *
 * The exact rules, on top of RFC 9112 section 7.1:
 *
 *   - a chunk-size line is one or more hex digits (either case, leading zeros allowed),
 *     optionally followed by spaces or tabs and a ";" that starts chunk extensions,
 *     which are ignored whatever they hold; nothing else may follow the digits;
 *   - a size whose value does not fit in 64 bits is malformed; one that fits is
 *     measured against the limit like any other;
 *   - a chunk's data is followed by a line end at once;
 *   - after the last chunk come at most CHUNKED_MAX_TRAILERS trailer lines, each a
 *     name (at least one character), a colon and a value, then an empty line;
 *   - no line (size line, trailer line) is longer than CHUNKED_MAX_LINE bytes without
 *     its line end, and a longer one is refused as soon as it is known to be longer,
 *     without waiting for its end;
 *   - lines end in "\r\n" or in "\n".
 */
#ifndef CHUNKED_BODY_H
#define CHUNKED_BODY_H

#include "ax/buf.h"

#include <stddef.h>
#include <sys/types.h>

#define CHUNKED_MAX_LINE     4096
#define CHUNKED_MAX_TRAILERS 100

/*
 * Reads one chunked body from the blocking stream fd and appends its decoded bytes to
 * `body`, accepting at most max_body of them.
 *
 * `carry` holds bytes already read from fd that come before anything still in it (a
 * line reader's read-ahead, say, or what an earlier call left): they are the first
 * input. On success, `carry` holds exactly the bytes that were read past the end of
 * the chunked body, the start of whatever follows it on the connection, so that
 * `carry` and then fd together hold everything after the body, in order.
 *
 * Returns the number of bytes appended to body (0 for an empty body), or
 *
 *   -EPROTO      the body breaks one of the rules above
 *   -EMSGSIZE    the body is longer than max_body: refused as soon as a chunk-size line
 *                says so, before any of that chunk's data is read
 *   AX_EOF       the stream ended before the body did
 *   -ENOMEM      body or carry could not grow
 *   other -errno from reading fd (-EBADF for a descriptor that is not open, ...)
 *
 * It returns as soon as it has the empty line that ends the body: it never waits for
 * input beyond it. On failure, `body` holds what it held before the call, and `carry`
 * holds nothing that matters: the connection is not usable any more.
 */
ssize_t chunked_read(int fd, struct ax_buf *carry, size_t max_body, struct ax_buf *body);

#endif
