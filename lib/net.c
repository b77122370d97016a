//@ 01
/* Blocking socket helpers; see ax/net.h for what each one promises. */
#include "ax/net.h"
#include "ax/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { AX_LISTEN_BACKLOG = 511, AX_LINE_READ_CHUNK = 4096 };

/* getaddrinfo reports its own error codes; map the common ones onto errno values. */
int ax__resolve(const char *host, uint16_t port, int flags, struct addrinfo **out)
{
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags | AI_NUMERICSERV};
    int rc = getaddrinfo(host, service, &hints, out);
    switch (rc) {
    case 0:
        return 0;
    case EAI_SYSTEM:
        return ax__errno();
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_NONAME:
    case EAI_NODATA:
        //> 01..08
        //| return -EHOSTUNREACH;
        //< 01
        //> 08
        return AX_ENOHOST; /* a name that does not exist is not a route that is down */
    case EAI_AGAIN:
        return AX_ERESOLVE;
        //< 08
    default:
        return -EINVAL;
    }
}

int ax_listen(const char *host, uint16_t port, uint16_t *bound_port)
{
    struct addrinfo *addrs;
    int err = ax__resolve(host, port, AI_PASSIVE, &addrs);
    if (err < 0)
        return err;
    int fd = -1;
    err = -EADDRNOTAVAIL;
    for (struct addrinfo *ai = addrs; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = ax__errno();
            continue;
        }
        /* Lets a restarted server bind while old connections sit in TIME_WAIT. */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, AX_LISTEN_BACKLOG) == 0)
            break;
        err = ax__errno();
        close(fd);
        fd = -1;
    }
    freeaddrinfo(addrs);
    if (fd < 0)
        return err;
    if (bound_port != NULL) {
        int local = ax_local_port(fd);
        if (local < 0) {
            close(fd);
            return local;
        }
        *bound_port = (uint16_t)local;
    }
    return fd;
}

int ax_accept(int listen_fd, char peer[AX_ADDR_STRLEN])
{
    struct sockaddr_storage addr;
    for (;;) {
        socklen_t len = sizeof addr;
        int fd = accept4(listen_fd, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC);
        if (fd >= 0) {
            if (peer != NULL)
                ax_format_addr((struct sockaddr *)&addr, peer);
            return fd;
        }
        /* ECONNABORTED: a client gave up while queued; that is its problem, not ours. */
        if (errno != EINTR && errno != ECONNABORTED)
            return ax__errno();
    }
}

int ax_connect(const char *host, uint16_t port)
{
    struct addrinfo *addrs;
    int err = ax__resolve(host, port, 0, &addrs);
    if (err < 0)
        return err;
    int fd = -1;
    err = -EADDRNOTAVAIL;
    for (struct addrinfo *ai = addrs; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = ax__errno();
            continue;
        }
        int rc;
        while ((rc = connect(fd, ai->ai_addr, ai->ai_addrlen)) < 0 && errno == EINTR)
            ; /* POSIX lets an interrupted connect go on in the background: see below */
        if (rc == 0 || errno == EISCONN)
            break;
        err = ax__errno();
        close(fd);
        fd = -1;
    }
    freeaddrinfo(addrs);
    return fd >= 0 ? fd : err;
}

/* Called when a read or write said EAGAIN. On a non-blocking fd that means "not
 * now": block in poll() until it is ready. On a blocking fd it means a timeout set
 * with SO_RCVTIMEO or SO_SNDTIMEO expired, which must not turn into a wait forever. */
static int wait_ready(int fd, short events)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && !(flags & O_NONBLOCK))
        return -ETIMEDOUT;
    struct pollfd pfd = {.fd = fd, .events = events};
    while (poll(&pfd, 1, -1) < 0)
        if (errno != EINTR)
            return ax__errno();
    return 0;
}

ssize_t ax_read_some(int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t got = read(fd, buf, n);
        if (got >= 0)
            return got;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int err = wait_ready(fd, POLLIN);
            if (err < 0)
                return err;
        } else if (errno != EINTR) {
            return ax__errno();
        }
    }
}

int ax_read_exact(int fd, void *buf, size_t n, size_t *got)
{
    size_t done = 0;
    int result = 0;
    while (done < n) {
        ssize_t r = ax_read_some(fd, (char *)buf + done, n - done);
        if (r <= 0) {
            result = r == 0 ? AX_EOF : (int)r;
            break;
        }
        done += (size_t)r;
    }
    if (got != NULL)
        *got = done;
    return result;
}

// snippet write-all
int ax_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    int is_socket = 1;
    while (n > 0) {
        /* send() with MSG_NOSIGNAL turns SIGPIPE into an EPIPE result; pipes and
         * files are not sockets, so they get plain write(). */
        ssize_t wrote = is_socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
        if (wrote >= 0) {
            p += wrote; /* a short write is normal: go round again for the rest */
            n -= (size_t)wrote;
        } else if (errno == ENOTSOCK && is_socket) {
            is_socket = 0;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int err = wait_ready(fd, POLLOUT);
            if (err < 0)
                return err;
        } else if (errno != EINTR) {
            return ax__errno();
        }
    }
    return 0;
}
// end snippet

