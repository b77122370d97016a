/* The echo-tasks demo, run as a real process: a task per connection serves many clients
 * at once from one thread, idle clients stall nobody, big echoes arrive intact, resets
 * and a descriptor limit do not hurt it, and a thousand connections each get their echo.
 *
 * Each test starts build/bin/echo-tasks (found next to this suite's build tree, so an
 * ASan build tests the ASan demo), reads its `listening on` line, and stops it with
 * SIGTERM. Client sockets are blocking and use ax_write_all (which finishes short
 * writes and retries EINTR); reads go through read_within, which bounds every wait. */
#include "axtest.h"
#include "demo.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PROMPT_MS = AXT_PROMPT_MS };

/* Starts build/bin/echo-tasks --port 0 [extra]; nofile > 0 sets its descriptor limit. */
static void start_server_with(struct axt_demo *s, const char *extra, int nofile)
{
    const char *args[] = {extra, NULL};
    axt_demo_start(s, "echo-tasks", args, nofile);
}

static void start_server(struct axt_demo *s)
{
    start_server_with(s, NULL, 0);
}

/* Connects `count` clients, has every one speak before any listens, then checks each
 * one's echo: a server that serves one client at a time cannot pass. */
static void assert_many_clients_echo(const struct axt_demo *s, int count)
{
    int *fds = calloc((size_t)count, sizeof *fds);
    ck_assert_ptr_nonnull(fds);
    for (int i = 0; i < count; i++)
        fds[i] = axt_demo_connect(s);
    for (int i = count - 1; i >= 0; i--) {
        char msg[32];
        snprintf(msg, sizeof msg, "client %d\n", i);
        ck_assert_int_eq(ax_write_all(fds[i], msg, strlen(msg)), 0);
    }
    for (int i = 0; i < count; i++) {
        char msg[32], back[32] = "";
        size_t len = (size_t)snprintf(msg, sizeof msg, "client %d\n", i);
        size_t got = axt_read_within(fds[i], back, len, PROMPT_MS);
        ck_assert_msg(got == len && memcmp(back, msg, len) == 0,
                      "client %d of %d got '%.*s' back, expected '%.*s'", i, count, (int)got, back,
                      (int)len - 1, msg);
    }
    for (int i = 0; i < count; i++)
        close(fds[i]);
    free(fds);
}

/* ---- a long stream, written by a thread while the test reads the echo ------------------- */

static char stream_byte(size_t i)
{
    return (char)((i * 131 + (i >> 13)) & 0xff); /* position-dependent: loss and reordering show */
}

struct writer {
    int fd;
    size_t len;
    int result;
};

static void *write_stream(void *arg)
{
    struct writer *w = arg;
    static char chunk[64 * 1024];
    w->result = 0;
    for (size_t off = 0; off < w->len && w->result == 0; off += sizeof chunk) {
        size_t n = w->len - off < sizeof chunk ? w->len - off : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = stream_byte(off + i);
        w->result = ax_write_all(w->fd, chunk, n);
    }
    shutdown(w->fd, SHUT_WR); /* then the server's task sees end of stream and closes */
    return NULL;
}

/* Echoes len bytes of the stream through the server and checks every byte came back,
 * in order, followed by the server closing the connection. */
static void assert_stream_echoes(const struct axt_demo *s, size_t len)
{
    int fd = axt_demo_connect(s);
    struct writer w = {.fd = fd, .len = len};
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, write_stream, &w), 0);
    static char buf[64 * 1024];
    size_t done = 0;
    while (done < len) {
        size_t want = len - done < sizeof buf ? len - done : sizeof buf;
        size_t got = axt_read_within(fd, buf, want, PROMPT_MS);
        if (got == 0) {
            pthread_join(thread, NULL);
            ck_abort_msg("the echo stopped after %zu of %zu bytes", done, len);
        }
        for (size_t i = 0; i < got; i++)
            if (buf[i] != stream_byte(done + i)) /* not ck_assert: each one writes a record */
                ck_abort_msg("byte %zu of the echo is wrong", done + i);
        done += got;
    }
    char byte;
    ck_assert_msg(axt_read_within(fd, &byte, 1, PROMPT_MS) == 0,
                  "the server did not close the connection after the client's end of stream");
    pthread_join(thread, NULL);
    ck_assert_int_eq(w.result, 0);
    close(fd);
}

/* ---- the tests -------------------------------------------------------------------------- */

