/* Cancel safety, future by future: what dropping each of the library's futures mid-way
 * costs. Each test drives a future by hand (tests/support/by_hand.h) to the point where
 * it is waiting, drops it there, as a timeout, a lost select or an abort would, and then
 * shows what was lost, or that nothing was: the next future of the same kind sees
 * everything. Time is virtual; nothing here sleeps. */
#include "axtest.h"
#include "by_hand.h"
#include "virtual_time.h"
#include "ax/cancel.h"
#include "ax/combine.h"
#include "ax/error.h"
#include "ax/event.h"
#include "ax/io.h"
#include "ax/lines.h"
#include "ax/net.h"
#include "ax/scope.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS (1000ull * 1000)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT, BIG = 1 << 20, POLLS = 64 };
static const uint64_t START = AXT_START;

/* A socketpair whose first end is a source on a paused executor. */
struct pair {
    struct ax_executor *executor;
    struct ax_source *source;
    int peer;
};

static void open_pair(struct pair *p)
{
    int fds[2];
    axt_socketpair(fds);
    p->executor = axt_paused_executor();
    ck_assert_int_eq(ax_source_open(p->executor, fds[0], &p->source), 0);
    p->peer = fds[1];
}

static void close_pair(struct pair *p)
{
    ax_source_close(p->source);
    close(p->peer);
    ax_executor_free(p->executor);
}

/* Polls until the future answers; fails the test if it never does. */
static ax_result poll_until_done(struct ax_executor *executor, struct ax_future *future)
{
    ax_result rc = AX_PENDING;
    for (int i = 0; i < POLLS && rc == AX_PENDING; i++)
        rc = axt_poll_once(executor, future);
    ck_assert_msg(rc != AX_PENDING, "no answer after %d polls", POLLS);
    return rc;
}

/* Polls the future, which must stay pending, until the lines hold n bytes it read. */
static void poll_until_buffered(struct ax_executor *executor, struct ax_future *future,
                                const struct ax_lines *lines, size_t n)
{
    for (int i = 0; i < POLLS && ax_lines_buffered(lines) < n; i++)
        ck_assert(axt_poll_once(executor, future) == AX_PENDING);
}

/* A fresh reader on the same lines gets `expected` whole: nothing the dropped one read
 * was lost. */
static void assert_next_line_is(struct ax_executor *executor, struct ax_lines *lines,
                                const char *expected)
{
    struct ax_next_line next;
    ax_next_line_init(&next, lines);
    ck_assert_int_eq(poll_until_done(executor, &next.base), (ax_result)strlen(expected));
    ck_assert_str_eq(next.line, expected);
    ax_future_drop(&next.base);
}

/* A write future over a socket whose send buffer is tiny, polled until it parks with
 * part of buf sent. */
static void start_big_write(struct pair *p, struct ax_write_future *write, const char *buf)
{
    axt_tiny_sndbuf(ax_source_fd(p->source));
    ax_write_future_init(write, p->source, buf, BIG);
    ck_assert(axt_poll_once(p->executor, &write->base) == AX_PENDING);
    ck_assert_uint_gt(write->done, 0);
}

/* A future that counts its polls and drops, and finishes at once when `ready`. */
struct probe {
    struct ax_future base;
    bool ready;
    int polls, drops;
};

static ax_result probe_poll(struct ax_future *self, struct ax_context *cx)
{
    struct probe *p = (struct probe *)self;
    (void)cx;
    p->polls++;
    return p->ready ? 7 : AX_PENDING; /* pending only ever polled by hand: no waker needed */
}

static void probe_drop(struct ax_future *self)
{
    ((struct probe *)self)->drops++;
}

static const struct ax_future_ops probe_ops = {.poll = probe_poll, .drop = probe_drop};

/* ---- read: safe ------------------------------------------------------------------ */

START_TEST(a_read_dropped_while_waiting_consumes_nothing)
{
    struct pair p;
    open_pair(&p);
    char buf[16];
    struct ax_read_future read;
    ax_read_future_init(&read, p.source, buf, sizeof buf);
    ck_assert(axt_poll_once(p.executor, &read.base) == AX_PENDING);
    axt_send_all(p.peer, "data", 4);
    ax_future_drop(&read.base); /* the bytes have arrived; the read never saw them */
    ax_read_future_init(&read, p.source, buf, sizeof buf);
    ck_assert_int_eq(poll_until_done(p.executor, &read.base), 4);
    ck_assert_int_eq(memcmp(buf, "data", 4), 0);
    ax_future_drop(&read.base);
    close_pair(&p);
}
END_TEST

