/* join_all and select: results in order, and every sub-future dropped exactly once. */
#include "axtest.h"
#include "ax/combine.h"
#include "ax/event.h"
#include "ax/task.h"

#include <errno.h>

/* Finishes with `value` once `event` is set (at once when event is NULL); counts its
 * drops. */
struct leaf {
    struct ax_future base;
    struct ax_event_wait wait;
    struct ax_event *event;
    ax_result value;
    int *drops; /* the test's counter: it outlives the task */
};

static ax_result leaf_poll(struct ax_future *self, struct ax_context *cx)
{
    struct leaf *l = (struct leaf *)self;
    if (l->event != NULL && ax_poll(&l->wait.base, cx) == AX_PENDING)
        return AX_PENDING;
    return l->value;
}

static void leaf_drop(struct ax_future *self)
{
    struct leaf *l = (struct leaf *)self;
    if (l->event != NULL)
        ax_future_drop(&l->wait.base);
    (*l->drops)++;
}

static const struct ax_future_ops leaf_ops = {.poll = leaf_poll, .drop = leaf_drop};

static void leaf_init(struct leaf *l, struct ax_event *event, ax_result value, int *drops)
{
    *l = (struct leaf){.base = {&leaf_ops}, .event = event, .value = value, .drops = drops};
    if (event != NULL)
        ax_event_wait_init(&l->wait, event);
}

enum { N = 4 };

/* The task under test: a combinator over N leaves, both living in the task. */
struct harness {
    struct ax_future base;
    struct leaf leaves[N];
    struct ax_future *futures[N];
    bool finished[N];
    struct ax_join_all join;
    struct ax_select select;
    bool use_select;
};

static ax_result harness_poll(struct ax_future *self, struct ax_context *cx)
{
    struct harness *h = (struct harness *)self;
    return ax_poll(h->use_select ? &h->select.base : &h->join.base, cx);
}

static void harness_drop(struct ax_future *self)
{
    struct harness *h = (struct harness *)self;
    ax_future_drop(h->use_select ? &h->select.base : &h->join.base);
}

static const struct ax_future_ops harness_ops = {.poll = harness_poll, .drop = harness_drop};

static struct harness *new_harness(struct ax_executor *executor, bool use_select,
                                   struct ax_event *events[N], const ax_result values[N],
                                   int drops[N], ax_result results[N])
{
    struct harness *h = ax_task_alloc(executor, sizeof *h);
    *h = (struct harness){.base = {&harness_ops}, .use_select = use_select};
    for (int i = 0; i < N; i++) {
        leaf_init(&h->leaves[i], events[i], values[i], &drops[i]);
        h->futures[i] = &h->leaves[i].base;
    }
    if (use_select)
        ax_select_init(&h->select, h->futures, N);
    else
        ax_join_all_init(&h->join, h->futures, results, h->finished, N);
    return h;
}

/* Sets an event when polled. */
struct setter {
    struct ax_future base;
    struct ax_event *event;
};

static ax_result setter_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    ax_event_set(((struct setter *)self)->event);
    return 0;
}

static const struct ax_future_ops setter_ops = {.poll = setter_poll};

static void spawn_setter(struct ax_executor *executor, struct ax_event *event)
{
    struct setter *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct setter){.base = {&setter_ops}, .event = event};
    ax_task_detach(ax_task_spawn(&s->base));
}

START_TEST(join_all_waits_for_every_future_and_keeps_results_in_order)
{
    struct ax_executor *executor;
    ax_executor_new(&executor, NULL);
    struct ax_event late;
    ax_event_init(&late);
    struct ax_event *events[N] = {&late, NULL, &late, NULL};
    const ax_result values[N] = {10, 11, -EIO, 13}; /* an error does not end the join */
    int drops[N] = {0};
    ax_result results[N]; /* the test's: they outlive the task */
    struct harness *h = new_harness(executor, false, events, values, drops, results);
    struct ax_task *task = ax_task_spawn(&h->base);
    spawn_setter(executor, &late);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(results[i], values[i]);
        ck_assert_int_eq(drops[i], 1);
    }
    ax_executor_free(executor);
}
END_TEST

