/* The executor's inbox (ax/remote.h): posts from other threads reach the loop once
 * each, in each thread's order; a burst of them wakes the loop once; work expected from
 * another thread keeps an idle loop waiting, while a task nothing can wake is still a
 * deadlock; freeing the executor waits for what is still expected. Threads here only
 * post and sleep; every count and wait is bounded. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/event.h"
#include "ax/remote.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS (1000ull * 1000)

enum { THREADS = 8, PER_THREAD = 250, TOTAL = THREADS * PER_THREAD };

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

static void sleep_ms(int ms)
{
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&pause, &pause) != 0)
        continue;
}

/* ---- counted records -------------------------------------------------------------- */

/* A record that counts its arrivals and notes the order they came in. */
struct record {
    struct ax_remote remote;
    int arrivals;
    int order; /* the arrival's place among all arrivals */
    pthread_t arrived_on;
};

struct batch {
    struct record records[TOTAL];
    int arrived;
    struct ax_event all_arrived;
};

static struct batch *batch; /* the one each test uses; arrived() finds it here */

static void arrived(struct ax_remote *remote)
{
    struct record *r = ax_container_of(remote, struct record, remote);
    r->arrivals++;
    r->order = batch->arrived++;
    r->arrived_on = pthread_self();
    if (batch->arrived == TOTAL)
        ax_event_set(&batch->all_arrived);
}

static void expect_all(struct ax_executor *executor, int count)
{
    for (int i = 0; i < count; i++)
        ck_assert_int_eq(ax_remote_expect(&batch->records[i].remote, executor, arrived), 0);
}

struct poster {
    pthread_t thread;
    int first, count, step, delay_ms;
};

static void *post_records(void *arg)
{
    struct poster *p = arg;
    if (p->delay_ms > 0)
        sleep_ms(p->delay_ms);
    for (int i = 0; i < p->count; i++)
        ax_remote_post(&batch->records[p->first + i * p->step].remote);
    return NULL;
}

static void start_posters(struct poster posters[], int threads, int per_thread)
{
    for (int t = 0; t < threads; t++) {
        posters[t] = (struct poster){.first = t, .count = per_thread, .step = threads};
        ck_assert_int_eq(pthread_create(&posters[t].thread, NULL, post_records, &posters[t]), 0);
    }
}

static void join_posters(struct poster posters[], int threads)
{
    for (int t = 0; t < threads; t++)
        ck_assert_int_eq(pthread_join(posters[t].thread, NULL), 0);
}

/* A task that waits for an event. */
struct waiter {
    struct ax_future base;
    struct ax_event_wait wait;
};

static ax_result waiter_poll(struct ax_future *self, struct ax_context *cx)
{
    return ax_poll(&((struct waiter *)self)->wait.base, cx);
}

static void waiter_drop(struct ax_future *self)
{
    ax_future_drop(&((struct waiter *)self)->wait.base);
}

static const struct ax_future_ops waiter_ops = {.poll = waiter_poll, .drop = waiter_drop};

static struct ax_task *spawn_waiter(struct ax_executor *executor, struct ax_event *event)
{
    struct waiter *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    w->base.ops = &waiter_ops;
    ax_event_wait_init(&w->wait, event);
    return ax_task_spawn(&w->base);
}

static void new_batch(void)
{
    batch = calloc(1, sizeof *batch);
    ck_assert_ptr_nonnull(batch);
    ax_event_init(&batch->all_arrived);
}

/* A new batch, posted by THREADS threads, PER_THREAD records each, while the loop waits
 * for all of them; returns the executor once every post has arrived. */
static struct ax_executor *post_from_every_thread(void)
{
    struct ax_executor *executor = new_executor();
    new_batch();
    expect_all(executor, TOTAL);
    struct ax_task *waiting = spawn_waiter(executor, &batch->all_arrived);
    struct poster posters[THREADS];
    start_posters(posters, THREADS, PER_THREAD);
    ck_assert_int_eq(ax_block_on(executor, waiting), 0);
    join_posters(posters, THREADS);
    return executor;
}

