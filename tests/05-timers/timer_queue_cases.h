/*
 * What every timer queue of chapter 05 must do, written once for the timer wheel
 * (test_wheel.c) and for the heap of exercise 05-timer-heap (ex_timer_heap.c): when
 * timers fire, in what order, and what cancelling, past and far deadlines and callbacks
 * that arm and cancel timers do. The tests make time up; none waits.
 *
 * The file is included, not compiled on its own. The includer first binds it to its
 * queue, then includes it and calls tq_add_cases(tcase):
 *
 *   tq_queue, tq_timer         typedefs: the queue, and the timer the queue links in
 *   tq_init(q, now_ns)         an empty queue whose time starts at now_ns
 *   tq_free(q)                 releases what the queue holds
 *   tq_timer_init(t, fire)     an unarmed timer whose callback is fire(t)
 *   tq_insert(q, t, ns)        arms t for ns: 0, or a negative errno
 *   tq_cancel(q, t)            disarms t; nothing if it is not pending
 *   tq_next_ns(q)              when the queue next has work; UINT64_MAX when empty
 *   tq_advance(q, now_ns)      fires what is due by now_ns; how many fired
 *   tq_count(q)                how many timers are pending
 *   tq_pending(t)              whether t is armed
 *   TQ_SLACK_NS                how late a timer may fire: 0 for a queue that fires at
 *                              the deadline itself, one tick for a wheel
 *   TQ_MAX_STEPS               how many times following tq_next_ns may stop before a
 *                              lone timer fires: 1 when next_ns is the deadline itself
 *
 * Every function is called, so the binding may define them all as static functions.
 *
 * The rules, for any queue. A timer never fires at an advance to a time before its
 * deadline. It fires at the latest at the first advance to a time at or after its
 * deadline + TQ_SLACK_NS or, when it was armed for a time already past, at or after the
 * queue's time when it was armed + TQ_SLACK_NS. Timers armed by a callback never fire
 * in the advance that runs that callback. One advance fires timers in deadline order,
 * equal deadlines in the order they were armed.
 */
#ifndef TIMER_QUEUE_CASES_H
#define TIMER_QUEUE_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MS   (1000ull * 1000)
#define YEAR (365ull * 24 * 3600 * 1000 * MS)

enum { LOG_MAX = 4096 };

/* A timer that records, into a shared log, that it fired and when. */
struct probe {
    tq_timer timer;
    int id;
    uint64_t deadline; /* the one it was last armed for */
    struct log *log;
};

struct log {
    int ids[LOG_MAX];
    uint64_t at[LOG_MAX]; /* the queue's `now` when each fired */
    int count;
    uint64_t now;
};

static struct probe *probe_of(tq_timer *timer)
{
    return (struct probe *)(void *)((char *)timer - offsetof(struct probe, timer));
}

static void record(tq_timer *timer)
{
    struct probe *p = probe_of(timer);
    ck_assert_int_lt(p->log->count, LOG_MAX);
    p->log->ids[p->log->count] = p->id;
    p->log->at[p->log->count++] = p->log->now;
}

static void insert(tq_queue *queue, struct probe *p, uint64_t deadline)
{
    p->deadline = deadline;
    int rc = tq_insert(queue, &p->timer, deadline);
    if (rc != 0)
        ck_abort_msg("arming a timer for %llu ns failed: %d (%s)", (unsigned long long)deadline, rc,
                     strerror(-rc));
}

static void arm(tq_queue *queue, struct probe *p, struct log *log, int id, uint64_t deadline)
{
    p->id = id;
    p->log = log;
    tq_timer_init(&p->timer, record);
    insert(queue, p, deadline);
}

static size_t advance(tq_queue *queue, struct log *log, uint64_t now)
{
    log->now = now;
    return tq_advance(queue, now);
}

