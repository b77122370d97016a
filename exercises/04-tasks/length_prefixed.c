/* Exercise 04-length-prefixed. Read "Futures by hand" in chapter 04 first. */
#include "length_prefixed.h"

#include "ax/error.h"

#include <errno.h>

static ax_result frame_read_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: a loop around a switch on f->state (chapter 04, "Futures by hand", shows
     * the shape with echo-tasks' connection). In FRAME_HEADER, read into the rest of
     * f->header until all four bytes are in, then decode the length; in FRAME_BODY,
     * read into the rest of f->buf until f->len bytes are in. Each read is one
     * ax_read_future: initialise it only if none is under way (f->reading), poll it,
     * return AX_PENDING if it is pending (it has parked the task), and drop it as soon
     * as it finishes. A read that returns 0 means the stream ended. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void frame_read_drop(struct ax_future *self)
{
    /* TODO: a read still under way must be dropped, so nothing waits on the source. */
    (void)self;
}

static const struct ax_future_ops frame_read_ops = {.poll = frame_read_poll,
                                                    .drop = frame_read_drop};

void frame_read_init(struct frame_read *f, struct ax_source *source, char *buf, size_t cap)
{
    *f = (struct frame_read){.base = {&frame_read_ops}, .source = source, .buf = buf, .cap = cap};
}
