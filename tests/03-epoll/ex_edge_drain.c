/* Exercise 03-edge-drain: an edge-triggered reader must drain its socket, because the
 * rest of what it leaves never gets another event. */
#include "axtest.h"
#include "edge_drain.h"

#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ONE_S = 1000 * 1000 * 1000, FIFTY_MS = 50 * 1000 * 1000 };

struct fixture {
    struct ax_reactor *reactor;
    int fds[2]; /* [0] the peer, [1] the reader's end: non-blocking, watched edge-triggered */
    struct edge_reader reader;
};

static void setup_fixture(struct fixture *f)
{
    *f = (struct fixture){0};
    ck_assert_int_eq(ax_reactor_new(&f->reactor, "epoll"), 0);
    axt_socketpair(f->fds);
    int big = 1 << 20; /* room for the whole test message in the kernel */
    setsockopt(f->fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(f->fds[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    ck_assert_int_eq(ax_set_nonblocking(f->fds[1], true), 0);
    ck_assert_int_eq(ax_reactor_watch(f->reactor, f->fds[1], AX_READABLE | AX_EDGE,
                                      edge_reader_on_readable, &f->reader),
                     0);
}

static void teardown_fixture(struct fixture *f)
{
    ax_reactor_close(f->reactor, f->fds[1]);
    if (f->fds[0] >= 0)
        close(f->fds[0]);
    ax_reactor_free(f->reactor);
    ax_buf_free(&f->reader.in);
}

static char *pattern(size_t len)
{
    char *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)('a' + (i * 7 + i / 26) % 26);
    return p;
}

/* Bytes still in the socket that the reader did not take. */
static size_t left_unread(int fd)
{
    static char sink[1 << 16];
    size_t left = 0;
    ssize_t n;
    while ((n = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
        left += (size_t)n;
    return left;
}

START_TEST(edge_reader_takes_everything_that_arrived_in_one_event)
{
    enum { LEN = 200 * 1000 };
    struct fixture f;
    setup_fixture(&f);
    char *data = pattern(LEN);
    ck_assert_int_eq(ax_write_all(f.fds[0], data, LEN), 0);

    ck_assert_int_eq(ax_reactor_run_once(f.reactor, ONE_S), 1);
    /* Edge-triggered: nothing new arrived, so there is no second event, whatever the
     * reader left behind. */
    ck_assert_int_eq(ax_reactor_run_once(f.reactor, FIFTY_MS), 0);
    size_t got = ax_buf_len(&f.reader.in);
    ck_assert_msg(got == LEN,
                  "the reader took %zu of %d bytes from its one event; the other %zu got no "
                  "second event and would wait forever",
                  got, LEN, left_unread(f.fds[1]));
    ck_assert_msg(memcmp(ax_buf_data(&f.reader.in), data, LEN) == 0, "the bytes changed");
    ck_assert(!f.reader.eof && f.reader.error == 0);
    free(data);
    teardown_fixture(&f);
}
END_TEST

START_TEST(edge_reader_sees_the_end_of_stream_after_the_data)
{
    enum { LEN = 50 * 1000 };
    struct fixture f;
    setup_fixture(&f);
    char *data = pattern(LEN);
    ck_assert_int_eq(ax_write_all(f.fds[0], data, LEN), 0);
    shutdown(f.fds[0], SHUT_WR);

    ck_assert_int_eq(ax_reactor_run_once(f.reactor, ONE_S), 1);
    ck_assert_msg(ax_buf_len(&f.reader.in) == LEN, "the reader took %zu of %d bytes",
                  ax_buf_len(&f.reader.in), LEN);
    ck_assert_msg(f.reader.eof, "the peer closed, but eof is not set: the reader stopped "
                                "before reading the 0 that says so");
    ck_assert_int_eq(f.reader.error, 0);
    free(data);
    teardown_fixture(&f);
}
END_TEST

struct writer {
    int fd;
    const char *data;
    size_t len;
};

/* Sends in pieces of varying size with pauses, then closes: many separate arrivals. */
static void *write_in_pieces(void *arg)
{
    struct writer *w = arg;
    size_t piece = 1000;
    for (size_t off = 0; off < w->len; off += piece, piece = piece * 3 % 7919 + 500) {
        size_t n = w->len - off < piece ? w->len - off : piece;
        if (ax_write_all(w->fd, w->data + off, n) < 0)
            break;
        if (off % 7 == 0)
            usleep(100);
    }
    close(w->fd);
    return NULL;
}

START_TEST(edge_reader_keeps_up_with_a_stream_of_arrivals)
{
    enum { LEN = 2 * 1000 * 1000 };
    struct fixture f;
    setup_fixture(&f);
    char *data = pattern(LEN);
    struct writer w = {.fd = f.fds[0], .data = data, .len = LEN};
    f.fds[0] = -1; /* the writer closes it */
    pthread_t thread;
    pthread_create(&thread, NULL, write_in_pieces, &w);
    int quiet = 0; /* waits in a row with no event */
    while (!f.reader.eof && f.reader.error == 0 && quiet < 20) {
        int ran = ax_reactor_run_once(f.reactor, FIFTY_MS);
        ck_assert_int_ge(ran, 0);
        quiet = ran == 0 ? quiet + 1 : 0;
    }
    pthread_join(thread, NULL);
    size_t got = ax_buf_len(&f.reader.in);
    ck_assert_msg(f.reader.eof && got == LEN,
                  "the stream stalled after %zu of %d bytes (eof %s): %zu bytes were left "
                  "unread, and edge-triggered epoll never reported them again",
                  got, LEN, f.reader.eof ? "seen" : "never seen", left_unread(f.fds[1]));
    ck_assert_msg(memcmp(ax_buf_data(&f.reader.in), data, LEN) == 0, "the bytes changed");
    free(data);
    teardown_fixture(&f);
}
END_TEST

START_TEST(edge_reader_reports_a_reset_connection_as_an_error)
{
    struct fixture f;
    setup_fixture(&f);
    /* A TCP reset: the connection's far end closes with unread data and SO_LINGER 0. */
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(listener, 0);
    int client = ax_connect("127.0.0.1", port);
    ck_assert_int_ge(client, 0);
    int server = accept(listener, NULL, NULL);
    ck_assert_int_ge(server, 0);
    close(listener);
    ck_assert_int_eq(ax_set_nonblocking(client, true), 0);
    struct edge_reader reader = {0};
    ck_assert_int_eq(ax_reactor_watch(f.reactor, client, AX_READABLE | AX_EDGE,
                                      edge_reader_on_readable, &reader),
                     0);
    ck_assert_int_eq(ax_write_all(client, "unread", 6), 0); /* the server never reads it */
    ck_assert_int_eq(ax_write_all(server, "hello", 5), 0);
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(server, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close(server);

    ck_assert_int_ge(ax_reactor_run_once(f.reactor, ONE_S), 1);
    ck_assert_msg(reader.error == -ECONNRESET || reader.eof,
                  "the peer reset the connection, but the reader recorded neither an error "
                  "nor the end (error %d)",
                  reader.error);
    ck_assert_msg(reader.error == -ECONNRESET, "expected error -ECONNRESET, got %d (%s)",
                  reader.error, ax_strerror(reader.error));
    ax_reactor_close(f.reactor, client);
    ax_buf_free(&reader.in);
    teardown_fixture(&f);
}
END_TEST

START_TEST(edge_reader_reads_nothing_once_it_has_finished)
{
    /* The reactor may report a finished reader's fd again (a hang-up is permanent, and a
     * peer that reset may have left bytes behind); a finished reader leaves it alone. */
    struct fixture f;
    setup_fixture(&f);
    ck_assert_int_eq(ax_write_all(f.fds[0], "late bytes", 10), 0);

    f.reader.eof = true; /* finished by the end of the stream */
    edge_reader_on_readable(f.reactor, f.fds[1], AX_READABLE, &f.reader);
    ck_assert_msg(ax_buf_len(&f.reader.in) == 0, "a reader whose eof was set read %zu more bytes",
                  ax_buf_len(&f.reader.in));
    ck_assert(f.reader.eof && f.reader.error == 0);

    f.reader.eof = false;
    f.reader.error = -ECONNRESET; /* finished by an error */
    edge_reader_on_readable(f.reactor, f.fds[1], AX_READABLE, &f.reader);
    ck_assert_msg(ax_buf_len(&f.reader.in) == 0, "a reader whose error was set read %zu more bytes",
                  ax_buf_len(&f.reader.in));
    ck_assert_msg(f.reader.error == -ECONNRESET && !f.reader.eof,
                  "a finished reader changed its verdict to error %d, eof %d", f.reader.error,
                  f.reader.eof);
    ck_assert_uint_eq(left_unread(f.fds[1]), 10);
    teardown_fixture(&f);
}
END_TEST

static Suite *edge_drain_suite(void)
{
    Suite *s = suite_create("03-edge-drain");
    TCase *tc = axt_tcase("edge_reader");
    tcase_add_test(tc, edge_reader_takes_everything_that_arrived_in_one_event);
    tcase_add_test(tc, edge_reader_sees_the_end_of_stream_after_the_data);
    tcase_add_test(tc, edge_reader_keeps_up_with_a_stream_of_arrivals);
    tcase_add_test(tc, edge_reader_reports_a_reset_connection_as_an_error);
    tcase_add_test(tc, edge_reader_reads_nothing_once_it_has_finished);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(edge_drain_suite)
