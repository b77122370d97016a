/* Sleeping and timeouts on the executor, on virtual time: the clock is paused, and the
 * executor jumps it to the next timer when it has nothing else to do. Only the last
 * two tests use the real clock, and they assert only that nothing ends early. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/combine.h"
#include "ax/event.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT };
static const uint64_t START = AXT_START; /* virtual time starts here */

/* Sleeps until `deadline`, then logs its id and the time it woke at. */
struct sleeper {
    struct ax_future base;
    struct ax_sleep sleep;
    int id;
    int *log, *count;
    uint64_t *woke_at;
};

static ax_result sleeper_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sleeper *s = (struct sleeper *)self;
    ax_result rc = ax_poll(&s->sleep.base, cx);
    if (rc == AX_PENDING)
        return rc;
    if (s->log != NULL)
        s->log[(*s->count)++] = s->id;
    if (s->woke_at != NULL)
        *s->woke_at = ax_executor_now(cx->executor);
    return rc;
}

static void sleeper_drop(struct ax_future *self)
{
    ax_future_drop(&((struct sleeper *)self)->sleep.base);
}

static const struct ax_future_ops sleeper_ops = {.poll = sleeper_poll, .drop = sleeper_drop};

static struct ax_task *spawn_sleeper(struct ax_executor *executor, uint64_t deadline, int id,
                                     int *log, int *count, uint64_t *woke_at)
{
    struct sleeper *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct sleeper){
        .base = {&sleeper_ops}, .id = id, .log = log, .count = count, .woke_at = woke_at};
    ax_sleep_until_init(&s->sleep, deadline);
    return ax_task_spawn(&s->base);
}

// snippet virtual-time-test
START_TEST(a_ten_second_sleep_on_paused_time_ends_ten_seconds_later_by_the_clock)
{
    struct ax_executor *executor = axt_paused_executor();
    uint64_t woke = 0;
    struct ax_task *t = spawn_sleeper(executor, START + 10 * S, 0, NULL, NULL, &woke);
    ck_assert_int_eq(ax_block_on(executor, t), 0);
    ck_assert_uint_ge(woke, START + 10 * S);
    ck_assert_uint_le(woke, START + 10 * S + TICK);
    ck_assert_uint_eq(ax_now_ns(), ax_executor_now(executor)); /* the same virtual clock */
    ax_executor_free(executor);
}
END_TEST
// end snippet

START_TEST(sleeps_end_in_deadline_order_and_equal_deadlines_in_spawn_order)
{
    struct ax_executor *executor = axt_paused_executor();
    static const uint64_t after_ms[] = {30, 10, 20, 10, 5000, 1};
    int log[6], count = 0;
    for (int i = 0; i < 6; i++)
        ax_task_detach(spawn_sleeper(executor, START + after_ms[i] * MS, i, log, &count, NULL));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    static const int order[] = {5, 1, 3, 2, 0, 4};
    ck_assert_int_eq(count, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(log[i], order[i]);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_deadline_already_past_ends_the_sleep_at_its_first_poll)
{
    struct ax_executor *executor = axt_paused_executor();
    uint64_t woke = 0;
    ck_assert_int_eq(
        ax_block_on(executor, spawn_sleeper(executor, START - S, 0, NULL, NULL, &woke)), 0);
    ck_assert_uint_eq(woke, START);
    ck_assert_uint_eq(ax_executor_timers(executor), 0); /* no timer was needed */
    ax_executor_free(executor);
}
END_TEST

/* A sleep raced against an event that another task sets. */
struct race {
    struct ax_future base;
    struct ax_sleep sleep;
    struct ax_event_wait wait;
    struct ax_future *pair[2];
    struct ax_select select;
};

static ax_result race_poll(struct ax_future *self, struct ax_context *cx)
{
    struct race *r = (struct race *)self;
    ax_result rc = ax_poll(&r->select.base, cx);
    return rc == AX_PENDING ? rc : (ax_result)r->select.winner;
}

static void race_drop(struct ax_future *self)
{
    ax_future_drop(&((struct race *)self)->select.base);
}

static const struct ax_future_ops race_ops = {.poll = race_poll, .drop = race_drop};

/* Sets an event once its sleep ends. */
struct alarm {
    struct ax_future base;
    struct ax_sleep sleep;
    struct ax_event *event;
};

static ax_result alarm_poll(struct ax_future *self, struct ax_context *cx)
{
    struct alarm *a = (struct alarm *)self;
    ax_result rc = ax_poll(&a->sleep.base, cx);
    if (rc != AX_PENDING)
        ax_event_set(a->event);
    return rc;
}

static void alarm_drop(struct ax_future *self)
{
    ax_future_drop(&((struct alarm *)self)->sleep.base);
}

static const struct ax_future_ops alarm_ops = {.poll = alarm_poll, .drop = alarm_drop};

static void spawn_alarm(struct ax_executor *executor, struct ax_event *event, uint64_t deadline)
{
    struct alarm *a = ax_task_alloc(executor, sizeof *a);
    *a = (struct alarm){.base = {&alarm_ops}, .event = event};
    ax_sleep_until_init(&a->sleep, deadline);
    ax_task_detach(ax_task_spawn(&a->base));
}

START_TEST(a_sleep_that_loses_a_select_is_cancelled_and_never_fires)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_event event;
    ax_event_init(&event);
    struct race *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct race){.base = {&race_ops}};
    ax_sleep_init(&r->sleep, 60 * S);
    ax_event_wait_init(&r->wait, &event);
    r->pair[0] = &r->sleep.base;
    r->pair[1] = &r->wait.base;
    ax_select_init(&r->select, r->pair, 2);
    struct ax_task *race = ax_task_spawn(&r->base);
    spawn_alarm(executor, &event, START + 2 * S); /* the event comes first */
    ck_assert_int_eq(ax_block_on(executor, race), 1);
    ck_assert_uint_eq(ax_executor_timers(executor), 0); /* the loser's timer is gone */
    ck_assert_uint_lt(ax_executor_now(executor), START + 3 * S); /* and time did not run on */
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_pending_timer_is_not_a_deadlock)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_event event;
    ax_event_init(&event);
    struct ax_event_wait *wait = ax_task_alloc(executor, sizeof *wait);
    ax_event_wait_init(wait, &event);
    struct ax_task *waiter = ax_task_spawn(&wait->base);
    spawn_alarm(executor, &event, START + 5 * S); /* only a timer can wake anyone */
    ck_assert_int_eq(ax_block_on(executor, waiter), 0);
    ax_executor_free(executor);
}
END_TEST

