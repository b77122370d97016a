//@ 07
/* The GCRA rate limiter, plain and keyed; the rules are in ax/rate.h. */
#include "ax/rate.h"
#include "ax/task.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int rate_params(struct ax_rate *rate, double per_second, uint32_t burst)
{
    if (!(per_second > 0) || !isfinite(per_second))
        return -EINVAL;
    double interval = round(1e9 / per_second);
    rate->interval = interval < 1 ? 1 : interval > 1e18 ? (uint64_t)1e18 : (uint64_t)interval;
    rate->tolerance = (uint64_t)(burst > 0 ? burst - 1 : 0) * rate->interval;
    rate->tat = 0;
    return 0;
}

int ax_rate_init(struct ax_rate *rate, double per_second, uint32_t burst)
{
    int err = rate_params(rate, per_second, burst);
    if (err < 0)
        rate_params(rate, 1, burst); /* defined behaviour even for a caller who ignores it */
    return err;
}

// snippet rate-gcra
/* The GCRA step for one event at now, on a tat kept wherever the caller keeps it (0:
 * never used, the same as a tat that has passed). Returns the time the event is
 * allowed, >= now. With `reserve`, the event is counted even if that time is later
 * (a waiter's reservation); without, only if it is now. */
static uint64_t gcra(const struct ax_rate *rate, uint64_t *tat, uint64_t now, bool reserve)
{
    uint64_t base = *tat > now ? *tat : now; /* a tat in the past is a full bucket */
    uint64_t allowed = base - now > rate->tolerance ? base - rate->tolerance : now;
    if (allowed == now || reserve)
        *tat = base + rate->interval;
    return allowed;
}
// end snippet

int64_t ax_rate_check(struct ax_rate *rate, uint64_t now_ns)
{
    return (int64_t)(gcra(rate, &rate->tat, now_ns, false) - now_ns);
}

/* ---- the keyed limiter: an open-addressing table of tats ------------------------- */

struct entry {
    char *key; /* NULL: an empty slot */
    uint64_t hash;
    uint64_t tat;
};

struct ax_rate_keyed {
    struct ax_rate params; /* interval and tolerance, shared by every key */
    struct entry *slots;
    size_t capacity; /* a power of two; at most half the slots are used */
    size_t len;
};

enum { MIN_SLOTS = 8 };

static uint64_t hash_key(const char *key)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

/* The slot holding key, or the empty slot where it would go (linear probing). */
static struct entry *find(struct entry *slots, size_t capacity, const char *key, uint64_t hash)
{
    for (size_t i = hash & (capacity - 1);; i = (i + 1) & (capacity - 1)) {
        struct entry *e = &slots[i];
        if (e->key == NULL || (e->hash == hash && strcmp(e->key, key) == 0))
            return e;
    }
}

int ax_rate_keyed_new(struct ax_rate_keyed **out, double per_second, uint32_t burst)
{
    struct ax_rate_keyed *keyed = calloc(1, sizeof *keyed);
    if (keyed == NULL)
        return -ENOMEM;
    int err = rate_params(&keyed->params, per_second, burst);
    if (err == 0 && (keyed->slots = calloc(MIN_SLOTS, sizeof *keyed->slots)) == NULL)
        err = -ENOMEM;
    if (err < 0) {
        free(keyed);
        return err;
    }
    keyed->capacity = MIN_SLOTS;
    *out = keyed;
    return 0;
}

void ax_rate_keyed_free(struct ax_rate_keyed *keyed)
{
    if (keyed == NULL)
        return;
    for (size_t i = 0; i < keyed->capacity; i++)
        free(keyed->slots[i].key);
    free(keyed->slots);
    free(keyed);
}

size_t ax_rate_keyed_len(const struct ax_rate_keyed *keyed)
{
    return keyed->len;
}

/* Rebuilds the table without the keys whose tat has passed (they are as good as
 * unseen), sized so that a quarter of it is used: forgetting and growing in one pass,
 * paid for by the inserts until the table is half full again. */
