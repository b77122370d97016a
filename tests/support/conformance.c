//@ 02
/* The backend conformance suite; see conformance.h. */
#include "conformance.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TEN_MS = 10 * 1000 * 1000, ONE_S = 1000 * 1000 * 1000 };

/* The backend under test; set before the suite runs, inherited by each forked test. */
static const struct ax_backend *backend;

static struct ax_reactor *new_reactor(void)
{
    struct ax_reactor *reactor;
    int rc = ax_reactor_new_with(&reactor, backend);
    ck_assert_msg(rc == 0, "%s backend: create failed: %s", backend->name, ax_strerror(rc));
    return reactor;
}

/* What callbacks saw, in order. */
struct seen {
    int count;
    int fd[16];
    int events[16];
};

static void record(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor;
    struct seen *seen = data;
    if (seen->count < 16) {
        seen->fd[seen->count] = fd;
        seen->events[seen->count] = events;
    }
    seen->count++;
}

static void send_byte(int fd)
{
    ck_assert_int_eq(ax_write_all(fd, "x", 1), 0);
}

START_TEST(a_readable_fd_fires_its_callback_with_readable)
{
    struct ax_reactor *reactor = new_reactor();
    int fds[2];
    axt_socketpair(fds);
    struct seen seen = {0};
    ck_assert_int_eq(ax_reactor_watch(reactor, fds[1], AX_READABLE, record, &seen), 0);
    send_byte(fds[0]);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_int_eq(seen.count, 1);
    ck_assert_int_eq(seen.fd[0], fds[1]);
    ck_assert(seen.events[0] & AX_READABLE);
    ck_assert(!(seen.events[0] & AX_WRITABLE));
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(nothing_fires_and_the_wait_ends_at_its_timeout)
{
    struct ax_reactor *reactor = new_reactor();
    int fds[2];
    axt_socketpair(fds);
    struct seen seen = {0};
    ax_reactor_watch(reactor, fds[1], AX_READABLE, record, &seen);
    ck_assert_int_eq(ax_reactor_run_once(reactor, TEN_MS), 0);
    ck_assert_int_eq(ax_reactor_run_once(reactor, 0), 0);
    ck_assert_int_eq(seen.count, 0);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(a_socket_with_room_to_send_is_writable)
{
    struct ax_reactor *reactor = new_reactor();
    int fds[2];
    axt_socketpair(fds);
    struct seen seen = {0};
    ax_reactor_watch(reactor, fds[0], AX_WRITABLE, record, &seen);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_int_eq(seen.events[0] & (AX_READABLE | AX_WRITABLE), AX_WRITABLE);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(changing_interest_changes_what_fires)
{
    struct ax_reactor *reactor = new_reactor();
    int fds[2];
    axt_socketpair(fds);
    struct seen seen = {0};
    ax_reactor_watch(reactor, fds[1], AX_WRITABLE, record, &seen);
    ax_reactor_watch(reactor, fds[1], AX_READABLE, record, &seen); /* no data: quiet */
    ck_assert_int_eq(ax_reactor_interest(reactor, fds[1]), AX_READABLE);
    ck_assert_int_eq(ax_reactor_run_once(reactor, TEN_MS), 0);
    ax_reactor_watch(reactor, fds[1], AX_READABLE | AX_WRITABLE, record, &seen);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_int_eq(seen.events[0], AX_WRITABLE);
    ck_assert_int_eq(ax_reactor_watching(reactor), 1);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(an_unwatched_fd_fires_nothing)
{
    struct ax_reactor *reactor = new_reactor();
    int fds[2];
    axt_socketpair(fds);
    struct seen seen = {0};
    ax_reactor_watch(reactor, fds[1], AX_READABLE, record, &seen);
    send_byte(fds[0]);
    ck_assert_int_eq(ax_reactor_unwatch(reactor, fds[1]), 0);
    ck_assert_int_eq(ax_reactor_interest(reactor, fds[1]), 0);
    ck_assert_int_eq(ax_reactor_watching(reactor), 0);
    ck_assert_int_eq(ax_reactor_run_once(reactor, TEN_MS), 0);
    ck_assert_int_eq(seen.count, 0);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(end_of_stream_reaches_the_callback)
{
    struct ax_reactor *reactor = new_reactor();
    int fds[2];
    axt_socketpair(fds);
    struct seen seen = {0};
    ax_reactor_watch(reactor, fds[1], AX_READABLE, record, &seen);
    close(fds[0]);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert(seen.events[0] & AX_READABLE);
    char byte;
    ck_assert_int_eq(read(fds[1], &byte, 1), 0);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(a_reset_connection_reaches_the_callback_as_an_error_to_read)
{
    struct ax_reactor *reactor = new_reactor();
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    int client = ax_connect("127.0.0.1", port);
    int server = accept(listener, NULL, NULL);
    ck_assert_int_ge(server, 0);
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close(client);
    struct seen seen = {0};
    ax_reactor_watch(reactor, server, AX_READABLE, record, &seen);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    char byte;
    ck_assert_int_eq(read(server, &byte, 1), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    close(server);
    close(listener);
    ax_reactor_free(reactor);
}
END_TEST

/* Two ready fds; whichever callback runs first unwatches the other. */
struct pair_state {
    int fds[2];
    int calls;
};

static void unwatch_the_other(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct pair_state *p = data;
    p->calls++;
    ax_reactor_unwatch(reactor, fd == p->fds[0] ? p->fds[1] : p->fds[0]);
}

START_TEST(a_callback_that_unwatches_another_ready_fd_stops_its_event)
{
    struct ax_reactor *reactor = new_reactor();
    int a[2], b[2];
    axt_socketpair(a);
    axt_socketpair(b);
    struct pair_state p = {.fds = {a[1], b[1]}};
    ax_reactor_watch(reactor, a[1], AX_READABLE, unwatch_the_other, &p);
    ax_reactor_watch(reactor, b[1], AX_READABLE, unwatch_the_other, &p);
    send_byte(a[0]);
    send_byte(b[0]);
    ck_assert_int_eq(ax_reactor_run_once(reactor, ONE_S), 1);
    ck_assert_int_eq(p.calls, 1);
    ax_reactor_free(reactor);
}
END_TEST

/* Two ready fds. Whichever callback runs first closes the other fd and, by opening
 * a new socket pair, gets its number straight back and watches it: the closed fd's
 * event from this batch must reach neither the old callback nor the new owner. */
struct reuse_state {
    int fds[2];
    int calls;
    int victim;
    int reused[2];
    struct seen newcomer;
};

static void close_and_reuse(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct reuse_state *r = data;
    r->calls++;
    r->victim = fd == r->fds[0] ? r->fds[1] : r->fds[0];
    ax_reactor_close(reactor, r->victim);
    axt_socketpair(r->reused); /* the lowest free numbers: the victim's comes back */
    ax_reactor_watch(reactor, r->reused[0], AX_READABLE, record, &r->newcomer);
    ax_reactor_watch(reactor, r->reused[1], AX_READABLE, record, &r->newcomer);
}

START_TEST(a_closed_and_reused_fd_gets_no_stale_event)
{
    struct ax_reactor *reactor = new_reactor();
    int a[2], b[2];
    axt_socketpair(a);
    axt_socketpair(b);
    struct reuse_state r = {.fds = {a[1], b[1]}};
    ax_reactor_watch(reactor, a[1], AX_READABLE, close_and_reuse, &r);
    ax_reactor_watch(reactor, b[1], AX_READABLE, close_and_reuse, &r);
    send_byte(a[0]);
    send_byte(b[0]);
    ax_reactor_run_once(reactor, ONE_S);
    ck_assert_msg(r.reused[0] == r.victim || r.reused[1] == r.victim,
                  "fd %d was not reused (got %d, %d): the test proves nothing", r.victim,
                  r.reused[0], r.reused[1]);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_msg(r.newcomer.count == 0, "the new socket on fd %d received the closed one's event",
                  r.victim);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(every_ready_fd_among_many_fires_exactly_once)
{
    enum { PAIRS = 200 };
    struct ax_reactor *reactor = new_reactor();
    static int fds[PAIRS][2];
    struct seen seen = {0};
    for (int i = 0; i < PAIRS; i++) {
        axt_socketpair(fds[i]);
        ax_reactor_watch(reactor, fds[i][1], AX_READABLE, record, &seen);
        if (i % 2 == 0)
            send_byte(fds[i][0]);
    }
    int ran = ax_reactor_run_once(reactor, ONE_S);
    ck_assert_int_eq(ran, PAIRS / 2);
    ck_assert_int_eq(seen.count, PAIRS / 2);
    for (int i = 0; i < PAIRS; i++) {
        close(fds[i][0]);
        ax_reactor_close(reactor, fds[i][1]);
    }
    ck_assert_int_eq(ax_reactor_watching(reactor), 0);
    ax_reactor_free(reactor);
}
END_TEST

/* Echoes a byte back and stops the reactor after `left` rounds. */
struct ping {
    int fd;
    int left;
};

static void on_ping(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct ping *p = data;
    char byte;
    ck_assert_int_eq(ax_read_exact(fd, &byte, 1, NULL), 0);
    if (--p->left == 0) {
        ax_reactor_stop(reactor);
        return;
    }
    send_byte(p->fd);
}

START_TEST(run_continues_until_stopped_and_then_returns)
{
    struct ax_reactor *reactor = new_reactor();
    int fds[2];
    axt_socketpair(fds);
    /* Both ends in one reactor: each byte bounces from one end to the other. */
    struct ping left = {.fd = fds[0], .left = 100}, right = {.fd = fds[1], .left = 100};
    ax_reactor_watch(reactor, fds[0], AX_READABLE, on_ping, &right);
    ax_reactor_watch(reactor, fds[1], AX_READABLE, on_ping, &left);
    send_byte(fds[0]);
    ck_assert_int_eq(ax_reactor_run(reactor), 0);
    ck_assert(left.left == 0 || right.left == 0);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(run_returns_at_once_when_nothing_is_watched)
{
    struct ax_reactor *reactor = new_reactor();
    ck_assert_int_eq(ax_reactor_run(reactor), 0);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(watching_a_negative_fd_is_refused)
{
    struct ax_reactor *reactor = new_reactor();
    struct seen seen = {0};
    ck_assert_int_eq(ax_reactor_watch(reactor, -1, AX_READABLE, record, &seen), -EBADF);
    ax_reactor_free(reactor);
}
END_TEST

void axt_add_backend_conformance(Suite *suite, const struct ax_backend *under_test)
{
    backend = under_test;
    TCase *tc = axt_tcase("conformance");
    tcase_add_test(tc, a_readable_fd_fires_its_callback_with_readable);
    tcase_add_test(tc, nothing_fires_and_the_wait_ends_at_its_timeout);
    tcase_add_test(tc, a_socket_with_room_to_send_is_writable);
    tcase_add_test(tc, changing_interest_changes_what_fires);
    tcase_add_test(tc, an_unwatched_fd_fires_nothing);
    tcase_add_test(tc, end_of_stream_reaches_the_callback);
    tcase_add_test(tc, a_reset_connection_reaches_the_callback_as_an_error_to_read);
    tcase_add_test(tc, a_callback_that_unwatches_another_ready_fd_stops_its_event);
    tcase_add_test(tc, a_closed_and_reused_fd_gets_no_stale_event);
    tcase_add_test(tc, every_ready_fd_among_many_fires_exactly_once);
    tcase_add_test(tc, run_continues_until_stopped_and_then_returns);
    tcase_add_test(tc, run_returns_at_once_when_nothing_is_watched);
    tcase_add_test(tc, watching_a_negative_fd_is_refused);
    suite_add_tcase(suite, tc);
}