/* A future that finishes with 42 once its own sleep ends. */
struct slow {
    struct ax_future base;
    struct ax_sleep sleep;
    int *drops;
};

static ax_result slow_poll(struct ax_future *self, struct ax_context *cx)
{
    ax_result rc = ax_poll(&((struct slow *)self)->sleep.base, cx);
    return rc == AX_PENDING ? rc : 42;
}

static void slow_drop(struct ax_future *self)
{
    struct slow *s = (struct slow *)self;
    ax_future_drop(&s->sleep.base);
    ++*s->drops;
}

static const struct ax_future_ops slow_ops = {.poll = slow_poll, .drop = slow_drop};

/* A task awaiting `slow` (done at inner_at) under a timeout at deadline. */
struct bounded {
    struct ax_future base;
    struct slow slow;
    struct ax_timeout timeout;
};

static ax_result bounded_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct bounded *)self)->timeout.base, cx);
}

static void bounded_drop(struct ax_future *self)
{
    ax_future_drop(&((struct bounded *)self)->timeout.base);
}

static const struct ax_future_ops bounded_ops = {.poll = bounded_poll, .drop = bounded_drop};

static ax_result run_bounded(uint64_t inner_at, uint64_t deadline, int *drops)
{
    struct ax_executor *executor = axt_paused_executor();
    struct bounded *b = ax_task_alloc(executor, sizeof *b);
    *b = (struct bounded){.base = {&bounded_ops}};
    b->slow = (struct slow){.base = {&slow_ops}, .drops = drops};
    ax_sleep_until_init(&b->slow.sleep, inner_at);
    ax_timeout_init(&b->timeout, &b->slow.base, deadline);
    ax_result rc = ax_block_on(executor, ax_task_spawn(&b->base));
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_executor_free(executor);
    return rc;
}

START_TEST(a_timeout_passes_on_a_result_that_comes_in_time)
{
    int drops = 0;
    ck_assert_int_eq(run_bounded(START + S, START + 2 * S, &drops), 42);
    ck_assert_int_eq(drops, 1);
}
END_TEST

START_TEST(a_timeout_drops_a_future_that_is_too_slow_and_says_etimedout)
{
    int drops = 0;
    ck_assert_int_eq(run_bounded(START + 3 * S, START + 2 * S, &drops), -ETIMEDOUT);
    ck_assert_int_eq(drops, 1);
}
END_TEST

