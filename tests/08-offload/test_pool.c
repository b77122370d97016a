/* The thread pool and spawn_blocking (ax/pool.h): work runs on the workers and its
 * result comes back on the loop; no more than `workers` run at once and no more than
 * `workers + queue_depth` are in flight; a full pool makes submitters wait in order, or
 * the try variant fail; a dropped future's running work goes on and its result is
 * dropped when it arrives, while queued work is withdrawn; shutting down withdraws the
 * queue, waits for running work and joins. Work that must stay running waits on a
 * gate the test opens; every wait is bounded by the suite's timeout. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/pool.h"
#include "ax/remote.h"
#include "ax/task.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MANY = 200 };

static sem_t gate; /* work that waits for the test: one sem_post lets one job go on */
static sem_t started; /* posted by each job as it starts */
static atomic_int running, most_running, ran;
static int dropped; /* drop_arg calls: loop only */
static bool dropped_off_loop;
static pthread_t loop_thread;
static int order[MANY], ordered; /* the order jobs ran in; under order_lock */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

struct work {
    int value; /* what the job returns */
    bool wait_at_gate;
    bool ran_on_loop;
};

static ax_result do_work(void *arg)
{
    struct work *w = arg;
    w->ran_on_loop = pthread_equal(pthread_self(), loop_thread);
    int now = atomic_fetch_add(&running, 1) + 1;
    int most = atomic_load(&most_running);
    while (now > most && !atomic_compare_exchange_weak(&most_running, &most, now))
        continue;
    atomic_fetch_add(&ran, 1);
    sem_post(&started);
    if (w->wait_at_gate)
        while (sem_wait(&gate) != 0)
            continue;
    atomic_fetch_sub(&running, 1);
    return w->value;
}

static void drop_work(void *arg)
{
    (void)arg;
    dropped++;
    dropped_off_loop |= !pthread_equal(pthread_self(), loop_thread);
}

/* Every test starts from zero, in one process (CK_FORK=no) as in its own. */
static void setup(void)
{
    atomic_store(&running, 0);
    atomic_store(&most_running, 0);
    atomic_store(&ran, 0);
    dropped = 0;
    dropped_off_loop = false;
    ordered = 0;
    sem_init(&gate, 0, 0);
    sem_init(&started, 0, 0);
    loop_thread = pthread_self();
}

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

static struct ax_pool *new_pool(struct ax_executor *executor, int workers, int depth)
{
    struct ax_pool *pool;
    int err = ax_pool_new(&pool, executor, workers, depth);
    ck_assert_msg(err == 0, "ax_pool_new: %s", strerror(-err));
    return pool;
}

/* A task whose future is spawn_blocking itself. */
static struct ax_task *spawn_job(struct ax_executor *executor, struct ax_pool *pool, struct work *w,
                                 bool try_only)
{
    struct ax_blocking *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    if (try_only)
        ax_spawn_blocking_try_init(f, pool, do_work, w, drop_work);
    else
        ax_spawn_blocking_init(f, pool, do_work, w, drop_work);
    return ax_task_spawn(&f->base);
}

static void wait_started(int jobs)
{
    for (int i = 0; i < jobs; i++)
        while (sem_wait(&started) != 0)
            continue;
}

static void open_gate(int jobs)
{
    for (int i = 0; i < jobs; i++)
        sem_post(&gate);
}

/* ---- results ---------------------------------------------------------------------- */

START_TEST(spawn_blocking_returns_the_work_result_computed_off_the_loop)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 2, 4);
    struct work w = {.value = 42, .ran_on_loop = true};
    ck_assert_int_eq(ax_block_on(executor, spawn_job(executor, pool, &w, false)), 42);
    ck_assert_msg(!w.ran_on_loop, "the work ran on the loop's thread");
    ck_assert_int_eq(dropped, 0); /* the result was taken: arg is the caller's again */
    ck_assert_int_eq(ax_pool_in_flight(pool), 0);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

START_TEST(spawn_blocking_passes_errors_through)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 1, 1);
    struct work w = {.value = -ENOENT};
    ck_assert_int_eq(ax_block_on(executor, spawn_job(executor, pool, &w, false)), -ENOENT);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

