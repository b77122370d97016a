/* The blocking net layer: listen/connect/accept, whole-message I/O, and its edges. */
#include "axtest.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------- */

/* A connected TCP pair over loopback: *client and *server. */
static void tcp_pair(int *client, int *server)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_msg(listener >= 0, "listen: %s", ax_strerror(listener));
    *client = ax_connect("127.0.0.1", port);
    ck_assert_msg(*client >= 0, "connect: %s", ax_strerror(*client));
    *server = ax_accept(listener, NULL);
    ck_assert_msg(*server >= 0, "accept: %s", ax_strerror(*server));
    close(listener);
}

struct transfer {
    int fd;
    const char *data;
    size_t len;
    unsigned delay_us; /* before starting */
    int result;
};

static void *write_all_thread(void *arg)
{
    struct transfer *t = arg;
    if (t->delay_us)
        usleep(t->delay_us);
    t->result = ax_write_all(t->fd, t->data, t->len);
    return NULL;
}

static pthread_t start_writer(struct transfer *t)
{
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, write_all_thread, t), 0);
    return thread;
}

static char *pattern(size_t len)
{
    char *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)('A' + i % 53);
    return p;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* Signals every 5 ms, without SA_RESTART, so that blocked calls return early with
 * EINTR or a short count. Helper threads block SIGALRM (see paced_peer), so every
 * signal lands on the thread under test. */
static void interrupt_often(int on)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval timer = {0};
    if (on)
        timer = (struct itimerval){.it_interval = {0, 5000}, .it_value = {0, 5000}};
    alarms = 0;
    setitimer(ITIMER_REAL, &timer, NULL);
}

/* A peer that sends or drains `len` bytes in pieces with pauses between them, so the
 * call under test blocks many times while signals arrive. */
enum { PACE_PIECES = 20, PACE_PAUSE_US = 3000 };
struct paced {
    int fd;
    char *data;
    size_t len;
    int sending;
};

static void *paced_peer(void *arg)
{
    struct paced *p = arg;
    sigset_t alarm_only;
    sigemptyset(&alarm_only);
    sigaddset(&alarm_only, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alarm_only, NULL);
    size_t piece = p->len / PACE_PIECES;
    for (size_t off = 0; off < p->len; off += piece) {
        usleep(PACE_PAUSE_US);
        size_t n = p->len - off < piece ? p->len - off : piece;
        int rc = p->sending ? ax_write_all(p->fd, p->data + off, n)
                            : ax_read_exact(p->fd, p->data + off, n, NULL);
        if (rc < 0)
            break;
    }
    return NULL;
}

/* ---- listen, connect, accept ------------------------------------------------------ */

START_TEST(listen_on_port_zero_binds_a_free_port_and_reports_it)
{
    uint16_t port = 0;
    int fd = ax_listen("127.0.0.1", 0, &port);
    ck_assert_msg(fd >= 0, "listen: %s", ax_strerror(fd));
    ck_assert_uint_gt(port, 0);
    ck_assert_int_eq(ax_local_port(fd), port);
    ck_assert_int_eq(ax_close(fd), 0);
}
END_TEST

START_TEST(listen_on_a_port_in_use_fails_with_eaddrinuse)
{
    uint16_t port;
    int first = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(first, 0);
    int second = ax_listen("127.0.0.1", port, NULL);
    ck_assert_msg(second == -EADDRINUSE, "second listen returned %d (%s)", second,
                  ax_strerror(second));
    close(first);
}
END_TEST

START_TEST(connect_to_a_port_nobody_listens_on_fails_with_econnrefused)
{
    uint16_t port;
    int fd = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(fd, 0);
    close(fd); /* the port is now free and, for a moment, certainly unused */
    int rc = ax_connect("127.0.0.1", port);
    ck_assert_msg(rc == -ECONNREFUSED, "connect returned %d (%s)", rc, ax_strerror(rc));
}
END_TEST

START_TEST(accept_reports_the_peer_address)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    int client = ax_connect("127.0.0.1", port);
    ck_assert_int_ge(client, 0);
    char peer[AX_ADDR_STRLEN];
    int server = ax_accept(listener, peer);
    ck_assert_int_ge(server, 0);
    ck_assert_msg(strncmp(peer, "127.0.0.1:", 10) == 0, "peer is '%s'", peer);
    ck_assert_int_eq(atoi(peer + 10), ax_local_port(client));
    close(client);
    close(server);
    close(listener);
}
END_TEST

