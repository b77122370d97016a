/* Exercise 02-read-available: a reference solution. */
#include "read_available.h"

#include "ax/error.h"
#include "ax/nonblock.h"

#include <errno.h>

enum { READ_CHUNK = 16 * 1024 };

ssize_t read_available(int fd, struct ax_buf *in, size_t limit)
{
    size_t appended = 0;
    while (ax_buf_len(in) < limit) {
        size_t room = limit - ax_buf_len(in);
        size_t want = room < READ_CHUNK ? room : READ_CHUNK;
        int err = ax_buf_reserve(in, want);
        if (err < 0)
            return err;
        ssize_t got = ax_recv(fd, ax_buf_space(in), want); /* retries EINTR itself */
        if (got == -EAGAIN)
            break; /* everything that had arrived is in `in` now */
        if (got == 0)
            return AX_EOF;
        if (got < 0)
            return got;
        ax_buf_commit(in, (size_t)got);
        appended += (size_t)got;
    }
    return (ssize_t)appended;
}
