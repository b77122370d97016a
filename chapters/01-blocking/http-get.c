/*
 * http-get: fetches one URL over HTTP/1.0 with blocking calls.
 *
 *     build/bin/http-get http://127.0.0.1:8080/index.html
 *
 * The status line and headers go to standard error, the body to standard output, so
 * `http-get URL > page.html` saves just the page. It is the chapter's second row,
 * "HTTP request", done the blocking way: connect, write the request, read the answer,
 * each call putting the thread to sleep until the network has moved. Try it against
 * http-serve (add --delay-ms 2000 there to feel the wait).
 *
 * HTTP/1.0 keeps the protocol small: one request per connection, and a body that ends
 * either after Content-Length bytes or, without that header, when the server closes
 * the connection. Plain http:// only, with a numeric or named host; no TLS, no
 * redirects, no chunked encoding (that is HTTP/1.1, which we do not ask for).
 */
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { MAX_LINE = 8192 };

struct url {
    char host[256];
    uint16_t port;
    const char *path; /* points into the URL text */
};

/* http://HOST[:PORT][/PATH] -> its parts; 0 or -EINVAL. */
static int parse_url(const char *text, struct url *url)
{
    static const char scheme[] = "http://";
    if (strncmp(text, scheme, strlen(scheme)) != 0)
        return -EINVAL;
    const char *host = text + strlen(scheme);
    size_t host_len = strcspn(host, ":/");
    if (host_len == 0 || host_len >= sizeof url->host)
        return -EINVAL;
    memcpy(url->host, host, host_len);
    url->host[host_len] = '\0';

    const char *rest = host + host_len;
    url->port = 80;
    if (*rest == ':') {
        char port[8];
        size_t port_len = strcspn(rest + 1, "/");
        if (port_len == 0 || port_len >= sizeof port)
            return -EINVAL;
        memcpy(port, rest + 1, port_len);
        port[port_len] = '\0';
        if (ax_parse_port(port, &url->port) < 0 || url->port == 0)
            return -EINVAL;
        rest += 1 + port_len;
    }
    url->path = *rest == '\0' ? "/" : rest;
    return 0;
}

/* "HTTP/1.1 200 OK" -> 200; -EPROTO for anything else. */
static int parse_status_line(const char *line)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' || line[8] != ' ')
        return -EPROTO;
    const char *code = line + 9;
    if (strspn(code, "0123456789") != 3 || (code[3] != ' ' && code[3] != '\0'))
        return -EPROTO;
    return atoi(code);
}

/* "Content-Length: 1234" -> 1234 in *length; other headers leave it alone. */
static int parse_header(const char *line, long long *length)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL || colon == line)
        return -EPROTO;
    if ((size_t)(colon - line) == strlen("Content-Length") &&
        strncasecmp(line, "Content-Length", (size_t)(colon - line)) == 0) {
        char *end;
        errno = 0;
        *length = strtoll(colon + 1, &end, 10);
        if (errno != 0 || *length < 0 || end == colon + 1 || *end != '\0')
            return -EPROTO;
    }
    return 0;
}

/* Copies the body to standard output: content_length bytes, or up to end of stream
 * when it is -1. Returns 0 or an error. */
static int copy_body(struct ax_line_reader *reader, long long content_length)
{
    /* The line reader reads ahead in chunks, so after the blank line it may already
     * hold the first bytes of the body: those come before anything on the socket. */
    char *bytes;
    size_t n = ax_line_reader_take_buffered(reader, &bytes);
    long long copied = 0;
    char buf[16 * 1024];
    for (;;) {
        if (content_length >= 0 && (long long)n > content_length - copied)
            n = (size_t)(content_length - copied); /* ignore anything past the body */
        int err = ax_write_all(STDOUT_FILENO, bytes, n);
        if (err < 0)
            return err;
        copied += (long long)n;
        if (copied == content_length)
            return 0;
        ssize_t got = ax_read_some(reader->fd, buf, sizeof buf);
        if (got < 0)
            return (int)got;
        if (got == 0) /* the server closed: the end of the body, or a body cut short */
            return content_length < 0 ? 0 : AX_EOF;
        bytes = buf;
        n = (size_t)got;
    }
}

// snippet http-get-exchange
/* Sends the request and reads the answer's head, printing it to standard error.
 * Leaves the body's length in *content_length (-1: read to end of stream). */
static int exchange(int fd, struct ax_line_reader *reader, const struct url *url,
                    long long *content_length)
{
    char request[MAX_LINE + 512];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: axle-http-get\r\n\r\n",
                     url->path, url->host, (unsigned)url->port);
    if (n < 0 || (size_t)n >= sizeof request)
        return -EINVAL;
    int err = ax_write_all(fd, request, (size_t)n);
    if (err < 0)
        return err;

    char *line;
    ssize_t len = ax_read_line(reader, &line); /* sleeps until the server answers */
    if (len < 0)
        return (int)len;
    fprintf(stderr, "%s\n", line);
    if (parse_status_line(line) < 0)
        return -EPROTO;
    *content_length = -1;
    while ((len = ax_read_line(reader, &line)) > 0) { /* headers end at an empty line */
        fprintf(stderr, "%s\n", line);
        if (parse_header(line, content_length) < 0)
            return -EPROTO;
    }
    return len < 0 ? (int)len : 0;
}
// end snippet

static const char *describe(int err)
{
    switch (err) {
    case AX_EOF:
        return "the server closed the connection before the response ended";
    case -EPROTO:
        return "malformed response: the last line above is not valid HTTP/1.x";
    case -EMSGSIZE:
        return "a line of the response is longer than the 8192 bytes allowed";
    default:
        return ax_strerror(err);
    }
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: http-get http://HOST[:PORT][/PATH]\n"
                "  fetches the URL with HTTP/1.0 and writes the body to standard output;\n"
                "  the status line and headers go to standard error\n");
    exit(status);
}

int main(int argc, char **argv)
{
    struct url url;
    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        usage(stdout, 0);
    if (argc != 2 || parse_url(argv[1], &url) < 0)
        usage(stderr, 2);
    int fd = ax_connect(url.host, url.port);
    if (fd < 0) {
        fprintf(stderr, "http-get: connect %s:%u: %s\n", url.host, (unsigned)url.port,
                ax_strerror(fd));
        return 1;
    }
    struct ax_line_reader reader;
    ax_line_reader_init(&reader, fd, MAX_LINE);
    long long content_length;
    int err = exchange(fd, &reader, &url, &content_length);
    if (err == 0)
        err = copy_body(&reader, content_length);
    ax_line_reader_free(&reader);
    ax_close(fd);
    if (err < 0) {
        fprintf(stderr, "http-get: %s: %s\n", argv[1], describe(err));
        return 1;
    }
    return 0;
}
