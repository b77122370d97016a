/* The wait queue (ax/waitq.h): waiters are woken one at a time or all at once, oldest
 * first; a waiter parked twice keeps its place; a waiter that leaves, woken or not,
 * leaves the queue consistent and says whether it carried a wake. */
#include "axtest.h"
#include "by_hand.h"
#include "ax/task.h"
#include "ax/waitq.h"

#include <errno.h>
#include <stdbool.h>

enum { MAX_TASKS = 8 };

/* A task that waits on the queue until it is woken, then logs its id. */
struct parked {
    struct ax_future base;
    struct ax_waitq *q;
    struct ax_waiter waiter;
    int id;
    int *log, *count;
    bool found_nothing; /* woken, it finds the thing gone and parks at the front again */
};

static ax_result parked_poll(struct ax_future *self, struct ax_context *cx)
{
    struct parked *p = (struct parked *)self;
    if (p->waiter.woken && p->found_nothing) {
        ax_waitq_park_front(p->q, &p->waiter, cx);
        return AX_PENDING;
    }
    if (p->waiter.woken) {
        ax_waitq_cancel(&p->waiter); /* acted on: clears the mark, lets the waker go */
        if (p->log != NULL)
            p->log[(*p->count)++] = p->id;
        return 0;
    }
    ax_waitq_park(p->q, &p->waiter, cx);
    return AX_PENDING;
}

static void parked_drop(struct ax_future *self)
{
    ax_waitq_cancel(&((struct parked *)self)->waiter);
}

static const struct ax_future_ops parked_ops = {.poll = parked_poll, .drop = parked_drop};

static void parked_init(struct parked *p, struct ax_waitq *q, int id, int *log, int *count)
{
    *p = (struct parked){.base = {&parked_ops}, .q = q, .id = id, .log = log, .count = count};
    ax_waiter_init(&p->waiter);
}

/* Spawns n parked tasks with ids 0..n-1 and lets each park once. */
static void spawn_parked(struct ax_executor *executor, struct ax_waitq *q, int n, int *log,
                         int *count)
{
    for (int i = 0; i < n; i++) {
        struct parked *p = ax_task_alloc(executor, sizeof *p);
        ck_assert_ptr_nonnull(p);
        parked_init(p, q, i, log, count);
        ax_task_detach(ax_task_spawn(&p->base));
    }
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK); /* all parked, none woken */
}

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

START_TEST(wake_one_wakes_only_the_oldest_waiter)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    int log[MAX_TASKS], count = 0;
    spawn_parked(executor, &q, 3, log, &count);
    ck_assert(ax_waitq_wake_one(&q));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0], 0);
    ck_assert_uint_eq(ax_executor_tasks(executor), 2);
    ax_executor_free(executor);
}
END_TEST

START_TEST(wake_one_in_turn_wakes_waiters_in_the_order_they_parked)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    int log[MAX_TASKS], count = 0;
    spawn_parked(executor, &q, 4, log, &count);
    while (ax_waitq_wake_one(&q))
        ax_executor_run(executor);
    ck_assert_int_eq(count, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(log[i] == i, "woken %d-th: task %d", i, log[i]);
    ax_executor_free(executor);
}
END_TEST

START_TEST(wake_all_wakes_every_waiter_oldest_first)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    int log[MAX_TASKS], count = 0;
    spawn_parked(executor, &q, 5, log, &count);
    ck_assert_uint_eq(ax_waitq_wake_all(&q), 5);
    ck_assert(ax_waitq_empty(&q));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 5);
    int expected[] = {0, 1, 2, 3, 4};
    ck_assert_mem_eq(log, expected, sizeof expected);
    ax_executor_free(executor);
}
END_TEST

START_TEST(waking_an_empty_queue_wakes_nobody)
{
    struct ax_waitq q;
    ax_waitq_init(&q);
    ck_assert(!ax_waitq_wake_one(&q));
    ck_assert_uint_eq(ax_waitq_wake_all(&q), 0);
    ck_assert_ptr_null(ax_waitq_front(&q));
}
END_TEST

