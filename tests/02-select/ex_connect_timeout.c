/* Exercise 02-connect-timeout: a connection, a refusal, or -ETIMEDOUT at the deadline,
 * and never a descriptor left behind.
 *
 * To make a connect hang without leaving 127.0.0.1, the tests fill a listener's accept
 * queue: it listens with a backlog of 0 and never accepts, and once its queue is full
 * Linux drops new SYNs, so a further connect waits for retries that will not succeed
 * while the test lasts. */
#include "axtest.h"
#include "connect_timeout.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { FILLERS_MAX = 16 };

/* A listener nobody accepts from, with its accept queue full. */
struct full_listener {
    int fd;
    uint16_t port;
    int fillers[FILLERS_MAX];
    int count;
};

static int start_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in addr = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    ck_assert(rc == 0 || errno == EINPROGRESS);
    return fd;
}

static void fill_listener(struct full_listener *l)
{
    *l = (struct full_listener){.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&addr, sizeof addr), 0);
    ck_assert_int_eq(listen(l->fd, 0), 0);
    l->port = (uint16_t)ax_local_port(l->fd);
    /* Connect until one does not complete: the queue is full from then on. */
    while (l->count < FILLERS_MAX) {
        int fd = start_connect(l->port);
        l->fillers[l->count++] = fd;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 200) == 0)
            return;
    }
    ck_abort_msg("%d connections to a listener with backlog 0 all completed", FILLERS_MAX);
}

static void free_listener(struct full_listener *l)
{
    for (int i = 0; i < l->count; i++)
        close(l->fillers[i]);
    close(l->fd);
}

static int open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(dir);
    int count = 0;
    while (readdir(dir) != NULL)
        count++;
    closedir(dir);
    return count;
}

static void assert_result(int rc, int expected)
{
    ck_assert_msg(rc == expected, "connect_timeout returned %d (%s), expected %d (%s)", rc,
                  rc >= 0 ? "a descriptor" : ax_strerror(rc), expected, ax_strerror(expected));
}

START_TEST(connect_timeout_connects_to_a_listening_port)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    int fd = connect_timeout("127.0.0.1", port, 2000);
    ck_assert_msg(fd >= 0, "connect_timeout returned %d (%s)", fd, ax_strerror(fd));
    int server = ax_accept(listener, NULL);
    ck_assert_int_ge(server, 0);
    ck_assert_int_eq(ax_write_all(fd, "ping", 4), 0); /* waits for room if it must */
    char got[4];
    ck_assert_int_eq(ax_read_exact(server, got, 4, NULL), 0);
    ck_assert(memcmp(got, "ping", 4) == 0);
    close(server);
    close(fd);
    close(listener);
}
END_TEST

START_TEST(connect_timeout_returns_a_non_blocking_socket)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    int fd = connect_timeout("127.0.0.1", port, 2000);
    ck_assert_msg(fd >= 0, "connect_timeout returned %d (%s)", fd, ax_strerror(fd));
    ck_assert_msg(fcntl(fd, F_GETFL) & O_NONBLOCK, "the socket returned is blocking");
    close(fd);
    close(listener);
}
END_TEST

START_TEST(connect_timeout_reports_a_refused_connection)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    close(listener); /* the port is free now: nothing listens there */
    assert_result(connect_timeout("127.0.0.1", port, 2000), -ECONNREFUSED);
}
END_TEST

START_TEST(connect_timeout_gives_up_at_the_deadline_when_nobody_answers)
{
    enum { TIMEOUT_MS = 300 };
    struct full_listener l;
    fill_listener(&l);
    uint64_t start = ax_now_ns();
    int rc = connect_timeout("127.0.0.1", l.port, TIMEOUT_MS);
    uint64_t waited_ms = (ax_now_ns() - start) / AX_NS_PER_MS;
    assert_result(rc, -ETIMEDOUT);
    ck_assert_msg(waited_ms >= TIMEOUT_MS, "it gave up after %llu ms, before the %d ms timeout",
                  (unsigned long long)waited_ms, TIMEOUT_MS);
    free_listener(&l);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
}

START_TEST(connect_timeout_keeps_waiting_when_a_signal_arrives)
{
    enum { TIMEOUT_MS = 300 };
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: waits end with EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every_10ms = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
    struct full_listener l;
    fill_listener(&l);
    setitimer(ITIMER_REAL, &every_10ms, NULL);
    uint64_t start = ax_now_ns();
    int rc = connect_timeout("127.0.0.1", l.port, TIMEOUT_MS);
    uint64_t waited_ms = (ax_now_ns() - start) / AX_NS_PER_MS;
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
    assert_result(rc, -ETIMEDOUT);
    ck_assert_msg(waited_ms >= TIMEOUT_MS, "a signal cut the wait short after %llu ms",
                  (unsigned long long)waited_ms);
    free_listener(&l);
}
END_TEST

START_TEST(connect_timeout_leaves_no_descriptor_open_when_it_fails)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    close(listener);
    struct full_listener l;
    fill_listener(&l);

    int before = open_fds();
    assert_result(connect_timeout("127.0.0.1", port, 2000), -ECONNREFUSED);
    ck_assert_int_eq(open_fds(), before);
    assert_result(connect_timeout("127.0.0.1", l.port, 100), -ETIMEDOUT);
    ck_assert_int_eq(open_fds(), before);
    free_listener(&l);
}
END_TEST

static Suite *connect_timeout_suite(void)
{
    Suite *s = suite_create("02-connect-timeout");
    TCase *tc = axt_tcase("connect_timeout");
    tcase_add_test(tc, connect_timeout_connects_to_a_listening_port);
    tcase_add_test(tc, connect_timeout_returns_a_non_blocking_socket);
    tcase_add_test(tc, connect_timeout_reports_a_refused_connection);
    tcase_add_test(tc, connect_timeout_gives_up_at_the_deadline_when_nobody_answers);
    tcase_add_test(tc, connect_timeout_keeps_waiting_when_a_signal_arrives);
    tcase_add_test(tc, connect_timeout_leaves_no_descriptor_open_when_it_fails);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(connect_timeout_suite)
