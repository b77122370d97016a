//@ 06
/*
 * A cancel-safe line reader: chapter 01's bounded line reader, as a future.
 *
 * The point is where the bytes live. A future that reads into a buffer of its own
 * loses what it has read when it is dropped half-way through a line: dropped by a
 * timeout, by the losing side of a select, by an aborted task. Here the buffer belongs
 * to the connection (struct ax_lines), and the future (struct ax_next_line) holds
 * nothing but its place in the queue of readers: every byte a read brings in goes into
 * the ax_lines at once, in the same poll. Dropping an ax_next_line at any suspension
 * point therefore loses no byte, and the next ax_next_line picks up where it stopped.
 * That is what "cancel safe" means, and it is how tokio's BufReader::lines is safe to
 * use in a select.
 *
 * The rules, which the tests check:
 *  1. A line is handed out NUL-terminated, without its "\n" or "\r\n", through the
 *     future's `line`, and its length is the result. It stays valid until the next
 *     ax_next_line on the same ax_lines is polled, or ax_lines_free.
 *  2. A last line that ends without "\n" is still a line; after it, and at the end of
 *     the stream, comes AX_EOF, every time.
 *  3. A line longer than max_line gives -EMSGSIZE once, as soon as it is known to be
 *     too long; the rest of it, up to its "\n", is read and dropped. The buffer never
 *     grows: max_line + 2 bytes (for "\r\n") plus room for one read.
 *  4. One reader at a time: an ax_next_line polled while another one on the same
 *     ax_lines is in progress (polled, not yet finished or dropped) finishes with
 *     -EBUSY and leaves the other one alone.
 *
 * Ownership. The ax_lines borrows its source: the connection opened it and closes it,
 * after ax_lines_free. Each ax_next_line holds a reference to the source only while a
 * read is under way, through chapter 04's read future (ax/io.h), so the source is
 * registered with the reactor once, when it was opened, however many lines are read.
 */
#ifndef AX_LINES_H
#define AX_LINES_H

#include "ax/future.h"
#include "ax/io.h"
#include "ax/source.h"

#include <stdbool.h>
#include <stddef.h>

/* The room a read gets beyond the longest line: a read brings in many short lines. */
#define AX_LINES_READ_ROOM 4096

// snippet lines-struct
struct ax_lines {
    struct ax_source *source; /* borrowed: the connection's */
    char *buf; /* max_line + 2 bytes for "\r\n", plus AX_LINES_READ_ROOM */
    size_t cap;
    size_t start, end; /* buf[start, end): read, not yet handed out */
    size_t scanned; /* bytes from start already searched for "\n" */
    size_t max_line; /* longest accepted line, without its "\n" or "\r\n" */
    bool reading; /* an ax_next_line is in progress */
    bool skipping; /* dropping the rest of a line reported too long */
    bool eof; /* the peer's end of stream has been read */
};
// end snippet

/* 0, or -ENOMEM. The source stays the caller's and must outlive the ax_lines. */
int ax_lines_init(struct ax_lines *lines, struct ax_source *source, size_t max_line);
void ax_lines_free(struct ax_lines *lines);

/* Bytes read and not yet handed out as lines: what a dropped reader left behind. */
static inline size_t ax_lines_buffered(const struct ax_lines *lines)
{
    return lines->end - lines->start;
}

/* The next line (rule 1): its length, or AX_EOF, -EMSGSIZE, -EBUSY or a read's -errno. */
struct ax_next_line {
    struct ax_future base;
    struct ax_lines *lines;
    const char *line; /* the line, once the result is >= 0 */
    bool in_progress; /* this one holds lines->reading */
    bool read_pending; /* `read` is initialised and parked */
    struct ax_read_future read;
};

void ax_next_line_init(struct ax_next_line *next, struct ax_lines *lines);

#endif
