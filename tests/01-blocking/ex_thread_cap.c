/* Exercise 01-thread-cap: concurrent clients up to a cap, a clear refusal past it. */
#include "axtest.h"
#include "thread_cap.h"

#include "ax/clock.h"
#include "ax/net.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long a test waits for anything the server should do promptly. Generous: a
 * correct server answers in well under a millisecond. */
enum { PROMPT_MS = 2000 };

struct server {
    int listen_fd;
    uint16_t port;
    int max_clients;
    int rc;
    pthread_t thread;
};

/* Set when thread_cap_serve returns, so that a client waiting for an answer can tell
 * at once that none will come. */
static atomic_int server_returned;
static int returned_rc;

static void *run_server(void *arg)
{
    struct server *s = arg;
    s->rc = thread_cap_serve(s->listen_fd, s->max_clients);
    returned_rc = s->rc;
    atomic_store(&server_returned, 1);
    return NULL;
}

static void start_server(struct server *s, int max_clients)
{
    *s = (struct server){.max_clients = max_clients};
    atomic_store(&server_returned, 0);
    s->listen_fd = ax_listen("127.0.0.1", 0, &s->port);
    ck_assert_msg(s->listen_fd >= 0, "ax_listen: %s", strerror(-s->listen_fd));
    pthread_create(&s->thread, NULL, run_server, s);
}

/* Waits up to ms for thread_cap_serve to return; true if it did. */
static int server_returned_within(struct server *s, int ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    return pthread_timedjoin_np(s->thread, NULL, &deadline) == 0;
}

/* Shuts the listener down and returns what thread_cap_serve returned. */
static int stop_server(struct server *s)
{
    shutdown(s->listen_fd, SHUT_RDWR);
    ck_assert_msg(server_returned_within(s, PROMPT_MS),
                  "thread_cap_serve did not return after the listener was shut down");
    close(s->listen_fd);
    return s->rc;
}

/* Reads up to cap bytes within ms; stops early at end of stream (*eof set). Fails
 * the test at once if thread_cap_serve has returned, since then nobody will answer. */
