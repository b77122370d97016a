/* The timer wheel on its own, on time the tests make up: when timers fire, in what
 * order, and what cancelling, cascading and far deadlines do. No test waits. */
#include "axtest.h"
#include "ax/wheel.h"

#include <stdlib.h>

enum { TICK = 1 << AX_WHEEL_TICK_SHIFT };
#define MS   (1000ull * 1000)
#define YEAR (365ull * 24 * 3600 * 1000 * MS)

/* A timer that records, into a shared log, that it fired and when. */
struct probe {
    struct ax_timer timer;
    int id;
    struct log *log;
};

struct log {
    int ids[4096];
    uint64_t at[4096]; /* the wheel's `now` when each fired */
    int count;
    uint64_t now;
};

static void record(struct ax_timer *timer)
{
    struct probe *p = ax_container_of(timer, struct probe, timer);
    ck_assert_int_lt(p->log->count, 4096);
    p->log->ids[p->log->count] = p->id;
    p->log->at[p->log->count++] = p->log->now;
}

static void arm(struct ax_wheel *wheel, struct probe *p, struct log *log, int id, uint64_t deadline)
{
    p->id = id;
    p->log = log;
    ax_timer_init(&p->timer, record);
    ax_wheel_insert(wheel, &p->timer, deadline);
}

static size_t advance(struct ax_wheel *wheel, struct log *log, uint64_t now)
{
    log->now = now;
    return ax_wheel_advance(wheel, now);
}

START_TEST(a_timer_fires_after_its_deadline_and_not_before)
{
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 0);
    struct probe p;
    uint64_t deadline = 5 * MS + 123;
    arm(&wheel, &p, &log, 1, deadline);
    ck_assert_uint_ge(ax_wheel_next_ns(&wheel), 0);
    ck_assert_uint_le(ax_wheel_next_ns(&wheel), deadline + TICK);
    ck_assert_uint_eq(advance(&wheel, &log, deadline - 1), 0);
    ck_assert_uint_eq(advance(&wheel, &log, deadline + TICK), 1);
    ck_assert_int_eq(log.ids[0], 1);
    ck_assert(!p.timer.pending);
    ck_assert_uint_eq(ax_wheel_next_ns(&wheel), UINT64_MAX);
}
END_TEST

START_TEST(next_ns_leads_to_the_firing_without_skipping_it)
{
    /* Following next_ns step by step, as the runtime's loop does, never fires early
     * and fires within a tick of the deadline. */
    static const uint64_t deadlines[] = {
        1, 700, 65 * TICK, 4097ull * TICK + 5, 3 * 1000 * MS, 5 * 3600 * 1000 * MS};
    for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++) {
        struct ax_wheel wheel;
        struct log log = {0};
        ax_wheel_init(&wheel, 0);
        struct probe p;
        arm(&wheel, &p, &log, 1, deadlines[i]);
        for (int steps = 0; log.count == 0; steps++) {
            ck_assert_int_lt(steps, 2 * AX_WHEEL_LEVELS);
            uint64_t next = ax_wheel_next_ns(&wheel);
            ck_assert_uint_ne(next, UINT64_MAX);
            advance(&wheel, &log, next);
        }
        ck_assert_uint_ge(log.at[0], deadlines[i]);
        ck_assert_uint_le(log.at[0], deadlines[i] + TICK);
    }
}
END_TEST

START_TEST(equal_deadlines_fire_in_insertion_order_even_after_cascading)
{
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 0);
    struct probe p[6];
    uint64_t deadline = 10 * 1000 * MS; /* far enough to start high and cascade */
    arm(&wheel, &p[0], &log, 0, deadline);
    arm(&wheel, &p[1], &log, 1, deadline);
    advance(&wheel, &log, deadline - 3 * MS); /* the first two have moved down */
    arm(&wheel, &p[2], &log, 2, deadline); /* inserted straight into a low level */
    arm(&wheel, &p[3], &log, 3, deadline - 1); /* earlier: fires first */
    advance(&wheel, &log, deadline - TICK);
    arm(&wheel, &p[4], &log, 4, deadline);
    arm(&wheel, &p[5], &log, 5, deadline + 1); /* later: fires last */
    ck_assert_uint_eq(advance(&wheel, &log, deadline + 2 * TICK), 6);
    static const int order[] = {3, 0, 1, 2, 4, 5};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(log.ids[i], order[i]);
}
END_TEST

