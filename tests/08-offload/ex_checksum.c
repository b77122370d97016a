/* Exercise 08-unblock-checksum: the checksum's function runs once, off the loop's
 * thread, and the loop goes on while it runs. The function under test waits (at most
 * two seconds) for a timer task on the loop to have fired: on the loop's own thread it
 * would wait in vain, and says so with -ETIMEDOUT; on a worker it sees the timer fire.
 * No duration is asserted. */
#include "axtest.h"
#include "checksum.h"
#include "virtual_time.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#define MS (1000ull * 1000)

static atomic_bool timer_fired; /* set by the loop's timer task */
static atomic_int calls;
static pthread_t loop_thread, ran_on;

static const char DATA[] = "a buffer worth a long checksum";

static ax_result slow_sum(const void *data, size_t len)
{
    atomic_fetch_add(&calls, 1);
    ran_on = pthread_self();
    for (int waited = 0; !atomic_load(&timer_fired); waited++) {
        if (waited == 2000)
            return -ETIMEDOUT; /* the loop never ran while this did */
        struct timespec pause = {.tv_nsec = 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    const unsigned char *p = data;
    ax_result sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (sum * 31 + p[i]) % 1000003;
    return sum;
}

static ax_result expected_sum(void)
{
    ax_result sum = 0;
    for (size_t i = 0; i < sizeof DATA; i++)
        sum = (sum * 31 + (unsigned char)DATA[i]) % 1000003;
    return sum;
}

/* A task that sleeps 10 ms on the loop's timer, then says it fired. */
struct timer_task {
    struct ax_future base;
    struct ax_sleep sleep;
};

static ax_result timer_task_poll(struct ax_future *self, struct ax_context *cx)
{
    ax_result rc = ax_poll(&((struct timer_task *)self)->sleep.base, cx);
    if (rc == 0)
        atomic_store(&timer_fired, true);
    return rc;
}

static void timer_task_drop(struct ax_future *self)
{
    ax_future_drop(&((struct timer_task *)self)->sleep.base);
}

static const struct ax_future_ops timer_task_ops = {.poll = timer_task_poll,
                                                    .drop = timer_task_drop};

static struct ax_executor *setup(void)
{
    atomic_store(&timer_fired, false);
    atomic_store(&calls, 0);
    loop_thread = ran_on = pthread_self();
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

static struct ax_task *spawn_checksum(struct ax_executor *executor)
{
    struct checksum *c = ax_task_alloc(executor, sizeof *c);
    ck_assert_ptr_nonnull(c);
    checksum_init(c, slow_sum, DATA, sizeof DATA);
    return ax_task_spawn(&c->base);
}

static struct ax_task *spawn_timer(struct ax_executor *executor)
{
    struct timer_task *t = ax_task_alloc(executor, sizeof *t);
    ck_assert_ptr_nonnull(t);
    t->base.ops = &timer_task_ops;
    ax_sleep_init(&t->sleep, 10 * MS);
    return ax_task_spawn(&t->base);
}

START_TEST(timers_fire_while_the_checksum_runs)
{
    struct ax_executor *executor = setup();
    struct ax_task *checksum = spawn_checksum(executor); /* polled first */
    struct ax_task *timer = spawn_timer(executor);
    ax_result rc = ax_block_on(executor, checksum);
    ck_assert_msg(rc != -ETIMEDOUT, "no timer fired while sum ran: it ran on the loop's thread");
    ck_assert_int_eq(rc, expected_sum());
    ck_assert_int_eq(ax_block_on(executor, timer), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(sum_runs_once_on_a_worker)
{
    struct ax_executor *executor = setup();
    atomic_store(&timer_fired, true); /* nothing to wait for */
    ck_assert_int_eq(ax_block_on(executor, spawn_checksum(executor)), expected_sum());
    ck_assert_int_eq(atomic_load(&calls), 1);
    ck_assert_msg(!pthread_equal(ran_on, loop_thread), "sum ran on the loop's thread");
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_checksum_dropped_while_sum_runs_leaves_nothing_behind)
{
    struct ax_executor *executor = setup();
    struct ax_task *checksum = spawn_checksum(executor);
    axt_run_turn(executor);
    for (int waited = 0; atomic_load(&calls) == 0 && waited < 5000; waited++) {
        struct timespec pause = {.tv_nsec = 1000 * 1000}; /* until a worker has it */
        nanosleep(&pause, NULL);
    }
    ck_assert_int_eq(atomic_load(&calls), 1);
    ax_task_abort(checksum);
    ck_assert_int_eq(ax_block_on(executor, checksum), -ECANCELED);
    atomic_store(&timer_fired, true); /* let the worker finish */
    ax_executor_free(executor);
    ck_assert_int_eq(atomic_load(&calls), 1);
}
END_TEST

static Suite *checksum_suite(void)
{
    Suite *s = suite_create("08-unblock-checksum");
    TCase *tc = axt_tcase("checksum");
    tcase_add_test(tc, timers_fire_while_the_checksum_runs);
    tcase_add_test(tc, sum_runs_once_on_a_worker);
    tcase_add_test(tc, a_checksum_dropped_while_sum_runs_leaves_nothing_behind);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(checksum_suite)
