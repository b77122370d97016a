/* Challenge 05-challenge-happy-eyeballs: attempts start an attempt delay apart or at
 * once after a failure, the first connection wins, and no socket is left behind.
 *
 * The addresses are real ones on 127.0.0.1 and ::1, spelt one letter each in the tests:
 *   f  a listener that answers at once            F  the same on ::1
 *   h  a listener whose accept queue is full:     H  the same on ::1
 *      a connect to it hangs (loopback.h)
 *   r  a port nobody listens on: refused at once
 *   x  an address of no family (AF_UNSPEC): socket() fails with -EAFNOSUPPORT
 * Time is paused: the delays pass at once. Where a test knows a connection or a refusal
 * is coming, it holds the clock until the kernel has delivered it (loopback.h), so that
 * the next delay cannot overtake it. */
#include "axtest.h"
#include "happy_eyeballs.h"
#include "loopback.h"

#include "ax/error.h"
#include "ax/net.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MS    (1000ull * 1000)
#define S     (1000 * MS)
#define D     HAPPY_EYEBALLS_DELAY_NS
#define NEVER HAPPY_EYEBALLS_NEVER
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT, N_MAX = 6 };
static const uint64_t START = 1000 * S; /* paused time starts here */

struct scene {
    const char *spec;
    size_t n;
    struct ax_executor *executor;
    int fds_at_start; /* before the scene was set up */
    int fds_before; /* with the listeners and the executor up, before any attempt */
    struct happy_eyeballs_address addrs[N_MAX];
    uint64_t started_at[N_MAX];
    int listen_fd[N_MAX]; /* for an f or F address: its listener; else -1 */
    struct axt_full_listener full[N_MAX]; /* for an h or H address */
    struct ax_source *winner;
    uint64_t ended; /* the executor's time when the result came */
    int fds_at_result; /* counted as the result came, before anything was dropped */
};

static void scene_open(struct scene *sc, const char *spec)
{
    *sc = (struct scene){.spec = spec, .n = strlen(spec), .fds_at_start = axt_open_fds()};
    ck_assert_uint_le(sc->n, N_MAX);
    for (size_t i = 0; i < sc->n; i++) {
        char kind = spec[i];
        int family = kind == 'F' || kind == 'H' ? AF_INET6 : AF_INET;
        uint16_t port = 0;
        sc->listen_fd[i] = -1;
        if (kind == 'f' || kind == 'F') {
            sc->listen_fd[i] = axt_loopback_listen(family, 16, &port);
        } else if (kind == 'h' || kind == 'H') {
            axt_full_listener_open(&sc->full[i], family);
            port = sc->full[i].port;
        } else if (kind == 'r') {
            port = axt_refused_port(family);
        } else {
            ck_assert_msg(kind == 'x', "unknown address kind '%c'", kind);
            sc->addrs[i].len = sizeof(struct sockaddr_in); /* all zero: AF_UNSPEC */
            continue;
        }
        sc->addrs[i].len = axt_loopback_addr(family, port, &sc->addrs[i].addr);
    }
    ck_assert_int_eq(ax_executor_new(&sc->executor, NULL), 0);
    ax_executor_pause_time(sc->executor, START);
    sc->fds_before = axt_open_fds();
}

static void scene_close(struct scene *sc)
{
    if (sc->winner != NULL)
        ax_source_close(sc->winner);
    ax_executor_free(sc->executor);
    for (size_t i = 0; i < sc->n; i++) {
        if (sc->listen_fd[i] >= 0)
            close(sc->listen_fd[i]);
        if (sc->spec[i] == 'h' || sc->spec[i] == 'H')
            axt_full_listener_close(&sc->full[i]);
    }
    int open = axt_open_fds();
    ck_assert_msg(open == sc->fds_at_start, "%d descriptors were left open",
                  open - sc->fds_at_start);
}

/* The task under test: happy_eyeballs, perhaps under a timeout that drops it early. */
struct harness {
    struct ax_future base;
    struct happy_eyeballs he;
    struct ax_timeout outer;
    struct ax_future *top; /* &he.base, or &outer.base */
    struct scene *sc;
};

static ax_result harness_poll(struct ax_future *self, struct ax_context *cx)
{
    struct harness *h = (struct harness *)self;
    ax_result rc = ax_poll(h->top, cx);
    if (rc != AX_PENDING) {
        h->sc->ended = ax_executor_now(cx->executor);
        h->sc->fds_at_result = axt_open_fds();
    }
    return rc;
}