START_TEST(many_jobs_each_complete_once_with_no_more_running_than_workers)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 4, 8);
    static struct work works[MANY];
    struct ax_task *tasks[MANY];
    for (int i = 0; i < MANY; i++) {
        works[i] = (struct work){.value = i};
        tasks[i] = spawn_job(executor, pool, &works[i], false);
    }
    int wrong = -1;
    for (int i = 0; i < MANY; i++)
        if (ax_block_on(executor, tasks[i]) != i && wrong < 0)
            wrong = i;
    ck_assert_msg(wrong < 0, "job %d returned another job's result", wrong);
    ck_assert_int_eq(atomic_load(&ran), MANY);
    ck_assert_int_le(atomic_load(&most_running), 4);
    ck_assert_int_eq(ax_pool_in_flight(pool), 0);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

START_TEST(the_executor_has_a_pool_of_its_own)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct work w = {.value = 7};
    ck_assert_int_eq(ax_block_on(executor, spawn_job(executor, NULL, &w, false)), 7);
    struct ax_pool *own, *again;
    ck_assert_int_eq(ax_executor_pool(executor, &own), 0);
    ck_assert_int_eq(ax_executor_pool(executor, &again), 0);
    ck_assert_ptr_eq(own, again);
    ax_executor_free(executor); /* frees its pool too */
}
END_TEST

START_TEST(a_pool_refuses_sizes_it_cannot_have)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool;
    ck_assert_int_eq(ax_pool_new(&pool, executor, 0, 4), -EINVAL);
    ck_assert_int_eq(ax_pool_new(&pool, executor, 2, 0), -EINVAL);
    ax_executor_free(executor);
}
END_TEST

/* ---- a full pool ------------------------------------------------------------------ */

START_TEST(a_full_pool_makes_the_try_variant_fail_with_eagain)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 1, 1); /* room for two in flight */
    struct work held[2] = {{.value = 1, .wait_at_gate = true}, {.value = 2, .wait_at_gate = true}};
    struct ax_task *a = spawn_job(executor, pool, &held[0], false);
    struct ax_task *b = spawn_job(executor, pool, &held[1], false);
    struct work extra = {.value = 3};
    ck_assert_int_eq(ax_block_on(executor, spawn_job(executor, pool, &extra, true)), -EAGAIN);
    ck_assert_int_eq(dropped, 0); /* refused: arg stays the caller's */
    open_gate(2);
    ck_assert_int_eq(ax_block_on(executor, a), 1);
    ck_assert_int_eq(ax_block_on(executor, b), 2);
    ck_assert_int_eq(ax_block_on(executor, spawn_job(executor, pool, &extra, true)), 3);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

static ax_result note_order(void *arg)
{
    pthread_mutex_lock(&order_lock);
    order[ordered++] = ((struct work *)arg)->value;
    pthread_mutex_unlock(&order_lock);
    return 0;
}

START_TEST(a_full_pool_makes_submitters_wait_their_turn_in_order)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 1, 1);
    enum { JOBS = 12 };
    static struct work works[JOBS];
    struct ax_task *tasks[JOBS];
    for (int i = 0; i < JOBS; i++) {
        works[i] = (struct work){.value = i};
        struct ax_blocking *f = ax_task_alloc(executor, sizeof *f);
        ck_assert_ptr_nonnull(f);
        ax_spawn_blocking_init(f, pool, note_order, &works[i], NULL);
        tasks[i] = ax_task_spawn(&f->base);
    }
    axt_run_turn(executor); /* two submitted, ten waiting for room */
    ck_assert_int_le(ax_pool_in_flight(pool), 2);
    for (int i = 0; i < JOBS; i++)
        ck_assert_int_eq(ax_block_on(executor, tasks[i]), 0);
    int wrong = -1;
    for (int i = 0; i < JOBS && wrong < 0; i++)
        if (order[i] != i)
            wrong = i;
    ck_assert_msg(wrong < 0, "job %d ran in place %d", wrong < 0 ? 0 : order[wrong], wrong);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

/* ---- cancellation ----------------------------------------------------------------- */

