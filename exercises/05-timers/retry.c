/* Exercise 05-retry-backoff. Read "Sleep, timeout and interval" in chapter 05 first. */
#include "retry.h"

#include <errno.h>

uint64_t retry_bound(const struct retry_policy *policy, unsigned k)
{
    /* TODO: min(cap_ns, base_ns * 2^k). Shifting base_ns left by k overflows for a large
     * k, so compare first: base_ns * 2^k <= cap_ns exactly when base_ns <= cap_ns >> k
     * (and a shift by 64 or more is undefined in C). */
    (void)policy;
    (void)k;
    return 0;
}

static ax_result retry_poll(struct ax_future *self, struct ax_context *cx)
{
    /* TODO: a loop, in the shape of ax_timeout's poll (chapter 05, "Sleep, timeout and interval"):
     * if waiting, poll r->wait and return AX_PENDING until it ends, then drop it; if no
     * attempt is under way, make one (r->make(r->ctx, r->made)) and count it; poll it.
     * A result drops the attempt at once. Success, an error that is not retryable, or the
     * last attempt's error finishes the retry; any other error arms r->wait with
     * ax_sleep_init for the jittered wait that retry.h gives, and goes round. Mark
     * r->done whenever the retry finishes. */
    (void)self;
    (void)cx;
    return -ENOSYS;
}

static void retry_drop(struct ax_future *self)
{
    /* TODO: drop the attempt under way, if any, and the wait, if armed: each exactly
     * once. */
    (void)self;
}

static const struct ax_future_ops retry_ops = {.poll = retry_poll, .drop = retry_drop};

void retry_init(struct retry *r, retry_make_fn make, void *ctx, const struct retry_policy *policy)
{
    *r = (struct retry){.base = {&retry_ops},
                        .make = make,
                        .ctx = ctx,
                        .policy = *policy,
                        .random = policy->seed != 0 ? policy->seed : 1};
}
