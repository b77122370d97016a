/* Exercise 05-retry-backoff: a reference solution. */
#include "retry.h"

#include <errno.h>

uint64_t retry_bound(const struct retry_policy *policy, unsigned k)
{
    /* base * 2^k <= cap exactly when base <= cap / 2^k: test that, and the shift cannot
     * overflow. */
    if (k >= 64 || policy->base_ns > policy->cap_ns >> k)
        return policy->cap_ns;
    return policy->base_ns << k;
}

static ax_result retry_poll(struct ax_future *self, struct ax_context *cx)
{
    struct retry *r = (struct retry *)self;
    if (r->done)
        return -EINVAL; /* polled after it finished */
    if (r->policy.max_attempts == 0) {
        r->done = true;
        return -EINVAL;
    }
    for (;;) {
        if (r->waiting) {
            if (ax_poll(&r->wait.base, cx) == AX_PENDING)
                return AX_PENDING;
            ax_future_drop(&r->wait.base);
            r->waiting = false;
        }
        if (r->attempt == NULL) {
            r->attempt = r->make(r->ctx, r->made);
            if (r->attempt == NULL) {
                r->done = true;
                return -ENOMEM;
            }
            r->made++;
        }
        ax_result result = ax_poll(r->attempt, cx);
        if (result == AX_PENDING)
            return AX_PENDING;
        ax_future_drop(r->attempt);
        r->attempt = NULL;
        bool retryable = r->policy.retryable == NULL || r->policy.retryable(result);
        if (result >= 0 || !retryable || r->made >= r->policy.max_attempts) {
            r->done = true;
            return result;
        }
        /* Full jitter: anywhere in [0, bound], so clients that failed together spread. */
        uint64_t bound = retry_bound(&r->policy, r->made - 1);
        ax_sleep_init(&r->wait, retry_random(&r->random) % (bound + 1));
        r->waiting = true; /* counted from this poll: the sleep's first poll is next */
    }
}

static void retry_drop(struct ax_future *self)
{
    struct retry *r = (struct retry *)self;
    if (r->attempt != NULL)
        ax_future_drop(r->attempt);
    if (r->waiting)
        ax_future_drop(&r->wait.base);
    r->attempt = NULL;
    r->waiting = false;
    r->done = true;
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