static size_t read_within(int fd, char *buf, size_t cap, int ms, int *eof)
{
    size_t got = 0;
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    *eof = 0;
    while (got < cap && ax_now_ns() < deadline) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, 20);
        if (ready == 0) {
            ck_assert_msg(!atomic_load(&server_returned),
                          "thread_cap_serve returned %d (%s) while a client was waiting for an "
                          "answer",
                          returned_rc, strerror(-returned_rc));
            continue;
        }
        if (ready < 0)
            break;
        ssize_t n = ax_read_some(fd, buf + got, cap - got);
        if (n <= 0) {
            *eof = 1;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

static int connect_client(const struct server *s)
{
    int fd = ax_connect("127.0.0.1", s->port);
    ck_assert_msg(fd >= 0, "connect: %s", strerror(-fd));
    return fd;
}

static void assert_echoes(int fd, const char *msg)
{
    size_t len = strlen(msg);
    char back[256] = "";
    int eof;
    ck_assert_int_eq(ax_write_all(fd, msg, len), 0);
    size_t got = read_within(fd, back, len, PROMPT_MS, &eof);
    back[got] = '\0';
    ck_assert_msg(got == len && memcmp(back, msg, len) == 0, "sent %s, got %s back within %d ms%s",
                  axt_quoted(msg), axt_quoted(back), PROMPT_MS,
                  eof ? " and then the connection closed" : "");
}

/* A client admitted and echoed once, so it certainly holds a slot. */
static int admitted_client(const struct server *s)
{
    int fd = connect_client(s);
    assert_echoes(fd, "hello\n");
    return fd;
}

static void assert_refused(const struct server *s, int max_clients)
{
    int fd = connect_client(s);
    char expected[64], got[128];
    snprintf(expected, sizeof expected, "busy: %d clients connected\n", max_clients);
    int eof;
    size_t n = read_within(fd, got, sizeof got - 1, PROMPT_MS, &eof);
    got[n] = '\0';
    ck_assert_msg(strcmp(got, expected) == 0, "a client over the cap got %s, expected %s",
                  axt_quoted(got), axt_quoted(expected));
    ck_assert_msg(eof, "a refused client's connection was not closed");
    close(fd);
}

START_TEST(thread_cap_echoes_what_a_client_sends)
{
    struct server s;
    start_server(&s, 2);
    int fd = connect_client(&s);
    assert_echoes(fd, "one\n");
    assert_echoes(fd, "two, a little longer\n");
    close(fd);
    ck_assert_int_eq(stop_server(&s), 0);
}
END_TEST

START_TEST(thread_cap_serves_clients_at_the_same_time)
{
    struct server s;
    start_server(&s, 3);
    int a = connect_client(&s), b = connect_client(&s), c = connect_client(&s);
    /* The last to arrive is answered first: one client at a time would stall here. */
    assert_echoes(c, "from c\n");
    assert_echoes(b, "from b\n");
    assert_echoes(a, "from a\n");
    close(a);
    close(b);
    close(c);
    ck_assert_int_eq(stop_server(&s), 0);
}
END_TEST

START_TEST(thread_cap_refuses_a_client_over_the_cap_with_a_busy_line)
{
    struct server s;
    start_server(&s, 2);
    int a = admitted_client(&s), b = admitted_client(&s);
    assert_refused(&s, 2);
    close(a);
    close(b);
    ck_assert_int_eq(stop_server(&s), 0);
}
END_TEST

START_TEST(thread_cap_keeps_serving_admitted_clients_while_refusing_others)
{
    struct server s;
    start_server(&s, 1);
    int a = admitted_client(&s);
    assert_refused(&s, 1);
    assert_refused(&s, 1);
    assert_echoes(a, "still here\n");
    close(a);
    ck_assert_int_eq(stop_server(&s), 0);
}
END_TEST

START_TEST(thread_cap_frees_the_slot_when_a_client_leaves)
{
    struct server s;
    start_server(&s, 1);
    int a = admitted_client(&s);
    assert_refused(&s, 1);
    assert_refused(&s, 1); /* refused clients take no slot */
    close(a);

    /* The server notices the close a moment later; until then "busy" is fair. */
    uint64_t deadline = ax_now_ns() + PROMPT_MS * AX_NS_PER_MS;
    int admitted = 0;
    while (!admitted && ax_now_ns() < deadline) {
        int fd = connect_client(&s);
        char got[8] = "";
        int eof;
        ax_write_all(fd, "ping\n", 5); /* fails if we were refused and closed already */
        size_t n = read_within(fd, got, 5, PROMPT_MS, &eof);
        admitted = n == 5 && memcmp(got, "ping\n", 5) == 0;
        ck_assert_msg(admitted || (n == 5 && memcmp(got, "busy:", 5) == 0),
                      "expected an echo or a busy line, got %s", axt_quoted(got));
        close(fd);
        if (!admitted)
            ax_sleep_ns(10 * AX_NS_PER_MS);
    }
    ck_assert_msg(admitted, "no client was admitted within %d ms of the only one leaving",
                  PROMPT_MS);
    ck_assert_int_eq(stop_server(&s), 0);
}
END_TEST

START_TEST(thread_cap_returns_zero_once_the_listener_is_shut_down)
{
    struct server s;
    start_server(&s, 4);
    close(admitted_client(&s));
    ck_assert_int_eq(stop_server(&s), 0);
}
END_TEST

START_TEST(thread_cap_waits_for_connected_clients_before_returning)
{
    struct server s;
    start_server(&s, 2);
    int a = admitted_client(&s);
    shutdown(s.listen_fd, SHUT_RDWR);
    ck_assert_msg(!server_returned_within(&s, 200),
                  "thread_cap_serve returned while a client was still connected");
    assert_echoes(a, "served to the end\n");
    close(a);
    ck_assert_msg(server_returned_within(&s, PROMPT_MS),
                  "thread_cap_serve did not return after its last client left");
    ck_assert_int_eq(s.rc, 0);
    close(s.listen_fd);
}
END_TEST

START_TEST(thread_cap_returns_the_error_when_accept_fails)
{
    struct server s = {.max_clients = 1};
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    s.listen_fd = fds[0]; /* not a socket at all: accept fails with ENOTSOCK */
    pthread_create(&s.thread, NULL, run_server, &s);
    ck_assert_msg(server_returned_within(&s, PROMPT_MS), "thread_cap_serve did not return");
    ck_assert_msg(s.rc == -ENOTSOCK, "thread_cap_serve returned %d (%s), expected -ENOTSOCK", s.rc,
                  strerror(-s.rc));
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static Suite *thread_cap_suite(void)
{
    Suite *s = suite_create("01-thread-cap");
    TCase *tc = axt_tcase("thread_cap");
    tcase_add_test(tc, thread_cap_echoes_what_a_client_sends);
    tcase_add_test(tc, thread_cap_serves_clients_at_the_same_time);
    tcase_add_test(tc, thread_cap_refuses_a_client_over_the_cap_with_a_busy_line);
    tcase_add_test(tc, thread_cap_keeps_serving_admitted_clients_while_refusing_others);
    tcase_add_test(tc, thread_cap_frees_the_slot_when_a_client_leaves);
    tcase_add_test(tc, thread_cap_returns_zero_once_the_listener_is_shut_down);
    tcase_add_test(tc, thread_cap_waits_for_connected_clients_before_returning);
    tcase_add_test(tc, thread_cap_returns_the_error_when_accept_fails);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(thread_cap_suite)
