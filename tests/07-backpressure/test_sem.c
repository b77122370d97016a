/* The fair semaphore (ax/sem.h): permits go to waiters in the order they asked, a big
 * request at the head holds back smaller ones behind it, and an acquire dropped while
 * waiting or after it was handed its permits leaves the count and the line as if it
 * had never asked. Time is virtual. */
#include "axtest.h"
#include "by_hand.h"
#include "virtual_time.h"
#include "ax/sem.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS (1000ull * 1000)

/* A task that acquires n permits and logs its id when it has them. */
struct acquirer {
    struct ax_future base;
    struct ax_sem_acquire acquire;
    int id;
    int *log, *count;
};

static ax_result acquirer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct acquirer *a = (struct acquirer *)self;
    ax_result rc = ax_poll(&a->acquire.base, cx);
    if (rc == 0)
        a->log[(*a->count)++] = a->id;
    return rc;
}

static void acquirer_drop(struct ax_future *self)
{
    ax_future_drop(&((struct acquirer *)self)->acquire.base);
}

static const struct ax_future_ops acquirer_ops = {.poll = acquirer_poll, .drop = acquirer_drop};

static struct ax_task *spawn_acquirer(struct ax_executor *executor, struct ax_sem *sem, size_t n,
                                      int id, int *log, int *count)
{
    struct acquirer *a = ax_task_alloc(executor, sizeof *a);
    ck_assert_ptr_nonnull(a);
    *a = (struct acquirer){.base = {&acquirer_ops}, .id = id, .log = log, .count = count};
    ax_sem_acquire_init(&a->acquire, sem, n);
    return ax_task_spawn(&a->base);
}

START_TEST(try_acquire_takes_permits_while_enough_are_free)
{
    struct ax_sem sem;
    ax_sem_init(&sem, 3);
    ck_assert_int_eq(ax_sem_try_acquire(&sem, 2), 0);
    ck_assert_int_eq(ax_sem_try_acquire(&sem, 2), -EAGAIN);
    ck_assert_int_eq(ax_sem_try_acquire(&sem, 1), 0);
    ck_assert_uint_eq(ax_sem_available(&sem), 0);
    ax_sem_release(&sem, 3);
    ck_assert_uint_eq(ax_sem_available(&sem), 3);
}
END_TEST

START_TEST(an_acquire_waits_until_enough_permits_are_released)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 1);
    struct ax_sem_acquire a;
    ax_sem_acquire_init(&a, &sem, 3);
    ck_assert(axt_poll_once(executor, &a.base) == AX_PENDING);
    ax_sem_release(&sem, 1);
    ck_assert(axt_poll_once(executor, &a.base) == AX_PENDING); /* 2 of 3 */
    ax_sem_release(&sem, 1);
    ck_assert_int_eq(axt_poll_once(executor, &a.base), 0);
    ax_future_drop(&a.base);
    ck_assert_uint_eq(ax_sem_available(&sem), 0); /* all three are the caller's */
    ax_executor_free(executor);
}
END_TEST

