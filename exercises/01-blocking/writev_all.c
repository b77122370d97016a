/* Exercise 01-writev-all. Read "Short writes" in chapter 01 first. */
#include "writev_all.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>

int writev_all(int fd, struct iovec *iov, int iovcnt)
{
    /* TODO: write every byte. A single writev() is not enough: it may write only
     * part of the data (see chapter 01, "Short writes"), and it refuses more than
     * IOV_MAX buffers at once. Look at how ax_write_all in lib/net.c finishes a short
     * write, then work out how to advance an iovec array past n written bytes. */
    (void)fd;
    (void)iov;
    (void)iovcnt;
    return -ENOSYS;
}
