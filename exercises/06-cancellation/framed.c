/* Challenge 06-challenge-cancel-safe-frames. Read "Cancel safety" in chapter 06 first. */
#include "framed.h"

#include "ax/buf.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdlib.h>

/* TODO: a challenge, so no steps here: framed.h says what must happen. Chapter 06
 * (#cancel-safety) says why a future that keeps its progress inside itself is not safe
 * to drop; exercise 04-length-prefixed is such a future, and ax/source.h shows the
 * pattern a future follows to wait on a source itself. */

int framed_init(struct framed *fr, struct ax_source *source, size_t max_frame)
{
    *fr = (struct framed){.source = source, .max_frame = max_frame};
    return 0;
}

void framed_free(struct framed *fr)
{
    (void)fr;
}

size_t framed_unsent(const struct framed *fr)
{
    (void)fr;
    return 0;
}

static ax_result framed_read_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void framed_read_drop(struct ax_future *self)
{
    ax_source_waiter_drop(&((struct framed_read *)self)->waiter);
}

static const struct ax_future_ops framed_read_ops = {.poll = framed_read_poll,
                                                     .drop = framed_read_drop};

void framed_read_init(struct framed_read *r, struct framed *fr, char *buf, size_t cap)
{
    *r = (struct framed_read){.base = {&framed_read_ops}, .framed = fr, .buf = buf, .cap = cap};
    ax_source_waiter_init(&r->waiter, fr->source);
}

static ax_result framed_write_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void framed_write_drop(struct ax_future *self)
{
    ax_source_waiter_drop(&((struct framed_write *)self)->waiter);
}

static const struct ax_future_ops framed_write_ops = {.poll = framed_write_poll,
                                                      .drop = framed_write_drop};

void framed_write_init(struct framed_write *w, struct framed *fr, const void *payload, size_t len)
{
    *w = (struct framed_write){
        .base = {&framed_write_ops}, .framed = fr, .payload = payload, .len = len};
    ax_source_waiter_init(&w->waiter, fr->source);
}

void framed_flush_init(struct framed_write *w, struct framed *fr)
{
    framed_write_init(w, fr, NULL, 0);
    w->flush = true;
}