START_TEST(echo_tasks_echoes_to_many_clients_at_once)
{
    struct axt_demo s;
    start_server(&s);
    assert_many_clients_echo(&s, 200);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_tasks_serves_a_client_while_another_sits_idle)
{
    struct axt_demo s;
    start_server(&s);
    int idle = axt_demo_connect(&s);
    axt_assert_echoes(idle, "hello, then nothing\n");
    ck_assert_int_eq(ax_write_all(idle, "half a mess", 11), 0); /* and no more */
    int busy = axt_demo_connect(&s);
    axt_assert_echoes(busy, "one\n");
    axt_assert_echoes(busy, "two\n");
    char back[11];
    ck_assert_uint_eq(axt_read_within(idle, back, sizeof back, PROMPT_MS), sizeof back);
    close(busy);
    close(idle);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_tasks_echoes_four_megabytes_intact)
{
    struct axt_demo s;
    start_server(&s);
    assert_stream_echoes(&s, 4 << 20);
    int other = axt_demo_connect(&s);
    axt_assert_echoes(other, "still serving\n");
    close(other);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_tasks_keeps_running_after_clients_reset)
{
    struct axt_demo s;
    start_server(&s);
    int staying = axt_demo_connect(&s);
    axt_assert_echoes(staying, "before\n");
    for (int i = 0; i < 10; i++) {
        int fd = axt_demo_connect(&s);
        axt_assert_echoes(fd, "then reset\n");
        static char unread[200 * 1024]; /* the server is mid-echo when the reset comes */
        memset(unread, 'r', sizeof unread);
        ax_write_all(fd, unread, sizeof unread);
        struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        close(fd); /* RST instead of FIN */
    }
    axt_assert_echoes(staying, "after\n");
    int late = axt_demo_connect(&s);
    axt_assert_echoes(late, "newcomer\n");
    close(late);
    close(staying);
    ck_assert_msg(axt_demo_alive(&s), "echo-tasks died after a client reset");
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_tasks_echoes_on_a_thousand_connections_at_once)
{
    enum { CONNECTIONS = 1000, NEEDED = CONNECTIONS + 100 };
    struct rlimit limit;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < NEEDED) {
        ck_assert_msg(limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= NEEDED,
                      "this test needs %d descriptors, and the hard limit is %llu: raise it "
                      "(ulimit -Hn) to run it",
                      NEEDED, (unsigned long long)limit.rlim_max);
        limit.rlim_cur = NEEDED; /* the server inherits it */
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &limit), 0);
    }
    struct axt_demo s;
    start_server(&s);
    assert_many_clients_echo(&s, CONNECTIONS);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_tasks_by_hand_behaves_like_the_macro_version)
{
    struct axt_demo s;
    start_server_with(&s, "--by-hand", 0);
    assert_many_clients_echo(&s, 100);
    assert_stream_echoes(&s, 1 << 20);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_tasks_out_of_descriptors_keeps_serving_and_does_not_spin)
{
    enum { MAX_CLIENTS = 40 };
    struct axt_demo s;
    start_server_with(&s, NULL, 16); /* room for about a dozen clients */
    int fds[MAX_CLIENTS], count;
    int stalled = axt_fill_to_fd_limit_without_spinning(&s, fds, MAX_CLIENTS, &count);

    axt_assert_echoes(fds[0], "the first is still served\n");
    close(fds[0]); /* a client leaves: the acceptor wakes and takes the waiting one */
    char back[2];
    ck_assert_msg(axt_read_within(fds[stalled], back, 2, PROMPT_MS) == 2,
                  "the waiting client was not served after another left");
    for (int i = 1; i < count; i++)
        close(fds[i]);
    axt_demo_stop(&s);
}
END_TEST

static Suite *echo_tasks_suite(void)
{
    Suite *s = suite_create("04-echo-tasks");
    TCase *tc = axt_tcase("echo-tasks");
    tcase_add_test(tc, echo_tasks_echoes_to_many_clients_at_once);
    tcase_add_test(tc, echo_tasks_serves_a_client_while_another_sits_idle);
    tcase_add_test(tc, echo_tasks_echoes_four_megabytes_intact);
    tcase_add_test(tc, echo_tasks_keeps_running_after_clients_reset);
    tcase_add_test(tc, echo_tasks_echoes_on_a_thousand_connections_at_once);
    tcase_add_test(tc, echo_tasks_by_hand_behaves_like_the_macro_version);
    tcase_add_test(tc, echo_tasks_out_of_descriptors_keeps_serving_and_does_not_spin);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(echo_tasks_suite)
