/* Exercise 06-hedged-request: a request goes to backend A, and to B too if A is slow or
 * fails; the first reply wins, the other attempt is stopped (its connection closed, its
 * task gone), both fail with A's error, and a deadline stops everything.
 *
 * The two backends are real sockets on 127.0.0.1, each served by a task on the request's
 * executor (tests/support/backend.h), which answers at a set moment of virtual time,
 * hangs up, or stays silent; a port nobody listens on plays a backend that refuses.
 * Everything runs on paused time. The backends' two tasks live until the end of each
 * test, so "nothing left" means two tasks in the executor, and no timer but those of
 * backends still waiting to answer. */
#include "axtest.h"
#include "backend.h"
#include "hedged_request.h"
#include "loopback.h"
#include "virtual_time.h"

#include "ax/error.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT, REPLY_CAP = 64, A = 0, B = 1 };
static const uint64_t START = AXT_START;
static const uint64_t HEDGE = 100 * MS; /* every test's hedge delay, unless it says otherwise */
static const uint64_t DEADLINE = AXT_START + 2 * S;
static const char REQUEST[] = "GET pears\n";

struct scene {
    struct ax_executor *executor;
    int fds_at_start;
    struct axt_backend backend[2];
    struct hedge_backend target[2];
    size_t tasks_at_start; /* the backends' */
    /* the outcome */
    char reply[REPLY_CAP];
    int winner;
    ax_result result;
    uint64_t ended; /* the executor's time when it finished */
};

/* ---- the hedged request, in a task of its own ----------------------------------------- */

struct runner {
    struct ax_future base;
    struct hedged_request hedged;
    struct ax_timeout outer; /* drops the request early, in the test that wants it */
    struct ax_future *top; /* &hedged.base, or &outer.base */
    struct scene *sc;
};

static ax_result runner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct runner *r = (struct runner *)self;
    ax_result rc = ax_poll(r->top, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    r->sc->result = rc;
    r->sc->ended = ax_executor_now(cx->executor);
    return rc;
}

static void runner_drop(struct ax_future *self)
{
    ax_future_drop(((struct runner *)self)->top);
}

static const struct ax_future_ops runner_ops = {.poll = runner_poll, .drop = runner_drop};

/* Runs a hedged request to the scene's two backends to its end; with drop_at, a
 * timeout around it drops it then. The outcome is in the scene. */
static void run(struct scene *sc, uint64_t hedge_delay, uint64_t deadline, size_t cap,
                uint64_t drop_at)
{
    ck_assert_uint_le(cap, REPLY_CAP);
    struct runner *r = ax_task_alloc(sc->executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct runner){.base = {&runner_ops}, .top = &r->hedged.base, .sc = sc};
    hedged_request_init(&r->hedged, &sc->target[A], &sc->target[B], REQUEST, strlen(REQUEST),
                        hedge_delay, deadline, sc->reply, cap, &sc->winner);
    if (drop_at != 0) {
        ax_timeout_init(&r->outer, &r->hedged.base, drop_at);
        r->top = &r->outer.base;
    }
    sc->result = AX_PENDING;
    ax_block_on(sc->executor, ax_task_spawn(&r->base));
    ck_assert_msg(sc->result != AX_PENDING, "the request's task ended without finishing");
}

/* ---- the scene ------------------------------------------------------------------------ */

/* Backends A and B playing their scripts; a NULL script is a backend that refuses. */
static void scene_open(struct scene *sc, const struct axt_backend_script *a,
                       const struct axt_backend_script *b)
{
    *sc = (struct scene){.fds_at_start = axt_open_fds(), .winner = -2};
    sc->executor = axt_paused_executor();
    static const struct axt_backend_script unused = {0};
    const struct axt_backend_script *scripts[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        axt_backend_open(&sc->backend[i], sc->executor, scripts[i] != NULL ? scripts[i] : &unused);
        sc->target[i] = (struct hedge_backend){
            .host = "127.0.0.1",
            .port = scripts[i] != NULL ? sc->backend[i].port : axt_refused_port(AF_INET)};
    }
    sc->tasks_at_start = ax_executor_tasks(sc->executor);
}