START_TEST(posts_from_many_threads_each_arrive_once_on_the_loop)
{
    struct ax_executor *executor = post_from_every_thread();

    int wrong = -1;
    for (int i = 0; i < TOTAL && wrong < 0; i++)
        if (batch->records[i].arrivals != 1 ||
            !pthread_equal(batch->records[i].arrived_on, pthread_self()))
            wrong = i;
    ck_assert_msg(wrong < 0, "record %d arrived %d times (or off the loop's thread)", wrong,
                  wrong < 0 ? 0 : batch->records[wrong].arrivals);
    ck_assert_int_eq(batch->arrived, TOTAL);
    ck_assert_uint_eq(ax_executor_remote_expected(executor), 0);
    ax_executor_free(executor);
    free(batch);
}
END_TEST

START_TEST(posts_from_one_thread_arrive_in_the_order_it_made_them)
{
    struct ax_executor *executor = post_from_every_thread();

    int out_of_order = -1; /* thread t posted records t, t + THREADS, t + 2 * THREADS, ... */
    for (int i = THREADS; i < TOTAL && out_of_order < 0; i++)
        if (batch->records[i].order < batch->records[i - THREADS].order)
            out_of_order = i;
    ck_assert_msg(out_of_order < 0, "record %d arrived before record %d, posted earlier",
                  out_of_order, out_of_order - THREADS);
    ax_executor_free(executor);
    free(batch);
}
END_TEST

START_TEST(a_burst_of_posts_wakes_the_loop_once)
{
    struct ax_executor *executor = new_executor();
    new_batch();
    expect_all(executor, TOTAL);
    struct poster posters[1];
    start_posters(posters, 1, TOTAL / 2); /* records 0..TOTAL/2, while the loop sleeps */
    join_posters(posters, 1);
    ck_assert_uint_eq(ax_executor_remote_signals(executor), 1);

    struct ax_task *waiting = spawn_waiter(executor, &batch->all_arrived);
    posters[0] = (struct poster){.first = TOTAL / 2, .count = TOTAL / 2, .step = 1, .delay_ms = 50};
    ck_assert_int_eq(pthread_create(&posters[0].thread, NULL, post_records, &posters[0]), 0);
    ck_assert_int_eq(ax_block_on(executor, waiting), 0);
    join_posters(posters, 1);
    uint64_t signals = ax_executor_remote_signals(executor);
    ck_assert_msg(signals >= 2 && signals <= 1 + TOTAL / 2,
                  "%llu eventfd writes for two bursts of %d posts", (unsigned long long)signals,
                  TOTAL / 2);
    ck_assert_int_eq(batch->arrived, TOTAL);
    ax_executor_free(executor);
    free(batch);
}
END_TEST

/* ---- remote wakers ---------------------------------------------------------------- */

/* A task that hands a remote waker to a thread, which wakes it after delay_ms. */
struct remote_wait {
    struct ax_future base;
    struct ax_remote_waker waker;
    pthread_t thread, loop;
    bool started;
    int delay_ms, polls;
};

/* What the last remote_wait saw, kept outside the task, whose memory goes with it. */
static int last_polls;
static bool last_woken_on_loop;

static void *wake_later(void *arg)
{
    struct remote_wait *w = arg;
    sleep_ms(w->delay_ms);
    ax_remote_waker_wake(&w->waker);
    return NULL;
}

static ax_result remote_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct remote_wait *w = (struct remote_wait *)self;
    last_polls = ++w->polls;
    if (w->started) {
        last_woken_on_loop = pthread_equal(pthread_self(), w->loop);
        return 0;
    }
    w->loop = pthread_self();
    int err = ax_remote_waker_init(&w->waker, cx);
    if (err < 0)
        return err;
    if (pthread_create(&w->thread, NULL, wake_later, w) != 0) {
        ax_remote_waker_cancel(&w->waker);
        return -EAGAIN;
    }
    w->started = true;
    return AX_PENDING;
}

static void remote_wait_drop(struct ax_future *self)
{
    struct remote_wait *w = (struct remote_wait *)self;
    if (w->started)
        pthread_join(w->thread, NULL);
}

static const struct ax_future_ops remote_wait_ops = {.poll = remote_wait_poll,
                                                     .drop = remote_wait_drop};

static void remote_wait_init(struct remote_wait *w, int delay_ms)
{
    *w = (struct remote_wait){.base = {&remote_wait_ops}, .delay_ms = delay_ms};
}