START_TEST(a_timer_fires_after_its_deadline_and_not_before)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    struct probe p;
    uint64_t deadline = 5 * MS + 123;
    arm(&queue, &p, &log, 1, deadline);
    ck_assert(tq_pending(&p.timer));
    ck_assert_uint_ne(tq_next_ns(&queue), UINT64_MAX);
    ck_assert_uint_le(tq_next_ns(&queue), deadline + TQ_SLACK_NS);
    ck_assert_uint_eq(advance(&queue, &log, deadline - 1), 0);
    ck_assert_uint_eq(advance(&queue, &log, deadline + TQ_SLACK_NS), 1);
    ck_assert_int_eq(log.ids[0], 1);
    ck_assert(!tq_pending(&p.timer));
    ck_assert_uint_eq(tq_next_ns(&queue), UINT64_MAX);
    tq_free(&queue);
}
END_TEST

/* Arms one timer for `deadline` and follows next_ns step by step, as the runtime's loop
 * does: it must fire, not early, within the slack, in at most TQ_MAX_STEPS steps. */
static void follow_next_ns_to(uint64_t deadline)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    struct probe p;
    arm(&queue, &p, &log, 1, deadline);
    for (int steps = 0; log.count == 0; steps++) {
        ck_assert_msg(steps < TQ_MAX_STEPS, "deadline %llu: no firing after %d steps",
                      (unsigned long long)deadline, steps);
        uint64_t next = tq_next_ns(&queue);
        ck_assert_uint_ne(next, UINT64_MAX);
        advance(&queue, &log, next);
    }
    ck_assert_uint_ge(log.at[0], deadline);
    ck_assert_uint_le(log.at[0], deadline + TQ_SLACK_NS);
    tq_free(&queue);
}

START_TEST(next_ns_leads_to_the_firing_without_skipping_it)
{
    static const uint64_t deadlines[] = {1,          700,           66 * 1000,
                                         4 * MS + 5, 3 * 1000 * MS, 5 * 3600 * 1000 * MS};
    for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++)
        follow_next_ns_to(deadlines[i]);
}
END_TEST

START_TEST(equal_deadlines_fire_in_insertion_order_whenever_they_were_armed)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    struct probe p[6];
    uint64_t deadline = 10 * 1000 * MS; /* far: a wheel starts them high and cascades */
    arm(&queue, &p[0], &log, 0, deadline);
    arm(&queue, &p[1], &log, 1, deadline);
    ck_assert_uint_eq(advance(&queue, &log, deadline - 3 * MS), 0); /* a wheel moved them */
    arm(&queue, &p[2], &log, 2, deadline); /* a wheel puts it straight into a low level */
    arm(&queue, &p[3], &log, 3, deadline - 1); /* earlier: fires first */
    ck_assert_uint_eq(advance(&queue, &log, deadline - TQ_SLACK_NS - 2), 0); /* none due */
    arm(&queue, &p[4], &log, 4, deadline);
    arm(&queue, &p[5], &log, 5, deadline + 1); /* later: fires last */
    ck_assert_uint_eq(advance(&queue, &log, deadline + 1 + TQ_SLACK_NS), 6);
    static const int order[] = {3, 0, 1, 2, 4, 5};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(log.ids[i], order[i]);
    tq_free(&queue);
}
END_TEST

START_TEST(a_cancelled_timer_never_fires)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    struct probe kept, cancelled, far;
    arm(&queue, &kept, &log, 1, 2 * MS);
    arm(&queue, &cancelled, &log, 2, 2 * MS);
    arm(&queue, &far, &log, 3, 100 * 1000 * MS);
    tq_cancel(&queue, &cancelled.timer);
    tq_cancel(&queue, &far.timer);
    tq_cancel(&queue, &far.timer); /* twice is harmless */
    ck_assert(!tq_pending(&cancelled.timer));
    ck_assert_uint_eq(tq_count(&queue), 1);
    ck_assert_uint_eq(advance(&queue, &log, 200 * 1000 * MS), 1);
    ck_assert_int_eq(log.ids[0], 1);
    tq_cancel(&queue, &kept.timer); /* after it fired: nothing happens */
    ck_assert_uint_eq(tq_next_ns(&queue), UINT64_MAX); /* nothing left behind */
    ck_assert_uint_eq(tq_count(&queue), 0);
    tq_free(&queue);
}
END_TEST

