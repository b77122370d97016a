/* Exercise 04-first-error: try_join succeeds only if every future does, and the first
 * error drops every other future at once, each exactly once. */
#include "axtest.h"
#include "try_join.h"

#include "ax/error.h"
#include "ax/event.h"
#include "ax/task.h"

#include <errno.h>

enum { N = 4 };

/* What the test sees of one future: its polls and drops, counted outside the task. */
struct tally {
    int polls, drops;
};

/* Finishes with `value` once `gate` is set (at once when gate is NULL). */
struct leaf {
    struct ax_future base;
    struct ax_event_wait wait;
    struct ax_event *gate;
    ax_result value;
    struct tally *tally;
};

static ax_result leaf_poll(struct ax_future *self, struct ax_context *cx)
{
    struct leaf *l = (struct leaf *)self;
    l->tally->polls++;
    ck_assert_msg(l->tally->drops == 0, "a future was polled after it was dropped");
    if (l->gate != NULL && ax_poll(&l->wait.base, cx) == AX_PENDING)
        return AX_PENDING;
    return l->value;
}

static void leaf_drop(struct ax_future *self)
{
    struct leaf *l = (struct leaf *)self;
    if (l->gate != NULL)
        ax_future_drop(&l->wait.base);
    l->tally->drops++;
}

static const struct ax_future_ops leaf_ops = {.poll = leaf_poll, .drop = leaf_drop};

/* The task under test: a try_join over N leaves. When the join finishes it notes what
 * had been dropped by then, to tell "dropped at once" from "dropped with the join". */
struct harness {
    struct ax_future base;
    struct leaf leaves[N];
    struct ax_future *futures[N];
    bool dropped[N];
    struct try_join join;
    struct tally *tallies;
    int drops_at_result[N];
    int *drops_at_result_out; /* the test's copy */
};

static ax_result harness_poll(struct ax_future *self, struct ax_context *cx)
{
    struct harness *h = (struct harness *)self;
    ax_result rc = ax_poll(&h->join.base, cx);
    if (rc != AX_PENDING)
        for (int i = 0; i < N; i++)
            h->drops_at_result_out[i] = h->tallies[i].drops;
    return rc;
}

static void harness_drop(struct ax_future *self)
{
    ax_future_drop(&((struct harness *)self)->join.base);
}

static const struct ax_future_ops harness_ops = {.poll = harness_poll, .drop = harness_drop};

struct scene {
    struct ax_executor *executor;
    struct ax_event never, soon;
    struct tally tallies[N];
    ax_result results[N];
    int drops_at_result[N];
};

/* Builds the harness task over N leaves: gates[i] is 'n' (never), 's' (soon: set by a
 * task spawned after the harness) or '-' (no gate). */
static struct ax_task *start(struct scene *sc, const char gates[N], const ax_result values[N])
{
    ck_assert_int_eq(ax_executor_new(&sc->executor, NULL), 0);
    ax_event_init(&sc->never);
    ax_event_init(&sc->soon);
    for (int i = 0; i < N; i++) {
        sc->results[i] = -12345; /* "never written" */
        sc->drops_at_result[i] = -1;
    }
    struct harness *h = ax_task_alloc(sc->executor, sizeof *h);
    ck_assert_ptr_nonnull(h);
    *h = (struct harness){
        .base = {&harness_ops}, .tallies = sc->tallies, .drops_at_result_out = sc->drops_at_result};
    for (int i = 0; i < N; i++) {
        struct ax_event *gate = gates[i] == 'n' ? &sc->never : gates[i] == 's' ? &sc->soon : NULL;
        h->leaves[i] = (struct leaf){
            .base = {&leaf_ops}, .gate = gate, .value = values[i], .tally = &sc->tallies[i]};
        if (gate != NULL)
            ax_event_wait_init(&h->leaves[i].wait, gate);
        h->futures[i] = &h->leaves[i].base;
    }
    try_join_init(&h->join, h->futures, sc->results, h->dropped, N);
    return ax_task_spawn(&h->base);
}

/* Sets an event when it runs. */
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

