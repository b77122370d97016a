/* Exercise 01-writev-all: a reference solution. */
#include "writev_all.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>

/* Skips the first n written bytes: whole buffers are dropped, a partly written one
 * is trimmed from the front. Returns the new count of buffers left. */
static int advance(struct iovec **iov, int iovcnt, size_t n)
{
    while (iovcnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        iovcnt--;
    }
    if (n > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
    return iovcnt;
}

int writev_all(int fd, struct iovec *iov, int iovcnt)
{
    int is_socket = 1;
    while ((iovcnt = advance(&iov, iovcnt, 0)) > 0) {
        int batch = iovcnt < IOV_MAX ? iovcnt : IOV_MAX;
        /* sendmsg with MSG_NOSIGNAL is writev that reports EPIPE instead of raising
         * SIGPIPE; anything that is not a socket gets plain writev. */
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)batch};
        ssize_t wrote = is_socket ? sendmsg(fd, &msg, MSG_NOSIGNAL) : writev(fd, iov, batch);
        if (wrote >= 0) {
            iovcnt = advance(&iov, iovcnt, (size_t)wrote);
        } else if (errno == ENOTSOCK && is_socket) {
            is_socket = 0;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, -1);
        } else if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}
