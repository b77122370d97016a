/* Exercise 05-retry-backoff: attempts start when the seeded full jitter says, the retry
 * ends with the result its policy promises, and every attempt is dropped once.
 *
 * Everything runs on virtual time: the waits take no real time, and each scripted
 * attempt notes the executor's time when it started and when it finished. The waits the
 * tests expect come from the same generator and seed, with the bounds computed here
 * on their own. */
#include "axtest.h"
#include "retry.h"

#include "ax/error.h"
#include "ax/event.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS    (1000ull * 1000)
#define S     (1000 * MS)
#define NEVER UINT64_MAX
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT, MAX = 12 };
static const uint64_t START = 1000 * S; /* virtual time starts here */

/* What one attempt is scripted to do: finish with `result` after `takes` ns (NEVER:
 * it waits for an event nobody sets). */
struct step {
    ax_result result;
    uint64_t takes;
};

/* What the test saw of one attempt, kept outside the task. */
struct seen {
    int polls, drops;
    uint64_t started, ended; /* the executor's time at its first poll and at its result */
};

struct scene {
    struct ax_executor *executor;
    struct ax_event never;
    const struct step *script;
    unsigned steps; /* the factory returns NULL past the script */
    unsigned made;
    struct seen seen[MAX];
    uint64_t ended; /* when the retry (or the timeout around it) finished */
};

/* ---- a scripted attempt ------------------------------------------------------------- */

struct attempt {
    struct ax_future base;
    unsigned index;
    const struct step *step;
    struct seen *seen;
    struct ax_event *never;
    struct ax_sleep sleep;
    struct ax_event_wait wait;
    struct ax_future *inner; /* the sleep or the wait, from the first poll on */
};

static ax_result attempt_poll(struct ax_future *self, struct ax_context *cx)
{
    struct attempt *a = (struct attempt *)self;
    ck_assert_msg(a->seen->drops == 0, "attempt %u was polled after it was dropped", a->index);
    if (a->seen->polls++ == 0) {
        a->seen->started = ax_executor_now(cx->executor);
        if (a->step->takes == NEVER) {
            ax_event_wait_init(&a->wait, a->never);
            a->inner = &a->wait.base;
        } else {
            ax_sleep_init(&a->sleep, a->step->takes);
            a->inner = &a->sleep.base;
        }
    }
    if (ax_poll(a->inner, cx) == AX_PENDING)
        return AX_PENDING;
    a->seen->ended = ax_executor_now(cx->executor);
    return a->step->result;
}

static void attempt_drop(struct ax_future *self)
{
    struct attempt *a = (struct attempt *)self;
    if (a->inner != NULL)
        ax_future_drop(a->inner);
    a->seen->drops++;
}

static const struct ax_future_ops attempt_ops = {.poll = attempt_poll, .drop = attempt_drop};

/* ---- the task under test: a retry, perhaps under a timeout that drops it -------------- */

struct harness {
    struct ax_future base;
    struct retry retry;
    struct ax_timeout timeout;
    struct ax_future *top; /* &retry.base, or &timeout.base when the test drops the retry */
    struct attempt attempts[MAX];
    struct scene *scene;
};

static struct ax_future *make_attempt(void *ctx, unsigned index)
{
    struct harness *h = ctx;
    struct scene *sc = h->scene;
    ck_assert_msg(index == sc->made, "the retry asked for attempt %u after making %u", index,
                  sc->made);
    ck_assert_msg(index == 0 || sc->seen[index - 1].drops == 1,
                  "attempt %u was asked for before attempt %u was dropped", index, index - 1);
    if (index >= sc->steps)
        return NULL;
    sc->made++;
    h->attempts[index] = (struct attempt){.base = {&attempt_ops},
                                          .index = index,
                                          .step = &sc->script[index],
                                          .seen = &sc->seen[index],
                                          .never = &sc->never};
    return &h->attempts[index].base;
}

static ax_result harness_poll(struct ax_future *self, struct ax_context *cx)
{
    struct harness *h = (struct harness *)self;
    ax_result rc = ax_poll(h->top, cx);
    if (rc != AX_PENDING)
        h->scene->ended = ax_executor_now(cx->executor);
    return rc;
}

static void harness_drop(struct ax_future *self)
{
    struct harness *h = (struct harness *)self;
    ax_future_drop(h->top);
}

static const struct ax_future_ops harness_ops = {.poll = harness_poll, .drop = harness_drop};

/* Runs a retry of `script` under `policy` on paused time, and returns its result; with
 * drop_at, a timeout drops the retry at that time and its -ETIMEDOUT is returned. The
 * executor stays up, for the test to look at, until finish(). */