static void assert_result(ax_result got, ax_result want)
{
    ck_assert_msg(got == want, "the join finished with %lld (%s), expected %lld (%s)",
                  (long long)got, got < 0 ? ax_strerror((int)got) : "success", (long long)want,
                  want < 0 ? ax_strerror((int)want) : "success");
}

static void assert_each_dropped_once(const struct scene *sc)
{
    for (int i = 0; i < N; i++)
        ck_assert_msg(sc->tallies[i].drops == 1, "future %d was dropped %d times, expected once", i,
                      sc->tallies[i].drops);
}

START_TEST(try_join_succeeds_when_every_future_does_and_keeps_results_in_order)
{
    struct scene sc = {0};
    struct ax_task *task = start(&sc, "s-s-", (const ax_result[N]){10, 11, 12, 13});
    spawn_setter(sc.executor, &sc.soon);
    assert_result(ax_block_on(sc.executor, task), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(sc.results[i], 10 + i);
    assert_each_dropped_once(&sc);
    ax_executor_free(sc.executor);
    assert_each_dropped_once(&sc);
}
END_TEST

START_TEST(try_join_fails_with_the_first_error_and_drops_the_rest_at_once)
{
    struct scene sc = {0};
    struct ax_task *task = start(&sc, "nsn-", (const ax_result[N]){1, -EIO, 3, 4});
    spawn_setter(sc.executor, &sc.soon);
    assert_result(ax_block_on(sc.executor, task), -EIO);
    for (int i = 0; i < N; i++)
        ck_assert_msg(sc.drops_at_result[i] == 1,
                      "when the error came back, future %d had been dropped %d times, expected "
                      "once",
                      i, sc.drops_at_result[i]);
    ck_assert_msg(ax_list_empty(&sc.never.waiters), "a cancelled future still waits on its event");
    ck_assert_int_eq(sc.results[3], 4); /* it had finished, in the first round */
    ck_assert_int_eq(sc.results[0], -12345); /* cancelled: no result */
    ax_executor_free(sc.executor);
    assert_each_dropped_once(&sc);
}
END_TEST

START_TEST(try_join_an_error_in_the_first_round_drops_futures_not_yet_polled)
{
    struct scene sc = {0};
    struct ax_task *task = start(&sc, "n-nn", (const ax_result[N]){1, -ECONNRESET, 3, 4});
    assert_result(ax_block_on(sc.executor, task), -ECONNRESET);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(sc.drops_at_result[i], 1);
    ck_assert_msg(sc.tallies[2].polls == 0 && sc.tallies[3].polls == 0,
                  "futures after the failed one were polled after the failure");
    ax_executor_free(sc.executor);
    assert_each_dropped_once(&sc);
}
END_TEST

START_TEST(try_join_dropped_undecided_drops_every_future_once)
{
    struct scene sc = {0};
    struct ax_task *task = start(&sc, "nnn-", (const ax_result[N]){1, 2, 3, 4});
    assert_result(ax_block_on(sc.executor, task), -EDEADLK); /* nothing will set `never` */
    ax_executor_free(sc.executor); /* drops the task, its join, and so the futures */
    assert_each_dropped_once(&sc);
    ck_assert(ax_list_empty(&sc.never.waiters));
}
END_TEST

START_TEST(try_join_of_nothing_succeeds_at_once)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    struct try_join *join = ax_task_alloc(executor, sizeof *join);
    bool dropped[1];
    ax_result results[1];
    try_join_init(join, NULL, results, dropped, 0);
    assert_result(ax_block_on(executor, ax_task_spawn(&join->base)), 0);
    ax_executor_free(executor);
}
END_TEST

static Suite *try_join_suite(void)
{
    Suite *s = suite_create("04-first-error");
    TCase *tc = axt_tcase("try_join");
    tcase_add_test(tc, try_join_succeeds_when_every_future_does_and_keeps_results_in_order);
    tcase_add_test(tc, try_join_fails_with_the_first_error_and_drops_the_rest_at_once);
    tcase_add_test(tc, try_join_an_error_in_the_first_round_drops_futures_not_yet_polled);
    tcase_add_test(tc, try_join_dropped_undecided_drops_every_future_once);
    tcase_add_test(tc, try_join_of_nothing_succeeds_at_once);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(try_join_suite)