/* ---- write: not safe ------------------------------------------------------------- */

START_TEST(a_dropped_write_may_have_sent_a_prefix)
{
    struct pair p;
    open_pair(&p);
    char *out = calloc(1, BIG), *in = malloc(BIG);
    ck_assert(out != NULL && in != NULL);
    struct ax_write_future write;
    start_big_write(&p, &write, out);
    size_t sent = write.done; /* the caller will not see this once the future is gone */
    ax_future_drop(&write.base);
    size_t got = axt_drain_now(p.peer, in, BIG);
    ck_assert_msg(got == sent && got > 0 && got < BIG,
                  "the peer got %zu bytes of %d, the write had sent %zu", got, BIG, sent);
    free(out);
    free(in);
    close_pair(&p);
}
END_TEST

START_TEST(a_write_retried_after_a_drop_sends_its_prefix_twice)
{
    struct pair p;
    open_pair(&p);
    char *out = malloc(BIG), *in = malloc(2 * BIG);
    ck_assert(out != NULL && in != NULL);
    for (size_t i = 0; i < BIG; i++)
        out[i] = (char)(i * 7 + i / 251);
    struct ax_write_future write;
    start_big_write(&p, &write, out);
    size_t sent = write.done;
    ax_future_drop(&write.base); /* a retry cannot know where the last one stopped */
    ax_write_future_init(&write, p.source, out, BIG);
    size_t got = 0;
    ax_result rc = AX_PENDING;
    for (int i = 0; i < 100000 && rc == AX_PENDING; i++) {
        rc = axt_poll_once(p.executor, &write.base);
        got += axt_drain_now(p.peer, in + got, 2 * BIG - got);
    }
    ck_assert_int_eq(rc, 0);
    ax_future_drop(&write.base);
    got += axt_drain_now(p.peer, in + got, 2 * BIG - got);
    ck_assert_uint_eq(got, sent + BIG);
    ck_assert_msg(memcmp(in, out, sent) == 0 && memcmp(in + sent, out, BIG) == 0,
                  "the peer did not get the prefix, then the whole message again");
    free(out);
    free(in);
    close_pair(&p);
}
END_TEST

/* ---- accept: safe ---------------------------------------------------------------- */

START_TEST(a_dropped_accept_leaves_the_connection_for_the_next)
{
    struct ax_executor *executor = axt_paused_executor();
    uint16_t port;
    int fd = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(fd, 0);
    struct ax_source *listener;
    ck_assert_int_eq(ax_source_open(executor, fd, &listener), 0);
    struct ax_accept_future accept;
    ax_accept_future_init(&accept, listener);
    ck_assert(axt_poll_once(executor, &accept.base) == AX_PENDING);
    int client = ax_connect("127.0.0.1", port);
    ck_assert_int_ge(client, 0);
    ax_future_drop(&accept.base);
    ax_accept_future_init(&accept, listener);
    ax_result conn = poll_until_done(executor, &accept.base);
    ck_assert_msg(conn >= 0, "accept: %s", ax_strerror((int)conn));
    ax_future_drop(&accept.base);
    close((int)conn);
    close(client);
    ax_source_close(listener);
    ax_executor_free(executor);
}
END_TEST

/* ---- connect: not safe ----------------------------------------------------------- */

START_TEST(a_dropped_connect_closes_its_socket_and_the_next_starts_over)
{
    struct ax_executor *executor = axt_paused_executor();
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(listener, 0);
    struct ax_source *out = NULL;
    struct ax_connect_future connect;
    ax_connect_future_init(&connect, "127.0.0.1", port, &out);
    ck_assert(axt_poll_once(executor, &connect.base) == AX_PENDING);
    ax_future_drop(&connect.base); /* the handshake may be done: the socket goes anyway */
    ck_assert_ptr_null(out);

    int first = ax_accept(listener, NULL); /* the kernel finished it; nobody holds it */
    ck_assert_int_ge(first, 0);
    char byte;
    ssize_t n;
    do
        n = recv(first, &byte, 1, 0);
    while (n < 0 && errno == EINTR);
    ck_assert_msg(n == 0 || (n < 0 && errno == ECONNRESET), "the dropped connection is alive");

    ax_connect_future_init(&connect, "127.0.0.1", port, &out);
    ck_assert_int_eq(poll_until_done(executor, &connect.base), 0); /* a new handshake */
    ax_future_drop(&connect.base);
    ck_assert_ptr_nonnull(out);
    int second = ax_accept(listener, NULL);
    ck_assert_int_ge(second, 0);
    close(first);
    close(second);
    close(listener);
    ax_source_close(out);
    ax_executor_free(executor);
}
END_TEST

