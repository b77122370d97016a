//@ 02
/* Non-blocking socket helpers; see ax/nonblock.h. */
#include "ax/nonblock.h"
#include "ax/error.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

int ax_set_nonblocking(int fd, bool on)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return ax__errno();
    int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (wanted == flags)
        return 0; /* already so: spare the second call */
    return fcntl(fd, F_SETFL, wanted) < 0 ? ax__errno() : 0;
}

int ax_accept_nonblocking(int listen_fd, char peer[AX_ADDR_STRLEN])
{
    struct sockaddr_storage addr;
    for (;;) {
        socklen_t len = sizeof addr;
        int fd = accept4(listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (peer != NULL)
                ax_format_addr((struct sockaddr *)&addr, peer);
            return fd;
        }
        if (errno == EWOULDBLOCK)
            return -EAGAIN;
        if (errno != EINTR && errno != ECONNABORTED)
            return ax__errno();
    }
}

// snippet connect-start
int ax_connect_start(const char *host, uint16_t port, int *fd)
{
    struct addrinfo *addrs;
    int err = ax__resolve(host, port, 0, &addrs);
    if (err < 0)
        return err;
    struct addrinfo *ai = addrs; /* the first address: trying the next needs a timer */
    int sock =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (sock < 0) {
        err = ax__errno();
    } else if (connect(sock, ai->ai_addr, ai->ai_addrlen) == 0) {
        err = 0; /* loopback can connect at once */
    } else if (errno == EINPROGRESS || errno == EINTR) {
        err = -EINPROGRESS; /* the kernel goes on with the handshake without us */
    } else {
        err = ax__errno();
        close(sock);
        sock = -1;
    }
    freeaddrinfo(addrs);
    if (sock >= 0)
        *fd = sock;
    return err;
}

int ax_connect_finish(int fd)
{
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
        return ax__errno();
    return -error;
}
// end snippet

/* recv and send on sockets; read and write on anything else (pipes, eventfds). */
ssize_t ax_recv(int fd, void *buf, size_t n)
{
    for (bool socket = true;;) {
        ssize_t got = socket ? recv(fd, buf, n, 0) : read(fd, buf, n);
        if (got >= 0)
            return got;
        if (errno == ENOTSOCK && socket)
            socket = false;
        else if (errno == EWOULDBLOCK)
            return -EAGAIN;
        else if (errno != EINTR)
            return ax__errno();
    }
}

ssize_t ax_send(int fd, const void *buf, size_t n)
{
    /* MSG_NOSIGNAL turns SIGPIPE into -EPIPE; a pipe's writer needs SIGPIPE ignored. */
    for (bool socket = true;;) {
        ssize_t sent = socket ? send(fd, buf, n, MSG_NOSIGNAL) : write(fd, buf, n);
        if (sent >= 0)
            return sent;
        if (errno == ENOTSOCK && socket)
            socket = false;
        else if (errno == EWOULDBLOCK)
            return -EAGAIN;
        else if (errno != EINTR)
            return ax__errno();
    }
}

// snippet flush
int ax_flush(int fd, struct ax_buf *out)
{
    while (ax_buf_len(out) > 0) {
        ssize_t sent = ax_send(fd, ax_buf_data(out), ax_buf_len(out));
        if (sent < 0)
            return (int)sent; /* -EAGAIN: the rest waits in `out` for writability */
        ax_buf_consume(out, (size_t)sent);
    }
    return 0;
}
// end snippet
