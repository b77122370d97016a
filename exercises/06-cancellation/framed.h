/*
 * Challenge 06-challenge-cancel-safe-frames: length-prefixed frames read and written so
 * that dropping a read or a write at any moment loses nothing and tears nothing.
 *
 * A frame is a 4-byte big-endian length, then that many bytes of payload. Exercise
 * 04-length-prefixed read one with a future that kept its progress inside itself:
 * dropped half-way (a timeout won the select it was in, say), it took the bytes it had
 * read with it, and the next read started in the middle of a frame. Here the progress
 * belongs to the connection, a struct framed, and the futures only act on it: a future
 * may be dropped between any two polls and the connection stays in step.
 *
 * What the functions below guarantee:
 *
 *  - Reading. A framed_read finishes with the next frame's payload length (0 to
 *    max_frame), the payload in buf. Bytes taken from the socket by a read that was then
 *    dropped are not lost: the next read goes on with the same frame, wherever the drop
 *    fell (inside the header, inside the payload). Frames are delivered whole, in order,
 *    each exactly once.
 *  - Writing. A framed_write sends one frame and finishes with 0 once all of it has gone
 *    to the socket. Its frame goes out whole or not at all: dropped before its frame was
 *    started, nothing of it is sent; dropped after, the unsent rest stays in the
 *    connection's outbox (framed_unsent), and the next framed_write, or a framed_flush,
 *    sends that rest first. The peer never sees a torn frame or two frames interleaved.
 *    A write sets `started` when its frame enters the outbox, so a caller whose write
 *    was dropped knows whether to offer that frame again: with started false, nothing
 *    of it was sent, and nothing of it ever will be.
 *  - Errors of a read:
 *      -EMSGSIZE     the header announces more than max_frame bytes. The stream is out
 *                    of step from then on: every later read says -EMSGSIZE too.
 *      AX_EOF        the stream ended cleanly, between two frames.
 *      -ECONNRESET   the stream ended inside a frame (part of a header or a payload had
 *                    come): the peer cut the frame short, as a reset would.
 *      -EINVAL       cap is less than the connection's max_frame.
 *      any error the socket gave (-ECONNRESET, -ENOTCONN, -EBADF once closed, ...).
 *  - Errors of a write: -EMSGSIZE for a payload over max_frame (nothing is sent, the
 *    outbox is untouched), or any error the socket gave (-EPIPE, ...). A flush has only
 *    the socket's errors.
 *  - One read and one write (or flush) may be under way at once on a connection, from
 *    one task or two, as ax/source.h allows. A future holds a reference to the source
 *    from init to drop; dropped, it leaves nothing waiting on the source.
 */
#ifndef FRAMED_H
#define FRAMED_H

#include "ax/future.h"
#include "ax/source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAMED_HEADER 4 /* bytes of length before each payload */

struct framed {
    struct ax_source *source; /* the caller's: framed_free does not close it */
    size_t max_frame; /* the largest payload, in bytes */
    void *state; /* yours: what framed_init sets up and framed_free releases */
};

/* Prepares fr for frames of at most max_frame payload bytes over source. 0, or -EINVAL
 * (source NULL, max_frame 0 or above UINT32_MAX), or -ENOMEM. */
int framed_init(struct framed *fr, struct ax_source *source, size_t max_frame);

/* Releases what fr holds, unsent bytes included. No future on fr may be left. */
void framed_free(struct framed *fr);

/* Bytes of a started frame still waiting in the outbox to be sent. */
size_t framed_unsent(const struct framed *fr);

/* Reads the next frame's payload into buf, which has room for cap >= max_frame bytes. */
struct framed_read {
    struct ax_future base;
    struct framed *framed;
    char *buf;
    size_t cap;
    struct ax_source_waiter waiter;
};

void framed_read_init(struct framed_read *r, struct framed *fr, char *buf, size_t cap);

/* Sends one frame with payload[0..len), after whatever the outbox holds. The payload is
 * the caller's until the future is dropped. */
struct framed_write {
    struct ax_future base;
    struct framed *framed;
    const char *payload;
    size_t len;
    bool flush; /* a flush: no frame of its own, only the outbox */
    bool started; /* its frame is in the outbox: it goes out whole, even if this is dropped */
    struct ax_source_waiter waiter;
};

void framed_write_init(struct framed_write *w, struct framed *fr, const void *payload, size_t len);

/* Sends what the outbox holds and finishes with 0 once it is empty (at once if it is). */
void framed_flush_init(struct framed_write *w, struct framed *fr);

#endif
