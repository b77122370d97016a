/* Exercise 04-join-dynamic: a join set waits for every task in it, however many the
 * tasks themselves add while it waits, and reports the first error only at the end. */
#include "axtest.h"
#include "join_set.h"

#include "ax/error.h"
#include "ax/event.h"
#include "ax/task.h"

#include <errno.h>

/* What the tasks of a test share: the set, and counters the test reads afterwards. */
struct world {
    struct ax_executor *executor;
    struct join_set set;
    int finished; /* nodes that ran to their end */
};

/* A task in the set: waits for `gate` (if any), then yields `yields` times, then spawns
 * `fanout` nodes of depth - 1 into the set (if depth > 0), then finishes with `value`. */
struct node {
    struct ax_future base;
    struct world *world;
    struct ax_event_wait gate;
    bool gated;
    int yields, depth, fanout;
    ax_result value;
};

static void spawn_node(struct world *w, struct ax_event *gate, int yields, int depth, int fanout,
                       ax_result value);

static ax_result node_poll(struct ax_future *self, struct ax_context *cx)
{
    struct node *n = (struct node *)self;
    if (n->gated && ax_poll(&n->gate.base, cx) == AX_PENDING)
        return AX_PENDING;
    if (n->yields > 0) {
        n->yields--;
        struct ax_waker me = ax_waker_clone(cx);
        ax_wake(&me);
        return AX_PENDING;
    }
    for (int i = 0; n->depth > 0 && i < n->fanout; i++)
        spawn_node(n->world, NULL, 1, n->depth - 1, n->fanout, n->value);
    n->world->finished++;
    return n->value;
}

static void node_drop(struct ax_future *self)
{
    struct node *n = (struct node *)self;
    if (n->gated)
        ax_future_drop(&n->gate.base);
}

static const struct ax_future_ops node_ops = {.poll = node_poll, .drop = node_drop};

static void spawn_node(struct world *w, struct ax_event *gate, int yields, int depth, int fanout,
                       ax_result value)
{
    struct node *n = ax_task_alloc(w->executor, sizeof *n);
    ck_assert_ptr_nonnull(n);
    *n = (struct node){.base = {&node_ops},
                       .world = w,
                       .gated = gate != NULL,
                       .yields = yields,
                       .depth = depth,
                       .fanout = fanout,
                       .value = value};
    if (gate != NULL)
        ax_event_wait_init(&n->gate, gate);
    ck_assert_int_eq(join_set_spawn(&w->set, &n->base), 0);
}

/* The task that awaits the set; notes how many nodes had finished when the wait
 * returned (other tasks may run after it in the same round). */
struct waiter {
    struct ax_future base;
    struct join_set_wait wait;
    struct world *world;
    int *finished_at_return; /* the test's */
    bool give_up; /* poll once; if pending, drop the wait and finish with 1 */
    bool polled;
};

static ax_result waiter_poll(struct ax_future *self, struct ax_context *cx)
{
    struct waiter *w = (struct waiter *)self;
    if (w->give_up && w->polled) {
        ax_future_drop(&w->wait.base);
        return 1;
    }
    w->polled = true;
    ax_result rc = ax_poll(&w->wait.base, cx);
    if (rc == AX_PENDING) {
        if (w->give_up) { /* come back at once, to give up */
            struct ax_waker me = ax_waker_clone(cx);
            ax_wake(&me);
        }
        return AX_PENDING;
    }
    *w->finished_at_return = w->world->finished;
    ax_future_drop(&w->wait.base);
    return rc;
}

static const struct ax_future_ops waiter_ops = {.poll = waiter_poll};

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

static void spawn_setter(struct world *w, struct ax_event *event)
{
    struct setter *s = ax_task_alloc(w->executor, sizeof *s);
    *s = (struct setter){.base = {&setter_ops}, .event = event};
    ax_task_detach(ax_task_spawn(&s->base));
}

static void world_init(struct world *w)
{
    *w = (struct world){0};
    ck_assert_int_eq(ax_executor_new(&w->executor, NULL), 0);
    join_set_init(&w->set, w->executor);
}

static void world_free(struct world *w)
{
    join_set_free(&w->set);
    ax_executor_free(w->executor);
}

/* Awaits the set from a task; returns the wait's result, and in *finished how many
 * nodes had finished when it returned. */
static ax_result wait_for_set(struct world *w, int *finished, bool give_up)
{
    static int ignored;
    struct waiter *t = ax_task_alloc(w->executor, sizeof *t);
    ck_assert_ptr_nonnull(t);
    *t = (struct waiter){.base = {&waiter_ops},
                         .world = w,
                         .finished_at_return = finished != NULL ? finished : &ignored,
                         .give_up = give_up};
    join_set_wait_init(&t->wait, &w->set);
    return ax_block_on(w->executor, ax_task_spawn(&t->base));
}

