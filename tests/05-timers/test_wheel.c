/* The timer wheel on its own, on time the tests make up: the cases every timer queue
 * shares (timer_queue_cases.h: when timers fire, in what order, what cancelling, past
 * and far deadlines and callbacks do), then what is the wheel's own: its levels. No
 * test waits. */
#include "axtest.h"
#include "ax/wheel.h"

enum { TICK = 1 << AX_WHEEL_TICK_SHIFT };

/* The shared cases, bound to the wheel. A level-0 slot fires once its whole tick has
 * passed, so a timer may fire up to a tick late; following next_ns stops where each
 * level's slot begins, on the way down, before the timer fires. */
typedef struct ax_wheel tq_queue;
typedef struct ax_timer tq_timer;
#define TQ_SLACK_NS  ((uint64_t)TICK)
#define TQ_MAX_STEPS (2 * AX_WHEEL_LEVELS)

static void tq_init(tq_queue *queue, uint64_t now_ns)
{
    ax_wheel_init(queue, now_ns);
}

static void tq_free(tq_queue *queue)
{
    (void)queue; /* a wheel holds no memory of its own */
}

static void tq_timer_init(tq_timer *timer, void (*fire)(tq_timer *))
{
    ax_timer_init(timer, fire);
}

static int tq_insert(tq_queue *queue, tq_timer *timer, uint64_t deadline_ns)
{
    ax_wheel_insert(queue, timer, deadline_ns);
    return 0;
}

static void tq_cancel(tq_queue *queue, tq_timer *timer)
{
    ax_wheel_cancel(queue, timer);
}

static uint64_t tq_next_ns(const tq_queue *queue)
{
    return ax_wheel_next_ns(queue);
}

static size_t tq_advance(tq_queue *queue, uint64_t now_ns)
{
    return ax_wheel_advance(queue, now_ns);
}

static size_t tq_count(const tq_queue *queue)
{
    return queue->count;
}

static bool tq_pending(const tq_timer *timer)
{
    return timer->pending;
}

#include "timer_queue_cases.h"

START_TEST(next_ns_leads_to_the_firing_from_each_level)
{
    /* Deadlines whose first slot is on level 1, 2 and 3: next_ns stops where each
     * level's slot begins, to move the timer down, and the timer still fires in time. */
    static const uint64_t deadlines[] = {65 * TICK, 4097ull * TICK + 5, 262145ull * TICK + 9};
    for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++)
        follow_next_ns_to(deadlines[i]);
}
END_TEST

/* Arms a timer for three ticks after the next 64-tick boundary, from its callback. */
static struct probe *armed_across;

static void arm_across_the_boundary(tq_timer *timer)
{
    record(timer);
    insert(current_queue, armed_across, (AX_WHEEL_SLOTS + 3) * TICK);
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
    current_queue = &wheel;
    struct probe first = {.id = 1, .log = &log}, boundary, across = {.id = 3, .log = &log};
    ax_timer_init(&first.timer, arm_across_the_boundary);
    ax_timer_init(&across.timer, record);
    armed_across = &across;
    insert(&wheel, &first, (AX_WHEEL_SLOTS - 1) * TICK);
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
    tq_add_cases(tc);
    tcase_add_test(tc, next_ns_leads_to_the_firing_from_each_level);
    tcase_add_test(tc, a_callback_arming_past_a_level_boundary_does_not_hide_the_slot_due_there);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(wheel_suite)
