/* echo-graceful, run as a real process: it echoes, and on SIGTERM or SIGINT it stops
 * taking connections, ends the idle ones at once, lets a transfer in progress finish
 * with every byte delivered, cuts what is left at the --grace-ms deadline, reports the
 * three counts on standard error and exits 0; a second signal exits at once with
 * 128 + its number. Every wait is bounded; none asserts a duration beyond "promptly",
 * which is far above what the server needs. */
#include "axtest.h"
#include "demo.h"
#include "programs.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    TRANSFER = 64 * 1024,
    MID_TRANSFER_MAX = 32 * 1024 * 1024,
    TRANSFER_MS = 5000,
    LOG_MAX = 4096
};

struct server {
    pid_t pid;
    uint16_t port;
    int err; /* its standard error */
};

static void start(struct server *s, const char *grace_ms)
{
    const char *args[] = {"--port", "0", "--grace-ms", grace_ms, NULL};
    int out;
    s->pid = axt_demo_spawn("echo-graceful", args, 0, &out, &s->err);
    char line[128] = "";
    size_t len = 0;
    while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL &&
           axt_read_within(out, line + len, 1, AXT_PROMPT_MS) == 1)
        len++;
    line[len] = '\0';
    close(out);
    ck_assert_msg(sscanf(line, "listening on 127.0.0.1:%hu", &s->port) == 1,
                  "the first line was %s", axt_quoted(line));
}

/* Waits for the server to exit, up to ms: its wait status, its log in log[]. */
static int wait_exit(struct server *s, int ms, char log[LOG_MAX])
{
    size_t n = axt_read_within(s->err, log, LOG_MAX - 1, ms); /* ends at its exit */
    log[n] = '\0';
    close(s->err);
    int status;
    pid_t done = waitpid(s->pid, &status, WNOHANG);
    for (int tries = 0; done == 0 && tries < 100; tries++) {
        struct pollfd none = {.fd = -1};
        poll(&none, 1, 10); /* its stderr is closed: it is on its way out */
        done = waitpid(s->pid, &status, WNOHANG);
    }
    if (done == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        ck_abort_msg("echo-graceful did not exit within %d ms; its log: %s", ms, axt_quoted(log));
    }
    return status;
}

static void assert_exit(int status, int code, const char *log)
{
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == code,
                  "wait status %#x, expected exit %d; log: %s", status, code, axt_quoted(log));
}

static void assert_counts(const char *log, int connections, int finished, int cut)
{
    char expected[128];
    snprintf(expected, sizeof expected,
             "shutdown: %d connections, %d finished, %d cut at the deadline\n", connections,
             finished, cut);
    ck_assert_msg(strstr(log, expected) != NULL, "expected %s in the log, got %s",
                  axt_quoted(expected), axt_quoted(log));
}

/* A connection whose receive buffer is set before connecting: a small one makes the
 * server's echo wait for the client to read. */
static int connect_with_rcvbuf(const struct server *s, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    if (rcvbuf > 0)
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(s->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0, "connect: %s",
                  strerror(errno));
    struct timeval bound = {.tv_sec = AXT_PROMPT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound); /* no write blocks forever */
    return fd;
}

/* A client the server has certainly accepted: one echo has gone round. */
static int connect_served(const struct server *s)
{
    int fd = connect_with_rcvbuf(s, 0);
    axt_assert_echoes(fd, "hello\n");
    return fd;
}

/* Reads until the end of the stream, within ms: true if it came (bytes before it are
 * read and dropped). */
static bool eof_within(int fd, int ms)
{
    char buf[4096];
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    for (uint64_t now; (now = ax_now_ns()) < deadline;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)((deadline - now) / AX_NS_PER_MS) + 1) <= 0)
            continue;
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0)
            return true;
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            return false;
    }
    return false;
}

/* After the first signal the listener is closed: a connection is refused. Returns once
 * it is, so that a second signal is certainly a second one. */
static void wait_refused(const struct server *s)
{
    for (int tries = 0; tries < AXT_PROMPT_MS / 10; tries++) {
        int fd = ax_connect("127.0.0.1", s->port);
        if (fd == -ECONNREFUSED)
            return;
        if (fd >= 0)
            close(fd);
        poll(NULL, 0, 10);
    }
    ck_abort_msg("connections were still accepted %d ms after the signal", AXT_PROMPT_MS);
}

/* A pattern that does not repeat every 256 bytes, so a piece echoed in the wrong place
 * shows. Built a block at a time: filling megabytes byte by byte is slow under valgrind. */
static void fill_pattern(unsigned char *buf, size_t len)
{
    enum { BLOCK = 4093 }; /* a prime: blocks never line up with the reads */
    for (size_t i = 0; i < len && i < BLOCK; i++)
        buf[i] = (unsigned char)(i * 7 + i / 251);
    for (size_t done = BLOCK; done < len; done += BLOCK)
        memcpy(buf + done, buf, len - done < BLOCK ? len - done : BLOCK);
}

