/*
 * Exercise 04-length-prefixed: a future, written by hand, that reads one length-prefixed
 * message from a socket, through an I/O source.
 *
 * Many protocols frame their messages with a length: four bytes holding the body's
 * length as a big-endian unsigned number, then that many bytes of body. Reading one
 * frame takes any number of reads, each of which may find nothing there yet; as a
 * future, it is a small state machine: reading the header, reading the body, done.
 *
 * Write it the way the coroutine macros would, but by hand: an explicit state, one
 * ax_read_future at a time, no AX_AWAIT. The states and the fields are given below.
 */
#ifndef LENGTH_PREFIXED_H
#define LENGTH_PREFIXED_H

#include "ax/future.h"
#include "ax/io.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_state { FRAME_HEADER, FRAME_BODY, FRAME_DONE };

struct frame_read {
    struct ax_future base;
    struct ax_source *source; /* the caller's */
    char *buf; /* where the body goes: the caller's, cap bytes */
    size_t cap;
    enum frame_state state;
    unsigned char header[4];
    size_t got; /* bytes of the header, then of the body, read so far */
    uint32_t len; /* the body's length, once the header is complete */
    bool reading; /* `read` is initialised and not dropped yet */
    struct ax_read_future read;
};

/*
 * Prepares f to read one frame from source into buf. Polled, the future finishes with:
 *   the body's length (0 to cap), the body being in buf[0..length);
 *   -EMSGSIZE if the header announces more than cap bytes (the body is not read: the
 *     next byte on the socket is its first);
 *   AX_EOF if the stream ends before the frame is complete, wherever that is (before
 *     its first byte, inside the header, inside the body);
 *   any other error a read returned (-ECONNRESET, -ENOTCONN for a socket that was
 *     never connected, ...).
 * It never reads past the end of its frame, so frames sent back to back are read by
 * one future each. Dropped while waiting, it drops the read it was waiting in, so
 * nothing is left waiting on the source.
 */
void frame_read_init(struct frame_read *f, struct ax_source *source, char *buf, size_t cap);

#endif
