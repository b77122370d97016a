/* Challenge 06-challenge-cancel-safe-frames: a reference solution.
 *
 * Everything a frame needs between two polls lives in the connection's state, never in a
 * future: the bytes read and not yet handed out, and the unsent tail of the frame being
 * written. A future only moves bytes between the socket and that state, and each step it
 * takes is complete when it returns (a recv's bytes are committed to `in`, a send's are
 * consumed from `outbox`), so there is no moment at which a drop can lose anything.
 *
 * Invariant: the outbox holds the tail of at most one frame. A write adds its frame only
 * to an empty outbox, so two frames can never interleave.
 */
#include "framed.h"

#include "ax/buf.h"
#include "ax/error.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { READ_CHUNK = 16 * 1024 };

struct framed_state {
    struct ax_buf in; /* read and not yet handed out: the frame under way, and maybe more */
    struct ax_buf outbox; /* the unsent tail of the frame being written */
    ax_result broken; /* -EMSGSIZE once an oversize header was read: out of step for good */
};

static struct framed_state *state(const struct framed *fr)
{
    return fr->state;
}

int framed_init(struct framed *fr, struct ax_source *source, size_t max_frame)
{
    *fr = (struct framed){.source = source, .max_frame = max_frame};
    if (source == NULL || max_frame == 0 || max_frame > UINT32_MAX)
        return -EINVAL;
    struct framed_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return -ENOMEM;
    ax_buf_init(&st->in);
    ax_buf_init(&st->outbox);
    fr->state = st;
    return 0;
}

void framed_free(struct framed *fr)
{
    struct framed_state *st = state(fr);
    if (st != NULL) {
        ax_buf_free(&st->in);
        ax_buf_free(&st->outbox);
        free(st);
    }
    fr->state = NULL;
}

size_t framed_unsent(const struct framed *fr)
{
    return state(fr) != NULL ? ax_buf_len(&state(fr)->outbox) : 0;
}

/* ---- reading ---------------------------------------------------------------------------- */

static uint32_t decode_length(const char *header)
{
    const unsigned char *h = (const unsigned char *)header;
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* How many buffered bytes the frame at the front of `in` needs in all: its header first,
 * then its header and payload. */
static size_t frame_bytes(const struct framed_state *st)
{
    if (ax_buf_len(&st->in) < FRAMED_HEADER)
        return FRAMED_HEADER;
    return FRAMED_HEADER + (size_t)decode_length(ax_buf_data(&st->in));
}

static ax_result framed_read_poll(struct ax_future *self, struct ax_context *cx)
{
    struct framed_read *r = (struct framed_read *)self;
    struct framed *fr = r->framed;
    struct framed_state *st = state(fr);
    if (r->cap < fr->max_frame)
        return -EINVAL;
    for (;;) {
        if (st->broken < 0)
            return st->broken;
        size_t in = ax_buf_len(&st->in);
        if (in >= FRAMED_HEADER && decode_length(ax_buf_data(&st->in)) > fr->max_frame)
            return st->broken = -EMSGSIZE;
        size_t need = frame_bytes(st);
        if (in >= need) {
            size_t len = need - FRAMED_HEADER;
            memcpy(r->buf, ax_buf_data(&st->in) + FRAMED_HEADER, len);
            ax_buf_consume(&st->in, need);
            return (ax_result)len;
        }
        ax_result ready = ax_source_poll_ready(&r->waiter, AX_READABLE, cx);
        if (ready != 0)
            return ready;
        /* Reading past this frame is harmless: whatever comes stays in `in`. */
        size_t want = need - in > READ_CHUNK ? need - in : READ_CHUNK;
        if (ax_buf_reserve(&st->in, want) < 0)
            return -ENOMEM;
        ssize_t n = ax_recv(ax_source_fd(fr->source), ax_buf_space(&st->in), want);
        if (n == -EAGAIN) {
            ax_source_clear_ready(fr->source, AX_READABLE);
            continue;
        }
        if (n < 0)
            return n;
        if (n == 0)
            return in == 0 ? AX_EOF : -ECONNRESET; /* a frame cut short is no clean end */
        ax_buf_commit(&st->in, (size_t)n);
    }
}

static void framed_read_drop(struct ax_future *self)
{
    ax_source_waiter_drop(&((struct framed_read *)self)->waiter);
}

static const struct ax_future_ops framed_read_ops = {.poll = framed_read_poll,
                                                     .drop = framed_read_drop};

void framed_read_init(struct framed_read *r, struct framed *fr, char *buf, size_t cap)
{
    *r = (struct framed_read){.base = {&framed_read_ops}, .framed = fr, .buf = buf, .cap = cap};
    ax_source_waiter_init(&r->waiter, fr->source);
}

/* ---- writing ---------------------------------------------------------------------------- */

/* Sends from the outbox until it is empty: 0, AX_PENDING, or the socket's error. What
 * was sent is consumed at once, so a drop between two polls keeps only what is unsent. */
static ax_result drain_outbox(struct framed_write *w, struct ax_context *cx)
{
    struct ax_source *source = w->framed->source;
    for (;;) {
        struct ax_buf *outbox = &state(w->framed)->outbox;
        if (ax_buf_len(outbox) == 0)
            return 0;
        ax_result ready = ax_source_poll_ready(&w->waiter, AX_WRITABLE, cx);
        if (ready != 0)
            return ready;
        int rc = ax_flush(ax_source_fd(source), outbox);
        if (rc == -EAGAIN)
            ax_source_clear_ready(source, AX_WRITABLE);
        else if (rc < 0)
            return rc;
    }
}

static ax_result framed_write_poll(struct ax_future *self, struct ax_context *cx)
{
    struct framed_write *w = (struct framed_write *)self;
    struct framed_state *st = state(w->framed);
    if (!w->flush && !w->started) {
        if (w->len > w->framed->max_frame)
            return -EMSGSIZE;
        /* An earlier frame's tail goes first, whole, before this frame begins. */
        ax_result rc = drain_outbox(w, cx);
        if (rc != 0)
            return rc;
        unsigned char header[FRAMED_HEADER] = {w->len >> 24, w->len >> 16, w->len >> 8, w->len};
        if (ax_buf_reserve(&st->outbox, FRAMED_HEADER + w->len) < 0)
            return -ENOMEM;
        ax_buf_append(&st->outbox, header, sizeof header); /* room was reserved above */
        if (w->len > 0)
            ax_buf_append(&st->outbox, w->payload, w->len);
        w->started = true; /* from here on the frame is the connection's to finish */
    }
    return drain_outbox(w, cx);
}

static void framed_write_drop(struct ax_future *self)
{
    ax_source_waiter_drop(&((struct framed_write *)self)->waiter);
}

static const struct ax_future_ops framed_write_ops = {.poll = framed_write_poll,
                                                      .drop = framed_write_drop};

void framed_write_init(struct framed_write *w, struct framed *fr, const void *payload, size_t len)
{
    *w = (struct framed_write){
        .base = {&framed_write_ops}, .framed = fr, .payload = payload, .len = len};
    ax_source_waiter_init(&w->waiter, fr->source);
}

void framed_flush_init(struct framed_write *w, struct framed *fr)
{
    framed_write_init(w, fr, NULL, 0);
    w->flush = true;
}
