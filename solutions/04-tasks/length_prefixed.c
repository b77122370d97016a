/* Exercise 04-length-prefixed: a reference solution. */
#include "length_prefixed.h"

#include "ax/error.h"

#include <errno.h>

/* One read into dst: starts a read future if none is under way, polls it, and drops it
 * as soon as it has finished. The count, 0 at end of stream, AX_PENDING, or -errno. */
static ax_result read_some(struct frame_read *f, struct ax_context *cx, void *dst, size_t n)
{
    if (!f->reading) {
        ax_read_future_init(&f->read, f->source, dst, n);
        f->reading = true;
    }
    ax_result rc = ax_poll(&f->read.base, cx);
    if (rc != AX_PENDING) {
        ax_future_drop(&f->read.base);
        f->reading = false;
    }
    return rc;
}

/* The frame is over, one way or another: nothing is polled again. */
static ax_result finish(struct frame_read *f, ax_result result)
{
    f->state = FRAME_DONE;
    return result;
}

static ax_result frame_read_poll(struct ax_future *self, struct ax_context *cx)
{
    struct frame_read *f = (struct frame_read *)self;
    for (;;) {
        ax_result rc;
        switch (f->state) {
        case FRAME_HEADER:
            if (f->got == sizeof f->header) {
                f->len = (uint32_t)f->header[0] << 24 | (uint32_t)f->header[1] << 16 |
                         (uint32_t)f->header[2] << 8 | f->header[3];
                if (f->len > f->cap)
                    return finish(f, -EMSGSIZE);
                f->got = 0;
                f->state = FRAME_BODY;
                break;
            }
            rc = read_some(f, cx, f->header + f->got, sizeof f->header - f->got);
            if (rc == AX_PENDING)
                return AX_PENDING;
            if (rc <= 0)
                return finish(f, rc == 0 ? AX_EOF : rc);
            f->got += (size_t)rc;
            break;
        case FRAME_BODY:
            if (f->got == f->len)
                return finish(f, f->len);
            rc = read_some(f, cx, f->buf + f->got, f->len - f->got);
            if (rc == AX_PENDING)
                return AX_PENDING;
            if (rc <= 0)
                return finish(f, rc == 0 ? AX_EOF : rc);
            f->got += (size_t)rc;
            break;
        case FRAME_DONE:
            return -EINVAL; /* polled after it finished */
        }
    }
}

static void frame_read_drop(struct ax_future *self)
{
    struct frame_read *f = (struct frame_read *)self;
    if (f->reading)
        ax_future_drop(&f->read.base);
    f->reading = false;
    f->state = FRAME_DONE;
}

static const struct ax_future_ops frame_read_ops = {.poll = frame_read_poll,
                                                    .drop = frame_read_drop};

void frame_read_init(struct frame_read *f, struct ax_source *source, char *buf, size_t cap)
{
    *f = (struct frame_read){.base = {&frame_read_ops}, .source = source, .buf = buf, .cap = cap};
}