static ax_result run(struct scene *sc, const struct retry_policy *policy, const struct step *script,
                     unsigned steps, uint64_t drop_at)
{
    ck_assert_uint_le(steps, MAX);
    *sc = (struct scene){.script = script, .steps = steps};
    ax_event_init(&sc->never);
    ck_assert_int_eq(ax_executor_new(&sc->executor, NULL), 0);
    ax_executor_pause_time(sc->executor, START);
    struct harness *h = ax_task_alloc(sc->executor, sizeof *h);
    ck_assert_ptr_nonnull(h);
    *h = (struct harness){.base = {&harness_ops}, .scene = sc, .top = &h->retry.base};
    retry_init(&h->retry, make_attempt, h, policy);
    if (drop_at != 0) {
        ax_timeout_init(&h->timeout, &h->retry.base, drop_at);
        h->top = &h->timeout.base;
    }
    return ax_block_on(sc->executor, ax_task_spawn(&h->base));
}

static void assert_each_dropped_once(const struct scene *sc)
{
    for (unsigned i = 0; i < sc->made; i++)
        ck_assert_msg(sc->seen[i].drops == 1, "attempt %u was dropped %d times, expected once", i,
                      sc->seen[i].drops);
}

/* Frees the executor (which drops whatever is left) and checks the drops once more. */
static void finish(struct scene *sc)
{
    ax_executor_free(sc->executor);
    assert_each_dropped_once(sc);
}

static void assert_result(ax_result got, ax_result want)
{
    ck_assert_msg(got == want, "the retry finished with %lld (%s), expected %lld (%s)",
                  (long long)got, got < 0 ? ax_strerror((int)got) : "success", (long long)want,
                  want < 0 ? ax_strerror((int)want) : "success");
}

static void assert_made(const struct scene *sc, unsigned want)
{
    ck_assert_msg(sc->made == want, "the retry made %u attempts, expected %u", sc->made, want);
}

/* min(cap, base * 2^k), worked out by doubling. */
static uint64_t bound_after(const struct retry_policy *p, unsigned k)
{
    uint64_t bound = p->base_ns;
    for (unsigned i = 0; i < k && bound < p->cap_ns; i++)
        bound = bound > p->cap_ns / 2 ? p->cap_ns : bound * 2;
    return bound < p->cap_ns ? bound : p->cap_ns;
}

/* The waits the policy's generator gives: waits[k] follows the failure of attempt k. */
static void expected_waits(const struct retry_policy *p, uint64_t waits[], unsigned n)
{
    uint64_t state = p->seed != 0 ? p->seed : 1;
    for (unsigned k = 0; k < n; k++)
        waits[k] = retry_random(&state) % (bound_after(p, k) + 1);
}

/* Attempt k + 1 started waits[k] after attempt k failed (the wheel may add a tick). */
static void assert_schedule(const struct scene *sc, const struct retry_policy *p)
{
    uint64_t waits[MAX];
    expected_waits(p, waits, MAX);
    ck_assert_msg(sc->seen[0].started == START, "the first attempt started %llu ns late",
                  (unsigned long long)(sc->seen[0].started - START));
    for (unsigned k = 0; k + 1 < sc->made; k++) {
        uint64_t gap = sc->seen[k + 1].started - sc->seen[k].ended;
        ck_assert_msg(gap >= waits[k] && gap <= waits[k] + TICK,
                      "attempt %u started %llu ns after attempt %u failed; the jitter says "
                      "%llu ns (bound %llu ns)",
                      k + 1, (unsigned long long)gap, k, (unsigned long long)waits[k],
                      (unsigned long long)bound_after(p, k));
    }
}

/* ---- the bound ---------------------------------------------------------------------- */

START_TEST(retry_bound_doubles_from_the_base_and_stops_at_the_cap)
{
    struct retry_policy p = {.base_ns = 100 * MS, .cap_ns = 1 * S};
    static const uint64_t want_ms[] = {100, 200, 400, 800, 1000, 1000};
    for (unsigned k = 0; k < 6; k++)
        ck_assert_msg(retry_bound(&p, k) == want_ms[k] * MS,
                      "retry_bound(base 100 ms, cap 1 s, k = %u) is %llu ns, expected %llu ms", k,
                      (unsigned long long)retry_bound(&p, k), (unsigned long long)want_ms[k]);
    static const unsigned huge[] = {40, 63, 64, 65, 1000, 4000000000u};
    for (unsigned i = 0; i < 6; i++)
        ck_assert_msg(retry_bound(&p, huge[i]) == p.cap_ns,
                      "retry_bound(base 100 ms, cap 1 s, k = %u) is %llu ns, not the cap", huge[i],
                      (unsigned long long)retry_bound(&p, huge[i]));
    struct retry_policy wide = {.base_ns = 1ull << 40, .cap_ns = UINT64_MAX - 1};
    ck_assert_msg(retry_bound(&wide, 30) == UINT64_MAX - 1,
                  "base 2^40 doubled 30 times overflowed instead of stopping at the cap");
    struct retry_policy zero = {.base_ns = 0, .cap_ns = S};
    ck_assert_uint_eq(retry_bound(&zero, 5), 0);
}
END_TEST

