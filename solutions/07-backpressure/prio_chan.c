/* Exercise 07-challenge-priority-channel: a reference solution. */
#include "prio_chan.h"

#include "ax/error.h"

#include <errno.h>
#include <stdlib.h>

/* ---- the rings ----------------------------------------------------------------------- */

static void ring_push(struct prio_ring *r, size_t cap, uint64_t value)
{
    r->values[(r->head + r->len) % cap] = value;
    r->len++;
}

static uint64_t ring_pop(struct prio_ring *r, size_t cap)
{
    uint64_t value = r->values[r->head];
    r->head = (r->head + 1) % cap;
    r->len--;
    return value;
}

int prio_chan_init(struct prio_chan *c, size_t capacity, size_t reserved)
{
    if (capacity == 0 || reserved >= capacity)
        return -EINVAL;
    *c = (struct prio_chan){.capacity = capacity, .reserved = reserved};
    for (int p = 0; p < PRIO_CLASSES; p++) {
        c->ring[p].values = calloc(capacity, sizeof(uint64_t));
        if (c->ring[p].values == NULL) {
            prio_chan_destroy(c);
            return -ENOMEM;
        }
        ax_waitq_init(&c->senders[p]);
    }
    ax_waitq_init(&c->receivers);
    return 0;
}

void prio_chan_destroy(struct prio_chan *c)
{
    for (int p = 0; p < PRIO_CLASSES; p++) {
        free(c->ring[p].values);
        c->ring[p].values = NULL;
    }
}

size_t prio_chan_len(const struct prio_chan *c, enum prio prio)
{
    return c->ring[prio].len;
}

/* ---- the channel --------------------------------------------------------------------- */

/* Rule 1. */
static bool fits(const struct prio_chan *c, enum prio prio)
{
    size_t total = c->ring[PRIO_HIGH].len + c->ring[PRIO_LOW].len;
    return total < (prio == PRIO_HIGH ? c->capacity : c->capacity - c->reserved);
}

/* Puts a value in and tells a waiting receiver (rule 4). */
static void push(struct prio_chan *c, enum prio prio, uint64_t value)
{
    ring_push(&c->ring[prio], c->capacity, value);
    ax_waitq_wake_one(&c->receivers);
}

/* Hands the slots that are free to the senders waiting for them, high ones first
 * (rule 3): each value goes in now, and its sender is woken to finish. */
static void hand_off(struct prio_chan *c)
{
    for (;;) {
        enum prio prio = PRIO_HIGH;
        struct ax_waiter *w = ax_waitq_front(&c->senders[PRIO_HIGH]);
        if (w == NULL || !fits(c, PRIO_HIGH)) {
            prio = PRIO_LOW;
            w = ax_waitq_front(&c->senders[PRIO_LOW]);
            if (w == NULL || !fits(c, PRIO_LOW))
                return;
        }
        struct prio_chan_send *send = ax_container_of(w, struct prio_chan_send, waiter);
        push(c, prio, send->value);
        send->sent = true;
        ax_waitq_wake_one(&c->senders[prio]); /* the front: this very sender */
    }
}

void prio_chan_close(struct prio_chan *c)
{
    c->closed = true;
    for (int p = 0; p < PRIO_CLASSES; p++)
        ax_waitq_wake_all(&c->senders[p]);
    ax_waitq_wake_all(&c->receivers);
}

int prio_chan_try_send(struct prio_chan *c, enum prio prio, uint64_t value)
{
    if (c->closed)
        return -EPIPE;
    if (!ax_waitq_empty(&c->senders[prio]) || !fits(c, prio))
        return -EAGAIN;
    push(c, prio, value);
    return 0;
}

int prio_chan_try_recv(struct prio_chan *c, uint64_t *value, enum prio *prio)
{
    enum prio from = c->ring[PRIO_HIGH].len > 0 ? PRIO_HIGH : PRIO_LOW;
    if (c->ring[from].len == 0)
        return c->closed ? AX_EOF : -EAGAIN;
    *value = ring_pop(&c->ring[from], c->capacity);
    if (prio != NULL)
        *prio = from;
    hand_off(c);
    return 0;
}

/* ---- sending ------------------------------------------------------------------------- */

static ax_result send_poll(struct ax_future *self, struct ax_context *cx)
{
    struct prio_chan_send *s = (struct prio_chan_send *)self;
    struct prio_chan *c = s->chan;
    if (!s->sent && !ax_waiter_parked(&s->waiter)) {
        int rc = prio_chan_try_send(c, s->prio, s->value);
        s->sent = rc == 0;
        if (rc != -EAGAIN && rc != 0)
            return rc;
    }
    if (s->sent) {
        ax_waitq_cancel(&s->waiter); /* off the queue already; drops the waker */
        return 0;
    }
    if (c->closed) {
        ax_waitq_cancel(&s->waiter);
        return -EPIPE;
    }
    ax_waitq_park(&c->senders[s->prio], &s->waiter, cx); /* keeps its place if parked */
    return AX_PENDING;
}

static void send_drop(struct ax_future *self)
{
    /* Waiting, it leaves the line; no slot is free while it waits, so there is none to
     * pass on. Handed a slot, its value is in: nothing to undo (rule 6). */
    ax_waitq_cancel(&((struct prio_chan_send *)self)->waiter);
}

static const struct ax_future_ops send_ops = {.poll = send_poll, .drop = send_drop};

void prio_chan_send_init(struct prio_chan_send *send, struct prio_chan *c, enum prio prio,
                         uint64_t value)
{
    *send = (struct prio_chan_send){.base = {&send_ops}, .chan = c, .prio = prio, .value = value};
    ax_waiter_init(&send->waiter);
}

/* ---- receiving ----------------------------------------------------------------------- */

static ax_result recv_poll(struct ax_future *self, struct ax_context *cx)
{
    struct prio_chan_recv *r = (struct prio_chan_recv *)self;
    int rc = prio_chan_try_recv(r->chan, r->out, r->prio);
    if (rc != -EAGAIN) {
        ax_waitq_cancel(&r->waiter);
        return rc;
    }
    ax_waitq_park(&r->chan->receivers, &r->waiter, cx);
    return AX_PENDING;
}

static void recv_drop(struct ax_future *self)
{
    struct prio_chan_recv *r = (struct prio_chan_recv *)self;
    struct prio_chan *c = r->chan;
    bool woken = ax_waitq_cancel(&r->waiter);
    if (woken && (c->ring[PRIO_HIGH].len > 0 || c->ring[PRIO_LOW].len > 0))
        ax_waitq_wake_one(&c->receivers); /* rule 4: the wake was for a value still there */
}

static const struct ax_future_ops recv_ops = {.poll = recv_poll, .drop = recv_drop};

void prio_chan_recv_init(struct prio_chan_recv *recv, struct prio_chan *c, uint64_t *out,
                         enum prio *prio)
{
    *recv = (struct prio_chan_recv){.base = {&recv_ops}, .chan = c, .out = out, .prio = prio};
    ax_waiter_init(&recv->waiter);
}