START_TEST(count_and_pending_follow_inserts_cancels_and_firings)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    struct probe a, b, c;
    arm(&queue, &a, &log, 1, 1 * MS);
    arm(&queue, &b, &log, 2, 2 * MS);
    arm(&queue, &c, &log, 3, 3 * MS);
    ck_assert_uint_eq(tq_count(&queue), 3);
    tq_cancel(&queue, &b.timer);
    ck_assert_uint_eq(tq_count(&queue), 2);
    ck_assert(tq_pending(&a.timer) && !tq_pending(&b.timer) && tq_pending(&c.timer));
    ck_assert_uint_eq(advance(&queue, &log, 1 * MS + TQ_SLACK_NS), 1);
    ck_assert_uint_eq(tq_count(&queue), 1);
    ck_assert(!tq_pending(&a.timer));
    insert(&queue, &a, 4 * MS); /* fired, then armed again */
    insert(&queue, &b, 2 * MS); /* cancelled, then armed again */
    ck_assert_uint_eq(tq_count(&queue), 3);
    ck_assert_uint_eq(advance(&queue, &log, 4 * MS + TQ_SLACK_NS), 3);
    static const int order[] = {1, 2, 3, 1};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(log.ids[i], order[i]);
    ck_assert_uint_eq(tq_count(&queue), 0);
    ck_assert_uint_eq(tq_next_ns(&queue), UINT64_MAX);
    tq_free(&queue);
}
END_TEST

START_TEST(a_deadline_in_the_past_fires_at_the_next_advance)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 50 * MS);
    struct probe p;
    arm(&queue, &p, &log, 1, 10 * MS);
    ck_assert_uint_le(tq_next_ns(&queue), 50 * MS + TQ_SLACK_NS);
    ck_assert_uint_eq(advance(&queue, &log, 50 * MS + TQ_SLACK_NS), 1);
    tq_free(&queue);
}
END_TEST

START_TEST(a_deadline_years_away_waits_for_it)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    struct probe p;
    uint64_t deadline = 20 * YEAR + 7; /* beyond a wheel's range of about nine years */
    arm(&queue, &p, &log, 1, deadline);
    for (uint64_t now = YEAR; now < deadline; now += YEAR)
        ck_assert_uint_eq(advance(&queue, &log, now), 0);
    ck_assert_uint_eq(advance(&queue, &log, deadline - 1), 0);
    ck_assert_uint_eq(advance(&queue, &log, deadline + TQ_SLACK_NS), 1);
    tq_free(&queue);
}
END_TEST

START_TEST(the_clock_jumping_far_ahead_fires_everything_due_in_deadline_order)
{
    enum { N = 1000 };
    tq_queue queue;
    static struct log log;
    log = (struct log){0};
    tq_init(&queue, 0);
    static struct probe p[N];
    srand(42);
    for (int i = 0; i < N; i++)
        arm(&queue, &p[i], &log, i, (uint64_t)rand() % (3600 * 1000 * MS));
    ck_assert_uint_eq(advance(&queue, &log, 2 * 3600 * 1000 * MS), N);
    for (int i = 1; i < N; i++) {
        struct probe *a = &p[log.ids[i - 1]], *b = &p[log.ids[i]];
        ck_assert(a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id));
    }
    tq_free(&queue);
}
END_TEST

/* The queue under test, for the callbacks that arm and cancel timers. */
static tq_queue *current_queue;

/* Re-arms itself for a time already past every time it fires. */
static void rearm_now(tq_timer *timer)
{
    record(timer);
    insert(current_queue, probe_of(timer), 0);
}

START_TEST(a_callback_that_rearms_for_now_fires_again_at_the_next_advance_only)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    current_queue = &queue;
    struct probe p = {.id = 1, .log = &log};
    tq_timer_init(&p.timer, rearm_now);
    insert(&queue, &p, MS);
    ck_assert_uint_eq(advance(&queue, &log, 2 * MS), 1);
    ck_assert_uint_eq(advance(&queue, &log, 2 * MS + TQ_SLACK_NS), 1);
    ck_assert_uint_eq(advance(&queue, &log, 2 * MS + 2 * TQ_SLACK_NS), 1);
    tq_cancel(&queue, &p.timer);
    ck_assert_uint_eq(tq_count(&queue), 0);
    tq_free(&queue);
}
END_TEST

