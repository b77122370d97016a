/* The echo-reactor demo, run as a real process: many clients at once from one
 * thread, idle and slow clients that stall nobody, output buffered per connection and
 * bounded, clients that vanish, and a descriptor limit that does not make it spin.
 *
 * Each test starts build/bin/echo-reactor (found next to this suite's build tree, so an
 * ASan build tests the ASan demo), reads its `listening on` line, and stops it with
 * SIGTERM. Client sockets are blocking unless a test says otherwise; every wait is
 * bounded. */
#include "axtest.h"
#include "demo.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PROMPT_MS = AXT_PROMPT_MS };

static void start_server_with(struct axt_demo *s, const char *const args[], int nofile)
{
    axt_demo_start(s, "echo-reactor", args, nofile);
}

static void start_server(struct axt_demo *s)
{
    start_server_with(s, NULL, 0);
}

/* The byte at offset i of a long test stream: position-dependent, so loss, duplication
 * and reordering all show. */
static char stream_byte(size_t i)
{
    return (char)((i * 131 + (i >> 13)) & 0xff);
}

static void fill_stream(char *buf, size_t offset, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = stream_byte(offset + i);
}

/* Reads n bytes of the test stream from offset on, checking each one. */
static void expect_stream(int fd, size_t offset, size_t n)
{
    static char buf[64 * 1024];
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < sizeof buf ? n - done : sizeof buf;
        size_t got = axt_read_within(fd, buf, want, PROMPT_MS);
        ck_assert_msg(got > 0, "the echo stopped after %zu of %zu bytes", done, n);
        for (size_t i = 0; i < got; i++)
            if (buf[i] != stream_byte(offset + done + i)) /* not ck_assert: each one writes */
                ck_abort_msg("byte %zu of the echo is wrong", offset + done + i);
        done += got;
    }
}

