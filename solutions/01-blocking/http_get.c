/* Exercise 01-http-get: a reference solution. */
#include "http_get.h"

#include "ax/error.h"
#include "ax/net.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { BODY_CHUNK = 16 * 1024 };

struct url {
    char host[256];
    uint16_t port;
    const char *host_and_port; /* the URL's own text, for the Host header */
    size_t host_and_port_len;
    const char *path;
};

/* http://HOST[:PORT][PATH] -> its parts; 0 or -EINVAL. */
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
    url->host_and_port = host;
    url->host_and_port_len = (size_t)(rest - host);
    url->path = *rest == '\0' ? "/" : rest;
    for (const char *c = url->path; *c != '\0'; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return -EINVAL; /* it would break the request line */
    return 0;
}

static int send_request(int fd, const struct url *url)
{
    char request[HTTP_GET_MAX_LINE + 512];
    int n = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: %.*s\r\n\r\n", url->path,
                     (int)url->host_and_port_len, url->host_and_port);
    if (n < 0 || (size_t)n >= sizeof request)
        return -EINVAL; /* a path longer than any server would take */
    return ax_write_all(fd, request, (size_t)n);
}

/* The reader's over-long line is a malformed head, not a too-large body. */
static ssize_t read_head_line(struct ax_line_reader *reader, char **line)
{
    ssize_t len = ax_read_line(reader, line);
    return len == -EMSGSIZE ? -EPROTO : len;
}

/* "HTTP/1.1 200 OK" or "HTTP/1.0 404" -> the code, or -EPROTO. */
static int parse_status_line(const char *line)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) || line[8] != ' ')
        return -EPROTO;
    const char *code = line + 9;
    if (strspn(code, "0123456789") != 3 || (code[3] != '\0' && code[3] != ' '))
        return -EPROTO;
    return (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

/* Digits only, spaces or tabs around them, and a value that fits a long long. */
static int parse_length(const char *text, long long *length)
{
    text += strspn(text, " \t");
    size_t digits = strspn(text, "0123456789");
    if (digits == 0 || text[digits + strspn(text + digits, " \t")] != '\0')
        return -EPROTO;
    long long value = 0;
    for (size_t i = 0; i < digits; i++) {
        int digit = text[i] - '0';
        if (value > (LLONG_MAX - digit) / 10)
            return -EPROTO; /* too large to be any body's length */
        value = value * 10 + digit;
    }
    *length = value;
    return 0;
}

/* Reads the headers up to the empty line; *content_length is -1 if there is none. */
static int read_headers(struct ax_line_reader *reader, long long *content_length)
{
    *content_length = -1;
    for (int count = 0;; count++) {
        char *line;
        ssize_t len = read_head_line(reader, &line);
        if (len <= 0)
            return (int)len; /* 0: the empty line ends the head */
        char *colon = strchr(line, ':');
        if (count == HTTP_GET_MAX_HEADERS || colon == NULL || colon == line)
            return -EPROTO;
        *colon = '\0';
        if (strcasecmp(line, "Content-Length") == 0 && parse_length(colon + 1, content_length) < 0)
            return -EPROTO;
    }
}

/* Content-Length known: one allocation, then read exactly the rest. */
static int read_sized_body(struct ax_line_reader *reader, size_t length, struct ax_buf *body)
{
    int err = ax_buf_reserve(body, length);
    if (err < 0)
        return err;
    char *early; /* bytes the line reader read past the head: the body's start */
    size_t n = ax_line_reader_take_buffered(reader, &early);
    if (n > length)
        n = length; /* anything after the body is not ours */
    ax_buf_append(body, early, n);
    size_t got = 0;
    err = ax_read_exact(reader->fd, ax_buf_space(body), length - n, &got);
    ax_buf_commit(body, got);
    return err;
}

/* No Content-Length: the body ends when the server closes the connection. */
static int read_body_to_end(struct ax_line_reader *reader, size_t max_body, struct ax_buf *body)
{
    char *early; /* bytes the line reader read past the head: the body's start */
    size_t n = ax_line_reader_take_buffered(reader, &early);
    if (n > max_body)
        return -EMSGSIZE;
    int err = ax_buf_append(body, early, n);
    while (err == 0) {
        err = ax_buf_reserve(body, BODY_CHUNK);
        if (err < 0)
            break;
        ssize_t got = ax_read_some(reader->fd, ax_buf_space(body), ax_buf_space_len(body));
        if (got <= 0)
            return (int)got; /* 0: the end of the stream is the end of the body */
        ax_buf_commit(body, (size_t)got);
        if (ax_buf_len(body) > max_body)
            err = -EMSGSIZE;
    }
    return err;
}

static int read_response(struct ax_line_reader *reader, size_t max_body,
                         struct http_response *response)
{
    char *line;
    ssize_t len = read_head_line(reader, &line);
    if (len < 0)
        return (int)len;
    response->status = parse_status_line(line);
    if (response->status < 0)
        return response->status;
    long long length;
    int err = read_headers(reader, &length);
    if (err < 0)
        return err;
    if (length < 0)
        return read_body_to_end(reader, max_body, &response->body);
    if ((unsigned long long)length > max_body)
        return -EMSGSIZE; /* refused before a byte of it is read */
    return read_sized_body(reader, (size_t)length, &response->body);
}

int http_get(const char *url_text, size_t max_body, struct http_response *response)
{
    *response = (struct http_response){.status = 0};
    struct url url;
    int err = parse_url(url_text, &url);
    if (err < 0)
        return err;
    int fd = ax_connect(url.host, url.port);
    if (fd < 0)
        return fd;
    err = send_request(fd, &url);
    if (err == 0) {
        struct ax_line_reader reader;
        ax_line_reader_init(&reader, fd, HTTP_GET_MAX_LINE);
        err = read_response(&reader, max_body, response);
        ax_line_reader_free(&reader);
    }
    ax_close(fd);
    if (err < 0)
        ax_buf_free(&response->body);
    return err;
}
