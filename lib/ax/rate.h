//@ 07
/*
 * A rate limiter: at most N events per second, with bursts of up to B.
 *
 * It is GCRA, the generic cell rate algorithm: a token bucket kept as one number, the
 * theoretical arrival time (tat) of the next event if events came exactly every
 * T = 1/N seconds. An event at `now` is allowed when it is no earlier than
 * tat - (B - 1) * T, and then moves tat to max(tat, now) + T. So B events may come at
 * once, and after that one every T: the bucket refills continuously, without a timer.
 * A fresh limiter starts with tat = the first event's time, so the first burst is B
 * and never more (no credit is saved up before first use).
 *
 * Waiting reserves. A wait future computes, at its first poll, the time its event is
 * allowed and moves tat past it at once, then sleeps on the executor's timer wheel
 * (chapter 05) until then. Waiters are thus served in the order they asked, each
 * sleeps on one timer, and a wake never finds its turn taken. A wait dropped before
 * its time gives its reservation back when it was the last one made (tat moves back
 * by T); when a later waiter has reserved after it, its slot stays used: the limiter
 * then errs towards fewer events, never more.
 *
 * Times are ns on the executor's clock (ax_executor_now), so tests run on virtual
 * time; T is rounded to a whole ns.
 *
 * The keyed limiter keeps one GCRA state per key (a host name, for the crawler) in an
 * open-addressing hash table. A key whose tat has passed is in exactly the state of a
 * key never seen, so it can be forgotten without changing any answer: the table drops
 * such keys whenever it would grow, and its size follows the keys active within the
 * last burst window, not every key ever seen.
 */
#ifndef AX_RATE_H
#define AX_RATE_H

#include "ax/future.h"
#include "ax/timer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ax_rate {
    uint64_t interval; /* T, ns between events at the steady rate */
    uint64_t tolerance; /* (burst - 1) * T: how far ahead of now tat may run */
    uint64_t tat; /* 0: never used */
};

/* per_second > 0 and burst >= 1 (0 is taken as 1): 0, or -EINVAL for a rate that
 * cannot be (zero, negative, not a number), which leaves a limiter of one a second. */
int ax_rate_init(struct ax_rate *rate, double per_second, uint32_t burst);

/* Asks for one event at now_ns: 0 means allowed (and counted); > 0 is how many ns
 * until it would be (nothing is counted). */
int64_t ax_rate_check(struct ax_rate *rate, uint64_t now_ns);

struct ax_rate_keyed; /* opaque: the table */

/* 0, -EINVAL (a bad rate) or -ENOMEM. */
int ax_rate_keyed_new(struct ax_rate_keyed **keyed, double per_second, uint32_t burst);
void ax_rate_keyed_free(struct ax_rate_keyed *keyed);

/* ax_rate_check for one key (a copy of the string is kept): 0, ns to wait, or -ENOMEM. */
int64_t ax_rate_keyed_check(struct ax_rate_keyed *keyed, const char *key, uint64_t now_ns);

/* Keys held now (those not yet forgotten). */
size_t ax_rate_keyed_len(const struct ax_rate_keyed *keyed);

/* Finishes with 0 when its event is allowed (or -ENOMEM for a keyed wait that could
 * not add its key). */
struct ax_rate_wait {
    struct ax_future base;
    struct ax_rate *rate; /* NULL for a keyed wait */
    struct ax_rate_keyed *keyed;
    const char *key; /* the caller's string, valid until the wait finishes or is dropped */
    uint64_t reserved_tat; /* tat just after this wait's reservation; 0: none held */
    bool sleeping;
    bool done;
    struct ax_sleep sleep;
};

void ax_rate_wait_init(struct ax_rate_wait *wait, struct ax_rate *rate);
void ax_rate_keyed_wait_init(struct ax_rate_wait *wait, struct ax_rate_keyed *keyed,
                             const char *key);

#endif