START_TEST(echo_reactor_echoes_to_many_clients_at_once)
{
    enum { CLIENTS = 200 };
    struct axt_demo s;
    start_server(&s);
    static int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fds[i] = axt_demo_connect(&s);
    /* Every client speaks before any listens: a one-at-a-time server stalls here. */
    char msg[CLIENTS][32];
    for (int i = CLIENTS - 1; i >= 0; i--) {
        snprintf(msg[i], sizeof msg[i], "client %d\n", i);
        ck_assert_int_eq(ax_write_all(fds[i], msg[i], strlen(msg[i])), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        char back[32] = "";
        size_t len = strlen(msg[i]);
        size_t got = axt_read_within(fds[i], back, len, PROMPT_MS);
        ck_assert_msg(got == len && memcmp(back, msg[i], len) == 0,
                      "client %d got '%.*s' back, expected '%.*s'", i, (int)got, back, (int)len - 1,
                      msg[i]);
    }
    for (int i = 0; i < CLIENTS; i++)
        close(fds[i]);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_reactor_serves_a_client_while_another_sits_idle)
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

/* Writes `len` bytes of the test stream, then optionally half-closes. */
struct writer {
    int fd;
    size_t len;
    bool shut_down;
    int result;
};

static void *write_stream(void *arg)
{
    struct writer *w = arg;
    static char chunk[64 * 1024];
    w->result = 0;
    for (size_t off = 0; off < w->len && w->result == 0; off += sizeof chunk) {
        size_t n = w->len - off < sizeof chunk ? w->len - off : sizeof chunk;
        fill_stream(chunk, off, n);
        w->result = ax_write_all(w->fd, chunk, n);
    }
    if (w->shut_down)
        shutdown(w->fd, SHUT_WR);
    return NULL;
}

START_TEST(echo_reactor_buffers_what_a_client_cannot_take_yet_and_sends_it_later)
{
    enum { LEN = 4 << 20 };
    struct axt_demo s;
    start_server(&s);
    int fd = axt_demo_connect(&s);
    struct writer w = {.fd = fd, .len = LEN};
    pthread_t thread;
    pthread_create(&thread, NULL, write_stream, &w);
    ax_sleep_ns(200 * AX_NS_PER_MS); /* not reading: the server's sends come back short */
    expect_stream(fd, 0, LEN);
    pthread_join(thread, NULL);
    ck_assert_int_eq(w.result, 0);
    int other = axt_demo_connect(&s);
    axt_assert_echoes(other, "still serving\n");
    close(other);
    close(fd);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_reactor_stops_reading_from_a_client_that_never_reads)
{
    enum { CAP = 64 << 20, CHUNK = 64 * 1024, STUCK_MS = 500 };
    struct axt_demo s;
    start_server(&s);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int small = 64 * 1024; /* keep this end's own buffers out of the sum */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(s.port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 || errno == EINPROGRESS);

    /* Send without reading until the sends stop going anywhere. */
    static char chunk[CHUNK];
    size_t sent = 0;
    while (sent < CAP) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, STUCK_MS) == 0)
            break; /* no room for STUCK_MS: the server has stopped taking it */
        fill_stream(chunk, sent, CHUNK);
        ssize_t n = ax_send(fd, chunk, CHUNK);
        ck_assert_msg(n > 0 || n == -EAGAIN, "send: %s", ax_strerror((int)n));
        if (n > 0)
            sent += (size_t)n;
    }
    ck_assert_msg(sent < CAP,
                  "the server took %d MB from a client that reads nothing: its buffering has "
                  "no bound",
                  CAP >> 20);
    ck_assert_msg(axt_demo_alive(&s), "echo-reactor died");

    /* Once the client reads, every byte it managed to send comes back, in order. */
    expect_stream(fd, 0, sent);
    close(fd);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_reactor_sends_everything_to_a_client_that_half_closed)
{
    enum { LEN = 1 << 20 };
    struct axt_demo s;
    start_server(&s);
    int fd = axt_demo_connect(&s);
    struct writer w = {.fd = fd, .len = LEN, .shut_down = true};
    pthread_t thread;
    pthread_create(&thread, NULL, write_stream, &w);
    expect_stream(fd, 0, LEN);
    char byte;
    ck_assert_msg(axt_read_within(fd, &byte, 1, PROMPT_MS) == 0,
                  "the connection stayed open after the whole echo");
    pthread_join(thread, NULL);
    close(fd);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_reactor_is_not_hurt_by_a_client_that_leaves_mid_message)
{
    struct axt_demo s;
    start_server(&s);
    int staying = axt_demo_connect(&s);
    axt_assert_echoes(staying, "before\n");
    for (int i = 0; i < 20; i++) {
        int leaving = axt_demo_connect(&s);
        static char half[200 * 1024];
        memset(half, 'h', sizeof half);
        ck_assert_int_eq(ax_write_all(leaving, half, sizeof half), 0); /* unread echo */
        close(leaving);
    }
    axt_assert_echoes(staying, "after\n");
    int late = axt_demo_connect(&s);
    axt_assert_echoes(late, "newcomer\n");
    close(late);
    close(staying);
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_reactor_keeps_running_after_a_client_resets)
{
    struct axt_demo s;
    start_server(&s);
    for (int i = 0; i < 10; i++) {
        int fd = axt_demo_connect(&s);
        axt_assert_echoes(fd, "then reset\n");
        ax_write_all(fd, "unanswered", 10);
        struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        close(fd); /* RST instead of FIN */
    }
    int fd = axt_demo_connect(&s);
    axt_assert_echoes(fd, "still here?\n");
    close(fd);
    ck_assert_msg(axt_demo_alive(&s), "echo-reactor died after a reset");
    axt_demo_stop(&s);
}
END_TEST

START_TEST(echo_reactor_at_its_descriptor_limit_keeps_serving_and_does_not_spin)
{
    enum { MAX_CLIENTS = 40 };
    struct axt_demo s;
    start_server_with(&s, NULL, 16); /* room for about a dozen clients */
    int fds[MAX_CLIENTS], count;
    int stalled = axt_fill_to_fd_limit_without_spinning(&s, fds, MAX_CLIENTS, &count);

    axt_assert_echoes(fds[0], "the first is still served\n");
    close(fds[0]);
    close(fds[1]);
    //> 02..03
    //| char back[2];
    //| ck_assert_msg(axt_read_within(fds[stalled], back, 2, PROMPT_MS) == 2,
    //|               "the waiting client was not served after two others left");
    //< 02
    //> 03
    /* Chapter 03 sheds the client over the limit (the spare-fd trick) instead of leaving
     * it queued: it sees its connection closed, and a newcomer is served once two left. */
    struct pollfd shed = {.fd = fds[stalled], .events = POLLIN};
    ck_assert_msg(poll(&shed, 1, PROMPT_MS) == 1,
                  "the client over the limit was neither served nor shed");
    char back[2];
    ck_assert_msg(recv(fds[stalled], back, sizeof back, MSG_DONTWAIT) <= 0,
                  "the client over the limit got data; expected its connection closed");
    bool served = false; /* one that comes before the server saw the leaves is shed too */
    for (int attempt = 0; attempt < 50 && !served; attempt++) {
        int late = axt_demo_connect(&s);
        served = ax_write_all(late, "y\n", 2) == 0 && axt_read_within(late, back, 2, 200) == 2;
        close(late);
        if (!served)
            ax_sleep_ns(20 * AX_NS_PER_MS);
    }
    ck_assert_msg(served, "no newcomer was served after two clients left");
    //< 03
    for (int i = 2; i < count; i++)
        close(fds[i]);
    axt_demo_stop(&s);
}
END_TEST

