/*
 * Exercise 07-challenge-priority-channel: a bounded channel with two classes of values,
 * and room kept for the urgent one.
 *
 * One bounded queue in front of a slow worker makes every producer wait its turn. That
 * is the point of the bound, until the value waiting is a different kind of value: a
 * cancel, a health check, a "shut down now", stuck behind ten thousand bulk requests
 * that filled the queue. Two remedies, found together in message brokers, HTTP/2
 * schedulers and kernels' network queues, are what this channel does:
 *
 *   priority      a receiver takes the oldest high value before any low one;
 *   reservation   low values may fill only capacity - reserved slots; the last
 *                 `reserved` slots are for high values alone, so however full of low
 *                 traffic the channel is, a high value gets in at once (while fewer
 *                 than `reserved` high values are queued).
 *
 * Backpressure stays: a sender whose class has no room waits. Waiting senders are
 * served by hand-off, as ax_chan does: a receive that frees a slot puts the value of
 * the oldest waiting sender that fits into the channel there and then (a high one
 * first, then a low one if low values have room) and wakes that sender to finish with
 * 0. A slot is therefore never free while a sender of a class that fits waits, and a
 * new sender can never overtake the waiting ones of its class.
 *
 * The rules:
 *  1. Room: a high value fits while the channel holds fewer than `capacity` values, a
 *     low one while it holds fewer than `capacity - reserved`.
 *  2. A receive takes the oldest high value, else the oldest low one, and says which
 *     class it was.
 *  3. A sender waits while its value does not fit (or senders of its class wait); slots
 *     freed go to waiting senders as above, oldest first within a class. A low sender
 *     may wait for as long as high ones keep coming: that is what priority means.
 *  4. Receivers wait while the channel is empty. A value sent while receivers wait wakes
 *     one of them. A receive woken and dropped before it took a value passes the wake on
 *     to the next receiver (the lost wakeup of ax/waitq.h, rule 3).
 *  5. Close: no value gets in any more; waiting senders, and sends begun later, finish
 *     with -EPIPE, their values not taken. Receivers take what is queued, then AX_EOF.
 *  6. A send dropped while it waits sends nothing. A send dropped after a slot was
 *     handed to it has sent its value: `sent` tells which (as the send's result would).
 *     A receive dropped while it waits takes nothing.
 * One thread, as every primitive of chapter 07.
 */
#ifndef PRIO_CHAN_H
#define PRIO_CHAN_H

#include "ax/future.h"
#include "ax/waitq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum prio { PRIO_HIGH, PRIO_LOW, PRIO_CLASSES };

/* A ring of `cap` values: one per class, each large enough for the whole channel. */
struct prio_ring {
    uint64_t *values;
    size_t head, len;
};

struct prio_chan {
    size_t capacity, reserved;
    struct prio_ring ring[PRIO_CLASSES];
    bool closed;
    struct ax_waitq senders[PRIO_CLASSES]; /* struct prio_chan_send, by waiter */
    struct ax_waitq receivers; /* struct prio_chan_recv, by waiter */
};

/* 0; -EINVAL when capacity is 0 or reserved >= capacity; -ENOMEM. */
int prio_chan_init(struct prio_chan *c, size_t capacity, size_t reserved);
/* Frees the rings; no future may use the channel any more. */
void prio_chan_destroy(struct prio_chan *c);

void prio_chan_close(struct prio_chan *c);

/* Values of one class queued now. */
size_t prio_chan_len(const struct prio_chan *c, enum prio prio);

/* Without waiting: 0, -EAGAIN (no room for the class, or senders of it wait), -EPIPE. */
int prio_chan_try_send(struct prio_chan *c, enum prio prio, uint64_t value);

/* Without waiting: 0 (the value in *value, its class in *prio), -EAGAIN (empty), or
 * AX_EOF (closed and drained). prio may be NULL. */
int prio_chan_try_recv(struct prio_chan *c, uint64_t *value, enum prio *prio);

/* Sends value: 0, or -EPIPE (closed; not sent). */
struct prio_chan_send {
    struct ax_future base;
    struct prio_chan *chan;
    enum prio prio;
    uint64_t value;
    struct ax_waiter waiter;
    bool sent; /* the value is in the channel: put there by this poll or by a hand-off */
};

void prio_chan_send_init(struct prio_chan_send *send, struct prio_chan *c, enum prio prio,
                         uint64_t value);

/* Receives into *out, and its class into *prio (when not NULL): 0, or AX_EOF. */
struct prio_chan_recv {
    struct ax_future base;
    struct prio_chan *chan;
    uint64_t *out;
    enum prio *prio;
    struct ax_waiter waiter;
};

void prio_chan_recv_init(struct prio_chan_recv *recv, struct prio_chan *c, uint64_t *out,
                         enum prio *prio);

#endif