static void harness_drop(struct ax_future *self)
{
    ax_future_drop(((struct harness *)self)->top);
}

static const struct ax_future_ops harness_ops = {.poll = harness_poll, .drop = harness_drop};

/* Connects to the scene's addresses with attempts `delay` apart (0: the default), and
 * returns the result; with drop_at, a timeout drops the attempt at that time. */
static ax_result run(struct scene *sc, uint64_t delay, uint64_t drop_at)
{
    struct harness *h = ax_task_alloc(sc->executor, sizeof *h);
    ck_assert_ptr_nonnull(h);
    *h = (struct harness){.base = {&harness_ops}, .sc = sc, .top = &h->he.base};
    int rc = happy_eyeballs_init(&h->he, sc->addrs, sc->n, delay, &sc->winner, sc->started_at);
    ck_assert_msg(rc == 0, "happy_eyeballs_init returned %d (%s)", rc, ax_strerror(rc));
    if (drop_at != 0) {
        ax_timeout_init(&h->outer, &h->he.base, drop_at);
        h->top = &h->outer.base;
    }
    return ax_block_on(sc->executor, ax_task_spawn(&h->base));
}

/* ---- checks --------------------------------------------------------------------------- */

static const char *describe(ax_result rc)
{
    static char text[96];
    if (rc >= 0)
        snprintf(text, sizeof text, "address %lld", (long long)rc);
    else
        snprintf(text, sizeof text, "%lld (%s)", (long long)rc, ax_strerror((int)rc));
    return text;
}

/* Address `index` won: its socket came back, connected to that address, and it is the
 * only socket left open. */
static void assert_winner(const struct scene *sc, ax_result rc, size_t index)
{
    ck_assert_msg(rc == (ax_result)index, "with addresses \"%s\" the winner was %s, expected %zu",
                  sc->spec, describe(rc), index);
    ck_assert_msg(sc->winner != NULL, "no socket came back");
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    ck_assert_int_eq(getpeername(ax_source_fd(sc->winner), (struct sockaddr *)&peer, &len), 0);
    ck_assert_msg(len == sc->addrs[index].len && memcmp(&peer, &sc->addrs[index].addr, len) == 0,
                  "the socket that came back is not connected to address %zu", index);
    ck_assert_msg(sc->fds_at_result == sc->fds_before + 1,
                  "when the winner came back, %d sockets were open besides it",
                  sc->fds_at_result - sc->fds_before - 1);
}

static void assert_failed(const struct scene *sc, ax_result rc, ax_result want)
{
    ck_assert_msg(rc == want, "with addresses \"%s\" the result was %s, expected %s", sc->spec,
                  describe(rc), ax_strerror((int)want));
    ck_assert_msg(sc->fds_at_result == sc->fds_before,
                  "when the error came back, %d sockets were still open",
                  sc->fds_at_result - sc->fds_before);
}

/* The attempts started at the offsets given (NEVER: not at all). Each start is checked
 * against the one before it, as the delay counts from the last start; the wheel may
 * make each one up to a tick late. */
static void assert_started(const struct scene *sc, const uint64_t offsets[])
{
    for (size_t i = 0; i < sc->n; i++) {
        uint64_t got = sc->started_at[i], want = offsets[i];
        if (got == NEVER || want == NEVER) {
            ck_assert_msg(got == want, "attempt %zu ('%c') %s, expected %s", i, sc->spec[i],
                          got == NEVER ? "never started" : "started",
                          want == NEVER ? "never to start" : "to start");
            continue;
        }
        uint64_t after = i == 0 ? START : sc->started_at[i - 1];
        uint64_t gap = i == 0 ? want : want - offsets[i - 1];
        ck_assert_msg(got >= after && got - after >= gap && got - after <= gap + (gap ? TICK : 0),
                      "attempt %zu ('%c') started %.6f ms after %s, expected %.3f ms after it "
                      "(at %+.3f ms from the start)",
                      i, sc->spec[i], ((double)got - (double)after) / MS,
                      i == 0 ? "the first poll" : "the attempt before it", (double)gap / MS,
                      (double)want / MS);
    }
}

/* Holds the clock from just after the attempt on address `index` is due (`due` from the
 * start: a millisecond after, as the wheel may start it a tick or two late) until the
 * connection it makes has arrived. */
static void hold_until_connected(struct scene *sc, size_t index, uint64_t due)
{
    axt_hold_clock(sc->executor, START + due + MS, axt_until_connection_waiting,
                   &sc->listen_fd[index]);
}