/* Where a and b first differ within n bytes, or n. */
static size_t first_difference(const unsigned char *a, const unsigned char *b, size_t n)
{
    if (memcmp(a, b, n) == 0)
        return n;
    size_t i = 0;
    while (a[i] == b[i])
        i++;
    return i;
}

/* ---- the tests -------------------------------------------------------------------- */

START_TEST(echo_graceful_echoes_what_it_is_sent)
{
    struct server s;
    start(&s, "5000");
    int a = connect_served(&s), b = connect_served(&s);
    axt_assert_echoes(b, "second client\n");
    axt_assert_echoes(a, "first again\n");
    close(a);
    close(b);
    kill(s.pid, SIGTERM);
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
}
END_TEST

START_TEST(sigterm_with_no_client_exits_0_at_once)
{
    struct server s;
    start(&s, "5000");
    kill(s.pid, SIGTERM);
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
    assert_counts(log, 0, 0, 0);
}
END_TEST

START_TEST(sigterm_ends_idle_clients_at_once_with_an_eof)
{
    enum { CLIENTS = 5 };
    struct server s;
    start(&s, "60000"); /* far beyond the test's bounds: idle clients must not wait for it */
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fds[i] = connect_served(&s);
    kill(s.pid, SIGTERM);
    for (int i = 0; i < CLIENTS; i++) {
        ck_assert_msg(eof_within(fds[i], AXT_PROMPT_MS), "client %d saw no end of stream", i);
        close(fds[i]); /* what a client does at EOF, which ends the server's lingering close */
    }
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
    assert_counts(log, CLIENTS, CLIENTS, 0);
}
END_TEST

START_TEST(sigint_is_a_shutdown_too)
{
    struct server s;
    start(&s, "60000");
    int fd = connect_served(&s);
    kill(s.pid, SIGINT);
    ck_assert(eof_within(fd, AXT_PROMPT_MS));
    close(fd);
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
    assert_counts(log, 1, 1, 0);
}
END_TEST

/* Sends from buf until the connection takes no more (the server, echoing into a
 * client that does not read, has stopped reading too), at most len bytes: the count. */
static size_t send_until_stuck(int fd, const unsigned char *buf, size_t len)
{
    ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    size_t sent = 0;
    for (int idle = 0, tries = 0; idle < 50 && sent < len && tries < 100000; tries++) {
        ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            idle = 0;
        } else if (errno == EAGAIN) {
            idle++;
            poll(NULL, 0, 1);
        }
    }
    return sent;
}

START_TEST(a_client_mid_transfer_gets_every_byte_back_before_its_eof)
{
    struct server s;
    start(&s, "60000");
    /* A small receive buffer, and at first the client does not read: the server's echo
     * stalls, and what it has yet to echo piles up in its receive buffer. Then the
     * client reads, and once every byte it sent is in the server's kernel (its own
     * send queue is empty), the signal goes: the server is in the middle of a write
     * with more to read, and all of it must come back. */
    int fd = connect_with_rcvbuf(&s, 4096);
    axt_assert_echoes(fd, "x");
    static unsigned char sent[MID_TRANSFER_MAX], back[MID_TRANSFER_MAX + 1];
    fill_pattern(sent, sizeof sent);
    size_t len = send_until_stuck(fd, sent, sizeof sent);
    ck_assert_msg(len >= TRANSFER && len < sizeof sent,
                  "%zu bytes sent before the connection stalled", len);
    size_t got = 0, at_signal = 0;
    bool signalled = false;
    ssize_t r = 1;
    int unsent = -1;
    /* Megabytes in 4 KiB reads: slow under valgrind, so the bound grows with Check's. */
    const char *multiplier = getenv("CK_TIMEOUT_MULTIPLIER");
    uint64_t bound_ms =
        TRANSFER_MS * (multiplier != NULL && atoi(multiplier) > 1 ? (uint64_t)atoi(multiplier) : 1);
    uint64_t deadline = ax_now_ns() + bound_ms * AX_NS_PER_MS;
    while (ax_now_ns() < deadline) {
        if (!signalled && ioctl(fd, TIOCOUTQ, &unsent) == 0 && unsent == 0) {
            kill(s.pid, SIGTERM);
            signalled = true;
            at_signal = got;
            /* The rest need not come back slowly: widen the buffer (the window stays
             * within the 64 KiB that the small one agreed at connect). */
            int wide = 1 << 20;
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &wide, sizeof wide);
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 1) <= 0)
            continue;
        r = recv(fd, back + got, sizeof back - got, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            break;
        got += r > 0 ? (size_t)r : 0;
    }
    ck_assert_msg(signalled,
                  "the client's bytes never all reached the server: %d unsent, %zu of %zu back, "
                  "last read %zd (%s)",
                  unsent, got, len, r, r < 0 ? strerror(errno) : "");
    size_t first_diff = first_difference(back, sent, got < len ? got : len);
    ck_assert_msg(got == len && first_diff == len,
                  "got %zu of %zu bytes back (%zu of them before the signal), the first %zu "
                  "right",
                  got, len, at_signal, first_diff);
    close(fd);
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
    assert_counts(log, 1, 1, 0);
}
END_TEST