START_TEST(waiters_get_their_permits_in_the_order_they_asked)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 0);
    int log[8], count = 0;
    for (int id = 0; id < 4; id++)
        ax_task_detach(spawn_acquirer(executor, &sem, 1, id, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_sem_release(&sem, 1);
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_sem_release(&sem, 3);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    int want[] = {0, 1, 2, 3};
    ck_assert_int_eq(count, 4);
    ck_assert_mem_eq(log, want, sizeof want);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_big_request_at_the_head_holds_back_smaller_ones_behind_it)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 2);
    ck_assert_int_eq(ax_sem_try_acquire(&sem, 2), 0); /* held elsewhere */
    int log[4], count = 0;
    ax_task_detach(spawn_acquirer(executor, &sem, 3, 0, log, &count)); /* the big one */
    ax_task_detach(spawn_acquirer(executor, &sem, 1, 1, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_sem_release(&sem, 1);
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ck_assert_int_eq(count, 0); /* 1 free, which the small one would fit, but it waits */
    ck_assert_int_eq(ax_sem_try_acquire(&sem, 1), -EAGAIN); /* nor may a newcomer take it */
    ax_sem_release(&sem, 3); /* 4 free: 3 for the head, then 1 for the next */
    ck_assert_int_eq(ax_executor_run(executor), 0);
    int want[] = {0, 1};
    ck_assert_int_eq(count, 2);
    ck_assert_mem_eq(log, want, sizeof want);
    ck_assert_uint_eq(ax_sem_available(&sem), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_head_waiter_dropped_lets_the_smaller_ones_behind_it_through)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 1);
    int log[4], count = 0;
    struct ax_task *big = spawn_acquirer(executor, &sem, 5, 0, log, &count);
    ax_task_detach(spawn_acquirer(executor, &sem, 1, 1, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_task_abort(big); /* parked: dropped now; the permit it held back goes to the next */
    ax_task_detach(big);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0], 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_waiter_dropped_in_the_middle_of_the_line_leaves_the_line_in_order)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 0);
    int log[4], count = 0;
    struct ax_task *tasks[3];
    for (int id = 0; id < 3; id++)
        tasks[id] = spawn_acquirer(executor, &sem, 1, id, log, &count);
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_task_abort(tasks[1]);
    ax_sem_release(&sem, 2);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    int want[] = {0, 2};
    ck_assert_int_eq(count, 2);
    ck_assert_mem_eq(log, want, sizeof want);
    ck_assert_uint_eq(ax_sem_available(&sem), 0);
    for (int id = 0; id < 3; id++)
        ax_task_detach(tasks[id]);
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_acquire_dropped_after_it_was_handed_permits_gives_them_to_the_next)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 0);
    int log[4], count = 0;
    struct ax_task *first = spawn_acquirer(executor, &sem, 2, 0, log, &count);
    ax_task_detach(spawn_acquirer(executor, &sem, 2, 1, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), -EDEADLK);
    ax_sem_release(&sem, 2); /* handed to the first, which is queued to run */
    ck_assert_uint_eq(ax_sem_available(&sem), 0);
    ax_task_abort(first); /* dropped at its turn, before it ran */
    ax_task_detach(first);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(log[0], 1);
    ck_assert_uint_eq(ax_sem_available(&sem), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_acquire_handed_permits_and_dropped_with_nobody_waiting_returns_them)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 0);
    struct ax_sem_acquire a;
    ax_sem_acquire_init(&a, &sem, 2);
    ck_assert(axt_poll_once(executor, &a.base) == AX_PENDING);
    ax_sem_release(&sem, 2);
    ax_future_drop(&a.base);
    ck_assert_uint_eq(ax_sem_available(&sem), 2);
    ck_assert_int_eq(ax_sem_try_acquire(&sem, 2), 0);
    ax_executor_free(executor);
}
END_TEST

/* An acquire under a deadline (ax_timeout). */
struct timed {
    struct ax_future base;
    struct ax_timeout timeout;
    struct ax_sem_acquire acquire;
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

START_TEST(an_acquire_with_a_deadline_times_out_and_leaves_the_count_alone)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sem sem;
    ax_sem_init(&sem, 1);
    struct timed *t = ax_task_alloc(executor, sizeof *t);
    ck_assert_ptr_nonnull(t);
    t->base.ops = &timed_ops;
    ax_sem_acquire_init(&t->acquire, &sem, 2);
    ax_timeout_init(&t->timeout, &t->acquire.base, AXT_START + 10 * MS);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&t->base)), -ETIMEDOUT);
    ck_assert_uint_eq(ax_sem_available(&sem), 1);
    ck_assert_int_eq(ax_sem_try_acquire(&sem, 1), 0); /* nobody left in line ahead */
    ax_executor_free(executor);
}
END_TEST

static Suite *sem_suite(void)
{
    Suite *s = suite_create("sem");
    TCase *tc = axt_tcase("sem");
    tcase_add_test(tc, try_acquire_takes_permits_while_enough_are_free);
    tcase_add_test(tc, an_acquire_waits_until_enough_permits_are_released);
    tcase_add_test(tc, waiters_get_their_permits_in_the_order_they_asked);
    tcase_add_test(tc, a_big_request_at_the_head_holds_back_smaller_ones_behind_it);
    tcase_add_test(tc, a_head_waiter_dropped_lets_the_smaller_ones_behind_it_through);
    tcase_add_test(tc, a_waiter_dropped_in_the_middle_of_the_line_leaves_the_line_in_order);
    tcase_add_test(tc, an_acquire_dropped_after_it_was_handed_permits_gives_them_to_the_next);
    tcase_add_test(tc, an_acquire_handed_permits_and_dropped_with_nobody_waiting_returns_them);
    tcase_add_test(tc, an_acquire_with_a_deadline_times_out_and_leaves_the_count_alone);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(sem_suite)
