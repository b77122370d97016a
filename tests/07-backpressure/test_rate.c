/* The GCRA rate limiter (ax/rate.h), on virtual time: a burst at once and no more, then
 * one event every 1/N s exactly; idle time refills only up to the burst; waits are
 * served in the order they asked, each at its turn, and a dropped wait gives its turn
 * back; the keyed limiter keeps keys apart and forgets idle ones. */
#include "axtest.h"
#include "by_hand.h"
#include "virtual_time.h"
#include "ax/rate.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT };
static const uint64_t START = AXT_START;

/* How many events check allows at `now`, one after another, before the first refusal;
 * *wait gets that refusal's answer. */
static int allowed_now(struct ax_rate *rate, uint64_t now, int64_t *wait)
{
    int n = 0;
    while ((*wait = ax_rate_check(rate, now)) == 0 && n < 1000)
        n++;
    return n;
}

START_TEST(a_fresh_limiter_allows_its_burst_at_once_and_no_more)
{
    struct ax_rate rate;
    ax_rate_init(&rate, 10, 3); /* 10/s, bursts of 3 */
    int64_t wait;
    ck_assert_int_eq(allowed_now(&rate, START, &wait), 3);
    ck_assert_int_eq(wait, 100 * MS);
}
END_TEST

START_TEST(after_the_burst_events_are_allowed_exactly_one_interval_apart)
{
    struct ax_rate rate;
    ax_rate_init(&rate, 4, 2); /* one every 250 ms */
    int64_t wait;
    ck_assert_int_eq(allowed_now(&rate, START, &wait), 2);
    uint64_t now = START;
    for (int i = 1; i <= 8; i++) {
        ck_assert_int_eq(ax_rate_check(&rate, now + 250 * MS - 1), 1); /* 1 ns early */
        now += 250 * MS;
        ck_assert_int_eq(ax_rate_check(&rate, now), 0);
        ck_assert_int_eq(ax_rate_check(&rate, now), 250 * MS); /* and only one */
    }
}
END_TEST

START_TEST(a_refused_check_counts_nothing)
{
    struct ax_rate rate;
    ax_rate_init(&rate, 10, 1);
    ck_assert_int_eq(ax_rate_check(&rate, START), 0);
    for (int i = 0; i < 50; i++) /* asking again and again does not push the turn back */
        ck_assert_int_eq(ax_rate_check(&rate, START + 50 * MS), 50 * MS);
    ck_assert_int_eq(ax_rate_check(&rate, START + 100 * MS), 0);
}
END_TEST

START_TEST(idle_time_refills_the_bucket_up_to_the_burst_and_no_further)
{
    struct ax_rate rate;
    ax_rate_init(&rate, 10, 3);
    int64_t wait;
    ck_assert_int_eq(allowed_now(&rate, START, &wait), 3);
    ck_assert_int_eq(allowed_now(&rate, START + 100 * MS, &wait), 1); /* one came back */
    ck_assert_int_eq(allowed_now(&rate, START + 3600 * S, &wait), 3); /* an hour: still 3 */
}
END_TEST

START_TEST(a_limiter_first_used_long_after_time_zero_saves_up_no_credit)
{
    struct ax_rate rate;
    ax_rate_init(&rate, 1000, 5);
    int64_t wait;
    /* 1,000 s after the clock's zero, but the first use: the burst, not 1,000,000. */
    ck_assert_int_eq(allowed_now(&rate, START, &wait), 5);
    ck_assert_int_eq(wait, 1 * MS);
}
END_TEST

/* A task that waits for the limiter and logs its id and the time it was let through. */
struct waiter {
    struct ax_future base;
    struct ax_rate_wait wait;
    int id;
    int *ids, *count;
    uint64_t *times;
};

static ax_result waiter_poll(struct ax_future *self, struct ax_context *cx)
{
    struct waiter *w = (struct waiter *)self;
    ax_result rc = ax_poll(&w->wait.base, cx);
    if (rc == AX_PENDING)
        return rc;
    w->ids[*w->count] = w->id;
    w->times[(*w->count)++] = ax_executor_now(cx->executor);
    return rc;
}

static void waiter_drop(struct ax_future *self)
{
    ax_future_drop(&((struct waiter *)self)->wait.base);
}

static const struct ax_future_ops waiter_ops = {.poll = waiter_poll, .drop = waiter_drop};

struct run {
    int ids[16], count;
    uint64_t times[16];
};

static struct ax_task *spawn_waiter(struct ax_executor *executor, struct ax_rate *rate,
                                    struct ax_rate_keyed *keyed, const char *key, int id,
                                    struct run *run)
{
    struct waiter *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    *w = (struct waiter){.base = {&waiter_ops},
                         .id = id,
                         .ids = run->ids,
                         .count = &run->count,
                         .times = run->times};
    if (keyed != NULL)
        ax_rate_keyed_wait_init(&w->wait, keyed, key);
    else
        ax_rate_wait_init(&w->wait, rate);
    return ax_task_spawn(&w->base);
}