/* A client that sends and never reads: the server's echo blocks for good. */
static int stuck_client(const struct server *s)
{
    int fd = connect_with_rcvbuf(s, 4096);
    axt_assert_echoes(fd, "x");
    ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    static char junk[256 * 1024];
    size_t sent = 0;
    for (int tries = 0; tries < 1000 && sent < sizeof junk; tries++) {
        ssize_t n = send(fd, junk, sizeof junk - sent, MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        else if (errno == EAGAIN)
            poll(NULL, 0, 1);
    }
    ck_assert_msg(sent > 64 * 1024, "only %zu bytes could be sent", sent);
    return fd;
}

START_TEST(a_client_that_never_reads_is_cut_at_the_grace_deadline)
{
    struct server s;
    start(&s, "200");
    int fd = stuck_client(&s);
    kill(s.pid, SIGTERM);
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
    assert_counts(log, 1, 0, 1);
    close(fd);
}
END_TEST

START_TEST(the_log_counts_the_finished_and_the_cut)
{
    struct server s;
    start(&s, "200");
    int idle1 = connect_served(&s), stuck = stuck_client(&s), idle2 = connect_served(&s);
    kill(s.pid, SIGTERM);
    ck_assert(eof_within(idle1, AXT_PROMPT_MS));
    ck_assert(eof_within(idle2, AXT_PROMPT_MS));
    close(idle1);
    close(idle2);
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
    assert_counts(log, 3, 2, 1);
    close(stuck);
}
END_TEST

START_TEST(no_connection_is_accepted_after_the_signal)
{
    struct server s;
    start(&s, "60000");
    int stuck = stuck_client(&s); /* keeps the server in its grace period */
    kill(s.pid, SIGTERM);
    wait_refused(&s);
    close(stuck); /* its lingering close then ends */
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 0, log);
    /* A probe accepted before the signal was seen may count too; none is cut. */
    int connections, finished, cut;
    const char *line = strstr(log, "shutdown:");
    ck_assert_msg(line != NULL && sscanf(line, "shutdown: %d connections, %d finished, %d cut",
                                         &connections, &finished, &cut) == 3,
                  "no counts in the log: %s", axt_quoted(log));
    ck_assert_msg(connections >= 1 && finished == connections && cut == 0, "log: %s",
                  axt_quoted(log));
}
END_TEST

static void second_signal_exits_at_once(int first, int second)
{
    struct server s;
    start(&s, "60000");
    int stuck = stuck_client(&s);
    kill(s.pid, first);
    wait_refused(&s); /* the first has been handled */
    kill(s.pid, second);
    char log[LOG_MAX];
    assert_exit(wait_exit(&s, AXT_PROMPT_MS, log), 128 + second, log);
    ck_assert_msg(strstr(log, "cut at the deadline") == NULL,
                  "the counts came after a second signal");
    close(stuck);
}

START_TEST(a_second_sigterm_exits_at_once_with_143)
{
    second_signal_exits_at_once(SIGTERM, SIGTERM);
}
END_TEST

START_TEST(a_sigint_during_the_grace_period_exits_at_once_with_130)
{
    second_signal_exits_at_once(SIGTERM, SIGINT);
}
END_TEST

START_TEST(a_bad_grace_is_refused_with_the_usage)
{
    struct axt_exit result;
    axt_run_program("echo-graceful", "--grace-ms=soon", &result);
    ck_assert_int_eq(result.status, 2);
    ck_assert_msg(strncmp(result.err, "usage: echo-graceful", 20) == 0, "stderr: %s",
                  axt_quoted(result.err));
}
END_TEST

static Suite *echo_graceful_suite(void)
{
    Suite *s = suite_create("06-echo-graceful");
    TCase *tc = axt_tcase("echo-graceful");
    tcase_add_test(tc, echo_graceful_echoes_what_it_is_sent);
    tcase_add_test(tc, sigterm_with_no_client_exits_0_at_once);
    tcase_add_test(tc, sigterm_ends_idle_clients_at_once_with_an_eof);
    tcase_add_test(tc, sigint_is_a_shutdown_too);
    tcase_add_test(tc, a_client_mid_transfer_gets_every_byte_back_before_its_eof);
    tcase_add_test(tc, a_client_that_never_reads_is_cut_at_the_grace_deadline);
    tcase_add_test(tc, the_log_counts_the_finished_and_the_cut);
    tcase_add_test(tc, no_connection_is_accepted_after_the_signal);
    tcase_add_test(tc, a_second_sigterm_exits_at_once_with_143);
    tcase_add_test(tc, a_sigint_during_the_grace_period_exits_at_once_with_130);
    tcase_add_test(tc, a_bad_grace_is_refused_with_the_usage);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(echo_graceful_suite)
