//@ 07
/*
 * The bounded channel; the rules are in ax/chan.h.
 *
 * Slots are counted three ways: `len` hold values, `held` are promised to a permit (or
 * to a sender a slot was handed to) and not yet filled, and the rest are free. The
 * invariant that makes senders FIFO: while a sender waits, no slot is free, because a
 * slot that frees is handed to the oldest waiting sender at once (slot_freed). So a new
 * sender finding a free slot never overtakes anyone, and one finding senders waiting
 * joins the end of the line even if a slot is about to free.
 */
#include "ax/chan.h"
#include "ax/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

// snippet chan-struct
struct ax_chan {
    size_t capacity, value_size;
    size_t head; /* the ring index of the oldest value */
    size_t len; /* values buffered */
    size_t held; /* slots promised and not yet filled */
    bool closed;
    struct ax_waitq senders; /* struct ax_chan_reserve, by waiter */
    struct ax_waitq receivers; /* struct ax_chan_recv, by waiter */
    unsigned char ring[]; /* capacity * value_size bytes */
};
// end snippet

int ax_chan_new(struct ax_chan **out, size_t capacity, size_t value_size)
{
    if (capacity == 0 || value_size == 0 || capacity > (SIZE_MAX - sizeof **out) / value_size)
        return -EINVAL;
    struct ax_chan *chan = malloc(sizeof *chan + capacity * value_size);
    if (chan == NULL)
        return -ENOMEM;
    *chan = (struct ax_chan){.capacity = capacity, .value_size = value_size};
    ax_waitq_init(&chan->senders);
    ax_waitq_init(&chan->receivers);
    *out = chan;
    return 0;
}

void ax_chan_free(struct ax_chan *chan)
{
    free(chan);
}

size_t ax_chan_len(const struct ax_chan *chan)
{
    return chan->len;
}

size_t ax_chan_capacity(const struct ax_chan *chan)
{
    return chan->capacity;
}

bool ax_chan_closed(const struct ax_chan *chan)
{
    return chan->closed;
}

void ax_chan_close(struct ax_chan *chan)
{
    if (chan->closed)
        return;
    chan->closed = true;
    ax_waitq_wake_all(&chan->senders); /* each fails with -EPIPE at its poll */
    ax_waitq_wake_all(&chan->receivers); /* each drains, or sees the end */
}

/* ---- slots ---------------------------------------------------------------------- */

static bool drained(const struct ax_chan *chan)
{
    return chan->closed && chan->len == 0 && chan->held == 0;
}

// snippet chan-slots
/* A slot came free: it goes to the oldest waiting sender, if any (FIFO). */
static void slot_freed(struct ax_chan *chan)
{
    struct ax_waiter *w = ax_waitq_front(&chan->senders);
    if (w != NULL) {
        ax_container_of(w, struct ax_chan_reserve, waiter)->state = AX_CHAN_HANDED;
        chan->held++;
        ax_waitq_wake_one(&chan->senders);
    } else if (drained(chan)) {
        ax_waitq_wake_all(&chan->receivers); /* the last promised slot went unused */
    }
}

/* A free slot for a new sender: none while others wait, so it cannot overtake them. */
static bool take_free_slot(struct ax_chan *chan)
{
    if (chan->closed || !ax_waitq_empty(&chan->senders) || chan->len + chan->held == chan->capacity)
        return false;
    chan->held++;
    return true;
}
// end snippet

/* memcpy with the common sizes spelled out: a copy of a known size compiles to one
 * move, where memcpy(.., .., value_size) is a call per message. */
static inline void copy_value(void *to, const void *from, size_t size)
{
    switch (size) {
    case 4:
        memcpy(to, from, 4);
        break;
    case 8:
        memcpy(to, from, 8);
        break;
    case 16:
        memcpy(to, from, 16);
        break;
    default:
        memcpy(to, from, size);
    }
}

// snippet chan-push
static void push_value(struct ax_chan *chan, const void *value)
{
    size_t tail = chan->head + chan->len;
    if (tail >= chan->capacity)
        tail -= chan->capacity;
    copy_value(chan->ring + tail * chan->value_size, value, chan->value_size);
    chan->len++;
    chan->held--;
    if (!ax_waitq_empty(&chan->receivers)) /* only a parked receiver needs a wake */
        ax_waitq_wake_one(&chan->receivers);
}
// end snippet

static void pop_value(struct ax_chan *chan, void *out)
{
    copy_value(out, chan->ring + chan->head * chan->value_size, chan->value_size);
    if (++chan->head == chan->capacity)
        chan->head = 0;
    chan->len--;
    slot_freed(chan);
}

/* ---- permits and the non-waiting calls ------------------------------------------- */

void ax_chan_permit_send(struct ax_chan_permit *permit, const void *value)
{
    if (permit->chan == NULL)
        return;
    push_value(permit->chan, value);
    permit->chan = NULL;
}

void ax_chan_permit_release(struct ax_chan_permit *permit)
{
    struct ax_chan *chan = permit->chan;
    if (chan == NULL)
        return;
    permit->chan = NULL;
    chan->held--;
    slot_freed(chan);
}

int ax_chan_try_reserve(struct ax_chan *chan, struct ax_chan_permit *permit)
{
    permit->chan = NULL;
    if (chan->closed)
        return -EPIPE;
    if (!take_free_slot(chan))
        return -EAGAIN;
    permit->chan = chan;
    return 0;
}