/* ---- ax_next_line: safe ---------------------------------------------------------- */

START_TEST(a_dropped_next_line_keeps_the_bytes_it_read)
{
    struct pair p;
    open_pair(&p);
    struct ax_lines lines;
    ck_assert_int_eq(ax_lines_init(&lines, p.source, 64), 0);
    struct ax_next_line next;
    ax_next_line_init(&next, &lines);
    axt_send_all(p.peer, "half of a", 9);
    poll_until_buffered(p.executor, &next.base, &lines, 9);
    ax_future_drop(&next.base);
    axt_send_all(p.peer, " line\n", 6);
    assert_next_line_is(p.executor, &lines, "half of a line");
    ax_lines_free(&lines);
    close_pair(&p);
}
END_TEST

/* ---- event wait: safe ------------------------------------------------------------ */

START_TEST(a_dropped_event_wait_leaves_nothing_behind_and_misses_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_event event;
    ax_event_init(&event);
    struct ax_event_wait wait;
    ax_event_wait_init(&wait, &event);
    ck_assert(axt_poll_once(executor, &wait.base) == AX_PENDING);
    ax_future_drop(&wait.base);
    ck_assert(ax_list_empty(&event.waiters));
    ax_event_set(&event); /* set while nobody waits: the flag keeps it */
    ax_event_wait_init(&wait, &event);
    ck_assert_int_eq(axt_poll_once(executor, &wait.base), 0);
    ax_future_drop(&wait.base);
    ax_executor_free(executor);
}
END_TEST

/* ---- sleep_until: safe ----------------------------------------------------------- */

START_TEST(a_sleep_until_dropped_and_rearmed_wakes_at_the_same_deadline)
{
    struct ax_executor *executor = axt_paused_executor();
    uint64_t deadline = START + 100 * MS;
    struct ax_sleep sleep;
    ax_sleep_until_init(&sleep, deadline);
    ck_assert(axt_poll_once(executor, &sleep.base) == AX_PENDING);
    ax_executor_advance_time(executor, 60 * MS);
    ck_assert(axt_poll_once(executor, &sleep.base) == AX_PENDING);
    ax_future_drop(&sleep.base);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_sleep_until_init(&sleep, deadline); /* the same deadline: the 60 ms still count */
    ck_assert(axt_poll_once(executor, &sleep.base) == AX_PENDING);
    ax_executor_advance_time(executor, 40 * MS + TICK);
    ck_assert_int_eq(axt_poll_once(executor, &sleep.base), 0);
    ax_future_drop(&sleep.base);
    ax_executor_free(executor);
}
END_TEST

/* ---- relative sleep: not safe ---------------------------------------------------- */

START_TEST(a_dropped_relative_sleep_loses_the_time_it_waited)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_sleep sleep;
    ax_sleep_init(&sleep, 100 * MS);
    ck_assert(axt_poll_once(executor, &sleep.base) == AX_PENDING);
    ax_executor_advance_time(executor, 60 * MS);
    ax_future_drop(&sleep.base);
    ax_sleep_init(&sleep, 100 * MS); /* counts 100 ms from now, not from the first */
    ck_assert(axt_poll_once(executor, &sleep.base) == AX_PENDING);
    ax_executor_advance_time(executor, 40 * MS + TICK); /* when the first would have woken */
    ck_assert(axt_poll_once(executor, &sleep.base) == AX_PENDING);
    ax_executor_advance_time(executor, 60 * MS);
    ck_assert_int_eq(axt_poll_once(executor, &sleep.base), 0);
    ax_future_drop(&sleep.base);
    ax_executor_free(executor);
}
END_TEST

/* ---- interval tick: safe --------------------------------------------------------- */

