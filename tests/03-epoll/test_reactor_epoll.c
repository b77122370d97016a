/* The reactor on the epoll backend: the conformance suite, edge and level triggering,
 * hang-ups, and far more fds than select can watch. */
#include "axtest.h"
#include "conformance.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

enum { ONE_S = 1000 * 1000 * 1000, TEN_MS = 10 * 1000 * 1000 };

static int calls, last_events;

static void count(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd, (void)data;
    calls++;
    last_events = events;
}

static struct ax_reactor *epoll_reactor(void)
{
    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, "epoll"), 0);
    calls = 0;
    last_events = 0;
    return reactor;
}

START_TEST(epoll_is_the_default_backend)
{
    unsetenv("AX_BACKEND");
    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, NULL), 0);
    ck_assert_str_eq(ax_reactor_backend_name(reactor), "epoll");
    ck_assert_str_eq(ax_reactor_backend_names(), "epoll select");
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(level_triggered_reports_unread_data_on_every_wait)
{
    struct ax_reactor *reactor = epoll_reactor();
    int fds[2];
    axt_socketpair(fds);
    ax_reactor_watch(reactor, fds[1], AX_READABLE, count, NULL);
    ax_write_all(fds[0], "x", 1);
    for (int i = 0; i < 3; i++) /* nobody reads: still readable, every time */
        ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_int_eq(calls, 3);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(edge_triggered_reports_each_arrival_once)
{
    struct ax_reactor *reactor = epoll_reactor();
    int fds[2];
    axt_socketpair(fds);
    ck_assert_int_eq(ax_reactor_watch(reactor, fds[1], AX_READABLE | AX_EDGE, count, NULL), 0);
    ax_write_all(fds[0], "x", 1);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_int_eq(ax_reactor_run_once(reactor, TEN_MS), 0); /* unread, but no news */
    ax_write_all(fds[0], "y", 1);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1); /* new data: a new edge */
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(last_events & (AX_READABLE | AX_WRITABLE), AX_READABLE);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(select_refuses_edge_triggering)
{
    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, "select"), 0);
    int fds[2];
    axt_socketpair(fds);
    ck_assert_int_eq(ax_reactor_watch(reactor, fds[1], AX_READABLE | AX_EDGE, count, NULL),
                     -EOPNOTSUPP);
    ck_assert_int_eq(ax_reactor_watching(reactor), 0);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(a_peer_that_hangs_up_is_reported_as_hangup)
{
    struct ax_reactor *reactor = epoll_reactor();
    int fds[2];
    axt_socketpair(fds);
    ax_reactor_watch(reactor, fds[1], AX_WRITABLE, count, NULL);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1); /* writable: fine */
    close(fds[0]);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_msg(last_events & AX_HANGUP, "events %#x lack AX_HANGUP", last_events);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(epoll_watches_thousands_of_fds_beyond_fd_setsize)
{
    enum { PAIRS = 2500 }; /* 5,000 fds */
    axt_need_fds(2 * PAIRS + 64);
    struct ax_reactor *reactor = epoll_reactor();
    int(*fds)[2] = calloc(PAIRS, sizeof *fds);
    for (int i = 0; i < PAIRS; i++) {
        axt_socketpair(fds[i]);
        ck_assert_int_eq(ax_reactor_watch(reactor, fds[i][1], AX_READABLE, count, NULL), 0);
    }
    ck_assert_int_gt(fds[PAIRS - 1][1], FD_SETSIZE);
    ax_write_all(fds[PAIRS - 1][0], "x", 1); /* the highest fd, past select's reach */
    ax_write_all(fds[0][0], "x", 1);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 2);
    for (int i = 0; i < PAIRS; i++) {
        close(fds[i][0]);
        ax_reactor_close(reactor, fds[i][1]);
    }
    free(fds);
    ax_reactor_free(reactor);
}
END_TEST

/* A wait shorter than a millisecond, on both of epoll's ways to keep it: epoll_pwait2,
 * and the timerfd used where the kernel lacks that call (AX_EPOLL_TIMERFD=1). */
static const char *const short_wait_ways[] = {"0", "1"};

START_TEST(a_wait_shorter_than_a_millisecond_ends_at_its_timeout_not_before)
{
    setenv("AX_EPOLL_TIMERFD", short_wait_ways[_i], 1);
    struct ax_reactor *reactor = epoll_reactor();
    int fds[2];
    axt_socketpair(fds);
    ck_assert_int_eq(ax_reactor_watch(reactor, fds[1], AX_READABLE, count, NULL), 0);
    enum { SHORT_NS = 300 * 1000 }; /* 0.3 ms: epoll_wait alone would make it 1 ms */
    for (int round = 0; round < 3; round++) {
        uint64_t start = ax_now_ns();
        ck_assert_int_eq(ax_reactor_run_once(reactor, SHORT_NS), 0);
        ck_assert_uint_ge(ax_now_ns() - start, SHORT_NS);
    }
    /* A ready fd ends a short wait at once, and the timer is never reported as an fd. */
    ax_write_all(fds[0], "x", 1);
    ck_assert_int_eq(ax_reactor_run_once(reactor, SHORT_NS), 1);
    ck_assert_int_eq(calls, 1);
    char byte;
    ck_assert_int_eq(read(fds[1], &byte, 1), 1);
    ck_assert_int_eq(ax_reactor_run_once(reactor, SHORT_NS + 1), 0);
    ck_assert_int_eq(calls, 1);
    close(fds[0]);
    ax_reactor_close(reactor, fds[1]);
    ax_reactor_free(reactor);
    unsetenv("AX_EPOLL_TIMERFD");
}
END_TEST

static Suite *epoll_suite(void)
{
    Suite *s = suite_create("03-reactor-epoll");
    axt_add_backend_conformance(s, &ax_backend_epoll);
    TCase *tc = axt_tcase("epoll");
    tcase_add_test(tc, epoll_is_the_default_backend);
    tcase_add_test(tc, level_triggered_reports_unread_data_on_every_wait);
    tcase_add_test(tc, edge_triggered_reports_each_arrival_once);
    tcase_add_test(tc, select_refuses_edge_triggering);
    tcase_add_test(tc, a_peer_that_hangs_up_is_reported_as_hangup);
    tcase_add_test(tc, epoll_watches_thousands_of_fds_beyond_fd_setsize);
    tcase_add_loop_test(tc, a_wait_shorter_than_a_millisecond_ends_at_its_timeout_not_before, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(epoll_suite)