/* ---- results -------------------------------------------------------------------------- */

static const struct retry_policy quick = {
    .max_attempts = 5, .base_ns = 100 * MS, .cap_ns = 10 * S, .seed = 2024};

START_TEST(retry_succeeds_on_a_later_attempt_with_its_result)
{
    static const struct step script[] = {{-ECONNREFUSED, 0}, {-ECONNRESET, 0}, {7, 0}};
    struct scene sc;
    assert_result(run(&sc, &quick, script, 3, 0), 7);
    assert_made(&sc, 3);
    assert_schedule(&sc, &quick);
    assert_each_dropped_once(&sc);
    finish(&sc);
}
END_TEST

START_TEST(retry_gives_up_after_max_attempts_with_the_last_error)
{
    struct retry_policy p = quick;
    p.max_attempts = 3;
    static const struct step script[] = {
        {-ECONNREFUSED, 0}, {-ECONNRESET, 0}, {-ETIMEDOUT, 0}, {99, 0}};
    struct scene sc;
    assert_result(run(&sc, &p, script, 4, 0), -ETIMEDOUT);
    assert_made(&sc, 3);
    ck_assert_msg(sc.ended == sc.seen[2].ended, "the retry waited after its last attempt");
    ck_assert_uint_eq(ax_executor_timers(sc.executor), 0);
    finish(&sc);
}
END_TEST

/* A permission or a malformed request will not get better by asking again. */
static bool transient(ax_result err)
{
    return err != -EACCES && err != -EINVAL;
}

START_TEST(retry_ends_at_an_error_its_policy_does_not_retry)
{
    struct retry_policy p = quick;
    p.retryable = transient;
    static const struct step script[] = {{-ECONNREFUSED, 0}, {-EACCES, 0}, {5, 0}};
    struct scene sc;
    assert_result(run(&sc, &p, script, 3, 0), -EACCES);
    assert_made(&sc, 2);
    ck_assert_msg(sc.ended == sc.seen[1].ended, "the retry waited after an error it gives up on");
    ck_assert_uint_eq(ax_executor_timers(sc.executor), 0);
    finish(&sc);
}
END_TEST

START_TEST(retry_without_a_predicate_retries_every_error)
{
    static const struct step script[] = {{-EACCES, 0}, {-EINVAL, 0}, {3, 0}};
    struct scene sc;
    assert_result(run(&sc, &quick, script, 3, 0), 3);
    assert_made(&sc, 3);
    finish(&sc);
}
END_TEST

START_TEST(retry_allowed_no_attempts_is_einval_and_makes_none)
{
    struct retry_policy p = quick;
    p.max_attempts = 0;
    static const struct step script[] = {{1, 0}};
    struct scene sc;
    assert_result(run(&sc, &p, script, 1, 0), -EINVAL);
    assert_made(&sc, 0);
    finish(&sc);
}
END_TEST

START_TEST(retry_whose_factory_fails_is_enomem)
{
    static const struct step script[] = {{-ECONNREFUSED, 0}}; /* then the factory says NULL */
    struct scene sc;
    assert_result(run(&sc, &quick, script, 1, 0), -ENOMEM);
    assert_made(&sc, 1);
    finish(&sc);
}
END_TEST

/* ---- the schedule --------------------------------------------------------------------- */

START_TEST(retry_waits_the_seeded_full_jitter_before_each_attempt)
{
    struct retry_policy p = {.max_attempts = 6, .base_ns = 100 * MS, .cap_ns = 10 * S, .seed = 42};
    static const struct step script[] = {{-ECONNREFUSED, 0}, {-ECONNREFUSED, 0},
                                         {-ECONNREFUSED, 0}, {-ECONNREFUSED, 0},
                                         {-ECONNREFUSED, 0}, {-EHOSTUNREACH, 0}};
    struct scene sc;
    assert_result(run(&sc, &p, script, 6, 0), -EHOSTUNREACH);
    assert_made(&sc, 6);
    assert_schedule(&sc, &p);
    finish(&sc);
}
END_TEST