START_TEST(a_dropped_tick_leaves_the_interval_on_schedule)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_interval interval;
    ax_interval_init(&interval, START + 100 * MS, 100 * MS);
    struct ax_tick tick;
    ax_tick_init(&tick, &interval);
    ck_assert(axt_poll_once(executor, &tick.base) == AX_PENDING);
    ax_executor_advance_time(executor, 60 * MS);
    ax_future_drop(&tick.base);
    ax_tick_init(&tick, &interval); /* the schedule lives in the interval, not the tick */
    ck_assert(axt_poll_once(executor, &tick.base) == AX_PENDING);
    ax_executor_advance_time(executor, 40 * MS + TICK);
    ck_assert_uint_eq((uint64_t)axt_poll_once(executor, &tick.base), START + 100 * MS);
    ax_future_drop(&tick.base);
    ax_executor_free(executor);
}
END_TEST

/* ---- timeout: as safe as its inner future ---------------------------------------- */

START_TEST(a_timeout_over_next_line_gives_up_without_losing_a_byte)
{
    struct pair p;
    open_pair(&p);
    struct ax_lines lines;
    ck_assert_int_eq(ax_lines_init(&lines, p.source, 64), 0);
    struct ax_next_line next;
    ax_next_line_init(&next, &lines);
    struct ax_timeout timeout;
    ax_timeout_init(&timeout, &next.base, START + 50 * MS);
    axt_send_all(p.peer, "slow", 4);
    poll_until_buffered(p.executor, &timeout.base, &lines, 4);
    ax_executor_advance_time(p.executor, 50 * MS + TICK);
    ck_assert_int_eq(axt_poll_once(p.executor, &timeout.base), -ETIMEDOUT); /* dropped next */
    ax_future_drop(&timeout.base);
    axt_send_all(p.peer, "ly\n", 3);
    assert_next_line_is(p.executor, &lines, "slowly");
    ax_lines_free(&lines);
    close_pair(&p);
}
END_TEST

START_TEST(a_timeout_over_a_write_may_have_sent_a_prefix)
{
    struct pair p;
    open_pair(&p);
    char *out = calloc(1, BIG), *in = malloc(BIG);
    ck_assert(out != NULL && in != NULL);
    axt_tiny_sndbuf(ax_source_fd(p.source));
    struct ax_write_future write;
    ax_write_future_init(&write, p.source, out, BIG);
    struct ax_timeout timeout;
    ax_timeout_init(&timeout, &write.base, START + 50 * MS);
    ck_assert(axt_poll_once(p.executor, &timeout.base) == AX_PENDING);
    ax_executor_advance_time(p.executor, 50 * MS + TICK);
    ck_assert_int_eq(axt_poll_once(p.executor, &timeout.base), -ETIMEDOUT);
    ax_future_drop(&timeout.base);
    size_t got = axt_drain_now(p.peer, in, BIG);
    ck_assert_msg(got > 0 && got < BIG, "the peer got %zu bytes of %d", got, BIG);
    free(out);
    free(in);
    close_pair(&p);
}
END_TEST

/* ---- join: dropping it detaches ---------------------------------------------------- */

struct worker {
    struct ax_future base;
    struct ax_event_wait wait;
    bool *ran;
};

static ax_result worker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct worker *w = (struct worker *)self;
    ax_result rc = ax_poll(&w->wait.base, cx);
    if (rc == AX_PENDING)
        return rc;
    *w->ran = true;
    return 42;
}

static void worker_drop(struct ax_future *self)
{
    ax_future_drop(&((struct worker *)self)->wait.base);
}

static const struct ax_future_ops worker_ops = {.poll = worker_poll, .drop = worker_drop};

static struct ax_future *new_worker(struct ax_executor *executor, struct ax_event *event, bool *ran)
{
    struct worker *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    *w = (struct worker){.base = {&worker_ops}, .ran = ran};
    ax_event_wait_init(&w->wait, event);
    return &w->base;
}

START_TEST(a_dropped_join_detaches_the_task_which_runs_on_and_its_result_is_lost)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_event event;
    ax_event_init(&event);
    bool ran = false;
    struct ax_join join;
    ax_join_init(&join, ax_task_spawn(new_worker(executor, &event, &ran)));
    ck_assert(axt_poll_once(executor, &join.base) == AX_PENDING);
    ax_future_drop(&join.base); /* gives the handle back: nobody can read the 42 now */
    ck_assert_uint_eq(ax_executor_tasks(executor), 1);
    ax_event_set(&event);
    axt_run_turn(executor);
    ck_assert(ran);
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ax_executor_free(executor);
}
END_TEST

