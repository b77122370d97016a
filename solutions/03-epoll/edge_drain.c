/* Exercise 03-edge-drain: a reference solution. */
#include "edge_drain.h"

#include "ax/error.h"
#include "ax/nonblock.h"

#include <errno.h>

enum { CHUNK = 16 * 1024 };

void edge_reader_on_readable(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)events;
    struct edge_reader *r = data;
    while (!r->eof && r->error == 0) {
        int err = ax_buf_reserve(&r->in, CHUNK);
        if (err < 0) {
            r->error = err;
            return;
        }
        ssize_t got = ax_recv(fd, ax_buf_space(&r->in), ax_buf_space_len(&r->in));
        if (got == -EAGAIN)
            return; /* drained: the next arrival is a new edge */
        if (got == 0)
            r->eof = true;
        else if (got < 0)
            r->error = (int)got;
        else
            ax_buf_commit(&r->in, (size_t)got);
    }
}
