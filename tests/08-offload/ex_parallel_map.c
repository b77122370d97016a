/* Challenge 08-challenge-parallel-map: results in input order whatever order the calls
 * finish in; `limit` calls kept in flight, never more, a finished one replaced at once;
 * the first failure stops the map; the edge cases; a map dropped mid-way leaves
 * nothing behind. Calls that must overlap wait for each other, at most two seconds,
 * and fail with -ETIMEDOUT when the map did not run them together: no duration is
 * asserted. */
#include "axtest.h"
#include "parallel_map.h"
#include "virtual_time.h"
#include "ax/task.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

enum { MAX_ITEMS = 32, WAIT_MS = 2000 };

enum behaviour { RETURN, SLEEP, WAIT_FOR_ALL, WAIT_FOR_INPUT, FAIL, WAIT_FOR_FLAG };

struct item {
    int index;
    enum behaviour how;
    int arg; /* ms to sleep, the count to wait for, or the input to wait for */
};

static struct item items[MAX_ITEMS];
static void *inputs[MAX_ITEMS];
static atomic_int running, most_running, calls;
static atomic_bool started[MAX_ITEMS], flag;

static void pause_ms(int ms)
{
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

/* Waits until done() is true, at most WAIT_MS: false if it never was. */
static bool wait_until(bool (*done)(int), int arg)
{
    for (int waited = 0; !done(arg); waited++) {
        if (waited == WAIT_MS)
            return false;
        pause_ms(1);
    }
    return true;
}

/* The high-water mark, not the count now: a call that slept through the moment all
 * ran together, while one of them finished, must still see that they did. */
static bool all_running(int count)
{
    return atomic_load(&most_running) >= count;
}

static bool input_started(int index)
{
    return atomic_load(&started[index]);
}

static bool flag_set(int unused)
{
    (void)unused;
    return atomic_load(&flag);
}

static ax_result call(void *arg)
{
    struct item *item = arg;
    atomic_fetch_add(&calls, 1);
    atomic_store(&started[item->index], true);
    int now = atomic_fetch_add(&running, 1) + 1, most = atomic_load(&most_running);
    while (now > most && !atomic_compare_exchange_weak(&most_running, &most, now))
        continue;
    ax_result rc = item->index * 2;
    switch (item->how) {
    case RETURN:
        break;
    case SLEEP:
        pause_ms(item->arg);
        break;
    case WAIT_FOR_ALL:
        rc = wait_until(all_running, item->arg) ? rc : -ETIMEDOUT;
        break;
    case WAIT_FOR_INPUT:
        rc = wait_until(input_started, item->arg) ? rc : -ETIMEDOUT;
        break;
    case FAIL:
        rc = -EIO;
        break;
    case WAIT_FOR_FLAG:
        rc = wait_until(flag_set, 0) ? rc : -ETIMEDOUT;
        break;
    }
    atomic_fetch_sub(&running, 1);
    return rc;
}

static void set_items(int count, enum behaviour how, int arg)
{
    atomic_store(&running, 0);
    atomic_store(&most_running, 0);
    atomic_store(&calls, 0);
    atomic_store(&flag, false);
    for (int i = 0; i < MAX_ITEMS; i++) {
        items[i] = (struct item){.index = i, .how = how, .arg = arg};
        inputs[i] = &items[i];
        atomic_store(&started[i], false);
    }
    (void)count;
}

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

static struct ax_task *spawn_map(struct ax_executor *executor, ax_result *results, size_t count,
                                 int limit)
{
    struct parallel_map *m = ax_task_alloc(executor, sizeof *m);
    ck_assert_ptr_nonnull(m);
    parallel_map_init(m, call, inputs, results, count, limit);
    return ax_task_spawn(&m->base);
}

static ax_result map(ax_result *results, size_t count, int limit)
{
    struct ax_executor *executor = new_executor();
    ax_result rc = ax_block_on(executor, spawn_map(executor, results, count, limit));
    ax_executor_free(executor);
    return rc;
}

static void fill(ax_result *results, int count, ax_result value)
{
    for (int i = 0; i < count; i++)
        results[i] = value;
}

START_TEST(results_land_in_input_order_whatever_order_calls_finish_in)
{
    set_items(12, SLEEP, 0);
    for (int i = 0; i < 12; i++)
        items[i].arg = (3 - i % 4) * 5; /* within each four, the last finishes first */
    ax_result results[12];
    fill(results, 12, -1);
    ck_assert_int_eq(map(results, 12, 4), 0);
    int wrong = -1;
    for (int i = 0; i < 12 && wrong < 0; i++)
        if (results[i] != i * 2)
            wrong = i;
    ck_assert_msg(wrong < 0, "results[%d] is %lld, not input %d's result", wrong,
                  wrong < 0 ? 0LL : (long long)results[wrong], wrong);
}
END_TEST

START_TEST(limit_calls_run_together_and_never_more)
{
    set_items(9, WAIT_FOR_ALL, 3); /* each waits until three run at once */
    for (int i = 3; i < 9; i++)
        items[i].how = SLEEP, items[i].arg = 2;
    ax_result results[9];
    ax_result rc = map(results, 9, 3);
    ck_assert_msg(rc != -ETIMEDOUT, "the first three calls never ran together");
    ck_assert_int_eq(rc, 0);
    ck_assert_int_le(atomic_load(&most_running), 3);
    ck_assert_int_eq(atomic_load(&calls), 9);
}
END_TEST

START_TEST(a_finished_call_is_replaced_at_once)
{
    set_items(3, RETURN, 0);
    items[0].how = WAIT_FOR_INPUT; /* input 0 waits for input 2, while input 1 finishes */
    items[0].arg = 2;
    ax_result results[3];
    ax_result rc = map(results, 3, 2);
    ck_assert_msg(rc != -ETIMEDOUT,
                  "input 2 did not start while input 0 ran, though input 1 had finished");
    ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(the_first_failure_stops_the_map_with_its_error)
{
    set_items(10, RETURN, 0);
    items[3].how = FAIL;
    ax_result results[10];
    fill(results, 10, -1);
    ck_assert_int_eq(map(results, 10, 1), -EIO);
    ck_assert_int_eq(atomic_load(&calls), 4); /* one at a time: nothing after input 3 */
    ck_assert_int_eq(results[2], 4);
    ck_assert_int_eq(results[3], -1);
    ck_assert_int_eq(results[4], -1);
}
END_TEST

START_TEST(no_inputs_is_nothing_to_do_and_a_bad_limit_is_einval)
{
    set_items(4, RETURN, 0);
    ax_result results[4];
    ck_assert_int_eq(map(results, 0, 2), 0);
    ck_assert_int_eq(map(results, 4, 0), -EINVAL);
    ck_assert_int_eq(map(results, 4, PARALLEL_MAP_MAX_LIMIT + 1), -EINVAL);
    ck_assert_int_eq(atomic_load(&calls), 0);
}
END_TEST

START_TEST(a_map_dropped_while_calls_run_leaves_nothing_behind)
{
    set_items(6, WAIT_FOR_FLAG, 0);
    struct ax_executor *executor = new_executor();
    ax_result results[6];
    fill(results, 6, -1);
    struct ax_task *task = spawn_map(executor, results, 6, 2);
    axt_run_turn(executor);
    ax_task_abort(task);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    atomic_store(&flag, true); /* the abandoned calls finish on their own */
    ax_executor_free(executor);
    ck_assert_int_le(atomic_load(&calls), 2);
    ck_assert_int_eq(results[0], -1);
}
END_TEST

static Suite *parallel_map_suite(void)
{
    Suite *s = suite_create("08-challenge-parallel-map");
    TCase *tc = axt_tcase("map");
    tcase_add_test(tc, results_land_in_input_order_whatever_order_calls_finish_in);
    tcase_add_test(tc, limit_calls_run_together_and_never_more);
    tcase_add_test(tc, a_finished_call_is_replaced_at_once);
    tcase_add_test(tc, the_first_failure_stops_the_map_with_its_error);
    tcase_add_test(tc, no_inputs_is_nothing_to_do_and_a_bad_limit_is_einval);
    tcase_add_test(tc, a_map_dropped_while_calls_run_leaves_nothing_behind);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(parallel_map_suite)
