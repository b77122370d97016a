/* Exercise 03-hangup-spin: a client that hangs up is closed once, not called forever. */
#include "axtest.h"
#include "hangup_spin.h"

#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A callback that closes a gone client runs a few times (more when reads come back
 * short or with EAGAIN); one that spins runs on every wait. */
enum { WAITS = 100, TEN_MS = 10 * 1000 * 1000, MAX_CALLS = WAITS / 2 };

/* A TCP connection on loopback: [0] the client, [1] the server's end (non-blocking). */
static void tcp_pair(int fds[2])
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(listener, 0);
    fds[0] = ax_connect("127.0.0.1", port);
    ck_assert_int_ge(fds[0], 0);
    fds[1] = accept(listener, NULL, NULL);
    ck_assert_int_ge(fds[1], 0);
    close(listener);
    ck_assert_int_eq(ax_set_nonblocking(fds[1], true), 0);
}

/* Runs WAITS short waits (a spinning callback runs on each) and checks the outcome. */
static void assert_closed_without_spinning(struct ax_reactor *reactor, struct counting_conn *c,
                                           size_t expected_bytes)
{
    for (int i = 0; i < WAITS && ax_reactor_watching(reactor) > 0; i++)
        ck_assert_int_ge(ax_reactor_run_once(reactor, TEN_MS), 0);
    ck_assert_msg(c->calls < MAX_CALLS,
                  "the callback ran %d times in %d waits for a client that had hung up: it "
                  "spins (the fd is reported on every wait until it is closed)",
                  c->calls, WAITS);
    ck_assert_msg(c->closed && ax_reactor_watching(reactor) == 0,
                  "the client hung up, but its fd is still watched and open");
    ck_assert_msg(c->received == expected_bytes, "received %zu bytes, expected %zu", c->received,
                  expected_bytes);
}

static struct ax_reactor *reactor_on(int fd, struct counting_conn *c)
{
    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, "epoll"), 0);
    ck_assert_int_eq(ax_reactor_watch(reactor, fd, AX_READABLE, counting_on_readable, c), 0);
    return reactor;
}

START_TEST(a_client_that_closes_is_closed_once_not_spun_on)
{
    int fds[2];
    tcp_pair(fds);
    struct counting_conn c = {0};
    struct ax_reactor *reactor = reactor_on(fds[1], &c);
    ck_assert_int_eq(ax_write_all(fds[0], "goodbye", 7), 0);
    close(fds[0]);
    assert_closed_without_spinning(reactor, &c, 7);
    ck_assert_int_eq(c.error, 0);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(a_client_that_sends_a_lot_then_closes_is_read_in_full_then_closed)
{
    enum { LEN = 20 * 1000 };
    int fds[2];
    tcp_pair(fds);
    struct counting_conn c = {0};
    struct ax_reactor *reactor = reactor_on(fds[1], &c);
    char *data = calloc(1, LEN);
    ck_assert_int_eq(ax_write_all(fds[0], data, LEN), 0);
    close(fds[0]);
    assert_closed_without_spinning(reactor, &c, LEN);
    free(data);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(a_client_that_resets_is_closed_with_the_error)
{
    int fds[2];
    tcp_pair(fds);
    struct counting_conn c = {0};
    struct ax_reactor *reactor = reactor_on(fds[1], &c);
    ck_assert_int_eq(ax_write_all(fds[1], "unread", 6), 0); /* the client never reads it */
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fds[0], SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close(fds[0]); /* RST instead of FIN */
    assert_closed_without_spinning(reactor, &c, 0);
    ck_assert_msg(c.error == -ECONNRESET, "error is %d (%s), expected -ECONNRESET", c.error,
                  ax_strerror(c.error));
    ax_reactor_free(reactor);
}
END_TEST

static Suite *hangup_spin_suite(void)
{
    Suite *s = suite_create("03-hangup-spin");
    TCase *tc = axt_tcase("hangup");
    tcase_add_test(tc, a_client_that_closes_is_closed_once_not_spun_on);
    tcase_add_test(tc, a_client_that_sends_a_lot_then_closes_is_read_in_full_then_closed);
    tcase_add_test(tc, a_client_that_resets_is_closed_with_the_error);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(hangup_spin_suite)