START_TEST(a_cancelled_timer_never_fires)
{
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 0);
    struct probe kept, cancelled, far;
    arm(&wheel, &kept, &log, 1, 2 * MS);
    arm(&wheel, &cancelled, &log, 2, 2 * MS);
    arm(&wheel, &far, &log, 3, 100 * 1000 * MS);
    ax_wheel_cancel(&wheel, &cancelled.timer);
    ax_wheel_cancel(&wheel, &far.timer);
    ax_wheel_cancel(&wheel, &far.timer); /* twice is harmless */
    ck_assert(!cancelled.timer.pending);
    ck_assert_uint_eq(advance(&wheel, &log, 200 * 1000 * MS), 1);
    ck_assert_int_eq(log.ids[0], 1);
    ax_wheel_cancel(&wheel, &kept.timer); /* after it fired: nothing happens */
    ck_assert_uint_eq(ax_wheel_next_ns(&wheel), UINT64_MAX); /* no bit left behind */
    ck_assert_uint_eq(wheel.count, 0);
}
END_TEST

START_TEST(a_deadline_in_the_past_fires_at_the_next_advance)
{
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 50 * MS);
    struct probe p;
    arm(&wheel, &p, &log, 1, 10 * MS);
    ck_assert_uint_le(ax_wheel_next_ns(&wheel), 50 * MS + TICK);
    ck_assert_uint_eq(advance(&wheel, &log, 50 * MS + TICK), 1);
}
END_TEST

START_TEST(a_deadline_years_away_waits_for_it_even_beyond_the_wheel)
{
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 0);
    struct probe p;
    uint64_t deadline = 20 * YEAR + 7; /* beyond the wheel's range of about nine years */
    arm(&wheel, &p, &log, 1, deadline);
    for (uint64_t now = YEAR; now < deadline; now += YEAR)
        ck_assert_uint_eq(advance(&wheel, &log, now), 0);
    ck_assert_uint_eq(advance(&wheel, &log, deadline - 1), 0);
    ck_assert_uint_eq(advance(&wheel, &log, deadline + TICK), 1);
}
END_TEST

START_TEST(the_clock_jumping_far_ahead_fires_everything_due_in_deadline_order)
{
    enum { N = 1000 };
    struct ax_wheel wheel;
    static struct log log;
    log = (struct log){0};
    ax_wheel_init(&wheel, 0);
    static struct probe p[N];
    srand(42);
    for (int i = 0; i < N; i++)
        arm(&wheel, &p[i], &log, i, (uint64_t)rand() % (3600 * 1000 * MS));
    ck_assert_uint_eq(advance(&wheel, &log, 2 * 3600 * 1000 * MS), N);
    for (int i = 1; i < N; i++) {
        struct probe *a = &p[log.ids[i - 1]], *b = &p[log.ids[i]];
        ck_assert(a->timer.deadline < b->timer.deadline ||
                  (a->timer.deadline == b->timer.deadline && a->id < b->id));
    }
}
END_TEST

/* Re-arms itself for a time already past every time it fires. */
static struct ax_wheel *rearm_wheel;

static void rearm_now(struct ax_timer *timer)
{
    record(timer);
    ax_wheel_insert(rearm_wheel, timer, 0); /* already past */
}

START_TEST(a_callback_that_rearms_for_now_fires_again_at_the_next_advance_only)
{
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 0);
    rearm_wheel = &wheel;
    struct probe p = {.id = 1, .log = &log};
    ax_timer_init(&p.timer, rearm_now);
    ax_wheel_insert(&wheel, &p.timer, MS);
    ck_assert_uint_eq(advance(&wheel, &log, 2 * MS), 1);
    ck_assert_uint_eq(advance(&wheel, &log, 2 * MS + TICK), 1);
    ck_assert_uint_eq(advance(&wheel, &log, 2 * MS + 2 * TICK), 1);
    ax_wheel_cancel(&wheel, &p.timer);
}
END_TEST

static struct probe *victim;

static void cancel_victim(struct ax_timer *timer)
{
    record(timer);
    ax_wheel_cancel(rearm_wheel, &victim->timer);
}

START_TEST(a_callback_may_cancel_a_timer_due_in_the_same_batch)
{
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 0);
    rearm_wheel = &wheel;
    struct probe first = {.id = 1, .log = &log}, second;
    ax_timer_init(&first.timer, cancel_victim);
    ax_wheel_insert(&wheel, &first.timer, MS);
    arm(&wheel, &second, &log, 2, MS); /* same tick, after the first */
    victim = &second;
    ck_assert_uint_eq(advance(&wheel, &log, 2 * MS), 1);
    ck_assert_int_eq(log.ids[0], 1);
    ck_assert(!second.timer.pending);
    ck_assert_uint_eq(wheel.count, 0);
}
END_TEST