START_TEST(ipv6_loopback_works_where_the_host_has_it)
{
    uint16_t port;
    int listener = ax_listen("::1", 0, &port);
    if (listener == -EADDRNOTAVAIL || listener == -EAFNOSUPPORT)
        return; /* no IPv6 on this machine: nothing to check */
    ck_assert_msg(listener >= 0, "listen ::1: %s", ax_strerror(listener));
    int client = ax_connect("::1", port);
    ck_assert_int_ge(client, 0);
    char peer[AX_ADDR_STRLEN];
    int server = ax_accept(listener, peer);
    ck_assert_int_ge(server, 0);
    ck_assert_msg(strncmp(peer, "[::1]:", 6) == 0, "peer is '%s'", peer);
    close(client);
    close(server);
    close(listener);
}
END_TEST

START_TEST(parse_port_accepts_0_to_65535_only)
{
    uint16_t port = 1;
    ck_assert_int_eq(ax_parse_port("0", &port), 0);
    ck_assert_uint_eq(port, 0);
    ck_assert_int_eq(ax_parse_port("65535", &port), 0);
    ck_assert_uint_eq(port, 65535);
    ck_assert_int_eq(ax_parse_port("65536", &port), -EINVAL);
    ck_assert_int_eq(ax_parse_port("-1", &port), -EINVAL);
    ck_assert_int_eq(ax_parse_port("80x", &port), -EINVAL);
    ck_assert_int_eq(ax_parse_port("", &port), -EINVAL);
}
END_TEST

/* ---- whole-message reads and writes ----------------------------------------------- */

START_TEST(write_all_and_read_exact_move_a_large_message_through_short_writes)
{
    enum { LEN = 4 << 20 };
    int fds[2];
    axt_socketpair(fds);
    axt_tiny_sndbuf(fds[0]);
    char *data = pattern(LEN), *got = malloc(LEN);
    struct transfer t = {.fd = fds[0], .data = data, .len = LEN};
    pthread_t writer = start_writer(&t);
    size_t n = 0;
    ck_assert_int_eq(ax_read_exact(fds[1], got, LEN, &n), 0);
    pthread_join(writer, NULL);
    ck_assert_int_eq(t.result, 0);
    ck_assert_uint_eq(n, LEN);
    ck_assert(memcmp(data, got, LEN) == 0);
    free(data);
    free(got);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* Moves a megabyte between a paced peer thread and the call under test (the reading
 * or the writing side) while signals keep interrupting it; checks every byte and that
 * the signals really came. */
static void transfer_under_signals(bool test_the_writer)
{
    enum { LEN = 1 << 20 };
    int fds[2];
    axt_socketpair(fds);
    if (test_the_writer)
        axt_tiny_sndbuf(fds[0]);
    char *data = pattern(LEN), *got = malloc(LEN);
    struct paced peer = test_the_writer
                            ? (struct paced){.fd = fds[1], .data = got, .len = LEN, .sending = 0}
                            : (struct paced){.fd = fds[0], .data = data, .len = LEN, .sending = 1};
    pthread_t thread;
    pthread_create(&thread, NULL, paced_peer, &peer);
    interrupt_often(1);
    int rc =
        test_the_writer ? ax_write_all(fds[0], data, LEN) : ax_read_exact(fds[1], got, LEN, NULL);
    int delivered = alarms;
    interrupt_often(0);
    pthread_join(thread, NULL);
    const char *call = test_the_writer ? "write_all" : "read_exact";
    ck_assert_msg(rc == 0, "%s: %s", call, ax_strerror(rc));
    ck_assert(memcmp(data, got, LEN) == 0);
    ck_assert_msg(delivered >= 3, "only %d signals arrived during the %s: the test is void",
                  delivered, test_the_writer ? "write" : "read");
    free(data);
    free(got);
    close(fds[0]);
    close(fds[1]);
}

START_TEST(read_exact_finishes_the_message_while_signals_interrupt_it)
{
    transfer_under_signals(false);
}
END_TEST

START_TEST(write_all_finishes_the_message_while_signals_interrupt_it)
{
    transfer_under_signals(true);
}
END_TEST

START_TEST(write_all_works_on_pipes_too)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(ax_write_all(p[1], "through a pipe", 14), 0);
    close(p[1]);
    char got[32];
    ck_assert_uint_eq(axt_read_until_eof(p[0], got, sizeof got), 14);
    ck_assert(memcmp(got, "through a pipe", 14) == 0);
    close(p[0]);
}
END_TEST