static void scene_close(struct scene *sc)
{
    ax_executor_free(sc->executor);
    for (int i = 0; i < 2; i++)
        axt_backend_close(&sc->backend[i]);
    int open = axt_open_fds();
    ck_assert_msg(open == sc->fds_at_start, "%d descriptors were left open",
                  open - sc->fds_at_start);
}

/* ---- checks --------------------------------------------------------------------------- */

static const char *const NAME[2] = {"A", "B"};

static const char *describe(ax_result rc)
{
    return rc >= 0 ? "a reply line" : ax_strerror((int)rc);
}

static void assert_result(const struct scene *sc, ax_result want)
{
    ck_assert_msg(sc->result == want, "the request finished with %lld (%s); expected %lld (%s)",
                  (long long)sc->result, describe(sc->result), (long long)want, describe(want));
}

static void assert_won(const struct scene *sc, int winner, const char *line)
{
    assert_result(sc, (ax_result)strlen(line));
    ck_assert_msg(sc->winner == winner, "*winner is %d; %s's reply came first", sc->winner,
                  NAME[winner]);
    ck_assert_msg(strcmp(sc->reply, line) == 0, "the reply is %s, expected %s",
                  axt_quoted(sc->reply), axt_quoted(line));
}

/* Timers fire on the first wheel tick at or after their deadline. */
static void assert_at(const char *what, uint64_t time, uint64_t when)
{
    ck_assert_msg(
        time >= when && time < when + TICK, "%s at %+lld ms, expected at %+lld ms (from the start)",
        what, (long long)(time - START) / (long long)MS, (long long)(when - START) / (long long)MS);
}

static void assert_ended_at(const struct scene *sc, uint64_t when)
{
    assert_at("the request finished", sc->ended, when);
}

static void assert_asked_at(const struct scene *sc, int i, uint64_t when)
{
    ck_assert_msg(sc->backend[i].request_in, "%s never had the request", NAME[i]);
    ck_assert_msg(strcmp(sc->backend[i].request, REQUEST) == 0, "%s got %s", NAME[i],
                  axt_quoted(sc->backend[i].request));
    char what[32];
    snprintf(what, sizeof what, "%s had the request", NAME[i]);
    assert_at(what, sc->backend[i].request_at, when);
}

static void assert_hung_up(const struct scene *sc, int i)
{
    ck_assert_msg(sc->backend[i].accepted, "%s was never called", NAME[i]);
    ck_assert_msg(axt_backend_hung_up(&sc->backend[i]),
                  "the request has finished and its connection to %s is open", NAME[i]);
}

static void assert_not_contacted(const struct scene *sc, int i)
{
    ck_assert_msg(!axt_backend_contacted(&sc->backend[i]),
                  "%s was called, and should not have been", NAME[i]);
}

/* No attempt's task is left, and no timer but `others` the test knows of. */
static void assert_nothing_left(const struct scene *sc, size_t others)
{
    size_t tasks = ax_executor_tasks(sc->executor) - sc->tasks_at_start;
    ck_assert_msg(tasks == 0, "%zu tasks of the request are left in the executor", tasks);
    size_t timers = ax_executor_timers(sc->executor);
    ck_assert_msg(timers == others, "%zu timers are pending after the request ended; expected %zu",
                  timers, others);
}

/* ---- the hedge ------------------------------------------------------------------------ */

