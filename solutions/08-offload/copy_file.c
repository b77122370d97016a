/* Exercise 08-copy-file: a solution. */
#include "copy_file.h"

#include <errno.h>

static ax_result copy_file_poll(struct ax_future *self, struct ax_context *cx)
{
    struct copy_file *c = (struct copy_file *)self;
    AX_ASYNC_BEGIN(&c->co);
    for (;;) {
        ax_file_read_init(&c->io.read, c->from, c->chunk, COPY_CHUNK, c->copied);
        AX_AWAIT(&c->co, cx, &c->io.read.base, c->got);
        if (c->got <= 0)
            break; /* the end of the file, or an error */
        ax_result read = c->got;
        ax_file_write_init(&c->io.write, c->to, c->chunk, (size_t)read, c->copied);
        AX_AWAIT(&c->co, cx, &c->io.write.base, c->got);
        if (c->got < 0)
            break;
        c->copied += (uint64_t)c->io.write.len;
    }
    AX_ASYNC_END(&c->co, c->got < 0 ? c->got : (ax_result)c->copied);
}

static void copy_file_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct copy_file *)self)->co);
}

static const struct ax_future_ops copy_file_ops = {.poll = copy_file_poll, .drop = copy_file_drop};

void copy_file_init(struct copy_file *c, int from, int to)
{
    c->base.ops = &copy_file_ops;
    c->co = (struct ax_coroutine){0};
    c->from = from;
    c->to = to;
    c->copied = 0;
    c->got = 0;
}
