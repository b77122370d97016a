//@ 07
/*
 * A bounded channel: many producers, many consumers, fixed-size values copied in and
 * out of a ring of `capacity` slots.
 *
 * The bound is the point. An unbounded queue between a fast producer and a slow
 * consumer grows until memory runs out; a bounded one makes the producer wait
 * (backpressure), so memory stays at capacity * value_size however the speeds differ.
 *
 * The rules, which the tests check:
 *  1. Send waits while the channel is full; receive waits while it is empty.
 *  2. Senders are served in the order they began to wait: a slot freed while senders
 *     wait is handed to the oldest one, and a new sender (try_send included) may not
 *     overtake a waiting one. Receivers are woken oldest first.
 *  3. Close: no new value gets in. Waiting senders, and sends begun later, fail with
 *     -EPIPE and the value stays the caller's. Receivers first drain what is buffered
 *     (and what holders of a slot, permits or senders already handed one, still send),
 *     then get AX_EOF.
 *  4. Cancel safety. A send copies the value only when it completes, so a send dropped
 *     while waiting loses nothing: the caller still holds the value. A sender dropped
 *     after a slot was handed to it gives the slot to the next sender. A receive
 *     dropped while waiting loses nothing either (no value is taken before it
 *     completes); if it had been woken, it passes the wake to the next receiver.
 *     Reserve-then-send is for a caller that must not give up its value on
 *     cancellation *and* must know it was sent: reserve a slot (the only wait), then
 *     send into it, which cannot fail or wait.
 *
 * Wakes are batched by construction: a receiver is woken only when it is parked (the
 * first value sent into an empty channel wakes it, and it then drains what arrived in
 * the meantime without further wakes), and a sender only when a slot frees while it is
 * parked. Between two tasks on one thread that is one switch per batch, not two per
 * value. A send or receive that completes at once counts against the task's
 * cooperative budget (chapter 04), so a task that never has to wait still yields every
 * AX_COOP_BUDGET values, and batches are at most that long.
 *
 * Ownership: the creator frees the channel with ax_chan_free once no future uses it.
 * One thread, as every primitive here.
 */
#ifndef AX_CHAN_H
#define AX_CHAN_H

#include "ax/future.h"
#include "ax/waitq.h"

#include <stdbool.h>
#include <stddef.h>

struct ax_chan; /* opaque: the ring is allocated with it */

/* A new channel of capacity >= 1 slots of value_size >= 1 bytes: 0, -EINVAL or -ENOMEM. */
int ax_chan_new(struct ax_chan **chan, size_t capacity, size_t value_size);
void ax_chan_free(struct ax_chan *chan);

/* Closes the channel (rule 3); closing twice does nothing. */
void ax_chan_close(struct ax_chan *chan);
bool ax_chan_closed(const struct ax_chan *chan);

/* Values buffered now, and the capacity. */
size_t ax_chan_len(const struct ax_chan *chan);
size_t ax_chan_capacity(const struct ax_chan *chan);

/* Without waiting: 0, -EAGAIN (full, or senders are waiting), or -EPIPE (closed; the
 * value was not taken). */
int ax_chan_try_send(struct ax_chan *chan, const void *value);

/* Without waiting: 0 (the value is in *out), -EAGAIN (empty), or AX_EOF (closed and
 * drained). */
int ax_chan_try_recv(struct ax_chan *chan, void *out);

/* A slot held for one value: filled by ax_chan_permit_send, or given back. */
struct ax_chan_permit {
    struct ax_chan *chan; /* NULL once used or given back */
};

/* Sends into the held slot: cannot fail and cannot wait, even after a close. */
void ax_chan_permit_send(struct ax_chan_permit *permit, const void *value);

/* Gives an unused slot back (to the next waiting sender); nothing if already used. */
void ax_chan_permit_release(struct ax_chan_permit *permit);

/* Without waiting: 0 (*permit holds a slot), -EAGAIN or -EPIPE, as try_send. */
int ax_chan_try_reserve(struct ax_chan *chan, struct ax_chan_permit *permit);

enum ax_chan_wait_state { AX_CHAN_START, AX_CHAN_WAITING, AX_CHAN_HANDED, AX_CHAN_DONE };

/* Waits for a slot: 0 (`permit` holds it, now the caller's to send into or give back),
 * or -EPIPE. Dropped before it finishes, it holds nothing. */
struct ax_chan_reserve {
    struct ax_future base;
    struct ax_chan *chan;
    struct ax_waiter waiter; /* in the channel's senders */
    unsigned char state; /* enum ax_chan_wait_state; HANDED: a slot is held for it */
    struct ax_chan_permit permit;
};

void ax_chan_reserve_init(struct ax_chan_reserve *reserve, struct ax_chan *chan);

/* Sends *value: 0, or -EPIPE (closed; the value was not taken). *value must stay valid
 * until the future finishes or is dropped; it is copied when the send completes. A
 * send is a reserve followed at once by a permit send. */
struct ax_chan_send {
    struct ax_future base;
    struct ax_chan_reserve reserve;
    const void *value;
};

void ax_chan_send_init(struct ax_chan_send *send, struct ax_chan *chan, const void *value);

/* Receives into *out: 0, or AX_EOF once the channel is closed and drained. */
struct ax_chan_recv {
    struct ax_future base;
    struct ax_chan *chan;
    void *out;
    struct ax_waiter waiter;
    unsigned char state; /* enum ax_chan_wait_state */
};

void ax_chan_recv_init(struct ax_chan_recv *recv, struct ax_chan *chan, void *out);

#endif
