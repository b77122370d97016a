/* The timer wheel against a model of what it promises, under a long random mix of
 * inserts, cancels and advances of every size: the spread-out cascading and the
 * rings' second turns are exercised at every level, and after each advance the model
 * checks the promises one by one. No test waits. */
#include "axtest.h"
#include "ax/wheel.h"

enum { N = 4000, ROUNDS = 60, INSERTS_PER_ROUND = 1500, ADVANCES_PER_ROUND = 25 };
#define TICK_NS ((uint64_t)1 << AX_WHEEL_TICK_SHIFT)

/* A timer and what the model expects of it. */
struct modelled {
    struct ax_timer timer;
    uint64_t due; /* the deadline, or the insert time when that was later */
};

struct model {
    struct ax_wheel wheel;
    struct modelled timers[N];
    uint64_t now, rng;
    uint64_t last_due, last_deadline, last_seq; /* the previous firing of this advance */
    const char *broken; /* the first promise found broken, for the message */
};

static struct model *the_model; /* the fire callback's way back to the model */

static uint64_t next_random(struct model *m)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return m->rng;
}

static uint64_t tick_of(uint64_t ns)
{
    return ns >> AX_WHEEL_TICK_SHIFT;
}

static void fired(struct ax_timer *timer)
{
    struct model *m = the_model;
    struct modelled *t = ax_container_of(timer, struct modelled, timer);
    if (t->timer.deadline > m->now)
        m->broken = m->broken ? m->broken : "a timer fired before its deadline";
    /* Within one advance: slots in tick order; in a slot, by deadline, then insertion. */
    bool in_order = tick_of(t->due) > tick_of(m->last_due) ||
                    (tick_of(t->due) == tick_of(m->last_due) &&
                     (t->timer.deadline > m->last_deadline ||
                      (t->timer.deadline == m->last_deadline && t->timer.seq > m->last_seq)));
    if (!in_order && m->last_due != 0)
        m->broken = m->broken ? m->broken : "timers fired out of order";
    m->last_due = t->due;
    m->last_deadline = t->timer.deadline;
    m->last_seq = t->timer.seq;
}

/* A deadline from near (this tick) to years away, now and then already past, and often
 * one another timer has, so that equal deadlines meet after different paths down. */
static uint64_t random_deadline(struct model *m)
{
    uint64_t r = next_random(m) % 100;
    struct modelled *other = &m->timers[next_random(m) % N];
    if (r < 15 && other->timer.deadline >= m->now)
        return other->timer.deadline;
    if (r < 20)
        return m->now - next_random(m) % (1000 * TICK_NS);
    uint64_t span = r < 45   ? (uint64_t)1 << 22 /* level 0 and 1 */
                    : r < 70 ? (uint64_t)1 << 32 /* seconds: level 1 and 2 */
                    : r < 90 ? (uint64_t)1 << 42 /* an hour and more */
                             : (uint64_t)1 << 58; /* years */
    return m->now + next_random(m) % span;
}

static void check_promises(struct model *m)
{
    size_t pending = 0;
    uint64_t earliest = UINT64_MAX;
    int overdue = -1;
    for (int i = 0; i < N; i++) {
        struct modelled *t = &m->timers[i];
        if (!t->timer.pending)
            continue;
        pending++;
        if (tick_of(t->due) < tick_of(m->now) && overdue < 0)
            overdue = i;
        if (t->due < earliest)
            earliest = t->due;
    }
    ck_assert_msg(overdue < 0, "timer %d is overdue and still pending", overdue);
    ck_assert_uint_eq(m->wheel.count, pending);
    uint64_t next = ax_wheel_next_ns(&m->wheel);
    if (pending == 0) {
        ck_assert_uint_eq(next, UINT64_MAX);
        return;
    }
    /* The wheel may have work before the earliest timer (moving timers down), never after
     * that timer's tick is over. */
    ck_assert_uint_le(next, (tick_of(earliest) + 1) << AX_WHEEL_TICK_SHIFT);
}

static void run_model(uint64_t start, uint64_t seed)
{
    static struct model model;
    struct model *m = &model;
    *m = (struct model){.now = start, .rng = seed};
    the_model = m;
    ax_wheel_init(&m->wheel, m->now);
    for (int i = 0; i < N; i++)
        ax_timer_init(&m->timers[i].timer, fired);
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < INSERTS_PER_ROUND; k++) {
            struct modelled *t = &m->timers[next_random(m) % N];
            if (t->timer.pending) {
                if (next_random(m) % 3 == 0)
                    ax_wheel_cancel(&m->wheel, &t->timer);
                continue;
            }
            uint64_t deadline = random_deadline(m);
            ax_wheel_insert(&m->wheel, &t->timer, deadline);
            /* Past deadlines are due at the end of the tick the wheel is in. */
            uint64_t current = m->wheel.elapsed << AX_WHEEL_TICK_SHIFT;
            t->due = tick_of(deadline) < m->wheel.elapsed ? current : deadline;
        }
        for (int k = 0; k < ADVANCES_PER_ROUND; k++) {
            uint64_t r = next_random(m);
            uint64_t step = r % 8 == 0   ? r % ((uint64_t)1 << 34) /* seconds at once */
                            : r % 8 == 1 ? 0
                                         : r % ((uint64_t)1 << 17); /* a few dozen ticks */
            m->now += step;
            m->last_due = m->last_deadline = m->last_seq = 0;
            ax_wheel_advance(&m->wheel, m->now);
            ck_assert_msg(m->broken == NULL, "%s (round %d)", m->broken, round);
            check_promises(m);
        }
    }
}

START_TEST(the_wheel_keeps_its_promises_under_a_random_mix)
{
    run_model(123456789, 88172645463325252u);
}
END_TEST

START_TEST(the_wheel_keeps_its_promises_from_time_zero)
{
    run_model(0, 0x9E3779B97F4A7C15u);
}
END_TEST

START_TEST(the_wheel_keeps_its_promises_far_into_the_clock)
{
    run_model((uint64_t)1 << 62, 0xD1B54A32D192ED03u);
}
END_TEST

static Suite *wheel_model_suite(void)
{
    Suite *s = suite_create("05-wheel-model");
    TCase *tc = axt_tcase("model");
    tcase_add_test(tc, the_wheel_keeps_its_promises_under_a_random_mix);
    tcase_add_test(tc, the_wheel_keeps_its_promises_from_time_zero);
    tcase_add_test(tc, the_wheel_keeps_its_promises_far_into_the_clock);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(wheel_model_suite)