START_TEST(write_all_to_a_closed_peer_returns_epipe_instead_of_killing_us)
{
    int fds[2];
    axt_socketpair(fds);
    close(fds[1]);
    int rc = ax_write_all(fds[0], "x", 1);
    ck_assert_msg(rc == -EPIPE, "write_all returned %d (%s)", rc, ax_strerror(rc));
    close(fds[0]);
}
END_TEST

START_TEST(read_exact_reports_eof_and_the_count_when_the_peer_leaves_mid_message)
{
    int fds[2];
    axt_socketpair(fds);
    ck_assert_int_eq(ax_write_all(fds[0], "12345", 5), 0);
    close(fds[0]);
    char buf[10];
    size_t got = 99;
    ck_assert_int_eq(ax_read_exact(fds[1], buf, sizeof buf, &got), AX_EOF);
    ck_assert_uint_eq(got, 5);
    ck_assert(memcmp(buf, "12345", 5) == 0);
    close(fds[1]);
}
END_TEST

START_TEST(read_reports_econnreset_when_the_peer_resets)
{
    int client, server;
    tcp_pair(&client, &server);
    /* Linger with a zero timeout turns close() into a TCP reset. */
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close(client);
    char buf[4];
    int rc = ax_read_exact(server, buf, sizeof buf, NULL);
    ck_assert_msg(rc == -ECONNRESET, "read_exact returned %d (%s)", rc, ax_strerror(rc));
    close(server);
}
END_TEST

START_TEST(blocking_helpers_wait_instead_of_failing_on_nonblocking_fds)
{
    enum { LEN = 1 << 20 };
    int fds[2];
    axt_socketpair(fds);
    axt_tiny_sndbuf(fds[0]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    char *data = pattern(LEN), *got = malloc(LEN);
    struct transfer t = {.fd = fds[0], .data = data, .len = LEN, .delay_us = 20000};
    pthread_t writer = start_writer(&t); /* starts late: the reader meets EAGAIN first */
    ck_assert_int_eq(ax_read_exact(fds[1], got, LEN, NULL), 0);
    pthread_join(writer, NULL);
    ck_assert_int_eq(t.result, 0);
    ck_assert(memcmp(data, got, LEN) == 0);
    free(data);
    free(got);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(a_receive_timeout_on_a_blocking_socket_gives_etimedout)
{
    int fds[2];
    axt_socketpair(fds);
    struct timeval tenth = {.tv_sec = 0, .tv_usec = 100 * 1000};
    setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &tenth, sizeof tenth);
    char byte;
    ck_assert_int_eq(ax_read_exact(fds[1], &byte, 1, NULL), -ETIMEDOUT);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(close_reports_a_descriptor_that_is_not_open)
{
    int fds[2];
    axt_socketpair(fds);
    ck_assert_int_eq(ax_close(fds[0]), 0);
    ck_assert_int_eq(ax_close(fds[0]), -EBADF);
    close(fds[1]);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("01-net");
    TCase *sockets = axt_tcase("sockets");
    tcase_add_test(sockets, listen_on_port_zero_binds_a_free_port_and_reports_it);
    tcase_add_test(sockets, listen_on_a_port_in_use_fails_with_eaddrinuse);
    tcase_add_test(sockets, connect_to_a_port_nobody_listens_on_fails_with_econnrefused);
    tcase_add_test(sockets, accept_reports_the_peer_address);
    tcase_add_test(sockets, ipv6_loopback_works_where_the_host_has_it);
    tcase_add_test(sockets, parse_port_accepts_0_to_65535_only);
    suite_add_tcase(s, sockets);

    TCase *io = axt_tcase("whole-messages");
    tcase_add_test(io, write_all_and_read_exact_move_a_large_message_through_short_writes);
    tcase_add_test(io, write_all_works_on_pipes_too);
    tcase_add_test(io, write_all_to_a_closed_peer_returns_epipe_instead_of_killing_us);
    tcase_add_test(io, read_exact_reports_eof_and_the_count_when_the_peer_leaves_mid_message);
    tcase_add_test(io, read_reports_econnreset_when_the_peer_resets);
    tcase_add_test(io, blocking_helpers_wait_instead_of_failing_on_nonblocking_fds);
    tcase_add_test(io, a_receive_timeout_on_a_blocking_socket_gives_etimedout);
    tcase_add_test(io, close_reports_a_descriptor_that_is_not_open);
    suite_add_tcase(s, io);

    TCase *signals = axt_tcase("signals");
    tcase_add_test(signals, read_exact_finishes_the_message_while_signals_interrupt_it);
    tcase_add_test(signals, write_all_finishes_the_message_while_signals_interrupt_it);
    suite_add_tcase(s, signals);
    return s;
}

AXT_MAIN(net_suite)