int ax_chan_try_send(struct ax_chan *chan, const void *value)
{
    struct ax_chan_permit permit;
    int err = ax_chan_try_reserve(chan, &permit);
    if (err == 0)
        ax_chan_permit_send(&permit, value);
    return err;
}

int ax_chan_try_recv(struct ax_chan *chan, void *out)
{
    if (chan->len > 0) {
        pop_value(chan, out);
        return 0;
    }
    return drained(chan) ? AX_EOF : -EAGAIN;
}

/* ---- reserve: the one wait a sender does ------------------------------------------ */

static ax_result reserve_done(struct ax_chan_reserve *r, ax_result result)
{
    ax_waitq_cancel(&r->waiter); /* the waker goes now, not at drop */
    r->state = AX_CHAN_DONE;
    if (result == 0)
        r->permit.chan = r->chan;
    return result;
}

static ax_result reserve_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_chan_reserve *r = (struct ax_chan_reserve *)self;
    struct ax_chan *chan = r->chan;
    switch (r->state) {
    case AX_CHAN_DONE:
        return -EINVAL; /* polled after it finished */
    case AX_CHAN_HANDED:
        return reserve_done(r, 0); /* the slot is held even if the channel closed since */
    default:
        break;
    }
    if (chan->closed)
        return reserve_done(r, -EPIPE);
    if (r->state == AX_CHAN_START && take_free_slot(chan)) {
        if (ax_coop_proceed(cx))
            return reserve_done(r, 0);
        chan->held--; /* out of budget: the task runs again after the others */
        return AX_PENDING;
    }
    ax_waitq_park(&chan->senders, &r->waiter, cx);
    r->state = AX_CHAN_WAITING;
    return AX_PENDING;
}

// snippet chan-reserve-drop
static void reserve_drop(struct ax_future *self)
{
    struct ax_chan_reserve *r = (struct ax_chan_reserve *)self;
    ax_waitq_cancel(&r->waiter); /* waiting: it leaves the line, losing nothing */
    if (r->state == AX_CHAN_HANDED) { /* a slot was handed to it: the next sender's now */
        r->chan->held--;
        slot_freed(r->chan);
    }
    r->state = AX_CHAN_DONE; /* a finished reserve's permit is the caller's */
}
// end snippet

static const struct ax_future_ops reserve_ops = {.poll = reserve_poll, .drop = reserve_drop};

void ax_chan_reserve_init(struct ax_chan_reserve *r, struct ax_chan *chan)
{
    r->base.ops = &reserve_ops; /* field by field: a send begins with this, per message */
    r->chan = chan;
    ax_waiter_init(&r->waiter);
    r->state = AX_CHAN_START;
    r->permit.chan = NULL;
}

/* ---- send: reserve, then fill the slot at once ------------------------------------ */

static ax_result send_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_chan_send *send = (struct ax_chan_send *)self;
    ax_result rc = reserve_poll(&send->reserve.base, cx);
    if (rc == 0)
        ax_chan_permit_send(&send->reserve.permit, send->value); /* the copy, only now */
    return rc;
}

static void send_drop(struct ax_future *self)
{
    reserve_drop(&((struct ax_chan_send *)self)->reserve.base);
}

static const struct ax_future_ops send_ops = {.poll = send_poll, .drop = send_drop};

void ax_chan_send_init(struct ax_chan_send *send, struct ax_chan *chan, const void *value)
{
    send->base.ops = &send_ops;
    ax_chan_reserve_init(&send->reserve, chan);
    send->value = value;
}

/* ---- receive ---------------------------------------------------------------------- */

static ax_result recv_done(struct ax_chan_recv *recv, ax_result result)
{
    ax_waitq_cancel(&recv->waiter);
    recv->state = AX_CHAN_DONE;
    return result;
}

static ax_result recv_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_chan_recv *recv = (struct ax_chan_recv *)self;
    struct ax_chan *chan = recv->chan;
    if (recv->state == AX_CHAN_DONE)
        return -EINVAL;
    if (chan->len > 0) {
        if (!ax_coop_proceed(cx))
            return AX_PENDING; /* woken again already, after the other tasks */
        pop_value(chan, recv->out);
        return recv_done(recv, 0);
    }
    if (drained(chan))
        return recv_done(recv, AX_EOF);
    if (recv->waiter.woken) /* woken, and the value went to a receiver that had not waited */
        ax_waitq_park_front(&chan->receivers, &recv->waiter, cx);
    else
        ax_waitq_park(&chan->receivers, &recv->waiter, cx);
    recv->state = AX_CHAN_WAITING;
    return AX_PENDING;
}

// snippet chan-recv-drop
static void recv_drop(struct ax_future *self)
{
    struct ax_chan_recv *recv = (struct ax_chan_recv *)self;
    if (ax_waitq_cancel(&recv->waiter) && recv->chan->len > 0)
        ax_waitq_wake_one(&recv->chan->receivers); /* its wake was for a value still there */
    recv->state = AX_CHAN_DONE;
}
// end snippet

static const struct ax_future_ops recv_ops = {.poll = recv_poll, .drop = recv_drop};

void ax_chan_recv_init(struct ax_chan_recv *recv, struct ax_chan *chan, void *out)
{
    recv->base.ops = &recv_ops;
    recv->chan = chan;
    recv->out = out;
    ax_waiter_init(&recv->waiter);
    recv->state = AX_CHAN_START;
}