/* Each waiter was let through in spawn order, no earlier than its turn and less than a
 * timer tick after it (the wheel's resolution). */
static void assert_turns(const struct run *run, int n, const uint64_t *turns)
{
    ck_assert_int_eq(run->count, n);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(run->ids[i] == i, "let through %d-th: waiter %d", i, run->ids[i]);
        ck_assert_msg(run->times[i] >= turns[i] && run->times[i] < turns[i] + TICK,
                      "waiter %d let through at +%llu ns, its turn is +%llu ns", i,
                      (unsigned long long)(run->times[i] - START),
                      (unsigned long long)(turns[i] - START));
    }
}

START_TEST(waits_are_let_through_in_order_each_at_its_turn_on_virtual_time)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_rate rate;
    ax_rate_init(&rate, 100, 2); /* one every 10 ms after 2 */
    struct run run = {0};
    for (int id = 0; id < 5; id++)
        ax_task_detach(spawn_waiter(executor, &rate, NULL, NULL, id, &run));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    uint64_t turns[] = {START, START, START + 10 * MS, START + 20 * MS, START + 30 * MS};
    assert_turns(&run, 5, turns);
    ax_executor_free(executor);
}
END_TEST

START_TEST(the_last_wait_dropped_before_its_turn_gives_the_turn_back)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_rate rate;
    ax_rate_init(&rate, 100, 1);
    ck_assert_int_eq(ax_rate_check(&rate, START), 0);
    struct ax_rate_wait wait;
    ax_rate_wait_init(&wait, &rate);
    ck_assert(axt_poll_once(executor, &wait.base) == AX_PENDING); /* reserved +10 ms */
    ck_assert_int_eq(ax_rate_check(&rate, START + 10 * MS), 10 * MS); /* taken */
    ax_future_drop(&wait.base);
    ck_assert_int_eq(ax_rate_check(&rate, START + 10 * MS), 0); /* given back */
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_dropped_with_a_later_one_behind_it_leaves_the_later_turn_alone)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_rate rate;
    ax_rate_init(&rate, 100, 1);
    ck_assert_int_eq(ax_rate_check(&rate, START), 0);
    struct ax_rate_wait first, second;
    ax_rate_wait_init(&first, &rate);
    ax_rate_wait_init(&second, &rate);
    ck_assert(axt_poll_once(executor, &first.base) == AX_PENDING); /* +10 ms */
    ck_assert(axt_poll_once(executor, &second.base) == AX_PENDING); /* +20 ms */
    ax_future_drop(&first.base); /* its turn stays used: never more than the rate */
    ck_assert_int_eq(ax_rate_check(&rate, START + 10 * MS), 20 * MS);
    ax_executor_advance_time(executor, 20 * MS + TICK);
    ck_assert_int_eq(axt_poll_once(executor, &second.base), 0);
    ax_future_drop(&second.base);
    ax_executor_free(executor);
}
END_TEST

/* A wait under a deadline (ax_timeout). */
struct timed {
    struct ax_future base;
    struct ax_timeout timeout;
    struct ax_rate_wait wait;
};

static ax_result timed_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct timed *)self)->timeout.base, cx);
}

static void timed_drop(struct ax_future *self)
{
    ax_future_drop(&((struct timed *)self)->timeout.base);
}

static const struct ax_future_ops timed_ops = {.poll = timed_poll, .drop = timed_drop};

START_TEST(a_wait_with_a_deadline_before_its_turn_times_out_and_gives_the_turn_back)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_rate rate;
    ax_rate_init(&rate, 10, 1);
    ck_assert_int_eq(ax_rate_check(&rate, START), 0); /* next turn: +100 ms */
    struct timed *t = ax_task_alloc(executor, sizeof *t);
    ck_assert_ptr_nonnull(t);
    t->base.ops = &timed_ops;
    ax_rate_wait_init(&t->wait, &rate);
    ax_timeout_init(&t->timeout, &t->wait.base, START + 10 * MS);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&t->base)), -ETIMEDOUT);
    ck_assert_int_eq(ax_rate_check(&rate, START + 100 * MS), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(keyed_limits_are_independent_per_key)
{
    struct ax_rate_keyed *keyed;
    ck_assert_int_eq(ax_rate_keyed_new(&keyed, 10, 2), 0);
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "a.example", START), 0);
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "a.example", START), 0);
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "a.example", START), 100 * MS);
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "b.example", START), 0); /* its own burst */
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "b.example", START), 0);
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "b.example", START), 100 * MS);
    ck_assert_uint_eq(ax_rate_keyed_len(keyed), 2);
    ax_rate_keyed_free(keyed);
}
END_TEST