START_TEST(a_dropped_future_s_running_work_goes_on_and_its_result_is_dropped_on_arrival)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 1, 1);
    struct work w = {.value = 5, .wait_at_gate = true};
    struct ax_task *task = spawn_job(executor, pool, &w, false);
    axt_run_turn(executor); /* submitted */
    wait_started(1);
    ax_task_abort(task);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ck_assert_int_eq(dropped, 0); /* the worker may still be using arg */
    ck_assert_int_eq(ax_pool_in_flight(pool), 1);
    open_gate(1);
    struct work next = {.value = 6}; /* the loop runs on; the late result arrives meanwhile */
    ck_assert_int_eq(ax_block_on(executor, spawn_job(executor, pool, &next, false)), 6);
    ck_assert_int_eq(dropped, 1);
    ck_assert_msg(!dropped_off_loop, "the result was dropped off the loop's thread");
    ck_assert_int_eq(ax_pool_in_flight(pool), 0);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_dropped_future_s_queued_work_is_withdrawn_and_never_runs)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 1, 1);
    struct work first = {.value = 1, .wait_at_gate = true}, second = {.value = 2};
    struct ax_task *a = spawn_job(executor, pool, &first, false);
    struct ax_task *b = spawn_job(executor, pool, &second, false);
    axt_run_turn(executor);
    wait_started(1); /* the one worker holds the first; the second waits in the queue */
    ax_task_abort(b);
    ck_assert_int_eq(ax_block_on(executor, b), -ECANCELED);
    ck_assert_int_eq(dropped, 1); /* at once: no worker will touch it */
    ck_assert_int_eq(ax_pool_in_flight(pool), 1);
    open_gate(1);
    ck_assert_int_eq(ax_block_on(executor, a), 1);
    ck_assert_int_eq(atomic_load(&ran), 1);
    ax_pool_free(pool);
    ax_executor_free(executor);
}
END_TEST

/* ---- shutdown --------------------------------------------------------------------- */

static void *open_gate_later(void *arg)
{
    (void)arg;
    struct timespec pause = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    open_gate(1);
    return NULL;
}

START_TEST(shutdown_withdraws_queued_work_and_waits_for_running_work)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct ax_pool *pool = new_pool(executor, 1, 1);
    struct work running_work = {.value = 1, .wait_at_gate = true}, queued = {.value = 2},
                waiting = {.value = 3};
    struct ax_task *a = spawn_job(executor, pool, &running_work, false);
    struct ax_task *b = spawn_job(executor, pool, &queued, false);
    struct ax_task *c = spawn_job(executor, pool, &waiting, false); /* waits for room */
    axt_run_turn(executor);
    wait_started(1);
    pthread_t opener;
    ck_assert_int_eq(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
    ax_pool_free(pool); /* returns once the running job has finished */
    ck_assert_int_eq(pthread_join(opener, NULL), 0);
    ck_assert_int_eq(ax_block_on(executor, a), 1);
    ck_assert_int_eq(ax_block_on(executor, b), -ECANCELED);
    ck_assert_int_eq(ax_block_on(executor, c), -ECANCELED);
    ck_assert_int_eq(atomic_load(&ran), 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(freeing_the_executor_waits_for_running_work_and_drops_its_result)
{
    setup();
    struct ax_executor *executor = new_executor();
    struct work w = {.value = 1, .wait_at_gate = true};
    struct ax_task *task = spawn_job(executor, NULL, &w, false);
    ax_task_detach(task);
    axt_run_turn(executor);
    wait_started(1);
    pthread_t opener;
    ck_assert_int_eq(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
    ax_executor_free(executor); /* drops the task, waits for the work, drops its result */
    ck_assert_int_eq(pthread_join(opener, NULL), 0);
    ck_assert_int_eq(dropped, 1);
    ck_assert_msg(!dropped_off_loop, "the result was dropped off the loop's thread");
}
END_TEST

static Suite *pool_suite(void)
{
    Suite *s = suite_create("08-pool");
    TCase *tc = axt_tcase("results");
    tcase_add_test(tc, spawn_blocking_returns_the_work_result_computed_off_the_loop);
    tcase_add_test(tc, spawn_blocking_passes_errors_through);
    tcase_add_test(tc, many_jobs_each_complete_once_with_no_more_running_than_workers);
    tcase_add_test(tc, the_executor_has_a_pool_of_its_own);
    tcase_add_test(tc, a_pool_refuses_sizes_it_cannot_have);
    suite_add_tcase(s, tc);
    tc = axt_tcase("full");
    tcase_add_test(tc, a_full_pool_makes_the_try_variant_fail_with_eagain);
    tcase_add_test(tc, a_full_pool_makes_submitters_wait_their_turn_in_order);
    suite_add_tcase(s, tc);
    tc = axt_tcase("cancel");
    tcase_add_test(tc,
                   a_dropped_future_s_running_work_goes_on_and_its_result_is_dropped_on_arrival);
    tcase_add_test(tc, a_dropped_future_s_queued_work_is_withdrawn_and_never_runs);
    suite_add_tcase(s, tc);
    tc = axt_tcase("shutdown");
    tcase_add_test(tc, shutdown_withdraws_queued_work_and_waits_for_running_work);
    tcase_add_test(tc, freeing_the_executor_waits_for_running_work_and_drops_its_result);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(pool_suite)