/* The timers a callback arms, cancels or moves. */
static struct probe *victim, *armed_past, *armed_future;

static void cancel_victim(tq_timer *timer)
{
    record(timer);
    tq_cancel(current_queue, &victim->timer);
}

START_TEST(a_callback_may_cancel_a_timer_due_in_the_same_batch)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    current_queue = &queue;
    struct probe first = {.id = 1, .log = &log}, second;
    tq_timer_init(&first.timer, cancel_victim);
    insert(&queue, &first, MS);
    arm(&queue, &second, &log, 2, MS); /* due with the first, after it */
    victim = &second;
    ck_assert_uint_eq(advance(&queue, &log, 2 * MS), 1);
    ck_assert_int_eq(log.ids[0], 1);
    ck_assert(!tq_pending(&second.timer));
    ck_assert_uint_eq(tq_count(&queue), 0);
    tq_free(&queue);
}
END_TEST

/* Arms one timer for a time already past and one for the future, moves the victim (due
 * in this batch) to later, and cancels itself, which has no effect: it has fired. */
static void arm_others(tq_timer *timer)
{
    record(timer);
    uint64_t now = probe_of(timer)->log->now;
    insert(current_queue, armed_past, now - MS);
    insert(current_queue, armed_future, now + 5 * MS);
    tq_cancel(current_queue, &victim->timer);
    insert(current_queue, victim, now + MS);
    tq_cancel(current_queue, timer);
    ck_assert(!tq_pending(timer));
}

START_TEST(timers_armed_by_a_callback_wait_for_a_later_advance_even_when_due)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    current_queue = &queue;
    struct probe first = {.id = 1, .log = &log}, moved, past = {.id = 3, .log = &log},
                 future = {.id = 4, .log = &log};
    tq_timer_init(&first.timer, arm_others);
    tq_timer_init(&past.timer, record);
    tq_timer_init(&future.timer, record);
    insert(&queue, &first, 1 * MS);
    arm(&queue, &moved, &log, 2, 2 * MS); /* due in the same advance, until moved */
    victim = &moved;
    armed_past = &past;
    armed_future = &future;
    uint64_t now = 10 * MS;
    ck_assert_uint_eq(advance(&queue, &log, now), 1); /* only the first */
    ck_assert_uint_eq(tq_count(&queue), 3);
    ck_assert(tq_pending(&past.timer) && tq_pending(&moved.timer) && tq_pending(&future.timer));
    ck_assert_uint_le(tq_next_ns(&queue), now + TQ_SLACK_NS);
    ck_assert_uint_eq(advance(&queue, &log, now + TQ_SLACK_NS), 1); /* the one armed past */
    ck_assert_int_eq(log.ids[1], 3);
    ck_assert_uint_eq(advance(&queue, &log, now + MS - 1), 0);
    ck_assert_uint_eq(advance(&queue, &log, now + MS + TQ_SLACK_NS), 1);
    ck_assert_int_eq(log.ids[2], 2);
    ck_assert_uint_eq(advance(&queue, &log, now + 5 * MS - 1), 0);
    ck_assert_uint_eq(advance(&queue, &log, now + 5 * MS + TQ_SLACK_NS), 1);
    ck_assert_int_eq(log.ids[3], 4);
    ck_assert_uint_eq(tq_count(&queue), 0);
    tq_free(&queue);
}
END_TEST

/* The timers the first callback arms for a time already past, and the two of them the
 * second callback cancels before the advance ends. */
static struct probe *armed_by_first[4];

static void arm_four_past(tq_timer *timer)
{
    record(timer);
    uint64_t now = probe_of(timer)->log->now;
    for (int i = 0; i < 4; i++)
        insert(current_queue, armed_by_first[i], now - (uint64_t)(4 - i) * MS);
}

static void cancel_two_of_them(tq_timer *timer)
{
    record(timer);
    tq_cancel(current_queue, &armed_by_first[0]->timer);
    tq_cancel(current_queue, &armed_by_first[2]->timer);
    ck_assert(!tq_pending(&armed_by_first[0]->timer) && !tq_pending(&armed_by_first[2]->timer));
}