static bool has_started(void *slot)
{
    return *(uint64_t *)slot != NEVER;
}

/* ---- winners -------------------------------------------------------------------------- */

START_TEST(a_first_address_that_answers_wins_at_once_and_no_other_attempt_starts)
{
    struct scene sc;
    scene_open(&sc, "ff");
    axt_hold_clock(sc.executor, 0, axt_until_connection_waiting, &sc.listen_fd[0]);
    ax_result rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 0);
    assert_started(&sc, (const uint64_t[]){0, NEVER});
    ck_assert_msg(sc.ended == START, "the winner came back %.3f ms late",
                  (double)(sc.ended - START) / MS);
    ck_assert_msg(!axt_connection_waiting(sc.listen_fd[1]), "the second address got a connection");
    scene_close(&sc);
}
END_TEST

START_TEST(an_address_listed_second_wins_once_the_attempt_delay_has_passed)
{
    struct scene sc;
    scene_open(&sc, "hf");
    hold_until_connected(&sc, 1, D);
    ax_result rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 1);
    assert_started(&sc, (const uint64_t[]){0, D});
    scene_close(&sc);
}
END_TEST

START_TEST(attempts_start_an_attempt_delay_apart_while_none_answers)
{
    struct scene sc;
    scene_open(&sc, "hhhf");
    hold_until_connected(&sc, 3, 3 * D);
    ax_result rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 3);
    assert_started(&sc, (const uint64_t[]){0, D, 2 * D, 3 * D});
    scene_close(&sc);
}
END_TEST

START_TEST(the_attempt_delay_is_the_callers_to_choose)
{
    struct scene sc;
    scene_open(&sc, "hhf");
    hold_until_connected(&sc, 2, 200 * MS);
    ax_result rc = run(&sc, 100 * MS, 0);
    assert_winner(&sc, rc, 2);
    assert_started(&sc, (const uint64_t[]){0, 100 * MS, 200 * MS});
    scene_close(&sc);
}
END_TEST

START_TEST(the_losers_are_closed_by_the_time_the_winner_comes_back)
{
    struct scene sc;
    scene_open(&sc, "hrhf");
    axt_hold_clock(sc.executor, START + D, has_started, &sc.started_at[2]); /* the refusal */
    hold_until_connected(&sc, 3, 2 * D);
    ax_result rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 3); /* counts the sockets open as it comes back: only the winner */
    assert_started(&sc, (const uint64_t[]){0, D, D, 2 * D});
    scene_close(&sc);
}
END_TEST

/* ---- failures ------------------------------------------------------------------------- */

START_TEST(a_failed_attempt_starts_the_next_at_once)
{
    struct scene sc;
    scene_open(&sc, "rhf");
    axt_hold_clock(sc.executor, 0, has_started, &sc.started_at[1]); /* the refusal comes */
    hold_until_connected(&sc, 2, D);
    ax_result rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 2);
    /* The third waits a delay from the second's start, not from the first's. */
    assert_started(&sc, (const uint64_t[]){0, 0, D});
    scene_close(&sc);
}
END_TEST

START_TEST(a_failure_after_a_delay_starts_the_next_at_once_too)
{
    struct scene sc;
    scene_open(&sc, "hrf");
    /* From the moment the refused attempt starts: its refusal, then the third attempt. */
    axt_hold_clock(sc.executor, START + D, axt_until_connection_waiting, &sc.listen_fd[2]);
    ax_result rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 2);
    assert_started(&sc, (const uint64_t[]){0, D, D});
    scene_close(&sc);
}
END_TEST

START_TEST(when_every_attempt_fails_the_error_of_the_last_to_fail_comes_back)
{
    static const struct {
        const char *spec;
        int error;
    } cases[] = {{"rx", -EAFNOSUPPORT}, {"xr", -ECONNREFUSED}, {"rrr", -ECONNREFUSED}};
    for (int c = 0; c < 3; c++) {
        struct scene sc;
        scene_open(&sc, cases[c].spec);
        /* Every attempt starts at once, each after a refusal the kernel sends back. */
        axt_hold_clock(sc.executor, 0, has_started, &sc.started_at[sc.n - 1]);
        ax_result rc = run(&sc, 0, 0);
        assert_failed(&sc, rc, cases[c].error);
        assert_started(&sc, (const uint64_t[]){0, 0, 0});
        ck_assert_msg(sc.winner == NULL, "a socket came back with an error");
        scene_close(&sc);
    }
}
END_TEST

