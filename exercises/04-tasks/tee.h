/*
 * Challenge 04-challenge-tee: one stream copied to several sockets, each at its own
 * pace, in bounded memory, by one future.
 *
 * A tee reads one source and writes everything it reads to every sink: a log stream
 * fanned out to several collectors, a video feed to several viewers, what tee(1) does
 * for files. Sinks read at different speeds. Holding the stream back to the slowest
 * one makes every sink as slow as it; buffering for the slowest without a limit lets
 * one sink that stops reading make the tee's memory grow without end. This one holds a
 * bounded window of the stream: fast sinks run ahead within it, and when the slowest
 * sink falls a whole window behind, the tee stops reading until it catches up.
 *
 * What a polled tee guarantees:
 *
 *  - Every byte read from `from` is written to every sink in the tee, in order. Sinks
 *    take it at their own pace: a sink that takes nothing does not keep the others
 *    from receiving what the tee has read.
 *  - At most TEE_MAX_BUFFERED bytes are held: read from `from` and not yet written to
 *    every sink still in the tee. When that many are held, it reads no more from
 *    `from` until the slowest sink has taken some.
 *  - When `from` ends, each sink still in the tee gets every byte, then has its
 *    writing side shut down (shutdown(fd, SHUT_WR)); then the tee finishes with the
 *    number of bytes it read from `from`.
 *  - A sink whose write or shutdown fails (its peer has gone: -EPIPE, -ECONNRESET, ...)
 *    leaves the tee: nothing more is written to it, and what it had not taken stops
 *    counting against the bound. The others carry on. When the last sink has left,
 *    the tee reads no more and finishes with the error the last one failed with.
 *  - A read from `from` that fails finishes the tee at once with that error; no sink is
 *    shut down.
 *  - It never closes a source; it reads `from` and writes each sink, and does nothing
 *    else with them. Dropped at any moment, finished or not, it leaves nothing waiting
 *    on any source and has freed everything it allocated.
 */
#ifndef TEE_H
#define TEE_H

#include "ax/future.h"
#include "ax/source.h"

#include <stddef.h>

#define TEE_MAX_SINKS    16
#define TEE_MAX_BUFFERED (64 * 1024)

struct tee {
    struct ax_future base;
    void *state; /* yours: what tee_init sets up and drop releases */
};

/*
 * Prepares tee to copy `from` to the n sinks to[0..n). The sources stay the caller's
 * and must outlive the tee. Returns 0, or -EINVAL when n is 0 or more than
 * TEE_MAX_SINKS, or a sink is given twice or is `from` itself, or -ENOMEM. On failure
 * the tee holds nothing: it must not be polled, and dropping it does nothing.
 */
int tee_init(struct tee *tee, struct ax_source *from, struct ax_source *const to[], size_t n);

#endif