START_TEST(a_callback_may_cancel_timers_another_armed_in_the_same_advance)
{
    tq_queue queue;
    struct log log = {0};
    tq_init(&queue, 0);
    current_queue = &queue;
    struct probe first = {.id = 1, .log = &log}, second = {.id = 2, .log = &log}, armed[4];
    tq_timer_init(&first.timer, arm_four_past);
    tq_timer_init(&second.timer, cancel_two_of_them);
    for (int i = 0; i < 4; i++) {
        armed[i] = (struct probe){.id = 10 + i, .log = &log};
        tq_timer_init(&armed[i].timer, record);
        armed_by_first[i] = &armed[i];
    }
    insert(&queue, &first, 1 * MS);
    insert(&queue, &second, 2 * MS);
    uint64_t now = 10 * MS;
    ck_assert_uint_eq(advance(&queue, &log, now), 2);
    ck_assert_uint_eq(tq_count(&queue), 2);
    ck_assert_uint_eq(advance(&queue, &log, now + TQ_SLACK_NS), 2);
    ck_assert_int_eq(log.count, 4);
    ck_assert_int_eq(log.ids[2], 11);
    ck_assert_int_eq(log.ids[3], 13);
    ck_assert_uint_eq(tq_count(&queue), 0);
    tq_free(&queue);
}
END_TEST

START_TEST(random_timers_fire_once_each_never_early_and_within_the_slack_of_due)
{
    enum { N = 3000 };
    static struct log log;
    log = (struct log){0};
    static struct probe p[N];
    static bool cancelled[N];
    tq_queue queue;
    uint64_t start = 123456789;
    tq_init(&queue, start);
    srand(7);
    for (int i = 0; i < N; i++) {
        cancelled[i] = false;
        uint64_t span = i % 3 == 0 ? 10 * MS : i % 3 == 1 ? 10 * 1000 * MS : 3600 * 1000 * MS;
        arm(&queue, &p[i], &log, i, start + (uint64_t)rand() % span);
    }
    for (int i = 0; i < N; i += 7) {
        tq_cancel(&queue, &p[i].timer);
        cancelled[i] = true;
    }
    uint64_t now = start;
    while (tq_count(&queue) > 0) {
        if (now > start + 3600 * 1000 * MS + TQ_SLACK_NS + 50 * MS)
            ck_abort_msg("%zu timers still pending after every deadline", tq_count(&queue));
        uint64_t before = now;
        now += (uint64_t)rand() % (50 * MS); /* advance by uneven steps */
        size_t from = (size_t)log.count;
        advance(&queue, &log, now);
        for (int k = (int)from; k < log.count; k++) {
            uint64_t due = p[log.ids[k]].deadline;
            ck_assert_uint_ge(now, due); /* never early */
            ck_assert_uint_gt(due + TQ_SLACK_NS, before); /* not left over from a step before */
        }
    }
    int fired = 0;
    for (int i = 0; i < N; i++)
        fired += !cancelled[i];
    ck_assert_int_eq(log.count, fired);
    tq_free(&queue);
}
END_TEST

/*
 * The queue beside a model: a plain array of timers that says, for each advance, which
 * may fire (armed before the advance, deadline at or before its time), in what order
 * (deadline, then arming), and which must (due, as the rules above say, by the time
 * minus the slack). What the queue fires must be a prefix of that order holding every
 * timer that must fire, less the timers a callback cancels before their turn. Random
 * steps arm, cancel, move and advance; the callbacks re-arm their own timer, cancel
 * others and move them, for the past and for the future. Mismatches are checked with
 * `if`: a passing ck_assert is a message to the parent process, and there are many.
 */
struct model_timer {
    uint64_t seq; /* the order it was armed in */
    uint64_t due; /* its deadline, or the model's time when armed if that is later */
    bool armed;
    bool must; /* must fire in the advance under way */
    bool dropped; /* cancelled by a callback of the advance under way before its turn */
};

static struct model {
    tq_queue *queue;
    struct probe *p;
    struct model_timer *t;
    int *may; /* the timers that may fire in the advance under way, in order */
    int timers;
    uint64_t next_seq, now;
    uint64_t call_seq; /* next_seq when the advance under way began */
    bool busy; /* the callbacks arm, cancel and move timers */
    int last_armed; /* by a callback, or -1 */
    struct log log; /* this advance's firings */
} model;

