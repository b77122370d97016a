//@ 01
/*
 * Blocking network helpers: the socket calls every chapter needs, done right once.
 *
 * The raw calls have sharp edges that this layer files off: read() and write() may
 * move fewer bytes than asked (a "short" transfer), any call may fail with EINTR when
 * a signal arrives, writing to a closed peer raises SIGPIPE and kills the process, and
 * a line read from the network can be as long as the peer likes. These helpers finish
 * short transfers, retry EINTR, never raise SIGPIPE, and bound every line.
 *
 * They block the calling thread: that is chapter 01's subject and its cost. If handed
 * a non-blocking fd, they wait for readiness with poll() instead of failing with
 * EAGAIN, so they stay correct either way. A blocking socket with a timeout
 * (SO_RCVTIMEO, SO_SNDTIMEO) that expires gives -ETIMEDOUT. Errors follow ax/error.h.
 */
#ifndef AX_NET_H
#define AX_NET_H

#include "ax/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Room for "[ipv6-address]:port" and a terminating NUL. */
#define AX_ADDR_STRLEN 64

/* A listening TCP socket on host:port; port 0 lets the kernel pick a free port.
 * Stores the port actually bound in *bound_port (if not NULL). Returns the fd or
 * -errno: -EADDRINUSE when another socket holds the port, -EINVAL for a bad host. */
int ax_listen(const char *host, uint16_t port, uint16_t *bound_port);

/* Waits for a connection; retries EINTR. Writes the peer's "addr:port" into peer
 * (if not NULL). Returns the new fd or -errno (-EMFILE when out of descriptors). */
int ax_accept(int listen_fd, char peer[AX_ADDR_STRLEN]);

/* A TCP connection to host:port. Returns the fd or -errno (-ECONNREFUSED when nothing
 * listens there). */
int ax_connect(const char *host, uint16_t port);

/* Reads exactly n bytes. 0 on success; AX_EOF if the stream ended first (how much did
 * arrive is stored in *got, if not NULL, in every case); -errno on error. */
int ax_read_exact(int fd, void *buf, size_t n, size_t *got);

/* Writes all n bytes, continuing after short writes and EINTR. 0 or -errno (-EPIPE
 * when the peer has gone; never SIGPIPE). */
int ax_write_all(int fd, const void *buf, size_t n);

/* Reads whatever is available, at most n bytes, retrying EINTR: the count, 0 at end of
 * stream, or -errno. */
ssize_t ax_read_some(int fd, void *buf, size_t n);

/* Closes fd and reports what close() said (a failed close can mean lost data). */
int ax_close(int fd);

/* The local port of a bound socket, or -errno. */
int ax_local_port(int fd);

/* "127.0.0.1:8080" or "[::1]:8080" for a socket address. */
void ax_format_addr(const struct sockaddr *addr, char out[AX_ADDR_STRLEN]);

/* Parses a decimal port number 0..65535. 0 or -EINVAL. */
int ax_parse_port(const char *text, uint16_t *port);

/* Prints "listening on HOST:PORT" to standard output and flushes it: the first line
 * of every server in the course, so tests and scripts can find the port. */
void ax_announce_listening(const char *host, uint16_t port);

// snippet line-reader-struct
/*
 * A line reader over a blocking fd, with a bound. A line longer than max_line bytes
 * is an error (-EMSGSIZE), not a reason to buffer without limit: a peer that never
 * sends "\n" must not be able to exhaust the server's memory.
 */
struct ax_line_reader {
    int fd;
    size_t max_line; /* longest accepted line, without its "\n" */
    size_t scanned; /* bytes of buf already searched for "\n" */
    size_t returned; /* bytes of the line handed out last, consumed on the next call */
    int skipping; /* discarding the rest of an over-long line */
    struct ax_buf buf;
};
// end snippet

void ax_line_reader_init(struct ax_line_reader *reader, int fd, size_t max_line);
void ax_line_reader_free(struct ax_line_reader *reader);

/* Reads the next line. Returns its length and points *line at it, NUL-terminated and
 * without its "\n" or "\r\n"; it stays valid until the next call. A last line that
 * ends without "\n" is still returned; after it comes AX_EOF. A line longer than
 * max_line gives -EMSGSIZE once, and reading resumes after its "\n". Other errors are
 * -errno. */
ssize_t ax_read_line(struct ax_line_reader *reader, char **line);

/* Hands over the bytes the reader has read past the last line (a protocol switching
 * from lines to a body wants them): stores where they start in *bytes and returns
 * their count. They stay valid until the reader is next used, and are not returned
 * again. */
size_t ax_line_reader_take_buffered(struct ax_line_reader *reader, char **bytes);

/* Internal: host and port to socket addresses (getaddrinfo, with its errors mapped to
 * -errno values). Shared with the non-blocking helpers. */
struct addrinfo;
int ax__resolve(const char *host, uint16_t port, int flags, struct addrinfo **out);

#endif
