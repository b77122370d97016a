/* Exercise 03-edge-drain. Read "Level-triggered and edge-triggered" in chapter 03 first. */
#include "edge_drain.h"

#include "ax/error.h"
#include "ax/nonblock.h"

#include <errno.h>

enum { CHUNK = 4096 };

void edge_reader_on_readable(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)events;
    struct edge_reader *r = data;
    /* TODO: this reads one chunk and returns, which is fine level-triggered (the rest
     * would be reported on the next wait) but stalls edge-triggered: see chapter 03,
     * "Level-triggered and edge-triggered". Read in a loop until ax_recv returns
     * -EAGAIN; record the end of stream (0) in r->eof and a failed read in r->error,
     * and stop there. */
    if (ax_buf_reserve(&r->in, CHUNK) < 0)
        return;
    ssize_t got = ax_recv(fd, ax_buf_space(&r->in), CHUNK);
    if (got > 0)
        ax_buf_commit(&r->in, (size_t)got);
}