/* Somewhere around now: mostly ahead, by up to a microsecond, a millisecond or a
 * second, and now and then already past. */
static uint64_t random_deadline(void)
{
    static const uint64_t spans[] = {1000, MS, 1000 * MS};
    uint64_t ahead = (uint64_t)rand() % spans[rand() % 3];
    if (rand() % 10 == 0)
        return model.now - ahead % (model.now + 1);
    return model.now + ahead;
}

static void model_arm(int id)
{
    uint64_t deadline = random_deadline();
    model.t[id].seq = model.next_seq++;
    model.t[id].due = deadline > model.now ? deadline : model.now;
    model.t[id].armed = true;
    insert(model.queue, &model.p[id], deadline);
}

static void model_cancel(int id)
{
    struct model_timer *t = &model.t[id];
    if (t->armed && t->seq < model.call_seq)
        t->dropped = true; /* harmless when no advance is under way: it is reset */
    t->armed = false;
    tq_cancel(model.queue, &model.p[id].timer);
}

static void model_fire(tq_timer *timer)
{
    int id = probe_of(timer)->id;
    if (model.log.count == LOG_MAX || !model.t[id].armed)
        ck_abort_msg("timer %d fired twice, or while it was not armed", id);
    model.log.ids[model.log.count++] = id;
    model.t[id].armed = false;
    if (!model.busy)
        return;
    /* The other timer is often the one a callback armed last: it may be waiting for the
     * advance to end, and cancelling one of those has to work too. */
    int other = model.last_armed >= 0 && rand() % 2 ? model.last_armed : rand() % model.timers;
    int what = rand() % 8;
    if (what < 2) {
        model_arm(id);
        model.last_armed = id;
    } else if (what < 3) {
        model_cancel(other);
    } else if (what < 4) {
        model_cancel(other);
        model_arm(other);
        model.last_armed = other;
    }
}

static int model_order(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    if (model.p[x].deadline != model.p[y].deadline)
        return model.p[x].deadline < model.p[y].deadline ? -1 : 1;
    return model.t[x].seq < model.t[y].seq ? -1 : model.t[x].seq > model.t[y].seq;
}

/* One advance, checked against the model. */
static void model_advance(uint64_t now)
{
    int n_may = 0;
    for (int id = 0; id < model.timers; id++) {
        struct model_timer *t = &model.t[id];
        t->dropped = false;
        t->must = t->armed && t->due + TQ_SLACK_NS <= now;
        if (t->armed && model.p[id].deadline <= now)
            model.may[n_may++] = id;
    }
    qsort(model.may, (size_t)n_may, sizeof *model.may, model_order);
    model.now = now;
    model.call_seq = model.next_seq;
    model.last_armed = -1;
    model.log.count = 0;
    size_t fired = tq_advance(model.queue, now);
    if (fired != (size_t)model.log.count)
        ck_abort_msg("advance to %llu said %zu fired, callbacks ran %d times",
                     (unsigned long long)now, fired, model.log.count);
    int n = 0, must_before = 0; /* every timer that must fire is in may[0, must_before) */
    for (int k = 0; k < n_may; k++) {
        int id = model.may[k];
        if (model.t[id].dropped)
            continue;
        model.may[n++] = id;
        if (model.t[id].must)
            must_before = n;
    }
    if (model.log.count < must_before)
        ck_abort_msg("advance to %llu fired %d timers; timer %d was due by %llu and did not fire",
                     (unsigned long long)now, model.log.count, model.may[must_before - 1],
                     (unsigned long long)model.t[model.may[must_before - 1]].due);
    for (int k = 0; k < model.log.count; k++)
        if (k >= n || model.log.ids[k] != model.may[k])
            ck_abort_msg(
                "advance to %llu: firing %d was timer %d, expected %d (of %d that may fire)",
                (unsigned long long)now, k, model.log.ids[k], k < n ? model.may[k] : -1, n);
}

