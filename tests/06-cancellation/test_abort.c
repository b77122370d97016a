/* Aborting a task through its handle: when its future is dropped (at once when parked,
 * at its turn when queued, as its poll returns when running), that dropping gives back
 * every registration the future held, and what a join then sees. Time is virtual. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/error.h"
#include "ax/event.h"
#include "ax/io.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
static const uint64_t START = AXT_START; /* virtual time starts here */

/* What the test sees of a task's future, kept outside the task. */
struct tally {
    int polls, drops;
};

/* Polls an inner future (a sleep, an event wait, a read) and counts polls and drops. */
struct parked {
    struct ax_future base;
    struct tally *tally;
    struct ax_future *inner; /* points into the union below */
    union {
        struct ax_sleep sleep;
        struct ax_event_wait wait;
        struct ax_read_future read;
    };
    char buf[16];
};

static ax_result parked_poll(struct ax_future *self, struct ax_context *cx)
{
    struct parked *p = (struct parked *)self;
    p->tally->polls++;
    return ax_poll(p->inner, cx);
}

static void parked_drop(struct ax_future *self)
{
    struct parked *p = (struct parked *)self;
    p->tally->drops++;
    ax_future_drop(p->inner);
}

static const struct ax_future_ops parked_ops = {.poll = parked_poll, .drop = parked_drop};

static struct parked *new_parked(struct ax_executor *executor, struct tally *tally)
{
    struct parked *p = ax_task_alloc(executor, sizeof *p);
    ck_assert_ptr_nonnull(p);
    *p = (struct parked){.base = {&parked_ops}, .tally = tally};
    return p;
}

static struct ax_task *spawn_sleeping(struct ax_executor *executor, struct tally *tally)
{
    struct parked *p = new_parked(executor, tally);
    ax_sleep_until_init(&p->sleep, START + 10 * S);
    p->inner = &p->sleep.base;
    return ax_task_spawn(&p->base);
}

/* A future that finishes at its first poll. */
static ax_result done_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)self, (void)cx;
    return 0;
}

static const struct ax_future_ops done_ops = {.poll = done_poll};

START_TEST(an_idle_task_aborted_is_dropped_at_once_and_its_timer_goes)
{
    struct ax_executor *executor = axt_paused_executor();
    struct tally tally = {0};
    struct ax_task *task = spawn_sleeping(executor, &tally);
    axt_run_turn(executor); /* polled once: parked on its ten-second sleep */
    ck_assert_uint_eq(ax_executor_timers(executor), 1);
    ax_task_abort(task);
    ck_assert_int_eq(tally.drops, 1); /* at once, not at some later turn */
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ck_assert_int_eq(tally.polls, 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_queued_task_aborted_is_dropped_at_its_turn_without_a_poll)
{
    struct ax_executor *executor = axt_paused_executor();
    struct tally tally = {0};
    struct ax_task *task = spawn_sleeping(executor, &tally); /* queued, never polled */
    ax_task_abort(task);
    ck_assert_int_eq(tally.drops, 0); /* still in the run queue */
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ck_assert_int_eq(tally.polls, 0);
    ck_assert_int_eq(tally.drops, 1);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_aborted_task_parked_on_an_event_leaves_its_waiter_list)
{
    struct ax_executor *executor = axt_paused_executor();
    struct tally tally = {0};
    struct ax_event event;
    ax_event_init(&event);
    struct parked *p = new_parked(executor, &tally);
    ax_event_wait_init(&p->wait, &event);
    p->inner = &p->wait.base;
    struct ax_task *task = ax_task_spawn(&p->base);
    axt_run_turn(executor);
    ck_assert(!ax_list_empty(&event.waiters));
    ax_task_abort(task);
    ck_assert(ax_list_empty(&event.waiters));
    ax_event_set(&event); /* wakes nobody: nothing left to touch freed memory */
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ck_assert_int_eq(tally.drops, 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_aborted_task_parked_on_a_socket_gives_back_its_interest)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    struct ax_source *source;
    ck_assert_int_eq(ax_source_open(executor, fds[0], &source), 0);
    struct tally tally = {0};
    struct parked *p = new_parked(executor, &tally);
    ax_read_future_init(&p->read, source, p->buf, sizeof p->buf);
    p->inner = &p->read.base;
    struct ax_task *task = ax_task_spawn(&p->base);
    axt_run_turn(executor);
    ck_assert_ptr_nonnull(source->reader); /* parked, waiting to read */
    ck_assert_uint_eq(source->refs, 2); /* the owner's and the read's */
    ax_task_abort(task);
    ck_assert_ptr_null(source->reader);
    ck_assert_uint_eq(source->refs, 1);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    /* Data arriving now reaches no one, and the executor is not kept waiting for it. */
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ax_source_close(source);
    close(fds[1]);
    ax_executor_free(executor);
}
END_TEST

/* Aborts its own task (through a handle it is given) during its first poll. */
struct self_abort {
    struct ax_future base;
    struct ax_task **handle;
    struct tally *tally;
    ax_result answer; /* what the aborting poll returns */
};

static ax_result self_abort_poll(struct ax_future *self, struct ax_context *cx)
{
    struct self_abort *s = (struct self_abort *)self;
    s->tally->polls++;
    ax_task_abort(*s->handle);
    ck_assert_int_eq(s->tally->drops, 0); /* not dropped under its own poll */
    (void)cx; /* pending without a wake: only the abort can end this task */
    return s->answer;
}

static void self_abort_drop(struct ax_future *self)
{
    ((struct self_abort *)self)->tally->drops++;
}

static const struct ax_future_ops self_abort_ops = {.poll = self_abort_poll,
                                                    .drop = self_abort_drop};

static ax_result abort_self(ax_result answer, struct tally *tally)
{
    struct ax_executor *executor = axt_paused_executor();
    static struct ax_task *handle;
    struct self_abort *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct self_abort){
        .base = {&self_abort_ops}, .handle = &handle, .tally = tally, .answer = answer};
    handle = ax_task_spawn(&s->base);
    ax_result rc = ax_block_on(executor, handle);
    ax_executor_free(executor);
    return rc;
}

