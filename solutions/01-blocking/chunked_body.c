/* Challenge 01-challenge-chunked: a reference solution.
 *
 * `carry` is used as the read-ahead buffer itself: lines are read into it from fd and
 * consumed from its front, so whatever is left in it at the end is, by construction,
 * what was read past the body. A chunk's data goes the other way: what carry already
 * holds is moved to the body, and the rest is read from fd straight into the body,
 * asking for no more than the chunk still needs, so data never passes through carry
 * twice and nothing past the chunk is read by that path. */
#include "chunked_body.h"

#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { READ_CHUNK = 16 * 1024 };

/* Appends what fd has (at least one byte) to carry: the count, AX_EOF, or -errno. */
static ssize_t fill(int fd, struct ax_buf *carry)
{
    int err = ax_buf_reserve(carry, READ_CHUNK);
    if (err < 0)
        return err;
    ssize_t got = ax_read_some(fd, ax_buf_space(carry), ax_buf_space_len(carry));
    if (got <= 0)
        return got == 0 ? AX_EOF : got;
    ax_buf_commit(carry, (size_t)got);
    return got;
}

/* The next line: its length without the line end, *line pointing at it (in carry, not
 * NUL-terminated); the line and its end are consumed by the next call through
 * *used. -EPROTO as soon as it is known to be too long. */
static ssize_t next_line(int fd, struct ax_buf *carry, const char **line, size_t *used)
{
    size_t scanned = 0;
    for (;;) {
        const char *data = ax_buf_data(carry);
        size_t len = ax_buf_len(carry);
        const char *newline = len > scanned ? memchr(data + scanned, '\n', len - scanned) : NULL;
        if (newline != NULL) {
            size_t n = (size_t)(newline - data);
            *used = n + 1;
            if (n > 0 && data[n - 1] == '\r')
                n--;
            if (n > CHUNKED_MAX_LINE)
                return -EPROTO;
            *line = data;
            return (ssize_t)n;
        }
        /* MAX_LINE bytes and a "\r" can still end well; anything more cannot. */
        if (len > CHUNKED_MAX_LINE + 1 ||
            (len == CHUNKED_MAX_LINE + 1 && data[CHUNKED_MAX_LINE] != '\r'))
            return -EPROTO;
        scanned = len;
        ssize_t got = fill(fd, carry);
        if (got < 0)
            return got;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A chunk-size line: 1*HEXDIG, then nothing, or blanks and ";" and anything. */
static int parse_size(const char *line, size_t len, uint64_t *size)
{
    size_t i = 0;
    uint64_t value = 0;
    while (i < len && hex_value(line[i]) >= 0) {
        if (value >> 60 != 0)
            return -EPROTO; /* a seventeenth significant digit: more than 64 bits */
        value = value << 4 | (uint64_t)hex_value(line[i]);
        i++;
    }
    if (i == 0)
        return -EPROTO;
    size_t rest = i;
    while (rest < len && (line[rest] == ' ' || line[rest] == '\t'))
        rest++;
    if (rest < len ? line[rest] != ';' : rest != i)
        return -EPROTO; /* something else after the digits, or blanks with no ";" */
    *size = value;
    return 0;
}

/* Moves n bytes of chunk data to body: first what carry holds, then straight from fd,
 * growing the body as the data arrives rather than by what the size line claims. */
static int read_data(int fd, struct ax_buf *carry, size_t n, struct ax_buf *body)
{
    size_t early = ax_buf_len(carry) < n ? ax_buf_len(carry) : n;
    if (early > 0) {
        int err = ax_buf_append(body, ax_buf_data(carry), early);
        if (err < 0)
            return err;
        ax_buf_consume(carry, early);
    }
    for (size_t left = n - early; left > 0;) {
        size_t want = left < READ_CHUNK ? left : READ_CHUNK;
        int err = ax_buf_reserve(body, want);
        if (err < 0)
            return err;
        ssize_t got = ax_read_some(fd, ax_buf_space(body), want);
        if (got <= 0)
            return got == 0 ? AX_EOF : (int)got;
        ax_buf_commit(body, (size_t)got);
        left -= (size_t)got;
    }
    return 0;
}

/* After the last chunk: trailer lines, each "name:value", up to the empty line. */
static int skip_trailers(int fd, struct ax_buf *carry)
{
    for (int count = 0;; count++) {
        const char *line;
        size_t used;
        ssize_t len = next_line(fd, carry, &line, &used);
        if (len < 0)
            return (int)len;
        if (len == 0) {
            ax_buf_consume(carry, used);
            return 0;
        }
        const char *colon = memchr(line, ':', (size_t)len);
        if (count == CHUNKED_MAX_TRAILERS || colon == NULL || colon == line)
            return -EPROTO;
        ax_buf_consume(carry, used);
    }
}

static ssize_t read_chunks(int fd, struct ax_buf *carry, size_t max_body, struct ax_buf *body)
{
    size_t total = 0;
    for (;;) {
        const char *line;
        size_t used;
        uint64_t size;
        ssize_t len = next_line(fd, carry, &line, &used);
        if (len < 0)
            return len;
        int err = parse_size(line, (size_t)len, &size);
        if (err < 0)
            return err;
        ax_buf_consume(carry, used);
        if (size == 0)
            break;
        if (size > max_body - total)
            return -EMSGSIZE; /* refused before a byte of this chunk is read */
        err = read_data(fd, carry, (size_t)size, body);
        if (err < 0)
            return err;
        total += (size_t)size;
        len = next_line(fd, carry, &line, &used);
        if (len < 0)
            return len;
        if (len != 0)
            return -EPROTO; /* the data did not end where its size said */
        ax_buf_consume(carry, used);
    }
    int err = skip_trailers(fd, carry);
    return err < 0 ? err : (ssize_t)total;
}

ssize_t chunked_read(int fd, struct ax_buf *carry, size_t max_body, struct ax_buf *body)
{
    size_t before = ax_buf_len(body);
    ssize_t result = read_chunks(fd, carry, max_body, body);
    if (result < 0)
        body->end = body->start + before; /* take back what this call appended */
    return result;
}