int ax_close(int fd)
{
    /* On Linux the descriptor is released even when close() fails, EINTR included,
     * so retrying could close an fd another thread just opened. Report, never retry. */
    if (close(fd) < 0 && errno != EINTR)
        return ax__errno();
    return 0;
}

int ax_local_port(int fd)
{
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
        return ax__errno();
    if (addr.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&addr)->sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return -EAFNOSUPPORT;
}

void ax_format_addr(const struct sockaddr *addr, char out[AX_ADDR_STRLEN])
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, AX_ADDR_STRLEN, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, AX_ADDR_STRLEN, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, AX_ADDR_STRLEN, "(family %d)", addr->sa_family);
    }
}

int ax_parse_port(const char *text, uint16_t *port)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || value < 0 || value > 65535)
        return -EINVAL;
    *port = (uint16_t)value;
    return 0;
}

void ax_announce_listening(const char *host, uint16_t port)
{
    printf(strchr(host, ':') ? "listening on [%s]:%u\n" : "listening on %s:%u\n", host,
           (unsigned)port);
    fflush(stdout);
}

void ax_line_reader_init(struct ax_line_reader *reader, int fd, size_t max_line)
{
    *reader = (struct ax_line_reader){.fd = fd, .max_line = max_line};
    ax_buf_init(&reader->buf);
}

void ax_line_reader_free(struct ax_line_reader *reader)
{
    ax_buf_free(&reader->buf);
}

/* Hands out the line of length len at the front of the buffer (its terminator, if
 * any, is at data[len]); strips a "\r" before the "\n". */
static ssize_t take_line(struct ax_line_reader *reader, size_t len, size_t terminator)
{
    char *data = ax_buf_data(&reader->buf);
    data[len] = '\0';
    reader->returned = len + terminator;
    reader->scanned = 0;
    if (len > 0 && data[len - 1] == '\r')
        data[--len] = '\0';
    return (ssize_t)len;
}

// snippet read-line
ssize_t ax_read_line(struct ax_line_reader *reader, char **line)
{
    struct ax_buf *buf = &reader->buf;
    ax_buf_consume(buf, reader->returned);
    reader->returned = 0;

    for (;;) {
        char *data = ax_buf_data(buf);
        size_t len = ax_buf_len(buf);
        char *newline = NULL;
        if (len > reader->scanned)
            newline = memchr(data + reader->scanned, '\n', len - reader->scanned);
        if (newline != NULL) {
            size_t line_len = (size_t)(newline - data);
            int crlf = line_len > 0 && data[line_len - 1] == '\r';
            if (reader->skipping || line_len - crlf > reader->max_line) {
                int reported = reader->skipping;
                ax_buf_consume(buf, line_len + 1);
                reader->scanned = 0;
                reader->skipping = 0;
                if (reported)
                    continue; /* the tail of a line already reported too long */
                return -EMSGSIZE;
            }
            *line = data;
            return take_line(reader, line_len, 1);
        }
        reader->scanned = len;

        /* No newline yet. A partial line past the bound is reported now, before it
         * can grow further; the rest of it is read and dropped. (+1 leaves room for
         * a "\r" that may precede the "\n".) */
        if (reader->skipping || len > reader->max_line + 1) {
            ax_buf_clear(buf);
            reader->scanned = 0;
            if (!reader->skipping) {
                reader->skipping = 1;
                return -EMSGSIZE;
            }
        }

        int err = ax_buf_reserve(buf, AX_LINE_READ_CHUNK);
        if (err < 0)
            return err;
        ssize_t got = ax_read_some(reader->fd, ax_buf_space(buf), ax_buf_space_len(buf));
        if (got < 0)
            return got;
        if (got == 0) {
            len = ax_buf_len(buf);
            if (reader->skipping || len == 0)
                return AX_EOF;
            char *data = ax_buf_data(buf);
            if (len - (data[len - 1] == '\r') > reader->max_line) {
                ax_buf_clear(buf); /* a last line one byte too long, cut by EOF */
                reader->skipping = 1;
                return -EMSGSIZE;
            }
            *line = data; /* a last line without "\n": the reserve left room for the NUL */
            return take_line(reader, len, 0);
        }
        ax_buf_commit(buf, (size_t)got);
    }
}
// end snippet

size_t ax_line_reader_take_buffered(struct ax_line_reader *reader, char **bytes)
{
    ax_buf_consume(&reader->buf, reader->returned);
    *bytes = ax_buf_data(&reader->buf);
    reader->returned = ax_buf_len(&reader->buf); /* dropped on the next use */
    reader->scanned = 0;
    return reader->returned;
}