START_TEST(keyed_limiter_forgets_idle_keys_so_its_table_stays_small)
{
    struct ax_rate_keyed *keyed;
    ck_assert_int_eq(ax_rate_keyed_new(&keyed, 10, 1), 0); /* a key is idle 100 ms after use */
    char key[32];
    size_t most = 0;
    for (int i = 0; i < 10000; i++) { /* a new host every 10 ms: ~10 active at a time */
        snprintf(key, sizeof key, "host-%d", i);
        ck_assert_int_eq(ax_rate_keyed_check(keyed, key, START + (uint64_t)i * 10 * MS), 0);
        if (ax_rate_keyed_len(keyed) > most)
            most = ax_rate_keyed_len(keyed);
    }
    ck_assert_msg(most <= 64, "held up to %zu keys for ~10 active", most);
    /* A forgotten key starts afresh, as it would have anyway. */
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "host-0", START + 200 * S), 0);
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "host-0", START + 200 * S), 100 * MS);
    ax_rate_keyed_free(keyed);
}
END_TEST

START_TEST(keyed_limiter_keeps_a_busy_key_when_it_forgets_idle_ones)
{
    struct ax_rate_keyed *keyed;
    ck_assert_int_eq(ax_rate_keyed_new(&keyed, 1, 1), 0); /* one a second */
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "busy", START), 0);
    char key[32];
    for (int i = 0; i < 100; i++) { /* many keys come and go within that second */
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_ge(ax_rate_keyed_check(keyed, key, START + (uint64_t)i * MS), 0);
    }
    ck_assert_int_eq(ax_rate_keyed_check(keyed, "busy", START + 500 * MS), 500 * MS);
    ax_rate_keyed_free(keyed);
}
END_TEST

START_TEST(keyed_waits_for_different_keys_do_not_wait_for_each_other)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_rate_keyed *keyed;
    ck_assert_int_eq(ax_rate_keyed_new(&keyed, 100, 1), 0);
    struct run run = {0};
    const char *keys[] = {"a", "a", "b", "a"};
    for (int id = 0; id < 4; id++)
        ax_task_detach(spawn_waiter(executor, NULL, keyed, keys[id], id, &run));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    /* a at 0, 10, 20 ms; b at 0: b is let through with a's first, ahead of a's second */
    ck_assert_int_eq(run.count, 4);
    int want_ids[] = {0, 2, 1, 3};
    ck_assert_mem_eq(run.ids, want_ids, sizeof want_ids);
    ck_assert_uint_eq(run.times[1], START);
    ck_assert(run.times[3] >= START + 20 * MS && run.times[3] < START + 20 * MS + TICK);
    ax_rate_keyed_free(keyed);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_bad_rate_is_refused)
{
    struct ax_rate rate;
    ck_assert_int_eq(ax_rate_init(&rate, 0, 1), -EINVAL);
    ck_assert_int_eq(ax_rate_init(&rate, INFINITY, 1), -EINVAL);
    ck_assert_int_eq(ax_rate_init(&rate, 50, 1), 0);
    struct ax_rate_keyed *keyed;
    ck_assert_int_eq(ax_rate_keyed_new(&keyed, 0, 1), -EINVAL);
    ck_assert_int_eq(ax_rate_keyed_new(&keyed, -5, 1), -EINVAL);
}
END_TEST

static Suite *rate_suite(void)
{
    Suite *s = suite_create("rate");
    TCase *tc = axt_tcase("rate");
    tcase_add_test(tc, a_fresh_limiter_allows_its_burst_at_once_and_no_more);
    tcase_add_test(tc, after_the_burst_events_are_allowed_exactly_one_interval_apart);
    tcase_add_test(tc, a_refused_check_counts_nothing);
    tcase_add_test(tc, idle_time_refills_the_bucket_up_to_the_burst_and_no_further);
    tcase_add_test(tc, a_limiter_first_used_long_after_time_zero_saves_up_no_credit);
    tcase_add_test(tc, waits_are_let_through_in_order_each_at_its_turn_on_virtual_time);
    tcase_add_test(tc, the_last_wait_dropped_before_its_turn_gives_the_turn_back);
    tcase_add_test(tc, a_wait_dropped_with_a_later_one_behind_it_leaves_the_later_turn_alone);
    tcase_add_test(tc, a_wait_with_a_deadline_before_its_turn_times_out_and_gives_the_turn_back);
    tcase_add_test(tc, keyed_limits_are_independent_per_key);
    tcase_add_test(tc, keyed_limiter_forgets_idle_keys_so_its_table_stays_small);
    tcase_add_test(tc, keyed_limiter_keeps_a_busy_key_when_it_forgets_idle_ones);
    tcase_add_test(tc, keyed_waits_for_different_keys_do_not_wait_for_each_other);
    tcase_add_test(tc, a_bad_rate_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(rate_suite)
