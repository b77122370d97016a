/* Exercise 02-read-available. Read "Non-blocking sockets" in chapter 02 first. */
#include "read_available.h"

#include "ax/error.h"
#include "ax/nonblock.h"

#include <errno.h>

ssize_t read_available(int fd, struct ax_buf *in, size_t limit)
{
    /* TODO: read in a loop (see chapter 02, "Non-blocking sockets"): make room at the
     * end of `in` with ax_buf_reserve, recv into ax_buf_space with ax_recv, and
     * ax_buf_commit what arrived. Leave the loop at -EAGAIN, never before, and never
     * read more than `limit` minus what `in` already holds. ax_recv returns 0 at the
     * end of the stream. */
    (void)fd;
    (void)in;
    (void)limit;
    return -ENOSYS;
}