START_TEST(a_waiter_polled_again_keeps_its_place_in_line)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    struct parked first, second;
    parked_init(&first, &q, 0, NULL, NULL);
    parked_init(&second, &q, 1, NULL, NULL);
    ck_assert(axt_poll_once(executor, &first.base) == AX_PENDING);
    ck_assert(axt_poll_once(executor, &second.base) == AX_PENDING);
    ck_assert(axt_poll_once(executor, &first.base) == AX_PENDING); /* parks again */
    ck_assert_ptr_eq(ax_waitq_front(&q), &first.waiter);
    ck_assert(ax_waitq_wake_one(&q));
    ck_assert(first.waiter.woken);
    ck_assert(!second.waiter.woken);
    ck_assert_ptr_eq(ax_waitq_front(&q), &second.waiter);
    ax_future_drop(&first.base);
    ax_future_drop(&second.base);
    ck_assert(ax_waitq_empty(&q));
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_woken_waiter_parked_at_the_front_is_woken_first_next_time)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    struct parked first, second;
    parked_init(&first, &q, 0, NULL, NULL);
    parked_init(&second, &q, 1, NULL, NULL);
    ck_assert(axt_poll_once(executor, &first.base) == AX_PENDING);
    ck_assert(axt_poll_once(executor, &second.base) == AX_PENDING);
    ck_assert(ax_waitq_wake_one(&q));
    first.found_nothing = true;
    ck_assert(axt_poll_once(executor, &first.base) == AX_PENDING);
    ck_assert_ptr_eq(ax_waitq_front(&q), &first.waiter);
    ck_assert(!first.waiter.woken);
    ax_future_drop(&first.base);
    ax_future_drop(&second.base);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_waiter_that_leaves_the_middle_of_the_line_leaves_the_rest_in_order)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    struct parked p[3];
    for (int i = 0; i < 3; i++) {
        parked_init(&p[i], &q, i, NULL, NULL);
        ck_assert(axt_poll_once(executor, &p[i].base) == AX_PENDING);
    }
    ck_assert(!ax_waitq_cancel(&p[1].waiter)); /* never woken: no wake to pass on */
    ck_assert(!ax_waiter_parked(&p[1].waiter));
    ck_assert(ax_waitq_wake_one(&q));
    ck_assert(ax_waitq_wake_one(&q));
    ck_assert(!ax_waitq_wake_one(&q));
    ck_assert(p[0].waiter.woken && !p[1].waiter.woken && p[2].waiter.woken);
    for (int i = 0; i < 3; i++)
        ax_future_drop(&p[i].base);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_woken_waiter_that_leaves_says_it_carried_a_wake_once)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    struct parked p;
    parked_init(&p, &q, 0, NULL, NULL);
    ck_assert(axt_poll_once(executor, &p.base) == AX_PENDING);
    ck_assert(ax_waitq_wake_one(&q));
    ck_assert(ax_waitq_cancel(&p.waiter)); /* woken, not acted on: pass it on */
    ck_assert(!ax_waitq_cancel(&p.waiter)); /* and only once */
    ck_assert(ax_waitq_empty(&q));
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_dropped_parked_task_is_gone_from_the_queue_and_wakes_go_to_the_others)
{
    struct ax_executor *executor = new_executor();
    struct ax_waitq q;
    ax_waitq_init(&q);
    int log[MAX_TASKS], count = 0;
    struct ax_task *tasks[3];
    for (int i = 0; i < 3; i++) {
        struct parked *p = ax_task_alloc(executor, sizeof *p);
        ck_assert_ptr_nonnull(p);
        parked_init(p, &q, i, log, &count);
        tasks[i] = ax_task_spawn(&p->base);
    }
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_task_abort(tasks[0]); /* parked: dropped at once, which leaves the queue */
    ck_assert(ax_waitq_wake_one(&q));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0], 1);
    for (int i = 0; i < 3; i++)
        ax_task_detach(tasks[i]);
    ax_executor_free(executor);
}
END_TEST

static Suite *waitq_suite(void)
{
    Suite *s = suite_create("waitq");
    TCase *tc = axt_tcase("waitq");
    tcase_add_test(tc, wake_one_wakes_only_the_oldest_waiter);
    tcase_add_test(tc, wake_one_in_turn_wakes_waiters_in_the_order_they_parked);
    tcase_add_test(tc, wake_all_wakes_every_waiter_oldest_first);
    tcase_add_test(tc, waking_an_empty_queue_wakes_nobody);
    tcase_add_test(tc, a_waiter_polled_again_keeps_its_place_in_line);
    tcase_add_test(tc, a_woken_waiter_parked_at_the_front_is_woken_first_next_time);
    tcase_add_test(tc, a_waiter_that_leaves_the_middle_of_the_line_leaves_the_rest_in_order);
    tcase_add_test(tc, a_woken_waiter_that_leaves_says_it_carried_a_wake_once);
    tcase_add_test(tc, a_dropped_parked_task_is_gone_from_the_queue_and_wakes_go_to_the_others);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(waitq_suite)