START_TEST(a_remote_waker_wakes_its_task_on_the_loop)
{
    struct ax_executor *executor = new_executor();
    struct remote_wait *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    remote_wait_init(w, 0);
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&w->base)), 0);
    ck_assert_int_eq(last_polls, 2);
    ck_assert_msg(last_woken_on_loop, "the task was polled off the loop's thread");
    ax_executor_free(executor);
}
END_TEST

START_TEST(expected_remote_work_keeps_an_idle_loop_waiting)
{
    struct ax_executor *executor = new_executor();
    struct remote_wait *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    remote_wait_init(w, 100); /* nothing else can wake the loop meanwhile */
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&w->base)), 0);
    ck_assert_uint_eq(ax_executor_remote_expected(executor), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_task_nothing_can_wake_is_still_a_deadlock_with_the_inbox_open)
{
    struct ax_executor *executor = new_executor();
    struct ax_remote forgotten;
    ck_assert_int_eq(ax_remote_expect(&forgotten, executor, NULL), 0); /* opens the inbox */
    ax_remote_forget(&forgotten);
    struct ax_event never;
    ax_event_init(&never);
    ck_assert_int_eq(ax_block_on(executor, spawn_waiter(executor, &never)), -EDEADLK);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_remote_wake_after_a_deadlock_report_still_arrives)
{
    struct ax_executor *executor = new_executor();
    struct remote_wait *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    remote_wait_init(w, 20);
    struct ax_task *remote = ax_task_spawn(&w->base);
    struct ax_event never;
    ax_event_init(&never);
    struct ax_task *stuck = spawn_waiter(executor, &never);
    ck_assert_int_eq(ax_block_on(executor, remote), 0); /* the stuck task does not matter */
    ck_assert_int_eq(ax_block_on(executor, stuck), -EDEADLK); /* now nothing is expected */
    ax_executor_free(executor);
}
END_TEST

START_TEST(paused_time_waits_for_remote_work_instead_of_jumping)
{
    struct ax_executor *executor = axt_paused_executor();
    struct race {
        struct ax_timeout timeout; /* the task's future */
        struct remote_wait wait;
    } *r = ax_task_alloc(executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    remote_wait_init(&r->wait, 50);
    ax_timeout_init(&r->timeout, &r->wait.base, AXT_START + 1000 * MS);
    struct ax_task *task = ax_task_spawn(&r->timeout.base);
    ck_assert_int_eq(ax_block_on(executor, task), 0); /* not -ETIMEDOUT */
    ck_assert_uint_lt(ax_executor_now(executor), AXT_START + 1000 * MS);
    ax_executor_free(executor);
}
END_TEST

/* ---- the executor's end ----------------------------------------------------------- */

START_TEST(freeing_the_executor_waits_for_expected_posts)
{
    struct ax_executor *executor = new_executor();
    new_batch();
    expect_all(executor, 4);
    struct poster poster = {.first = 0, .count = 4, .step = 1, .delay_ms = 50};
    ck_assert_int_eq(pthread_create(&poster.thread, NULL, post_records, &poster), 0);
    ax_executor_free(executor); /* before the thread has posted */
    int missing = -1;
    for (int i = 0; i < 4; i++)
        if (batch->records[i].arrivals != 1)
            missing = i;
    ck_assert_msg(missing < 0, "record %d had not arrived when the executor was freed", missing);
    ck_assert_int_eq(pthread_join(poster.thread, NULL), 0);
    free(batch);
}
END_TEST

static Suite *inbox_suite(void)
{
    Suite *s = suite_create("08-inbox");
    TCase *tc = axt_tcase("inbox");
    tcase_add_test(tc, posts_from_many_threads_each_arrive_once_on_the_loop);
    tcase_add_test(tc, posts_from_one_thread_arrive_in_the_order_it_made_them);
    tcase_add_test(tc, a_burst_of_posts_wakes_the_loop_once);
    tcase_add_test(tc, a_remote_waker_wakes_its_task_on_the_loop);
    tcase_add_test(tc, expected_remote_work_keeps_an_idle_loop_waiting);
    tcase_add_test(tc, a_task_nothing_can_wake_is_still_a_deadlock_with_the_inbox_open);
    tcase_add_test(tc, a_remote_wake_after_a_deadlock_report_still_arrives);
    tcase_add_test(tc, paused_time_waits_for_remote_work_instead_of_jumping);
    tcase_add_test(tc, freeing_the_executor_waits_for_expected_posts);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(inbox_suite)