START_TEST(a_fast_a_wins_and_b_is_never_contacted)
{
    struct scene sc;
    static const struct axt_backend_script fast = {.answer_at = AXT_START + 10 * MS,
                                                   .reply = "pear from A\n"};
    static const struct axt_backend_script prompt = {.reply = "pear from B\n"};
    scene_open(&sc, &fast, &prompt);
    axt_backend_expect(&sc.backend[A], 0);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, A, "pear from A");
    assert_ended_at(&sc, START + 10 * MS);
    assert_not_contacted(&sc, B);
    assert_hung_up(&sc, A);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_slow_a_is_hedged_and_the_faster_b_wins)
{
    struct scene sc;
    static const struct axt_backend_script slow = {.answer_at = AXT_START + 1 * S,
                                                   .reply = "pear from A\n"};
    static const struct axt_backend_script prompt = {.reply = "pear from B\n"};
    scene_open(&sc, &slow, &prompt);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], START + HEDGE);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, B, "pear from B");
    assert_asked_at(&sc, A, START);
    assert_asked_at(&sc, B, START + HEDGE);
    assert_ended_at(&sc, START + HEDGE);
    assert_hung_up(&sc, A); /* the loser's connection */
    assert_hung_up(&sc, B);
    assert_nothing_left(&sc, 1); /* A's own, for the answer it will never send */
    scene_close(&sc);
}
END_TEST

START_TEST(a_that_answers_after_the_hedge_still_wins_and_b_is_stopped)
{
    struct scene sc;
    static const struct axt_backend_script a = {.answer_at = AXT_START + 150 * MS,
                                                .reply = "pear from A\n"};
    static const struct axt_backend_script b = {.answer_at = AXT_START + 400 * MS,
                                                .reply = "pear from B\n"};
    scene_open(&sc, &a, &b);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], START + HEDGE);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, A, "pear from A");
    assert_asked_at(&sc, B, START + HEDGE);
    assert_ended_at(&sc, START + 150 * MS);
    assert_hung_up(&sc, B);
    assert_nothing_left(&sc, 1); /* B's own */
    scene_close(&sc);
}
END_TEST

START_TEST(a_zero_hedge_delay_asks_both_at_once)
{
    struct scene sc;
    static const struct axt_backend_script a = {.answer_at = AXT_START + 300 * MS,
                                                .reply = "pear from A\n"};
    static const struct axt_backend_script b = {.answer_at = AXT_START + 200 * MS,
                                                .reply = "pear from B\n"};
    scene_open(&sc, &a, &b);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], 0);
    run(&sc, 0, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, B, "pear from B");
    assert_asked_at(&sc, A, START);
    assert_asked_at(&sc, B, START);
    assert_ended_at(&sc, START + 200 * MS);
    assert_hung_up(&sc, A);
    assert_nothing_left(&sc, 1); /* A's own */
    scene_close(&sc);
}
END_TEST

/* ---- failures ------------------------------------------------------------------------- */

