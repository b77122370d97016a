//@ 04
/*
 * I/O sources: a non-blocking descriptor the executor watches for as long as it is
 * open, registered once.
 *
 * A source owns its descriptor and its registration with the reactor. On a backend
 * that can report edges (epoll), it is registered once, for both directions and
 * edge-triggered, and never touched again until it is closed: a request served over it
 * costs no epoll_ctl. What the kernel reported is kept in `ready`, one bit per
 * direction, and a bit is cleared only when a call in that direction says -EAGAIN;
 * while it is set, a future simply tries its call. One shortcut, as tokio takes it: on
 * a stream socket or a pipe, a read that comes back short has taken everything that
 * was queued (the kernel hands over all it has, up to the length asked), so it clears
 * the bit as -EAGAIN would, and saves the call that would only have said so. Bytes
 * that arrive later are a new edge. Not so the peer's end of stream, which may have
 * arrived with the last bytes: once the reactor has reported it (AX_READ_CLOSED or a
 * hang-up), the bit stays set and the next read returns 0. On a backend that only knows
 * "ready now" (select, poll), the interest follows the futures waiting, as a
 * level-triggered reactor needs, and costs no system call there.
 *
 * At most one future waits to read and one to write at a time; a second one, from
 * another task, gets -EBUSY.
 *
 * Lifetime. A source is counted: its owner holds one reference, from ax_source_open to
 * ax_source_close, and every I/O future holds one from its init to its drop. Closing
 * deregisters and closes the descriptor at once and wakes whatever waits on the
 * source; their next poll, and any later one, returns -EBADF. The memory goes with the
 * last reference, so a future parked on a source another task closes never reads freed
 * memory, and a new descriptor that gets the same number gets a new source: nothing
 * meant for the old one reaches it.
 */
#ifndef AX_SOURCE_H
#define AX_SOURCE_H

#include "ax/future.h"

#include <stdbool.h>
#include <stdint.h>

// snippet source-struct
struct ax_source_waiter;

struct ax_source {
    struct ax_executor *executor;
    int fd; /* -1 once closed */
    uint8_t ready; /* AX_READABLE, AX_WRITABLE: what the kernel last said, not yet used up */
    bool edge; /* registered once, edge-triggered; false: interest follows the waiters */
    bool short_read_drains; /* a stream socket or a pipe: a short read took all there was */
    bool read_closed; /* the peer's end of stream has been reported: reads end in 0 */
    uint32_t refs; /* the owner's, until closed, and one per future using it */
    struct ax_source_waiter *reader, *writer; /* the future waiting in each direction */
};
// end snippet

/* Makes fd non-blocking, registers it with the executor's reactor and stores a new
 * source that owns it in *out. 0 or -errno (-ENOMEM, or the backend's refusal, such as
 * select's -ERANGE for an fd at or above FD_SETSIZE); on failure fd stays the caller's. */
int ax_source_open(struct ax_executor *executor, int fd, struct ax_source **out);

/* Deregisters and closes the descriptor, wakes the futures waiting on the source
 * (their polls return -EBADF from now on) and gives up the owner's reference. */
void ax_source_close(struct ax_source *source);

/* The descriptor, or -1 once the source is closed. */
static inline int ax_source_fd(const struct ax_source *source)
{
    return source->fd;
}

/*
 * For I/O futures: what one future keeps of the source it uses. The pattern every
 * future in io.c follows, and a reader's own future can too:
 *
 *     ax_source_waiter_init(&f->waiter, source);               at init
 *     for (;;) {                                               in poll
 *         ax_result ready = ax_source_poll_ready(&f->waiter, AX_READABLE, cx);
 *         if (ready != 0)
 *             return ready;                                    AX_PENDING or -EBADF
 *         result = the call;
 *         if (result != -EAGAIN)
 *             return result;
 *         ax_source_clear_ready(f->waiter.source, AX_READABLE);
 *     }
 *     ax_source_waiter_drop(&f->waiter);                       in drop
 */
struct ax_source_waiter {
    struct ax_source *source;
    struct ax_waker waker; /* the task to wake, kept from one wait to the next */
};

void ax_source_waiter_init(struct ax_source_waiter *waiter, struct ax_source *source);

/* 0 when a call in `direction` may succeed: the source is ready that way and the task
 * has budget left (ax_coop_proceed). Otherwise AX_PENDING, the task having been
 * parked on the source (or, out of budget, woken to run again later), or -EBADF when
 * the source is closed, or -EBUSY when another task's future waits that way. */
ax_result ax_source_poll_ready(struct ax_source_waiter *waiter, int direction,
                               struct ax_context *cx);

/* A call in `direction` said -EAGAIN: the readiness the kernel reported is used up. */
static inline void ax_source_clear_ready(struct ax_source *source, int direction)
{
    source->ready &= (uint8_t)~direction;
}

/* Stops waiting, if it was, and gives the future's reference back. */
void ax_source_waiter_drop(struct ax_source_waiter *waiter);

#endif