START_TEST(retry_never_waits_longer_than_the_cap)
{
    struct retry_policy p = {
        .max_attempts = 10, .base_ns = 100 * MS, .cap_ns = 250 * MS, .seed = 7};
    struct step script[10];
    for (int i = 0; i < 10; i++)
        script[i] = (struct step){-ECONNREFUSED, 0};
    struct scene sc;
    assert_result(run(&sc, &p, script, 10, 0), -ECONNREFUSED);
    assert_made(&sc, 10);
    for (unsigned k = 0; k + 1 < 10; k++) {
        uint64_t gap = sc.seen[k + 1].started - sc.seen[k].ended;
        ck_assert_msg(gap <= p.cap_ns + TICK, "the wait after attempt %u was %llu ns, over the cap",
                      k, (unsigned long long)gap);
    }
    assert_schedule(&sc, &p);
    finish(&sc);
}
END_TEST

START_TEST(retry_counts_each_wait_from_the_failure_not_from_the_attempt_start)
{
    static const struct step script[] = {{-ETIMEDOUT, 2 * S}, {-ETIMEDOUT, 500 * MS}, {1, 0}};
    struct scene sc;
    assert_result(run(&sc, &quick, script, 3, 0), 1);
    assert_made(&sc, 3);
    ck_assert_uint_ge(sc.seen[0].ended, START + 2 * S); /* the attempts really took time */
    ck_assert_uint_ge(sc.seen[1].ended, sc.seen[1].started + 500 * MS);
    assert_schedule(&sc, &quick);
    finish(&sc);
}
END_TEST

/* ---- drops ---------------------------------------------------------------------------- */

START_TEST(retry_dropped_while_an_attempt_runs_drops_that_attempt_once)
{
    static const struct step script[] = {{-ECONNREFUSED, 0}, {1, NEVER}};
    struct scene sc;
    assert_result(run(&sc, &quick, script, 2, START + 10 * S), -ETIMEDOUT);
    assert_made(&sc, 2);
    ck_assert_msg(sc.seen[1].drops == 1,
                  "the attempt running when the retry was dropped was "
                  "dropped %d times, expected once",
                  sc.seen[1].drops);
    ck_assert_msg(ax_list_empty(&sc.never.waiters), "the dropped attempt still waits on its event");
    ck_assert_uint_eq(ax_executor_timers(sc.executor), 0);
    finish(&sc);
}
END_TEST

START_TEST(retry_dropped_while_it_waits_cancels_the_wait)
{
    struct retry_policy p = {.max_attempts = 3, .base_ns = 60 * S, .cap_ns = 60 * S, .seed = 99};
    uint64_t waits[1];
    expected_waits(&p, waits, 1);
    ck_assert_msg(waits[0] >= 2 * MS, "test premise: seed 99 gives a first wait of 2 ms or more");
    static const struct step script[] = {{-ECONNREFUSED, 0}, {1, 0}};
    struct scene sc;
    assert_result(run(&sc, &p, script, 2, START + waits[0] / 2), -ETIMEDOUT);
    assert_made(&sc, 1);
    ck_assert_msg(ax_executor_timers(sc.executor) == 0,
                  "the retry was dropped while it waited, and its timer is still pending");
    ck_assert_uint_lt(ax_executor_now(sc.executor), START + waits[0]);
    finish(&sc);
}
END_TEST

static Suite *retry_suite(void)
{
    Suite *s = suite_create("05-retry-backoff");
    TCase *tc = axt_tcase("retry");
    tcase_add_test(tc, retry_bound_doubles_from_the_base_and_stops_at_the_cap);
    tcase_add_test(tc, retry_succeeds_on_a_later_attempt_with_its_result);
    tcase_add_test(tc, retry_gives_up_after_max_attempts_with_the_last_error);
    tcase_add_test(tc, retry_ends_at_an_error_its_policy_does_not_retry);
    tcase_add_test(tc, retry_without_a_predicate_retries_every_error);
    tcase_add_test(tc, retry_allowed_no_attempts_is_einval_and_makes_none);
    tcase_add_test(tc, retry_whose_factory_fails_is_enomem);
    tcase_add_test(tc, retry_waits_the_seeded_full_jitter_before_each_attempt);
    tcase_add_test(tc, retry_never_waits_longer_than_the_cap);
    tcase_add_test(tc, retry_counts_each_wait_from_the_failure_not_from_the_attempt_start);
    tcase_add_test(tc, retry_dropped_while_an_attempt_runs_drops_that_attempt_once);
    tcase_add_test(tc, retry_dropped_while_it_waits_cancels_the_wait);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(retry_suite)
