/* The async mutex (ax/mutex.h): a lock held across awaits keeps the others out, unlock
 * hands it to the waiters in the order they came, an unlocker cannot take it back ahead
 * of them, and a lock dropped while waiting or after the hand-off passes it on. Time is
 * virtual. */
#include "axtest.h"
#include "by_hand.h"
#include "virtual_time.h"
#include "ax/mutex.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS (1000ull * 1000)

/* A task that takes the lock, logs +id, sleeps 1 ms holding it, logs -id, unlocks. */
struct worker {
    struct ax_future base;
    struct ax_mutex *m;
    struct ax_mutex_lock lock;
    struct ax_sleep sleep;
    int id, step;
    int *log, *count;
};

static ax_result worker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct worker *w = (struct worker *)self;
    if (w->step == 0) {
        ax_result rc = ax_poll(&w->lock.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&w->lock.base);
        w->log[(*w->count)++] = w->id;
        ax_sleep_init(&w->sleep, MS);
        w->step = 1;
    }
    ax_result rc = ax_poll(&w->sleep.base, cx);
    if (rc == AX_PENDING)
        return rc;
    w->log[(*w->count)++] = -w->id;
    ax_mutex_unlock(w->m);
    w->step = 2;
    return 0;
}

static void worker_drop(struct ax_future *self)
{
    struct worker *w = (struct worker *)self;
    if (w->step == 0)
        ax_future_drop(&w->lock.base);
    else if (w->step == 1) { /* stopped holding the lock: let it go */
        ax_future_drop(&w->sleep.base);
        ax_mutex_unlock(w->m);
    } else {
        ax_future_drop(&w->sleep.base);
    }
}

static const struct ax_future_ops worker_ops = {.poll = worker_poll, .drop = worker_drop};

static struct ax_task *spawn_worker(struct ax_executor *executor, struct ax_mutex *m, int id,
                                    int *log, int *count)
{
    struct worker *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    *w = (struct worker){.base = {&worker_ops}, .m = m, .id = id, .log = log, .count = count};
    ax_mutex_lock_init(&w->lock, m);
    return ax_task_spawn(&w->base);
}

START_TEST(try_lock_fails_while_the_lock_is_held)
{
    struct ax_mutex m;
    ax_mutex_init(&m);
    ck_assert(ax_mutex_try_lock(&m));
    ck_assert(ax_mutex_locked(&m));
    ck_assert(!ax_mutex_try_lock(&m));
    ax_mutex_unlock(&m);
    ck_assert(!ax_mutex_locked(&m));
    ck_assert(ax_mutex_try_lock(&m));
}
END_TEST

START_TEST(sections_that_await_while_holding_the_lock_never_interleave_and_run_in_order)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_mutex m;
    ax_mutex_init(&m);
    int log[16], count = 0;
    for (int id = 1; id <= 4; id++)
        ax_task_detach(spawn_worker(executor, &m, id, log, &count));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    int want[] = {1, -1, 2, -2, 3, -3, 4, -4};
    ck_assert_int_eq(count, 8);
    ck_assert_mem_eq(log, want, sizeof want);
    ck_assert(!ax_mutex_locked(&m));
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_unlocker_that_locks_again_at_once_goes_behind_the_waiters)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_mutex m;
    ax_mutex_init(&m);
    ck_assert(ax_mutex_try_lock(&m));
    struct ax_mutex_lock waiting;
    ax_mutex_lock_init(&waiting, &m);
    ck_assert(axt_poll_once(executor, &waiting.base) == AX_PENDING);
    ax_mutex_unlock(&m); /* handed to the waiter: never free in between */
    ck_assert(ax_mutex_locked(&m));
    ck_assert(!ax_mutex_try_lock(&m));
    struct ax_mutex_lock again;
    ax_mutex_lock_init(&again, &m);
    ck_assert(axt_poll_once(executor, &again.base) == AX_PENDING);
    ck_assert_int_eq(axt_poll_once(executor, &waiting.base), 0);
    ax_mutex_unlock(&m);
    ck_assert_int_eq(axt_poll_once(executor, &again.base), 0);
    ax_future_drop(&waiting.base);
    ax_future_drop(&again.base);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_lock_dropped_after_the_hand_off_passes_the_lock_to_the_next_waiter)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_mutex m;
    ax_mutex_init(&m);
    ck_assert(ax_mutex_try_lock(&m));
    struct ax_mutex_lock first, second;
    ax_mutex_lock_init(&first, &m);
    ax_mutex_lock_init(&second, &m);
    ck_assert(axt_poll_once(executor, &first.base) == AX_PENDING);
    ck_assert(axt_poll_once(executor, &second.base) == AX_PENDING);
    ax_mutex_unlock(&m); /* to first */
    ax_future_drop(&first.base); /* which never took it up */
    ck_assert_int_eq(axt_poll_once(executor, &second.base), 0);
    ax_future_drop(&second.base);
    ax_mutex_unlock(&m);
    ck_assert(!ax_mutex_locked(&m));
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_lock_dropped_while_waiting_leaves_the_mutex_to_the_others)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_mutex m;
    ax_mutex_init(&m);
    ck_assert(ax_mutex_try_lock(&m));
    struct ax_mutex_lock gone;
    ax_mutex_lock_init(&gone, &m);
    ck_assert(axt_poll_once(executor, &gone.base) == AX_PENDING);
    ax_future_drop(&gone.base);
    ax_mutex_unlock(&m);
    ck_assert(!ax_mutex_locked(&m)); /* not handed to the dropped one */
    ck_assert(ax_mutex_try_lock(&m));
    ax_executor_free(executor);
}
END_TEST

/* A lock under a deadline (ax_timeout). */
struct timed {
    struct ax_future base;
    struct ax_timeout timeout;
    struct ax_mutex_lock lock;
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

START_TEST(a_lock_with_a_deadline_on_a_held_mutex_times_out_without_taking_it)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_mutex m;
    ax_mutex_init(&m);
    ck_assert(ax_mutex_try_lock(&m));
    struct timed *t = ax_task_alloc(executor, sizeof *t);
    ck_assert_ptr_nonnull(t);
    t->base.ops = &timed_ops;
    ax_mutex_lock_init(&t->lock, &m);
    ax_timeout_init(&t->timeout, &t->lock.base, AXT_START + 10 * MS);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&t->base)), -ETIMEDOUT);
    ax_mutex_unlock(&m);
    ck_assert(!ax_mutex_locked(&m));
    ax_executor_free(executor);
}
END_TEST

static Suite *mutex_suite(void)
{
    Suite *s = suite_create("mutex");
    TCase *tc = axt_tcase("mutex");
    tcase_add_test(tc, try_lock_fails_while_the_lock_is_held);
    tcase_add_test(tc,
                   sections_that_await_while_holding_the_lock_never_interleave_and_run_in_order);
    tcase_add_test(tc, an_unlocker_that_locks_again_at_once_goes_behind_the_waiters);
    tcase_add_test(tc, a_lock_dropped_after_the_hand_off_passes_the_lock_to_the_next_waiter);
    tcase_add_test(tc, a_lock_dropped_while_waiting_leaves_the_mutex_to_the_others);
    tcase_add_test(tc, a_lock_with_a_deadline_on_a_held_mutex_times_out_without_taking_it);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(mutex_suite)