/* ---- select: as unsafe as its least safe branch ---------------------------------- */

START_TEST(a_select_drops_its_losers_unpolled_when_a_branch_is_ready_first)
{
    struct ax_executor *executor = axt_paused_executor();
    struct probe winner = {.base = {&probe_ops}, .ready = true};
    struct probe loser = {.base = {&probe_ops}};
    struct ax_future *futures[] = {&winner.base, &loser.base};
    struct ax_select select;
    ax_select_init_biased(&select, futures, 2);
    ck_assert_int_eq(axt_poll_once(executor, &select.base), 7);
    ck_assert_int_eq(loser.polls, 0);
    ck_assert_int_eq(loser.drops, 1);
    ck_assert_int_eq(winner.drops, 1);
    ax_future_drop(&select.base);
    ck_assert_int_eq(loser.drops, 1);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_select_with_a_write_branch_may_have_sent_a_prefix_when_another_wins)
{
    struct pair p;
    open_pair(&p);
    char *out = calloc(1, BIG), *in = malloc(BIG);
    ck_assert(out != NULL && in != NULL);
    axt_tiny_sndbuf(ax_source_fd(p.source));
    struct ax_write_future write;
    ax_write_future_init(&write, p.source, out, BIG);
    struct ax_event stop;
    ax_event_init(&stop);
    struct ax_event_wait wait;
    ax_event_wait_init(&wait, &stop);
    struct ax_future *futures[] = {&write.base, &wait.base};
    struct ax_select select;
    ax_select_init_biased(&select, futures, 2);
    ck_assert(axt_poll_once(p.executor, &select.base) == AX_PENDING);
    ax_event_set(&stop);
    ck_assert_int_eq(axt_poll_once(p.executor, &select.base), 0);
    ck_assert_uint_eq(select.winner, 1); /* the write lost, half done */
    ax_future_drop(&select.base);
    size_t got = axt_drain_now(p.peer, in, BIG);
    ck_assert_msg(got > 0 && got < BIG, "the peer got %zu bytes of %d", got, BIG);
    free(out);
    free(in);
    close_pair(&p);
}
END_TEST

START_TEST(a_select_whose_branches_are_all_safe_loses_nothing_to_a_loser)
{
    struct pair p;
    open_pair(&p);
    struct ax_lines lines;
    ck_assert_int_eq(ax_lines_init(&lines, p.source, 64), 0);
    struct ax_next_line next;
    ax_next_line_init(&next, &lines);
    struct ax_event stop;
    ax_event_init(&stop);
    struct ax_event_wait wait;
    ax_event_wait_init(&wait, &stop);
    struct ax_future *futures[] = {&next.base, &wait.base};
    struct ax_select select;
    ax_select_init_biased(&select, futures, 2);
    axt_send_all(p.peer, "not yet", 7);
    poll_until_buffered(p.executor, &select.base, &lines, 7);
    ax_event_set(&stop);
    ck_assert_int_eq(axt_poll_once(p.executor, &select.base), 0);
    ck_assert_uint_eq(select.winner, 1);
    ax_future_drop(&select.base);
    axt_send_all(p.peer, "\n", 1);
    assert_next_line_is(p.executor, &lines, "not yet");
    ax_lines_free(&lines);
    close_pair(&p);
}
END_TEST

/* ---- join_all: partly; finished[] says which completed --------------------------- */

START_TEST(a_dropped_join_all_marks_finished_only_what_completed)
{
    struct ax_executor *executor = axt_paused_executor();
    struct probe done = {.base = {&probe_ops}, .ready = true};
    struct probe waiting = {.base = {&probe_ops}};
    struct ax_future *futures[] = {&done.base, &waiting.base};
    ax_result results[2] = {0, 0};
    bool finished[2];
    struct ax_join_all join;
    ax_join_all_init(&join, futures, results, finished, 2);
    ck_assert(axt_poll_once(executor, &join.base) == AX_PENDING);
    ax_future_drop(&join.base);
    ck_assert(finished[0]);
    ck_assert_int_eq(results[0], 7);
    ck_assert_msg(!finished[1], "a future dropped unfinished is marked finished");
    ck_assert_int_eq(done.drops, 1);
    ck_assert_int_eq(waiting.drops, 1);
    ax_executor_free(executor);
}
END_TEST