START_TEST(a_failing_before_the_hedge_delay_sends_to_b_at_once)
{
    struct scene sc;
    static const struct axt_backend_script hangs_up = {.answer_at = AXT_START + 20 * MS,
                                                       .hang_up = true};
    static const struct axt_backend_script prompt = {.reply = "pear from B\n"};
    scene_open(&sc, &hangs_up, &prompt);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], START + 20 * MS);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, B, "pear from B");
    assert_asked_at(&sc, B, START + 20 * MS);
    assert_ended_at(&sc, START + 20 * MS);
    assert_hung_up(&sc, A);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_refusing_a_sends_to_b_at_once)
{
    struct scene sc;
    static const struct axt_backend_script prompt = {.reply = "pear from B\n"};
    scene_open(&sc, NULL, &prompt);
    axt_backend_expect(&sc.backend[B], 0);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, B, "pear from B");
    assert_asked_at(&sc, B, START);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_failing_after_the_hedge_leaves_b_to_answer)
{
    struct scene sc;
    static const struct axt_backend_script hangs_up = {.answer_at = AXT_START + 150 * MS,
                                                       .hang_up = true};
    static const struct axt_backend_script b = {.answer_at = AXT_START + 300 * MS,
                                                .reply = "pear from B\n"};
    scene_open(&sc, &hangs_up, &b);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], START + HEDGE);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, B, "pear from B");
    assert_ended_at(&sc, START + 300 * MS);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(b_failing_leaves_a_to_answer)
{
    struct scene sc;
    static const struct axt_backend_script a = {.answer_at = AXT_START + 400 * MS,
                                                .reply = "pear from A\n"};
    scene_open(&sc, &a, NULL);
    axt_backend_expect(&sc.backend[A], 0);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_won(&sc, A, "pear from A");
    assert_ended_at(&sc, START + 400 * MS);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

/* A's line does not fit the caller's buffer: a failure of A's like any other. */
START_TEST(a_line_too_long_from_a_is_a_failure_and_b_answers)
{
    struct scene sc;
    static const struct axt_backend_script wordy = {.reply = "a pear of more than sixteen bytes\n"};
    static const struct axt_backend_script b = {.answer_at = AXT_START + 50 * MS,
                                                .reply = "short pear\n"};
    scene_open(&sc, &wordy, &b);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], 0);
    run(&sc, HEDGE, DEADLINE, 16, 0);
    assert_won(&sc, B, "short pear");
    assert_asked_at(&sc, B, START);
    assert_hung_up(&sc, A);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(when_both_fail_the_error_is_as_even_when_b_fails_last)
{
    struct scene sc;
    static const struct axt_backend_script hangs_up = {.answer_at = AXT_START + 50 * MS,
                                                       .hang_up = true};
    scene_open(&sc, NULL, &hangs_up);
    axt_backend_expect(&sc.backend[B], 0);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_result(&sc, -ECONNREFUSED);
    ck_assert_msg(sc.winner == -1, "*winner is %d with no reply; expected -1", sc.winner);
    assert_ended_at(&sc, START + 50 * MS);
    assert_hung_up(&sc, B);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(when_both_fail_the_error_is_as_even_when_a_fails_last)
{
    struct scene sc;
    static const struct axt_backend_script hangs_up = {.answer_at = AXT_START + 300 * MS,
                                                       .hang_up = true};
    scene_open(&sc, &hangs_up, NULL);
    axt_backend_expect(&sc.backend[A], 0);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, 0);
    assert_result(&sc, AX_EOF);
    assert_ended_at(&sc, START + 300 * MS);
    assert_hung_up(&sc, A);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

/* ---- the deadline, and dropping ------------------------------------------------------- */

START_TEST(the_deadline_stops_both_attempts)
{
    struct scene sc;
    static const struct axt_backend_script silent = {0};
    scene_open(&sc, &silent, &silent);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], START + HEDGE);
    run(&sc, HEDGE, START + 1 * S, REPLY_CAP, 0);
    assert_result(&sc, -ETIMEDOUT);
    assert_ended_at(&sc, START + 1 * S);
    assert_hung_up(&sc, A);
    assert_hung_up(&sc, B);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

/* The deadline wins over a failure seen before it: the caller asked for an answer by
 * then, and there was none. */