START_TEST(a_result_ready_at_the_same_turn_as_the_timeout_wins)
{
    int drops = 0;
    ck_assert_int_eq(run_bounded(START + 2 * S, START + 2 * S, &drops), 42);
    ck_assert_int_eq(drops, 1);
}
END_TEST

START_TEST(time_advanced_by_hand_a_year_at_once_fires_what_is_due_in_order)
{
    struct ax_executor *executor = axt_paused_executor();
    int log[3], count = 0;
    ax_task_detach(spawn_sleeper(executor, START + 200 * 24 * 3600 * S, 2, log, &count, NULL));
    ax_task_detach(spawn_sleeper(executor, START + 3 * S, 0, log, &count, NULL));
    ax_task_detach(spawn_sleeper(executor, START + 4000ull * 24 * 3600 * S, 9, log, &count, NULL));
    ax_task_detach(spawn_sleeper(executor, START + 30 * 24 * 3600 * S, 1, log, &count, NULL));
    struct ax_task *probe = spawn_sleeper(executor, START, -1, NULL, NULL, NULL);
    ck_assert_int_eq(ax_block_on(executor, probe), 0); /* every sleeper armed its timer */
    ax_executor_advance_time(executor, 365 * 24 * 3600 * S);
    probe = spawn_sleeper(executor, 0, -1, NULL, NULL, NULL); /* one turn of the loop */
    ck_assert_int_eq(ax_block_on(executor, probe), 0);
    ck_assert_int_eq(count, 3);
    ck_assert_int_eq(log[0], 0);
    ck_assert_int_eq(log[1], 1);
    ck_assert_int_eq(log[2], 2);
    ck_assert_uint_eq(ax_executor_timers(executor), 1); /* the one eleven years out waits */
    ax_executor_free(executor);
}
END_TEST

/* Real time: a sleep never ends early, also below a millisecond. */
static void sleep_really(uint64_t duration)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    uint64_t woke = 0, start = ax_now_ns();
    struct sleeper *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct sleeper){.base = {&sleeper_ops}, .woke_at = &woke};
    ax_sleep_init(&s->sleep, duration);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&s->base)), 0);
    ck_assert_uint_ge(ax_now_ns() - start, duration);
    ck_assert_uint_ge(woke - start, duration);
    ax_executor_free(executor);
}

START_TEST(a_real_sleep_of_two_milliseconds_is_not_shorter)
{
    sleep_really(2 * MS);
}
END_TEST

START_TEST(a_real_sleep_of_300_microseconds_is_not_shorter)
{
    sleep_really(300 * 1000);
}
END_TEST

/* Awaits `n` ticks of an interval, logging each tick's schedule and the time it was
 * seen; after tick number `late_at` it "works" for `late_by`, after the others for
 * `work`, by moving virtual time on. */
struct beat {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_interval interval;
    struct ax_tick tick;
    int n, i, late_at;
    uint64_t work, late_by;
    ax_result rc;
    uint64_t scheduled[8], seen[8];
};

static ax_result beat_poll(struct ax_future *self, struct ax_context *cx)
{
    struct beat *b = (struct beat *)self;
    AX_ASYNC_BEGIN(&b->co);
    for (b->i = 0; b->i < b->n; b->i++) {
        ax_tick_init(&b->tick, &b->interval);
        AX_AWAIT(&b->co, cx, &b->tick.base, b->rc);
        b->scheduled[b->i] = (uint64_t)b->rc;
        b->seen[b->i] = ax_executor_now(cx->executor);
        ax_executor_advance_time(cx->executor, b->i == b->late_at ? b->late_by : b->work);
    }
    AX_ASYNC_END(&b->co, 0);
}

static void beat_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct beat *)self)->co);
}

static const struct ax_future_ops beat_ops = {.poll = beat_poll, .drop = beat_drop};

START_TEST(an_interval_ticks_on_its_schedule_however_long_each_tick_takes)
{
    struct ax_executor *executor = axt_paused_executor();
    struct beat *b = ax_task_alloc(executor, sizeof *b);
    *b = (struct beat){.base = {&beat_ops}, .n = 5, .work = 30 * MS, .late_at = -1};
    ax_interval_init(&b->interval, START + 100 * MS, 100 * MS);
    struct ax_task *task = ax_task_spawn(&b->base);
    ax_executor_run(executor);
    for (int i = 0; i < 5; i++) {
        uint64_t due = START + (uint64_t)(i + 1) * 100 * MS; /* not 130, 260, ... */
        ck_assert_uint_eq(b->scheduled[i], due);
        ck_assert_uint_ge(b->seen[i], due);
        ck_assert_uint_le(b->seen[i], due + TICK);
    }
    ax_task_detach(task);
    ax_executor_free(executor);
}
END_TEST