/* Runs echo-reactor with args, expecting it to exit at once; returns its exit status
 * and what it wrote to stderr. */
static int run_to_exit(const char *const args[], char *err_text, size_t size)
{
    int out, err;
    pid_t pid = axt_demo_spawn("echo-reactor", args, 0, &out, &err);
    size_t n = axt_read_within(err, err_text, size - 1, PROMPT_MS);
    err_text[n] = '\0';
    close(out);
    close(err);
    int status = 0;
    uint64_t deadline = ax_now_ns() + PROMPT_MS * AX_NS_PER_MS;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (ax_now_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("echo-reactor kept running; expected it to exit");
        }
        ax_sleep_ns(5 * AX_NS_PER_MS);
    }
    ck_assert_msg(WIFEXITED(status), "echo-reactor was killed by signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

START_TEST(echo_reactor_names_the_known_backends_when_given_an_unknown_one)
{
    char text[2048];
    const char *const args[] = {"--backend", "no-such-backend", "--port", "0", NULL};
    ck_assert_int_eq(run_to_exit(args, text, sizeof text), 2);
    ck_assert_msg(strstr(text, "no-such-backend") != NULL, "stderr: %s", text);
    char names[256];
    snprintf(names, sizeof names, "%s", ax_reactor_backend_names());
    for (char *name = strtok(names, " "); name != NULL; name = strtok(NULL, " "))
        ck_assert_msg(strstr(text, name) != NULL, "'%s' not named in: %s", name, text);

    setenv("AX_BACKEND", "no-such-backend", 1);
    const char *const plain[] = {"--port", "0", NULL};
    int status = run_to_exit(plain, text, sizeof text);
    unsetenv("AX_BACKEND");
    ck_assert_int_eq(status, 2);
    ck_assert_msg(strstr(text, "AX_BACKEND") != NULL, "stderr: %s", text);
}
END_TEST

START_TEST(echo_reactor_rejects_bad_arguments_with_usage)
{
    static const char *const cases[][4] = {
        {"--port", "70000", NULL},
        {"--port", "http", NULL},
        {"--frobnicate", NULL},
        {"--port", "0", "extra", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        ck_assert_int_eq(run_to_exit(cases[i], text, sizeof text), 2);
        ck_assert_msg(strstr(text, "usage:") != NULL, "no usage line in: %s", text);
    }
}
END_TEST

START_TEST(echo_reactor_runs_on_every_built_in_backend)
{
    char names[256];
    snprintf(names, sizeof names, "%s", ax_reactor_backend_names());
    for (char *name = strtok(names, " "); name != NULL; name = strtok(NULL, " ")) {
        struct axt_demo s;
        const char *const args[] = {"--backend", name, NULL};
        start_server_with(&s, args, 0);
        int a = axt_demo_connect(&s), b = axt_demo_connect(&s);
        axt_assert_echoes(b, "second first\n");
        axt_assert_echoes(a, "first second\n");
        close(a);
        close(b);
        axt_demo_stop(&s);
    }
}
END_TEST

static Suite *echo_reactor_suite(void)
{
    Suite *s = suite_create("02-echo-reactor");
    TCase *tc = axt_tcase("echo-reactor");
    tcase_add_test(tc, echo_reactor_echoes_to_many_clients_at_once);
    tcase_add_test(tc, echo_reactor_serves_a_client_while_another_sits_idle);
    tcase_add_test(tc, echo_reactor_buffers_what_a_client_cannot_take_yet_and_sends_it_later);
    tcase_add_test(tc, echo_reactor_stops_reading_from_a_client_that_never_reads);
    tcase_add_test(tc, echo_reactor_sends_everything_to_a_client_that_half_closed);
    tcase_add_test(tc, echo_reactor_is_not_hurt_by_a_client_that_leaves_mid_message);
    tcase_add_test(tc, echo_reactor_keeps_running_after_a_client_resets);
    tcase_add_test(tc, echo_reactor_at_its_descriptor_limit_keeps_serving_and_does_not_spin);
    tcase_add_test(tc, echo_reactor_names_the_known_backends_when_given_an_unknown_one);
    tcase_add_test(tc, echo_reactor_rejects_bad_arguments_with_usage);
    tcase_add_test(tc, echo_reactor_runs_on_every_built_in_backend);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(echo_reactor_suite)