START_TEST(a_task_aborted_during_its_poll_is_dropped_when_the_poll_returns)
{
    struct tally tally = {0};
    ck_assert_int_eq(abort_self(AX_PENDING, &tally), -ECANCELED);
    ck_assert_int_eq(tally.polls, 1); /* never polled again */
    ck_assert_int_eq(tally.drops, 1);
}
END_TEST

START_TEST(a_result_returned_by_the_aborted_poll_stands)
{
    struct tally tally = {0};
    ck_assert_int_eq(abort_self(42, &tally), 42);
    ck_assert_int_eq(tally.drops, 1);
}
END_TEST

START_TEST(aborting_a_finished_task_changes_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_future *f = ax_task_alloc(executor, sizeof *f);
    *f = (struct ax_future){&done_ops};
    struct ax_task *task = ax_task_spawn(f);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ax_task_abort(task);
    ax_task_abort(task); /* twice is as harmless */
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ax_executor_free(executor);
}
END_TEST

/* Joins a task and records what the join returned. */
struct joiner {
    struct ax_future base;
    struct ax_join join;
    ax_result *seen;
};

static ax_result joiner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct joiner *j = (struct joiner *)self;
    ax_result rc = ax_poll(&j->join.base, cx);
    if (rc != AX_PENDING)
        *j->seen = rc;
    return rc == AX_PENDING ? rc : 0;
}

static void joiner_drop(struct ax_future *self)
{
    ax_future_drop(&((struct joiner *)self)->join.base);
}

static const struct ax_future_ops joiner_ops = {.poll = joiner_poll, .drop = joiner_drop};

START_TEST(a_task_joining_an_aborted_one_is_woken_with_ecanceled)
{
    struct ax_executor *executor = axt_paused_executor();
    struct tally tally = {0};
    struct ax_task *sleeper = spawn_sleeping(executor, &tally);
    ax_result seen = 1;
    struct joiner *j = ax_task_alloc(executor, sizeof *j);
    *j = (struct joiner){.base = {&joiner_ops}, .seen = &seen};
    ax_join_init(&j->join, sleeper); /* the join owns the sleeper's handle now */
    struct ax_task *joining = ax_task_spawn(&j->base);
    axt_run_turn(executor); /* the sleeper sleeps, the joiner waits for it */
    ck_assert_int_eq(seen, 1);
    ax_task_abort(sleeper);
    ck_assert_int_eq(ax_block_on(executor, joining), 0);
    ck_assert_int_eq(seen, -ECANCELED);
    ax_executor_free(executor);
}
END_TEST

START_TEST(abort_frees_every_parked_task_of_many)
{
    enum { N = 10000 };
    struct ax_executor *executor = axt_paused_executor();
    static struct ax_task *tasks[N];
    struct tally tally = {0};
    for (int i = 0; i < N; i++)
        tasks[i] = spawn_sleeping(executor, &tally);
    axt_run_turn(executor);
    ck_assert_uint_eq(ax_executor_timers(executor), N);
    for (int i = 0; i < N; i++) {
        ax_task_abort(tasks[i]);
        ax_task_detach(tasks[i]);
    }
    ck_assert_int_eq(tally.drops, N);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ax_executor_free(executor); /* valgrind: nothing left allocated */
}
END_TEST

static Suite *abort_suite(void)
{
    Suite *s = suite_create("06-abort");
    TCase *tc = axt_tcase("abort");
    tcase_add_test(tc, an_idle_task_aborted_is_dropped_at_once_and_its_timer_goes);
    tcase_add_test(tc, a_queued_task_aborted_is_dropped_at_its_turn_without_a_poll);
    tcase_add_test(tc, an_aborted_task_parked_on_an_event_leaves_its_waiter_list);
    tcase_add_test(tc, an_aborted_task_parked_on_a_socket_gives_back_its_interest);
    tcase_add_test(tc, a_task_aborted_during_its_poll_is_dropped_when_the_poll_returns);
    tcase_add_test(tc, a_result_returned_by_the_aborted_poll_stands);
    tcase_add_test(tc, aborting_a_finished_task_changes_nothing);
    tcase_add_test(tc, a_task_joining_an_aborted_one_is_woken_with_ecanceled);
    tcase_add_test(tc, abort_frees_every_parked_task_of_many);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(abort_suite)
