//@ 01
/* The growable byte buffer; see ax/buf.h for its layout. */
#include "ax/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { AX_BUF_MIN_CAP = 256 };

void ax_buf_init(struct ax_buf *buf)
{
    *buf = (struct ax_buf)AX_BUF_INIT;
}

void ax_buf_free(struct ax_buf *buf)
{
    free(buf->data);
    ax_buf_init(buf);
}

int ax_buf_reserve(struct ax_buf *buf, size_t extra)
{
    size_t len = ax_buf_len(buf);
    if (buf->cap - buf->end >= extra)
        return 0;
    if (extra > SIZE_MAX - len)
        return -ENOMEM;
    size_t need = len + extra;

    /* Moving the unread bytes down is cheaper than growing, when it is enough. */
    if (need <= buf->cap) {
        memmove(buf->data, buf->data + buf->start, len);
        buf->start = 0;
        buf->end = len;
        return 0;
    }

    size_t cap = buf->cap ? buf->cap : AX_BUF_MIN_CAP;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    char *data = malloc(cap);
    if (data == NULL)
        return -ENOMEM;
    if (len > 0)
        memcpy(data, buf->data + buf->start, len);
    free(buf->data);
    buf->data = data;
    buf->start = 0;
    buf->end = len;
    buf->cap = cap;
    return 0;
}

int ax_buf_append(struct ax_buf *buf, const void *bytes, size_t n)
{
    if (n == 0)
        return 0;
    int err = ax_buf_reserve(buf, n);
    if (err < 0)
        return err;
    memcpy(buf->data + buf->end, bytes, n);
    buf->end += n;
    return 0;
}

void ax_buf_consume(struct ax_buf *buf, size_t n)
{
    size_t len = ax_buf_len(buf);
    if (n >= len) {
        ax_buf_clear(buf);
        return;
    }
    buf->start += n;
}

void ax_buf_clear(struct ax_buf *buf)
{
    buf->start = 0;
    buf->end = 0;
}
