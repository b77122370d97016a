/* Exercise 08-shed-load: on a pool of one worker and a queue of one, two requests are
 * accepted and the rest are told "busy" at once, their handler never run; room freed
 * by a finished request is used again; results and errors pass through; a request
 * dropped while its handler runs leaves nothing behind. Handlers that must stay
 * running wait on a semaphore the test posts. */
#include "axtest.h"
#include "shed.h"
#include "virtual_time.h"
#include "ax/pool.h"
#include "ax/task.h"

#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>

static sem_t gate, started;
static atomic_int handled;

struct work {
    ax_result value;
    bool wait;
};

static ax_result handler(void *arg)
{
    struct work *w = arg;
    atomic_fetch_add(&handled, 1);
    sem_post(&started);
    if (w->wait)
        while (sem_wait(&gate) != 0)
            continue;
    return w->value;
}

static struct ax_executor *setup(struct ax_pool **pool)
{
    sem_init(&gate, 0, 0);
    sem_init(&started, 0, 0);
    atomic_store(&handled, 0);
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    int err = ax_pool_new(pool, executor, 1, 1); /* room for two in flight */
    ck_assert_msg(err == 0, "ax_pool_new: %s", strerror(-err));
    return executor;
}

static struct ax_task *spawn_request(struct ax_executor *executor, struct ax_pool *pool,
                                     struct work *w)
{
    struct shed_request *r = ax_task_alloc(executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    shed_request_init(r, pool, handler, w);
    return ax_task_spawn(&r->base);
}

START_TEST(requests_beyond_the_pool_s_room_are_told_busy_at_once)
{
    struct ax_pool *pool;
    struct ax_executor *executor = setup(&pool);
    struct work held[2] = {{.value = 1, .wait = true}, {.value = 2, .wait = true}};
    struct work extra[3] = {{.value = 3}, {.value = 4}, {.value = 5}};
    struct ax_task *accepted[2], *shed[3];
    for (int i = 0; i < 2; i++)
        accepted[i] = spawn_request(executor, pool, &held[i]);
    for (int i = 0; i < 3; i++)
        shed[i] = spawn_request(executor, pool, &extra[i]);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ax_block_on(executor, shed[i]), SHED_BUSY);
    sem_post(&gate);
    sem_post(&gate);
    ck_assert_int_eq(ax_block_on(executor, accepted[0]), 1);
    ck_assert_int_eq(ax_block_on(executor, accepted[1]), 2);
    ck_assert_int_eq(atomic_load(&handled), 2); /* never for a shed request */
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

START_TEST(room_a_finished_request_frees_is_used_again)
{
    struct ax_pool *pool;
    struct ax_executor *executor = setup(&pool);
    struct work quick[4] = {{.value = 10}, {.value = 11}, {.value = 12}, {.value = 13}};
    for (int i = 0; i < 4; i++) /* one after the other: there is always room */
        ck_assert_int_eq(ax_block_on(executor, spawn_request(executor, pool, &quick[i])), 10 + i);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_handler_s_error_is_the_request_s)
{
    struct ax_pool *pool;
    struct ax_executor *executor = setup(&pool);
    struct work failing = {.value = -EIO};
    ck_assert_int_eq(ax_block_on(executor, spawn_request(executor, pool, &failing)), -EIO);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_request_dropped_while_its_handler_runs_leaves_nothing_behind)
{
    struct ax_pool *pool;
    struct ax_executor *executor = setup(&pool);
    struct work w = {.value = 1, .wait = true};
    struct ax_task *task = spawn_request(executor, pool, &w);
    axt_run_turn(executor);
    while (sem_wait(&started) != 0)
        continue;
    ax_task_abort(task);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    sem_post(&gate);
    ax_pool_free(pool); /* waits for the handler */
    ax_executor_free(executor);
    ck_assert_int_eq(atomic_load(&handled), 1);
}
END_TEST

static Suite *shed_suite(void)
{
    Suite *s = suite_create("08-shed-load");
    TCase *tc = axt_tcase("shed");
    tcase_add_test(tc, requests_beyond_the_pool_s_room_are_told_busy_at_once);
    tcase_add_test(tc, room_a_finished_request_frees_is_used_again);
    tcase_add_test(tc, a_handler_s_error_is_the_request_s);
    tcase_add_test(tc, a_request_dropped_while_its_handler_runs_leaves_nothing_behind);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(shed_suite)
