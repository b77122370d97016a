/*
 * Exercise 05-retry-backoff: try again, a little later each time, at a random moment.
 *
 * Many failures go away on their own: a connect refused while a server restarts, a
 * request that timed out on a busy link. Trying again is right; when matters. Retrying
 * at once hammers a server that is already struggling. Waiting a fixed time makes every
 * client that failed together come back together, and fail together again. Exponential
 * backoff doubles the wait after each failure, up to a cap; full jitter then waits a
 * random time between zero and that bound, which spreads the clients out over the whole
 * window (Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 *
 * A retry is a future that runs attempts one at a time. A future that has finished
 * cannot be polled again, so each attempt is a fresh future, made by the caller's
 * factory when it is due. The random waits come from a generator seeded by the caller:
 * the same seed gives the same waits, which is what lets a test check the schedule.
 */
#ifndef RETRY_H
#define RETRY_H

#include "ax/future.h"
#include "ax/timer.h"

#include <stdbool.h>
#include <stdint.h>

/* Makes attempt number `attempt` (0 for the first): initialises a fresh future and
 * returns it, or returns NULL when it cannot. The memory is the factory's; the retry
 * owns the future from here on and drops it before it asks for the next one. */
typedef struct ax_future *(*retry_make_fn)(void *ctx, unsigned attempt);

/* Whether an attempt that failed with err (< 0) is worth another try. */
typedef bool (*retry_retryable_fn)(ax_result err);

struct retry_policy {
    unsigned max_attempts; /* attempts in all, the first included */
    uint64_t base_ns; /* the bound on the first wait */
    uint64_t cap_ns; /* the bound on every wait; below UINT64_MAX */
    uint64_t seed; /* the generator's first state; 0 is taken as 1 */
    retry_retryable_fn retryable; /* NULL: every error is retried */
};

/* The generator: xorshift64 (George Marsaglia, "Xorshift RNGs", 2003). It steps the
 * state, which is never 0, and returns the new one. */
static inline uint64_t retry_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* The bound on the wait after attempt k failed (k = 0 for the first attempt):
 * min(cap_ns, base_ns * 2^k), with no overflow for any k. */
uint64_t retry_bound(const struct retry_policy *policy, unsigned k);

struct retry {
    struct ax_future base;
    retry_make_fn make;
    void *ctx;
    struct retry_policy policy;
    uint64_t random; /* the generator's state */
    unsigned made; /* attempts made so far */
    struct ax_future *attempt; /* the attempt under way, or NULL */
    bool waiting; /* `wait` is armed: the next attempt comes when it ends */
    struct ax_sleep wait;
    bool done; /* finished: nothing is left to drop */
};

/*
 * Prepares a retry of the attempts `make` makes, under `policy`. Polled, it makes
 * attempt 0 and runs it, and from then on:
 *
 *  - An attempt that finishes with a result >= 0 ends the retry with that result.
 *  - An attempt that fails with err ends the retry with err if err is not retryable, or
 *    if it was attempt number max_attempts - 1. Otherwise the retry waits, and then
 *    makes and runs the next attempt.
 *  - The wait after attempt k failed is retry_random(&r->random) % (bound + 1)
 *    nanoseconds, bound = retry_bound(policy, k): full jitter in [0, bound], one number
 *    drawn per wait, in order. It is counted from the poll that saw the failure.
 *
 * It finishes with -EINVAL, making no attempt, when max_attempts is 0, and with -ENOMEM
 * when the factory returns NULL. Each attempt is dropped exactly once: as soon as it
 * finishes, or when the retry is dropped while it runs. Dropped while it waits, the
 * retry cancels its timer.
 */
void retry_init(struct retry *r, retry_make_fn make, void *ctx, const struct retry_policy *policy);

#endif
