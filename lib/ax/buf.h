//@ 01
/*
 * A growable byte buffer with a read end and a write end.
 *
 * Bytes are appended at the end and consumed from the front, which is what both
 * directions of a connection need: input arrives in pieces and is parsed from the
 * front; output is queued at the back and flushed from the front as the socket takes
 * it. Consuming only moves `start`; the bytes are moved down (compacted) lazily, when
 * room is needed at the end, so a stream of small reads costs no copying per byte.
 *
 *     data: [ consumed | unread bytes      | free space  ]
 *            0         start               end           cap
 *
 * The buffer owns its memory. A zeroed struct (AX_BUF_INIT) is an empty buffer, and
 * growth that cannot be satisfied returns -ENOMEM, leaving the contents untouched.
 */
#ifndef AX_BUF_H
#define AX_BUF_H

#include <stddef.h>

struct ax_buf {
    char *data;
    size_t start; /* first unread byte */
    size_t end; /* one past the last byte */
    size_t cap;
};

#define AX_BUF_INIT                                                                                \
    {                                                                                              \
        0                                                                                          \
    }

void ax_buf_init(struct ax_buf *buf);
void ax_buf_free(struct ax_buf *buf);

/* Unread bytes, and where they start. */
static inline size_t ax_buf_len(const struct ax_buf *buf)
{
    return buf->end - buf->start;
}

static inline char *ax_buf_data(const struct ax_buf *buf)
{
    return buf->data + buf->start;
}

/* Makes room for at least `extra` more bytes at the end. 0 or -ENOMEM. */
int ax_buf_reserve(struct ax_buf *buf, size_t extra);

/* The free space at the end, to read() into directly; then ax_buf_commit the count. */
static inline char *ax_buf_space(const struct ax_buf *buf)
{
    return buf->data + buf->end;
}

static inline size_t ax_buf_space_len(const struct ax_buf *buf)
{
    return buf->cap - buf->end;
}

static inline void ax_buf_commit(struct ax_buf *buf, size_t n)
{
    buf->end += n;
}

/* Copies n bytes to the end. 0 or -ENOMEM. */
int ax_buf_append(struct ax_buf *buf, const void *bytes, size_t n);

/* Drops n bytes (at most ax_buf_len) from the front. */
void ax_buf_consume(struct ax_buf *buf, size_t n);

/* Empties the buffer but keeps its memory. */
void ax_buf_clear(struct ax_buf *buf);

#endif