START_TEST(an_empty_list_is_einval)
{
    struct happy_eyeballs he;
    struct ax_source *out = NULL;
    struct happy_eyeballs_address one[1] = {0};
    int rc = happy_eyeballs_init(&he, one, 0, 0, &out, NULL);
    ck_assert_msg(rc == -EINVAL, "for an empty list, happy_eyeballs_init returned %d (%s)", rc,
                  ax_strerror(rc));
    rc = happy_eyeballs_init(&he, NULL, 3, 0, &out, NULL);
    ck_assert_msg(rc == -EINVAL, "for a NULL list, happy_eyeballs_init returned %d (%s)", rc,
                  ax_strerror(rc));
}
END_TEST

/* ---- drops ---------------------------------------------------------------------------- */

START_TEST(dropped_midway_it_closes_every_socket_and_leaves_no_timer)
{
    struct scene sc;
    scene_open(&sc, "hhh");
    ax_result rc = run(&sc, 0, START + D + 50 * MS);
    ck_assert_msg(rc == -ETIMEDOUT, "the timeout around it finished with %s", describe(rc));
    assert_started(&sc, (const uint64_t[]){0, D, NEVER});
    ck_assert_msg(sc.fds_at_result == sc.fds_before, "dropped, it left %d sockets open",
                  sc.fds_at_result - sc.fds_before);
    ck_assert_msg(ax_executor_timers(sc.executor) == 0, "dropped, it left its timer behind");
    ck_assert_ptr_null(sc.winner);
    scene_close(&sc);
}
END_TEST

START_TEST(dropped_before_its_first_poll_it_holds_nothing)
{
    struct scene sc;
    scene_open(&sc, "hf");
    struct happy_eyeballs he;
    int rc = happy_eyeballs_init(&he, sc.addrs, sc.n, 0, &sc.winner, sc.started_at);
    ck_assert_msg(rc == 0, "happy_eyeballs_init returned %d (%s)", rc, ax_strerror(rc));
    assert_started(&sc, (const uint64_t[]){NEVER, NEVER});
    ax_future_drop(&he.base);
    ck_assert_int_eq(axt_open_fds(), sc.fds_before);
    scene_close(&sc);
}
END_TEST

/* ---- both families -------------------------------------------------------------------- */

START_TEST(ipv6_and_ipv4_addresses_mix_in_one_list)
{
    if (!axt_ipv6_available()) {
        fprintf(stderr, "%s: skipped, ::1 is not available here\n", __func__);
        return;
    }
    struct scene sc;
    scene_open(&sc, "HhF");
    hold_until_connected(&sc, 2, 2 * D);
    ax_result rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 2);
    assert_started(&sc, (const uint64_t[]){0, D, 2 * D});
    scene_close(&sc);

    scene_open(&sc, "Fh");
    axt_hold_clock(sc.executor, 0, axt_until_connection_waiting, &sc.listen_fd[0]);
    rc = run(&sc, 0, 0);
    assert_winner(&sc, rc, 0);
    assert_started(&sc, (const uint64_t[]){0, NEVER});
    scene_close(&sc);
}
END_TEST

static Suite *happy_eyeballs_suite(void)
{
    Suite *s = suite_create("05-challenge-happy-eyeballs");
    TCase *tc = axt_tcase("happy_eyeballs");
    tcase_add_test(tc, a_first_address_that_answers_wins_at_once_and_no_other_attempt_starts);
    tcase_add_test(tc, an_address_listed_second_wins_once_the_attempt_delay_has_passed);
    tcase_add_test(tc, attempts_start_an_attempt_delay_apart_while_none_answers);
    tcase_add_test(tc, the_attempt_delay_is_the_callers_to_choose);
    tcase_add_test(tc, the_losers_are_closed_by_the_time_the_winner_comes_back);
    tcase_add_test(tc, a_failed_attempt_starts_the_next_at_once);
    tcase_add_test(tc, a_failure_after_a_delay_starts_the_next_at_once_too);
    tcase_add_test(tc, when_every_attempt_fails_the_error_of_the_last_to_fail_comes_back);
    tcase_add_test(tc, an_empty_list_is_einval);
    tcase_add_test(tc, dropped_midway_it_closes_every_socket_and_leaves_no_timer);
    tcase_add_test(tc, dropped_before_its_first_poll_it_holds_nothing);
    tcase_add_test(tc, ipv6_and_ipv4_addresses_mix_in_one_list);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(happy_eyeballs_suite)