static void assert_result(ax_result got, ax_result want)
{
    ck_assert_msg(got == want, "the wait finished with %lld (%s), expected %lld", (long long)got,
                  got < 0 ? ax_strerror((int)got) : "a count", (long long)want);
}

START_TEST(join_set_joins_every_task_and_counts_them)
{
    struct world w;
    world_init(&w);
    struct ax_event later;
    ax_event_init(&later);
    for (int i = 0; i < 100; i++)
        spawn_node(&w, i % 2 ? &later : NULL, i % 3, 0, 0, 1);
    spawn_setter(&w, &later);
    int finished;
    assert_result(wait_for_set(&w, &finished, false), 100);
    ck_assert_int_eq(finished, 100);
    world_free(&w);
}
END_TEST

START_TEST(join_set_waits_for_tasks_spawned_into_it_while_it_waits)
{
    struct world w;
    world_init(&w);
    struct ax_event go;
    ax_event_init(&go);
    spawn_node(&w, &go, 0, 1, 3, 1); /* once `go` is set: three more, each yielding first */
    spawn_setter(&w, &go);
    int finished;
    assert_result(wait_for_set(&w, &finished, false), 4);
    ck_assert_msg(finished == 4, "the wait returned when %d of 4 tasks had finished", finished);
    world_free(&w);
}
END_TEST

START_TEST(join_set_joins_a_tree_of_tasks_that_spawn_tasks)
{
    struct world w;
    world_init(&w);
    spawn_node(&w, NULL, 1, 8, 2, 1); /* 1 + 2 + 4 + ... + 256 */
    int finished;
    assert_result(wait_for_set(&w, &finished, false), 511);
    ck_assert_int_eq(finished, 511);
    world_free(&w);
}
END_TEST

START_TEST(join_set_reports_the_first_error_once_every_task_is_done)
{
    struct world w;
    world_init(&w);
    spawn_node(&w, NULL, 10, 0, 0, 1); /* finishes last, and well */
    spawn_node(&w, NULL, 0, 0, 0, -EIO); /* fails first */
    spawn_node(&w, NULL, 5, 0, 0, -EPIPE); /* fails second */
    int finished;
    assert_result(wait_for_set(&w, &finished, false), -EIO);
    ck_assert_msg(finished == 3, "the error came back when %d of 3 tasks had finished", finished);
    world_free(&w);
}
END_TEST

START_TEST(an_empty_join_set_finishes_at_once_with_zero)
{
    struct world w;
    world_init(&w);
    assert_result(wait_for_set(&w, NULL, false), 0);
    world_free(&w);
}
END_TEST

START_TEST(a_wait_dropped_while_waiting_leaves_the_set_to_the_next_wait)
{
    struct world w;
    world_init(&w);
    struct ax_event later;
    ax_event_init(&later);
    for (int i = 0; i < 10; i++)
        spawn_node(&w, &later, 0, 0, 0, 1);
    assert_result(wait_for_set(&w, NULL, true), 1); /* polled once, pending, dropped */
    spawn_setter(&w, &later);
    int finished;
    assert_result(wait_for_set(&w, &finished, false), 10);
    ck_assert_int_eq(finished, 10);
    world_free(&w);
}
END_TEST

START_TEST(join_set_free_gives_back_the_handles_of_tasks_it_did_not_join)
{
    struct world w;
    world_init(&w);
    struct ax_event later;
    ax_event_init(&later);
    for (int i = 0; i < 10; i++)
        spawn_node(&w, &later, 0, 0, 0, 1);
    join_set_free(&w.set); /* the tasks run on, detached */
    ck_assert_msg(ax_list_empty(&w.set.members), "members are left after join_set_free");
    spawn_setter(&w, &later);
    ck_assert_int_eq(ax_executor_run(w.executor), 0);
    ck_assert_int_eq(w.finished, 10);
    ck_assert_int_eq(ax_executor_tasks(w.executor), 0); /* valgrind: nothing leaked */
    world_free(&w);
}
END_TEST

static Suite *join_set_suite(void)
{
    Suite *s = suite_create("04-join-dynamic");
    TCase *tc = axt_tcase("join_set");
    tcase_add_test(tc, join_set_joins_every_task_and_counts_them);
    tcase_add_test(tc, join_set_waits_for_tasks_spawned_into_it_while_it_waits);
    tcase_add_test(tc, join_set_joins_a_tree_of_tasks_that_spawn_tasks);
    tcase_add_test(tc, join_set_reports_the_first_error_once_every_task_is_done);
    tcase_add_test(tc, an_empty_join_set_finishes_at_once_with_zero);
    tcase_add_test(tc, a_wait_dropped_while_waiting_leaves_the_set_to_the_next_wait);
    tcase_add_test(tc, join_set_free_gives_back_the_handles_of_tasks_it_did_not_join);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(join_set_suite)
