//@ 06
/*
 * The cancel-safe line reader; the rules are in ax/lines.h.
 *
 * A poll alternates two steps until one gives an answer: take a line from the bytes
 * the ax_lines holds, and, when there is no complete line, fill: one read into the
 * free end of the buffer. The read is chapter 04's read future, aimed at that free
 * end; the bytes it brings are counted into the ax_lines in the same poll that read
 * them, so no state worth keeping is ever only in the future.
 */
#include "ax/lines.h"
#include "ax/error.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int ax_lines_init(struct ax_lines *lines, struct ax_source *source, size_t max_line)
{
    if (max_line > SIZE_MAX / 2 - 2 - AX_LINES_READ_ROOM)
        return -ENOMEM;
    size_t cap = max_line + 2 + AX_LINES_READ_ROOM;
    char *buf = malloc(cap);
    if (buf == NULL)
        return -ENOMEM;
    *lines = (struct ax_lines){.source = source, .buf = buf, .cap = cap, .max_line = max_line};
    return 0;
}

void ax_lines_free(struct ax_lines *lines)
{
    free(lines->buf);
    lines->buf = NULL;
}

/* Hands n bytes from the front over (a line and its "\n", or bytes being dropped). */
static void consume(struct ax_lines *lines, size_t n)
{
    lines->start += n;
    lines->scanned = 0;
    if (lines->start == lines->end)
        lines->start = lines->end = 0; /* the handed-out line stays readable until a fill */
}

/* Moves the unread bytes to the front, so the free end is as long as it can be. */
static void compact(struct ax_lines *lines)
{
    if (lines->start == 0)
        return;
    memmove(lines->buf, lines->buf + lines->start, lines->end - lines->start);
    lines->end -= lines->start;
    lines->start = 0;
}

/* A line of len bytes at data, its terminator already consumed: strips a "\r" before
 * the "\n", bounds it and NUL-terminates it. */
static ax_result hand_out(struct ax_lines *lines, char *data, size_t len, const char **line)
{
    if (len > 0 && data[len - 1] == '\r')
        len--;
    if (len > lines->max_line)
        return -EMSGSIZE;
    data[len] = '\0';
    *line = data;
    return (ax_result)len;
}

// snippet lines-take
/* A line from what is buffered: its length, -EMSGSIZE, AX_EOF, or AX_PENDING when a
 * read is needed first. */
static ax_result take_line(struct ax_lines *lines, const char **line)
{
    for (;;) {
        char *data = lines->buf + lines->start;
        size_t len = lines->end - lines->start;
        char *newline = memchr(data + lines->scanned, '\n', len - lines->scanned);
        if (newline == NULL) {
            lines->scanned = len; /* the next search starts at the new bytes */
            break;
        }
        size_t line_len = (size_t)(newline - data);
        consume(lines, line_len + 1);
        if (lines->skipping) {
            lines->skipping = false; /* the tail of a line already reported */
            continue;
        }
        return hand_out(lines, data, line_len, line);
    }

    /* No "\n" yet. A partial line past the bound is reported now, before it can grow
     * (+1: the "\r" of a "\r\n" may be here already); the rest of it is dropped. */
    size_t len = lines->end - lines->start;
    if (lines->skipping || len > lines->max_line + 1) {
        consume(lines, len);
        if (!lines->skipping) {
            lines->skipping = true;
            return -EMSGSIZE;
        }
    }
    if (!lines->eof)
        return AX_PENDING;
    if (lines->skipping || len == 0)
        return AX_EOF;
    compact(lines); /* a last line without "\n": room after it for the NUL */
    consume(lines, len);
    ax_result result = hand_out(lines, lines->buf, len, line);
    if (result == -EMSGSIZE)
        lines->skipping = true; /* so that AX_EOF comes next */
    return result;
}
// end snippet

// snippet lines-fill
/* One read into the free end of the buffer: the count, 0 at end of stream, AX_PENDING
 * (the read future stays parked, aimed at the same free end) or -errno. */
static ax_result fill(struct ax_next_line *next, struct ax_context *cx)
{
    struct ax_lines *lines = next->lines;
    if (!next->read_pending) {
        compact(lines);
        ax_read_future_init(&next->read, lines->source, lines->buf + lines->end,
                            lines->cap - lines->end);
        next->read_pending = true;
    }
    ax_result got = ax_poll(&next->read.base, cx);
    if (got == AX_PENDING)
        return got; /* nothing read yet: dropping us now loses nothing */
    ax_future_drop(&next->read.base);
    next->read_pending = false;
    if (got > 0)
        lines->end += (size_t)got; /* the bytes belong to the connection from here on */
    else if (got == 0)
        lines->eof = true;
    return got;
}
// end snippet

static void finish(struct ax_next_line *next)
{
    if (next->read_pending)
        ax_future_drop(&next->read.base);
    next->read_pending = false;
    if (next->in_progress)
        next->lines->reading = false;
    next->in_progress = false;
}

// snippet lines-poll
static ax_result next_line_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_next_line *next = (struct ax_next_line *)self;
    struct ax_lines *lines = next->lines;
    if (!next->in_progress) {
        if (lines->reading)
            return -EBUSY; /* another reader is half-way through a line */
        lines->reading = next->in_progress = true;
    }
    for (;;) {
        ax_result result = take_line(lines, &next->line);
        if (result == AX_PENDING) {
            result = fill(next, cx);
            if (result == AX_PENDING)
                return result;
            if (result >= 0)
                continue; /* new bytes, or the end of stream: look again */
        }
        finish(next);
        return result;
    }
}
// end snippet

static void next_line_drop(struct ax_future *self)
{
    finish((struct ax_next_line *)self);
}

static const struct ax_future_ops next_line_ops = {.poll = next_line_poll, .drop = next_line_drop};

void ax_next_line_init(struct ax_next_line *next, struct ax_lines *lines)
{
    *next = (struct ax_next_line){.base = {&next_line_ops}, .lines = lines};
}