/* ---- cancel wait: safe ----------------------------------------------------------- */

START_TEST(a_dropped_cancel_wait_leaves_nothing_behind_and_misses_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token;
    ck_assert_int_eq(ax_cancel_new(&token), 0);
    struct ax_cancel_wait wait;
    ax_cancel_wait_init(&wait, token);
    ck_assert(axt_poll_once(executor, &wait.base) == AX_PENDING);
    ax_future_drop(&wait.base);
    ck_assert(ax_list_empty(&token->waiters));
    ck_assert_uint_eq(token->refs, 1);
    ax_cancel(token); /* while nobody waits: the token remembers */
    ax_cancel_wait_init(&wait, token);
    ck_assert_int_eq(axt_poll_once(executor, &wait.base), 0);
    ax_future_drop(&wait.base);
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

/* ---- scope wait: dropping it acts: it closes the scope --------------------------- */

START_TEST(a_dropped_scope_wait_closes_the_scope_and_aborts_its_children)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_event never;
    ax_event_init(&never);
    bool ran = false;
    struct ax_scope *scope;
    ck_assert_int_eq(ax_scope_new(&scope, executor, NULL), 0);
    ck_assert_int_eq(ax_scope_spawn(scope, new_worker(executor, &never, &ran)), 0);
    struct ax_scope_wait wait;
    ax_scope_wait_init(&wait, scope);
    ck_assert(axt_poll_once(executor, &wait.base) == AX_PENDING);
    ck_assert(ax_scope_result(scope, 0) == AX_PENDING);
    ax_future_drop(&wait.base); /* not a detach: the parent's end stops the children */
    axt_run_turn(executor);
    ck_assert_int_eq(ax_scope_result(scope, 0), -ECANCELED);
    ck_assert(ax_cancelled(ax_scope_token(scope)));
    ck_assert(!ran);
    ax_scope_release(scope);
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ax_executor_free(executor);
}
END_TEST

static Suite *cancel_safety_suite(void)
{
    Suite *s = suite_create("cancel-safety");
    TCase *tc = axt_tcase("cancel-safety");
    tcase_add_test(tc, a_read_dropped_while_waiting_consumes_nothing);
    tcase_add_test(tc, a_dropped_write_may_have_sent_a_prefix);
    tcase_add_test(tc, a_write_retried_after_a_drop_sends_its_prefix_twice);
    tcase_add_test(tc, a_dropped_accept_leaves_the_connection_for_the_next);
    tcase_add_test(tc, a_dropped_connect_closes_its_socket_and_the_next_starts_over);
    tcase_add_test(tc, a_dropped_next_line_keeps_the_bytes_it_read);
    tcase_add_test(tc, a_dropped_event_wait_leaves_nothing_behind_and_misses_nothing);
    tcase_add_test(tc, a_sleep_until_dropped_and_rearmed_wakes_at_the_same_deadline);
    tcase_add_test(tc, a_dropped_relative_sleep_loses_the_time_it_waited);
    tcase_add_test(tc, a_dropped_tick_leaves_the_interval_on_schedule);
    tcase_add_test(tc, a_timeout_over_next_line_gives_up_without_losing_a_byte);
    tcase_add_test(tc, a_timeout_over_a_write_may_have_sent_a_prefix);
    tcase_add_test(tc, a_dropped_join_detaches_the_task_which_runs_on_and_its_result_is_lost);
    tcase_add_test(tc, a_select_drops_its_losers_unpolled_when_a_branch_is_ready_first);
    tcase_add_test(tc, a_select_with_a_write_branch_may_have_sent_a_prefix_when_another_wins);
    tcase_add_test(tc, a_select_whose_branches_are_all_safe_loses_nothing_to_a_loser);
    tcase_add_test(tc, a_dropped_join_all_marks_finished_only_what_completed);
    tcase_add_test(tc, a_dropped_cancel_wait_leaves_nothing_behind_and_misses_nothing);
    tcase_add_test(tc, a_dropped_scope_wait_closes_the_scope_and_aborts_its_children);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(cancel_safety_suite)