START_TEST(missed_ticks_are_skipped_and_the_schedule_is_kept)
{
    struct ax_executor *executor = axt_paused_executor();
    struct beat *b = ax_task_alloc(executor, sizeof *b);
    *b = (struct beat){.base = {&beat_ops}, .n = 4, .late_at = 0, .late_by = 350 * MS};
    ax_interval_init(&b->interval, START + 100 * MS, 100 * MS);
    struct ax_task *task = ax_task_spawn(&b->base);
    ax_executor_run(executor);
    /* 100 on time; 200 late, at 450, at once; 300 and 400 skipped; then 500 and 600. */
    static const uint64_t ticks_ms[] = {100, 200, 500, 600};
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(b->scheduled[i], START + ticks_ms[i] * MS);
    ck_assert_uint_eq(b->seen[1], b->seen[0] + 350 * MS); /* at once, late */
    ax_task_detach(task);
    ax_executor_free(executor);
}
END_TEST

/* Works for 30 ms of virtual time, then sleeps 100 ms, in the same poll. */
struct work_then_sleep {
    struct ax_future base;
    struct ax_sleep sleep;
    bool worked;
    uint64_t woke_at;
};

static ax_result work_then_sleep_poll(struct ax_future *self, struct ax_context *cx)
{
    struct work_then_sleep *w = (struct work_then_sleep *)self;
    if (!w->worked) {
        w->worked = true;
        ax_executor_advance_time(cx->executor, 30 * MS); /* the turn's clock is not moved */
        ax_sleep_init(&w->sleep, 100 * MS);
    }
    ax_result rc = ax_poll(&w->sleep.base, cx);
    if (rc == 0)
        w->woke_at = ax_executor_now(cx->executor);
    return rc;
}

static void work_then_sleep_drop(struct ax_future *self)
{
    struct work_then_sleep *w = (struct work_then_sleep *)self;
    if (w->worked)
        ax_future_drop(&w->sleep.base);
}

static const struct ax_future_ops work_then_sleep_ops = {.poll = work_then_sleep_poll,
                                                         .drop = work_then_sleep_drop};

START_TEST(a_sleep_for_a_duration_counts_from_its_first_poll_not_from_the_turn)
{
    struct ax_executor *executor = axt_paused_executor();
    struct work_then_sleep *w = ax_task_alloc(executor, sizeof *w);
    *w = (struct work_then_sleep){.base = {&work_then_sleep_ops}};
    struct ax_task *task = ax_task_spawn(&w->base);
    uint64_t *woke_at = &w->woke_at;
    ax_executor_run(executor);
    ck_assert_uint_ge(*woke_at, START + 130 * MS); /* not START + 100 ms */
    ck_assert_uint_le(*woke_at, START + 130 * MS + TICK);
    ax_task_detach(task);
    ax_executor_free(executor);
}
END_TEST

static Suite *sleep_suite(void)
{
    Suite *s = suite_create("05-sleep");
    TCase *tc = axt_tcase("sleep");
    tcase_add_test(tc, a_ten_second_sleep_on_paused_time_ends_ten_seconds_later_by_the_clock);
    tcase_add_test(tc, a_sleep_for_a_duration_counts_from_its_first_poll_not_from_the_turn);
    tcase_add_test(tc, sleeps_end_in_deadline_order_and_equal_deadlines_in_spawn_order);
    tcase_add_test(tc, a_deadline_already_past_ends_the_sleep_at_its_first_poll);
    tcase_add_test(tc, a_sleep_that_loses_a_select_is_cancelled_and_never_fires);
    tcase_add_test(tc, a_pending_timer_is_not_a_deadlock);
    tcase_add_test(tc, a_timeout_passes_on_a_result_that_comes_in_time);
    tcase_add_test(tc, a_timeout_drops_a_future_that_is_too_slow_and_says_etimedout);
    tcase_add_test(tc, a_result_ready_at_the_same_turn_as_the_timeout_wins);
    tcase_add_test(tc, time_advanced_by_hand_a_year_at_once_fires_what_is_due_in_order);
    tcase_add_test(tc, an_interval_ticks_on_its_schedule_however_long_each_tick_takes);
    tcase_add_test(tc, missed_ticks_are_skipped_and_the_schedule_is_kept);
    tcase_add_test(tc, a_real_sleep_of_two_milliseconds_is_not_shorter);
    tcase_add_test(tc, a_real_sleep_of_300_microseconds_is_not_shorter);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(sleep_suite)