START_TEST(the_deadline_is_reported_even_after_a_failed)
{
    struct scene sc;
    static const struct axt_backend_script silent = {0};
    scene_open(&sc, NULL, &silent);
    axt_backend_expect(&sc.backend[B], 0);
    run(&sc, HEDGE, START + 1 * S, REPLY_CAP, 0);
    assert_result(&sc, -ETIMEDOUT);
    assert_ended_at(&sc, START + 1 * S);
    assert_hung_up(&sc, B);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_deadline_before_the_hedge_delay_never_contacts_b)
{
    struct scene sc;
    static const struct axt_backend_script silent = {0};
    static const struct axt_backend_script prompt = {.reply = "pear from B\n"};
    scene_open(&sc, &silent, &prompt);
    axt_backend_expect(&sc.backend[A], 0);
    run(&sc, 500 * MS, START + 200 * MS, REPLY_CAP, 0);
    assert_result(&sc, -ETIMEDOUT);
    assert_ended_at(&sc, START + 200 * MS);
    assert_not_contacted(&sc, B);
    assert_hung_up(&sc, A);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_deadline_already_past_contacts_nobody)
{
    struct scene sc;
    static const struct axt_backend_script prompt = {.reply = "pear\n"};
    scene_open(&sc, &prompt, &prompt);
    run(&sc, HEDGE, START - 1, REPLY_CAP, 0);
    assert_result(&sc, -ETIMEDOUT);
    assert_ended_at(&sc, START);
    assert_not_contacted(&sc, A);
    assert_not_contacted(&sc, B);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_dropped_hedged_request_stops_both_attempts)
{
    struct scene sc;
    static const struct axt_backend_script silent = {0};
    scene_open(&sc, &silent, &silent);
    axt_backend_expect(&sc.backend[A], 0);
    axt_backend_expect(&sc.backend[B], START + HEDGE);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, START + 300 * MS);
    ck_assert_msg(sc.result == -ETIMEDOUT, "the timeout around the request finished with %s",
                  describe(sc.result));
    assert_ended_at(&sc, START + 300 * MS);
    assert_asked_at(&sc, B, START + HEDGE);
    assert_hung_up(&sc, A);
    assert_hung_up(&sc, B);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_request_dropped_before_the_hedge_never_contacts_b)
{
    struct scene sc;
    static const struct axt_backend_script silent = {0};
    static const struct axt_backend_script prompt = {.reply = "pear from B\n"};
    scene_open(&sc, &silent, &prompt);
    axt_backend_expect(&sc.backend[A], 0);
    run(&sc, HEDGE, DEADLINE, REPLY_CAP, START + 50 * MS);
    ck_assert_msg(sc.result == -ETIMEDOUT, "the timeout around the request finished with %s",
                  describe(sc.result));
    assert_ended_at(&sc, START + 50 * MS);
    assert_hung_up(&sc, A);
    assert_not_contacted(&sc, B);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(no_room_for_a_reply_is_refused_without_contacting_anyone)
{
    struct scene sc;
    static const struct axt_backend_script prompt = {.reply = "pear\n"};
    scene_open(&sc, &prompt, &prompt);
    run(&sc, HEDGE, DEADLINE, 0, 0);
    assert_result(&sc, -EINVAL);
    assert_not_contacted(&sc, A);
    assert_not_contacted(&sc, B);
    assert_nothing_left(&sc, 0);
    scene_close(&sc);
}
END_TEST

static Suite *hedged_request_suite(void)
{
    Suite *s = suite_create("06-hedged-request");
    TCase *tc = axt_tcase("hedged_request");
    tcase_add_test(tc, a_fast_a_wins_and_b_is_never_contacted);
    tcase_add_test(tc, a_slow_a_is_hedged_and_the_faster_b_wins);
    tcase_add_test(tc, a_that_answers_after_the_hedge_still_wins_and_b_is_stopped);
    tcase_add_test(tc, a_zero_hedge_delay_asks_both_at_once);
    tcase_add_test(tc, a_failing_before_the_hedge_delay_sends_to_b_at_once);
    tcase_add_test(tc, a_refusing_a_sends_to_b_at_once);
    tcase_add_test(tc, a_failing_after_the_hedge_leaves_b_to_answer);
    tcase_add_test(tc, b_failing_leaves_a_to_answer);
    tcase_add_test(tc, a_line_too_long_from_a_is_a_failure_and_b_answers);
    tcase_add_test(tc, when_both_fail_the_error_is_as_even_when_b_fails_last);
    tcase_add_test(tc, when_both_fail_the_error_is_as_even_when_a_fails_last);
    tcase_add_test(tc, the_deadline_stops_both_attempts);
    tcase_add_test(tc, the_deadline_is_reported_even_after_a_failed);
    tcase_add_test(tc, a_deadline_before_the_hedge_delay_never_contacts_b);
    tcase_add_test(tc, a_deadline_already_past_contacts_nobody);
    tcase_add_test(tc, a_dropped_hedged_request_stops_both_attempts);
    tcase_add_test(tc, a_request_dropped_before_the_hedge_never_contacts_b);
    tcase_add_test(tc, no_room_for_a_reply_is_refused_without_contacting_anyone);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(hedged_request_suite)