START_TEST(select_returns_the_first_to_finish_and_drops_each_loser_once)
{
    struct ax_executor *executor;
    ax_executor_new(&executor, NULL);
    struct ax_event never, soon;
    ax_event_init(&never);
    ax_event_init(&soon);
    struct ax_event *events[N] = {&never, &never, &soon, &never};
    const ax_result values[N] = {1, 2, 3, 4};
    int drops[N] = {0};
    struct harness *h = new_harness(executor, true, events, values, drops, NULL);
    struct ax_task *task = ax_task_spawn(&h->base);
    spawn_setter(executor, &soon);
    ck_assert_int_eq(ax_block_on(executor, task), 3);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(drops[i], 1);
    ck_assert(ax_list_empty(&never.waiters)); /* the losers unlinked themselves */
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_select_dropped_undecided_drops_every_future_once)
{
    struct ax_executor *executor;
    ax_executor_new(&executor, NULL);
    struct ax_event never;
    ax_event_init(&never);
    struct ax_event *events[N] = {&never, &never, &never, &never};
    const ax_result values[N] = {1, 2, 3, 4};
    int drops[N] = {0};
    struct harness *h = new_harness(executor, true, events, values, drops, NULL);
    struct ax_task *task = ax_task_spawn(&h->base);
    ck_assert_int_eq(ax_block_on(executor, task), -EDEADLK);
    ax_executor_free(executor); /* drops the task's select, and with it the leaves */
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(drops[i], 1);
    ck_assert(ax_list_empty(&never.waiters));
}
END_TEST

/* Polls a select over N leaves that are all ready at once; returns the winner. */
static ax_result select_all_ready(bool biased, int drops[N])
{
    struct leaf leaves[N];
    struct ax_future *futures[N];
    for (int i = 0; i < N; i++) {
        leaf_init(&leaves[i], NULL, i, &drops[i]);
        futures[i] = &leaves[i].base;
    }
    struct ax_select select;
    if (biased)
        ax_select_init_biased(&select, futures, N);
    else
        ax_select_init(&select, futures, N);
    struct ax_context cx = {0}; /* ready leaves never ask for a waker */
    ax_result winner = ax_poll(&select.base, &cx);
    ck_assert_int_eq(winner, (ax_result)select.winner);
    ck_assert_int_eq(ax_poll(&select.base, &cx), -EINVAL); /* decided: a defined error */
    ax_future_drop(&select.base);
    return winner;
}

START_TEST(a_select_whose_futures_are_all_ready_does_not_always_pick_the_first)
{
    enum { ROUNDS = 1000 };
    int wins[N] = {0}, drops[N] = {0};
    for (int round = 0; round < ROUNDS; round++)
        wins[select_all_ready(false, drops)]++;
    for (int i = 0; i < N; i++) {
        ck_assert_msg(wins[i] >= ROUNDS / N / 2, "future %d won %d of %d selects", i, wins[i],
                      ROUNDS);
        ck_assert_int_eq(drops[i], ROUNDS); /* each exactly once per select */
    }
}
END_TEST

START_TEST(a_biased_select_prefers_its_first_ready_future)
{
    int drops[N] = {0};
    for (int round = 0; round < 100; round++)
        ck_assert_int_eq(select_all_ready(true, drops), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(drops[i], 100);
}
END_TEST

static Suite *combine_suite(void)
{
    Suite *s = suite_create("04-combine");
    TCase *tc = axt_tcase("combine");
    tcase_add_test(tc, join_all_waits_for_every_future_and_keeps_results_in_order);
    tcase_add_test(tc, select_returns_the_first_to_finish_and_drops_each_loser_once);
    tcase_add_test(tc, a_select_dropped_undecided_drops_every_future_once);
    tcase_add_test(tc, a_select_whose_futures_are_all_ready_does_not_always_pick_the_first);
    tcase_add_test(tc, a_biased_select_prefers_its_first_ready_future);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(combine_suite)