static void model_check_state(int step)
{
    size_t armed = 0;
    uint64_t soonest = UINT64_MAX;
    for (int id = 0; id < model.timers; id++) {
        const struct model_timer *t = &model.t[id];
        if (tq_pending(&model.p[id].timer) != t->armed)
            ck_abort_msg("step %d: timer %d: pending is %d, the model says %d", step, id,
                         (int)tq_pending(&model.p[id].timer), (int)t->armed);
        if (t->armed) {
            armed++;
            if (t->due + TQ_SLACK_NS < soonest)
                soonest = t->due + TQ_SLACK_NS;
        }
    }
    if (tq_count(model.queue) != armed)
        ck_abort_msg("step %d: count is %zu, expected %zu", step, tq_count(model.queue), armed);
    uint64_t next = tq_next_ns(model.queue);
    if (armed == 0 ? next != UINT64_MAX : next > soonest)
        ck_abort_msg("step %d: next_ns is %llu, expected %s %llu", step, (unsigned long long)next,
                     armed == 0 ? "" : "at most", (unsigned long long)soonest);
}

/* `steps` random steps over `timers` timers, starting at time `start`. */
static void run_beside_the_model(unsigned seed, int timers, int steps, uint64_t start)
{
    tq_queue queue;
    tq_init(&queue, start);
    model = (struct model){.queue = &queue,
                           .p = calloc((size_t)timers, sizeof *model.p),
                           .t = calloc((size_t)timers, sizeof *model.t),
                           .may = calloc((size_t)timers, sizeof *model.may),
                           .timers = timers,
                           .now = start,
                           .busy = true,
                           .last_armed = -1};
    ck_assert(model.p != NULL && model.t != NULL && model.may != NULL);
    for (int id = 0; id < timers; id++) {
        model.p[id].id = id;
        model.p[id].log = &model.log;
        tq_timer_init(&model.p[id].timer, model_fire);
    }
    srand(seed);
    for (int step = 0; step < steps; step++) {
        int id = rand() % timers, what = rand() % 10;
        if (what < 5) { /* arm, or move if armed */
            model_cancel(id);
            model_arm(id);
        } else if (what < 7) {
            model_cancel(id);
        } else {
            static const uint64_t steps_ns[] = {0, 1000, MS, 100 * MS};
            model_advance(model.now + (uint64_t)rand() % (steps_ns[rand() % 4] + 1));
        }
        model_check_state(step);
    }
    model.busy = false; /* then one advance past every deadline fires every timer */
    model_advance(model.now + 2000 * MS);
    model_check_state(steps);
    ck_assert_uint_eq(tq_count(&queue), 0);
    tq_free(&queue);
    free(model.p);
    free(model.t);
    free(model.may);
}

START_TEST(random_steps_fire_what_a_sorted_list_of_timers_says)
{
    run_beside_the_model(11, 64, 20000, 5 * MS);
}
END_TEST

/* Adds every case above to tc. */
static void tq_add_cases(TCase *tc)
{
    tcase_add_test(tc, a_timer_fires_after_its_deadline_and_not_before);
    tcase_add_test(tc, next_ns_leads_to_the_firing_without_skipping_it);
    tcase_add_test(tc, equal_deadlines_fire_in_insertion_order_whenever_they_were_armed);
    tcase_add_test(tc, a_cancelled_timer_never_fires);
    tcase_add_test(tc, count_and_pending_follow_inserts_cancels_and_firings);
    tcase_add_test(tc, a_deadline_in_the_past_fires_at_the_next_advance);
    tcase_add_test(tc, a_deadline_years_away_waits_for_it);
    tcase_add_test(tc, the_clock_jumping_far_ahead_fires_everything_due_in_deadline_order);
    tcase_add_test(tc, a_callback_that_rearms_for_now_fires_again_at_the_next_advance_only);
    tcase_add_test(tc, a_callback_may_cancel_a_timer_due_in_the_same_batch);
    tcase_add_test(tc, timers_armed_by_a_callback_wait_for_a_later_advance_even_when_due);
    tcase_add_test(tc, a_callback_may_cancel_timers_another_armed_in_the_same_advance);
    tcase_add_test(tc, random_timers_fire_once_each_never_early_and_within_the_slack_of_due);
    tcase_add_test(tc, random_steps_fire_what_a_sorted_list_of_timers_says);
}

#endif