static int rebuild(struct ax_rate_keyed *keyed, uint64_t now)
{
    size_t live = 0;
    for (size_t i = 0; i < keyed->capacity; i++)
        live += keyed->slots[i].key != NULL && keyed->slots[i].tat > now;
    size_t capacity = MIN_SLOTS;
    while (capacity < 4 * (live + 1))
        capacity *= 2;
    struct entry *slots = calloc(capacity, sizeof *slots);
    if (slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < keyed->capacity; i++) {
        struct entry *e = &keyed->slots[i];
        if (e->key == NULL)
            continue;
        if (e->tat > now)
            *find(slots, capacity, e->key, e->hash) = *e;
        else
            free(e->key);
    }
    free(keyed->slots);
    keyed->slots = slots;
    keyed->capacity = capacity;
    keyed->len = live;
    return 0;
}

/* The key's entry, added (with a copy of the key) if new; NULL when out of memory. */
static struct entry *entry_for(struct ax_rate_keyed *keyed, const char *key, uint64_t now)
{
    uint64_t hash = hash_key(key);
    struct entry *e = find(keyed->slots, keyed->capacity, key, hash);
    if (e->key != NULL)
        return e;
    if (2 * (keyed->len + 1) > keyed->capacity) {
        if (rebuild(keyed, now) < 0)
            return NULL;
        e = find(keyed->slots, keyed->capacity, key, hash);
    }
    char *copy = strdup(key);
    if (copy == NULL)
        return NULL;
    *e = (struct entry){.key = copy, .hash = hash, .tat = 0};
    keyed->len++;
    return e;
}

int64_t ax_rate_keyed_check(struct ax_rate_keyed *keyed, const char *key, uint64_t now_ns)
{
    struct entry *e = entry_for(keyed, key, now_ns);
    if (e == NULL)
        return -ENOMEM;
    return (int64_t)(gcra(&keyed->params, &e->tat, now_ns, false) - now_ns);
}

/* ---- waiting: reserve a turn, then sleep until it --------------------------------- */

/* The tat this wait's reservation lives in: the plain limiter's, or its key's entry
 * (looked up each time: a rebuild moves entries). */
static uint64_t *tat_of(struct ax_rate_wait *wait, uint64_t now, bool add)
{
    if (wait->rate != NULL)
        return &wait->rate->tat;
    struct entry *e =
        add ? entry_for(wait->keyed, wait->key, now)
            : find(wait->keyed->slots, wait->keyed->capacity, wait->key, hash_key(wait->key));
    return e == NULL || e->key == NULL ? NULL : &e->tat;
}

static const struct ax_rate *params_of(const struct ax_rate_wait *wait)
{
    return wait->rate != NULL ? wait->rate : &wait->keyed->params;
}

static ax_result rate_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_rate_wait *wait = (struct ax_rate_wait *)self;
    if (wait->done)
        return -EINVAL; /* polled after it finished */
    if (!wait->sleeping) {
        uint64_t now = ax_executor_now(cx->executor);
        uint64_t *tat = tat_of(wait, now, true);
        if (tat == NULL)
            return wait->done = true, -ENOMEM;
        uint64_t allowed = gcra(params_of(wait), tat, now, true);
        if (allowed == now)
            return wait->done = true, 0;
        wait->reserved_tat = *tat;
        wait->sleeping = true;
        ax_sleep_until_init(&wait->sleep, allowed);
    }
    ax_result rc = ax_poll(&wait->sleep.base, cx);
    if (rc == AX_PENDING)
        return rc;
    ax_future_drop(&wait->sleep.base);
    wait->sleeping = false;
    wait->reserved_tat = 0; /* used: nothing to give back */
    wait->done = true;
    return rc;
}

static void rate_wait_drop(struct ax_future *self)
{
    struct ax_rate_wait *wait = (struct ax_rate_wait *)self;
    if (!wait->sleeping)
        return;
    ax_future_drop(&wait->sleep.base);
    wait->sleeping = false;
    uint64_t *tat = tat_of(wait, 0, false);
    if (tat != NULL && *tat == wait->reserved_tat)
        *tat -= params_of(wait)->interval; /* the last reservation made: give it back */
    wait->reserved_tat = 0;
}

static const struct ax_future_ops rate_wait_ops = {.poll = rate_wait_poll, .drop = rate_wait_drop};

void ax_rate_wait_init(struct ax_rate_wait *wait, struct ax_rate *rate)
{
    *wait = (struct ax_rate_wait){.base = {&rate_wait_ops}, .rate = rate};
}

void ax_rate_keyed_wait_init(struct ax_rate_wait *wait, struct ax_rate_keyed *keyed,
                             const char *key)
{
    *wait = (struct ax_rate_wait){.base = {&rate_wait_ops}, .keyed = keyed, .key = key};
}
