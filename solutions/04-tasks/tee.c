/* Challenge 04-challenge-tee: a reference solution.
 *
 * The stream passes through a ring of TEE_MAX_BUFFERED bytes. Each byte has an offset
 * in the stream and lives at ring[offset % TEE_MAX_BUFFERED]; `end` is how much has
 * been read, and each sink's `pos` is how much has been written to it. The ring holds
 * the bytes from the smallest pos of a sink still in the tee up to `end`, so the room
 * for reading is the ring's size minus that span: the slowest sink alone decides when
 * reading stops, and every other sink writes on from its own pos. A write future sends
 * one contiguous piece of the ring, and the bytes under it cannot be overwritten while
 * it runs, because that sink's pos stays at the piece's start until it finishes.
 *
 * One read future on `from` and one write future per sink live in the state, and one
 * poll polls all of them with the same context, as join_all does: any of their wakes
 * brings the task back. The poll loops while something moves, and returns pending
 * only when every future that could move has parked the task. */
#include "tee.h"

#include "ax/error.h"
#include "ax/io.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

struct sink {
    struct ax_source *source;
    uint64_t pos; /* stream offset of the next byte to write to it */
    size_t piece; /* bytes under the write in flight */
    bool writing;
    bool gone; /* left the tee after a failure */
    bool shut; /* shut down for writing after the end */
    struct ax_write_future write;
};

struct tee_state {
    struct ax_source *from;
    uint64_t end; /* bytes read from `from` */
    bool reading;
    bool ended;
    bool finished;
    size_t live; /* sinks still in the tee */
    ax_result last_error;
    struct ax_read_future read;
    char ring[TEE_MAX_BUFFERED];
    size_t n;
    struct sink sinks[];
};

/* The stream offset of the oldest byte some sink still needs. */
static uint64_t oldest(const struct tee_state *t)
{
    uint64_t low = t->end;
    for (size_t i = 0; i < t->n; i++)
        if (!t->sinks[i].gone && t->sinks[i].pos < low)
            low = t->sinks[i].pos;
    return low;
}

static void leave(struct tee_state *t, struct sink *s, ax_result err)
{
    s->gone = true;
    t->live--;
    t->last_error = err;
}

/* Starts or goes on with sink s's write; true if it moved. */
static bool pump_sink(struct tee_state *t, struct sink *s, struct ax_context *cx)
{
    if (s->gone)
        return false;
    if (!s->writing && s->pos < t->end) {
        size_t at = (size_t)(s->pos % TEE_MAX_BUFFERED);
        uint64_t left = t->end - s->pos;
        s->piece = left < TEE_MAX_BUFFERED - at ? (size_t)left : TEE_MAX_BUFFERED - at;
        ax_write_future_init(&s->write, s->source, t->ring + at, s->piece);
        s->writing = true;
    }
    if (s->writing) {
        ax_result rc = ax_poll(&s->write.base, cx);
        if (rc == AX_PENDING)
            return false;
        ax_future_drop(&s->write.base);
        s->writing = false;
        if (rc < 0)
            leave(t, s, rc);
        else
            s->pos += s->piece;
        return true;
    }
    if (t->ended && s->pos == t->end && !s->shut) { /* every byte is out: pass the end on */
        s->shut = true;
        if (shutdown(ax_source_fd(s->source), SHUT_WR) < 0)
            leave(t, s, ax__errno());
        return true;
    }
    return false;
}

/* Starts or goes on with the read, if the ring has room. The count read, 0 when
 * nothing moved (or at the end, which sets ended), or -errno. */
static ax_result pump_source(struct tee_state *t, struct ax_context *cx, bool *moved)
{
    if (t->ended)
        return 0;
    if (!t->reading) {
        uint64_t room = TEE_MAX_BUFFERED - (t->end - oldest(t));
        if (room == 0)
            return 0; /* a whole window ahead of the slowest sink: wait for it */
        size_t at = (size_t)(t->end % TEE_MAX_BUFFERED);
        size_t len = room < TEE_MAX_BUFFERED - at ? (size_t)room : TEE_MAX_BUFFERED - at;
        ax_read_future_init(&t->read, t->from, t->ring + at, len);
        t->reading = true;
    }
    ax_result rc = ax_poll(&t->read.base, cx);
    if (rc == AX_PENDING)
        return 0;
    ax_future_drop(&t->read.base);
    t->reading = false;
    *moved = true;
    if (rc == 0)
        t->ended = true;
    else if (rc > 0)
        t->end += (uint64_t)rc;
    return rc < 0 ? rc : 0;
}

static ax_result finish(struct tee_state *t, ax_result result)
{
    t->finished = true;
    return result;
}

static ax_result tee_poll(struct ax_future *self, struct ax_context *cx)
{
    struct tee_state *t = ((struct tee *)self)->state;
    if (t->finished)
        return -EINVAL; /* polled after it finished: rule 2 of ax/future.h */
    for (;;) {
        bool moved = false;
        for (size_t i = 0; i < t->n; i++)
            moved |= pump_sink(t, &t->sinks[i], cx);
        if (t->live == 0)
            return finish(t, t->last_error); /* nobody left to copy to */
        ax_result err = pump_source(t, cx, &moved);
        if (err < 0)
            return finish(t, err);
        bool all_shut = t->ended;
        for (size_t i = 0; i < t->n; i++)
            all_shut &= t->sinks[i].gone || t->sinks[i].shut;
        if (all_shut)
            return finish(t, (ax_result)t->end);
        if (!moved)
            return AX_PENDING; /* every future that could move has parked the task */
    }
}

static void tee_drop(struct ax_future *self)
{
    struct tee *tee = (struct tee *)self;
    struct tee_state *t = tee->state;
    if (t == NULL)
        return;
    if (t->reading)
        ax_future_drop(&t->read.base);
    for (size_t i = 0; i < t->n; i++)
        if (t->sinks[i].writing)
            ax_future_drop(&t->sinks[i].write.base);
    free(t);
    tee->state = NULL;
}

static const struct ax_future_ops tee_ops = {.poll = tee_poll, .drop = tee_drop};

int tee_init(struct tee *tee, struct ax_source *from, struct ax_source *const to[], size_t n)
{
    *tee = (struct tee){.base = {&tee_ops}};
    if (n == 0 || n > TEE_MAX_SINKS)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (to[i] == from)
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (to[j] == to[i])
                return -EINVAL; /* two writers on one source would get -EBUSY */
    }
    struct tee_state *t = calloc(1, sizeof *t + n * sizeof t->sinks[0]);
    if (t == NULL)
        return -ENOMEM;
    t->from = from;
    t->n = n;
    t->live = n;
    for (size_t i = 0; i < n; i++)
        t->sinks[i].source = to[i];
    tee->state = t;
    return 0;
}
