/* Exercise 03-poll-backend: the reader's poll backend passes the conformance suite
 * that select and epoll pass, and watches descriptors select cannot. */
#include "axtest.h"
#include "backend_poll.h"
#include "conformance.h"

#include "ax/error.h"
#include "ax/net.h"
#include "ax/reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

enum { ONE_S = 1000 * 1000 * 1000 };

static struct ax_reactor *poll_reactor(void)
{
    struct ax_reactor *reactor;
    int rc = ax_reactor_new_with(&reactor, &exercise_backend_poll);
    ck_assert_msg(rc == 0, "poll backend: create failed: %s", ax_strerror(rc));
    return reactor;
}

static void record(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor;
    int *seen = data;
    seen[0] = fd;
    seen[1] = events;
}

START_TEST(poll_backend_watches_an_fd_above_fd_setsize)
{
    axt_need_fds(FD_SETSIZE + 64);
    struct ax_reactor *reactor = poll_reactor();
    int fds[2];
    axt_socketpair(fds);
    int high = fcntl(fds[1], F_DUPFD_CLOEXEC, FD_SETSIZE + 10); /* a number select refuses */
    ck_assert_msg(high >= FD_SETSIZE, "cannot get an fd above FD_SETSIZE: %s", strerror(errno));
    int seen[2] = {-1, 0};
    int rc = ax_reactor_watch(reactor, high, AX_READABLE, record, seen);
    ck_assert_msg(rc == 0, "watching fd %d (above FD_SETSIZE = %d) failed: %s", high, FD_SETSIZE,
                  ax_strerror(rc));
    ck_assert_int_eq(ax_write_all(fds[0], "x", 1), 0);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_int_eq(seen[0], high);
    ck_assert_msg(seen[1] & AX_READABLE, "fd %d fired with events %#x, expected readable", high,
                  seen[1]);
    ax_reactor_close(reactor, high);
    ax_reactor_free(reactor);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(poll_backend_refuses_edge_triggering)
{
    struct ax_reactor *reactor = poll_reactor();
    int fds[2];
    axt_socketpair(fds);
    int seen[2] = {-1, 0};
    ck_assert_int_eq(ax_reactor_watch(reactor, fds[1], AX_READABLE | AX_EDGE, record, seen),
                     -EOPNOTSUPP);
    ck_assert_int_eq(ax_reactor_watching(reactor), 0);
    ax_reactor_free(reactor);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static Suite *poll_backend_suite(void)
{
    Suite *s = suite_create("03-poll-backend");
    axt_add_backend_conformance(s, &exercise_backend_poll);
    TCase *tc = axt_tcase("poll");
    tcase_add_test(tc, poll_backend_watches_an_fd_above_fd_setsize);
    tcase_add_test(tc, poll_backend_refuses_edge_triggering);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(poll_backend_suite)