START_TEST(random_timers_fire_once_each_never_early_and_within_a_tick_of_due)
{
    enum { N = 3000 };
    static struct log log;
    log = (struct log){0};
    static struct probe p[N];
    static bool cancelled[N];
    struct ax_wheel wheel;
    uint64_t start = 123456789;
    ax_wheel_init(&wheel, start);
    srand(7);
    for (int i = 0; i < N; i++) {
        cancelled[i] = false;
        uint64_t span = i % 3 == 0 ? 10 * MS : i % 3 == 1 ? 10 * 1000 * MS : 3600 * 1000 * MS;
        arm(&wheel, &p[i], &log, i, start + (uint64_t)rand() % span);
    }
    for (int i = 0; i < N; i += 7) {
        ax_wheel_cancel(&wheel, &p[i].timer);
        cancelled[i] = true;
    }
    uint64_t now = start;
    while (wheel.count > 0) {
        uint64_t before = now;
        now += (uint64_t)rand() % (50 * MS); /* advance by uneven steps */
        size_t from = (size_t)log.count;
        advance(&wheel, &log, now);
        for (int k = (int)from; k < log.count; k++) {
            uint64_t due = p[log.ids[k]].timer.deadline;
            ck_assert_uint_ge(now, due); /* never early */
            ck_assert_uint_gt(due + TICK, before); /* not left over from an earlier step */
        }
    }
    int fired = 0;
    for (int i = 0; i < N; i++)
        fired += !cancelled[i];
    ck_assert_int_eq(log.count, fired);
}
END_TEST

/* Arms a timer for three ticks after the next 64-tick boundary, from its callback. */
static struct probe *armed_across;

static void arm_across_the_boundary(struct ax_timer *timer)
{
    record(timer);
    ax_wheel_insert(rearm_wheel, &armed_across->timer, (AX_WHEEL_SLOTS + 3) * TICK);
}

START_TEST(a_callback_arming_past_a_level_boundary_does_not_hide_the_slot_due_there)
{
    /* `first` is the last slot of level 0's first turn; `boundary` starts the next turn,
     * in level 1 until the wheel gets there. The callback of `first` runs as the wheel
     * crosses into that turn, and arms a timer just past it: the slot of level 1 that
     * begins there must still be moved down and fired, before the later timer. */
    struct ax_wheel wheel;
    struct log log = {0};
    ax_wheel_init(&wheel, 0);
    rearm_wheel = &wheel;
    struct probe first = {.id = 1, .log = &log}, boundary, across = {.id = 3, .log = &log};
    ax_timer_init(&first.timer, arm_across_the_boundary);
    ax_timer_init(&across.timer, record);
    armed_across = &across;
    ax_wheel_insert(&wheel, &first.timer, (AX_WHEEL_SLOTS - 1) * TICK);
    arm(&wheel, &boundary, &log, 2, AX_WHEEL_SLOTS * TICK);
    ck_assert_uint_eq(advance(&wheel, &log, (AX_WHEEL_SLOTS + 1) * TICK), 2);
    ck_assert_int_eq(log.ids[1], 2);
    ck_assert_uint_eq(advance(&wheel, &log, (AX_WHEEL_SLOTS + 4) * TICK), 1);
    ck_assert_int_eq(log.ids[2], 3);
}
END_TEST

static Suite *wheel_suite(void)
{
    Suite *s = suite_create("05-wheel");
    TCase *tc = axt_tcase("wheel");
    tcase_add_test(tc, a_timer_fires_after_its_deadline_and_not_before);
    tcase_add_test(tc, next_ns_leads_to_the_firing_without_skipping_it);
    tcase_add_test(tc, equal_deadlines_fire_in_insertion_order_even_after_cascading);
    tcase_add_test(tc, a_cancelled_timer_never_fires);
    tcase_add_test(tc, a_deadline_in_the_past_fires_at_the_next_advance);
    tcase_add_test(tc, a_deadline_years_away_waits_for_it_even_beyond_the_wheel);
    tcase_add_test(tc, the_clock_jumping_far_ahead_fires_everything_due_in_deadline_order);
    tcase_add_test(tc, a_callback_that_rearms_for_now_fires_again_at_the_next_advance_only);
    tcase_add_test(tc, a_callback_may_cancel_a_timer_due_in_the_same_batch);
    tcase_add_test(tc, random_timers_fire_once_each_never_early_and_within_a_tick_of_due);
    tcase_add_test(tc, a_callback_arming_past_a_level_boundary_does_not_hide_the_slot_due_there);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(wheel_suite)
