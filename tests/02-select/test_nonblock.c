/* Non-blocking I/O: -EAGAIN instead of sleeping, connects that finish later, and
 * output that waits in a buffer until the socket takes it. */
#include "axtest.h"
#include "ax/error.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void nonblocking_pair(int fds[2])
{
    axt_socketpair(fds);
    ck_assert_int_eq(ax_set_nonblocking(fds[0], true), 0);
    ck_assert_int_eq(ax_set_nonblocking(fds[1], true), 0);
    ck_assert(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
}

static void wait_for(int fd, short events)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
}

/* -EAGAIN may come back at any time (make test-faults injects it): correct code
 * waits for readiness and tries again, and so do these helpers. */
static ssize_t recv_when_ready(int fd, void *buf, size_t n)
{
    ssize_t got;
    while ((got = ax_recv(fd, buf, n)) == -EAGAIN)
        wait_for(fd, POLLIN);
    return got;
}

static ssize_t send_when_ready(int fd, const void *buf, size_t n)
{
    ssize_t sent;
    while ((sent = ax_send(fd, buf, n)) == -EAGAIN)
        wait_for(fd, POLLOUT);
    return sent;
}

START_TEST(recv_with_nothing_to_read_returns_eagain_at_once)
{
    int fds[2];
    nonblocking_pair(fds);
    char byte;
    ck_assert_int_eq(ax_recv(fds[1], &byte, 1), -EAGAIN);
    ck_assert_int_eq(send_when_ready(fds[0], "x", 1), 1);
    ck_assert_int_eq(recv_when_ready(fds[1], &byte, 1), 1);
    close(fds[0]);
    ck_assert_int_eq(recv_when_ready(fds[1], &byte, 1), 0); /* end of stream: 0 */
    close(fds[1]);
}
END_TEST

START_TEST(send_into_a_full_buffer_returns_eagain_and_a_gone_peer_epipe)
{
    int fds[2];
    nonblocking_pair(fds);
    axt_tiny_sndbuf(fds[0]);
    char chunk[4096] = {0};
    size_t total = 0;
    ssize_t sent;
    while ((sent = ax_send(fds[0], chunk, sizeof chunk)) > 0)
        total += (size_t)sent;
    ck_assert_int_eq(sent, -EAGAIN);
    ck_assert_uint_gt(total, 0);
    close(fds[1]);
    ck_assert_int_eq(send_when_ready(fds[0], chunk, 1), -EPIPE);
    close(fds[0]);
}
END_TEST

START_TEST(accept_nonblocking_returns_eagain_until_a_client_arrives)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ax_set_nonblocking(listener, true);
    ck_assert_int_eq(ax_accept_nonblocking(listener, NULL), -EAGAIN);
    int client = ax_connect("127.0.0.1", port);
    wait_for(listener, POLLIN);
    char peer[AX_ADDR_STRLEN];
    int fd = ax_accept_nonblocking(listener, peer);
    ck_assert_int_ge(fd, 0);
    ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    ck_assert_msg(strncmp(peer, "127.0.0.1:", 10) == 0, "peer '%s'", peer);
    close(fd);
    close(client);
    close(listener);
}
END_TEST

START_TEST(connect_start_then_finish_connects_without_blocking)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    int fd = -1;
    int rc = ax_connect_start("127.0.0.1", port, &fd);
    ck_assert_msg(rc == 0 || rc == -EINPROGRESS, "connect_start: %s", ax_strerror(rc));
    ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    wait_for(fd, POLLOUT);
    ck_assert_int_eq(ax_connect_finish(fd), 0);
    close(fd);
    close(listener);
}
END_TEST

START_TEST(connect_to_a_closed_port_reports_econnrefused_when_it_finishes)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    close(listener);
    int fd = -1;
    int rc = ax_connect_start("127.0.0.1", port, &fd);
    if (rc == -EINPROGRESS) {
        wait_for(fd, POLLOUT);
        rc = ax_connect_finish(fd);
        close(fd);
    }
    ck_assert_msg(rc == -ECONNREFUSED, "got %d (%s)", rc, ax_strerror(rc));
}
END_TEST

/* Drains the peer slowly in a thread, so the sender must wait for room many times. */
struct drain {
    int fd;
    char *data;
    size_t len;
};

static void *drain_thread(void *arg)
{
    struct drain *d = arg;
    ax_set_nonblocking(d->fd, false);
    ax_read_exact(d->fd, d->data, d->len, NULL);
    return NULL;
}

struct flusher {
    struct ax_buf out;
    int result;
};

static void on_writable(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)events;
    struct flusher *f = data;
    f->result = ax_flush(fd, &f->out);
    if (f->result != -EAGAIN)
        ax_reactor_unwatch(reactor, fd); /* done, or failed: either way stop */
}

START_TEST(flush_keeps_what_the_socket_refused_and_finishes_when_writable)
{
    enum { LEN = 2 << 20 };
    int fds[2];
    nonblocking_pair(fds);
    axt_tiny_sndbuf(fds[0]);
    struct flusher f = {.out = AX_BUF_INIT};
    char *data = malloc(LEN);
    for (size_t i = 0; i < LEN; i++)
        data[i] = (char)(i * 13);
    ax_buf_append(&f.out, data, LEN);

    f.result = ax_flush(fds[0], &f.out);
    ck_assert_int_eq(f.result, -EAGAIN); /* far more than the buffer holds */
    ck_assert_uint_gt(ax_buf_len(&f.out), 0);
    ck_assert_uint_lt(ax_buf_len(&f.out), LEN);

    struct drain d = {.fd = fds[1], .data = malloc(LEN), .len = LEN};
    pthread_t reader;
    pthread_create(&reader, NULL, drain_thread, &d);
    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, NULL), 0);
    ax_reactor_watch(reactor, fds[0], AX_WRITABLE, on_writable, &f);
    ck_assert_int_eq(ax_reactor_run(reactor), 0);
    pthread_join(reader, NULL);

    ck_assert_int_eq(f.result, 0);
    ck_assert_uint_eq(ax_buf_len(&f.out), 0);
    ck_assert(memcmp(data, d.data, LEN) == 0);
    ax_reactor_free(reactor);
    ax_buf_free(&f.out);
    free(data);
    free(d.data);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(recv_and_send_work_on_pipes_too)
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    char byte;
    ck_assert_int_eq(ax_recv(p[0], &byte, 1), -EAGAIN);
    ck_assert_int_eq(send_when_ready(p[1], "y", 1), 1);
    ck_assert_int_eq(recv_when_ready(p[0], &byte, 1), 1);
    ck_assert_int_eq(byte, 'y');
    close(p[1]);
    ck_assert_int_eq(recv_when_ready(p[0], &byte, 1), 0);
    close(p[0]);
}
END_TEST

static Suite *nonblock_suite(void)
{
    Suite *s = suite_create("02-nonblock");
    TCase *tc = axt_tcase("nonblock");
    tcase_add_test(tc, recv_with_nothing_to_read_returns_eagain_at_once);
    tcase_add_test(tc, send_into_a_full_buffer_returns_eagain_and_a_gone_peer_epipe);
    tcase_add_test(tc, accept_nonblocking_returns_eagain_until_a_client_arrives);
    tcase_add_test(tc, connect_start_then_finish_connects_without_blocking);
    tcase_add_test(tc, connect_to_a_closed_port_reports_econnrefused_when_it_finishes);
    tcase_add_test(tc, flush_keeps_what_the_socket_refused_and_finishes_when_writable);
    tcase_add_test(tc, recv_and_send_work_on_pipes_too);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(nonblock_suite)
