/* C10K: echo-reactor on epoll holds ten thousand connections at once, and at a low
 * descriptor limit it sheds the connections it cannot carry instead of spinning.
 *
 * Each test starts build/bin/echo-reactor --backend epoll (found next to this suite's
 * build tree, so an ASan build tests the ASan demo) with its descriptor limit set by
 * the shell before exec, reads its `listening on` line, and stops it with SIGTERM.
 * Connections are opened in waves smaller than the listen backlog and each wave is
 * echoed through before the next, so no SYN is ever dropped and every wait is
 * bounded. */
#include "axtest.h"
#include "demo.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
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

enum {
    CONNS = 10000,
    WAVE = 500, /* well under the listen backlog */
    SPARE_FDS = 64, /* stdio, the listener, the epoll fd, the spare, the pipes */
    PROMPT_MS = 5000, /* how long a test waits for anything a working server does */
};

/* Starts echo-reactor --backend epoll --port 0 with a descriptor limit of nofile. */
static void start_server(struct axt_demo *s, int nofile)
{
    static const char *const epoll[] = {"--backend", "epoll", NULL};
    axt_demo_start(s, "echo-reactor", epoll, nofile);
}

/* A blocking connection to the server, or the test fails saying which one. */
static int connect_client(const struct axt_demo *s, int index)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "socket for connection %d: %s", index, strerror(errno));
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(s->port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    while (rc < 0 && errno == EINTR);
    ck_assert_msg(rc == 0, "connection %d: connect: %s", index, strerror(errno));
    return fd;
}

static void message_for(int index, char msg[32])
{
    snprintf(msg, 32, "conn %d\n", index);
}

/* Sends each of fds[from..to) its message, then expects every one back. */
static void echo_through(const int *fds, int from, int to)
{
    for (int i = from; i < to; i++) {
        char msg[32];
        message_for(i, msg);
        int err = ax_write_all(fds[i], msg, strlen(msg));
        ck_assert_msg(err == 0, "connection %d: send: %s", i, ax_strerror(err));
    }
    for (int i = from; i < to; i++) {
        char msg[32], back[32];
        message_for(i, msg);
        size_t len = strlen(msg);
        size_t got = axt_read_within(fds[i], back, len, PROMPT_MS);
        if (got != len || memcmp(back, msg, len) != 0) /* not ck_assert: each one writes */
            ck_abort_msg("connection %d of %d got %zu of %zu bytes of its echo back", i, to, got,
                         len);
    }
}

START_TEST(echo_reactor_on_epoll_serves_ten_thousand_connections_at_once)
{
    axt_need_fds(CONNS + SPARE_FDS); /* fails the test naming the limit it needs */
    struct axt_demo s;
    start_server(&s, CONNS + SPARE_FDS);
    static int fds[CONNS];
    for (int from = 0; from < CONNS; from += WAVE) {
        int to = from + WAVE < CONNS ? from + WAVE : CONNS;
        for (int i = from; i < to; i++)
            fds[i] = connect_client(&s, i);
        echo_through(fds, from, to); /* this wave was accepted and is served */
    }
    /* All ten thousand are open at once: each is served again, in one sweep. */
    echo_through(fds, 0, CONNS);
    ck_assert_msg(axt_demo_alive(&s), "echo-reactor died holding %d connections", CONNS);
    for (int i = 0; i < CONNS; i++)
        close(fds[i]);

    fds[0] = connect_client(&s, 0); /* and after they all left, a newcomer */
    echo_through(fds, 0, 1);
    close(fds[0]);
    axt_demo_stop(&s);
}
END_TEST

/* True if the server closed fd (end of stream or reset) within ms. */
static bool closed_within(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) != 1)
        return false;
    char byte;
    return recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
}

START_TEST(at_its_fd_limit_echo_reactor_sheds_new_connections_and_does_not_spin)
{
    enum { LIMIT = 32, MAX_CLIENTS = 64, WAIT_MS = 300, IDLE_MS = 300 };
    struct axt_demo s;
    start_server(&s, LIMIT);
    int fds[MAX_CLIENTS];
    int count = 0, over = -1;
    while (count < MAX_CLIENTS && over < 0) {
        fds[count] = connect_client(&s, count); /* the kernel queues it either way */
        int err = ax_write_all(fds[count], "x\n", 2);
        char back[2];
        if (err < 0 || axt_read_within(fds[count], back, 2, WAIT_MS) != 2)
            over = count;
        count++;
    }
    ck_assert_msg(over > 0, "with a limit of %d descriptors the server %s", LIMIT,
                  over == 0 ? "served nobody" : "never ran out");
    ck_assert_msg(closed_within(fds[over], PROMPT_MS),
                  "connection %d, over the limit, was neither served nor closed: the server "
                  "left it queued instead of shedding it",
                  over);

    /* One more arrives while the server is full, and then it has nothing to do. */
    int extra = connect_client(&s, count);
    long before = axt_cpu_ms(s.pid);
    ax_sleep_ns(IDLE_MS * AX_NS_PER_MS);
    long used_ms = axt_cpu_ms(s.pid) - before;
    ck_assert_msg(used_ms < IDLE_MS / 2,
                  "full, with a connection arriving, the server used %ld ms of CPU in %d ms: "
                  "it is retrying accept in a busy loop",
                  used_ms, IDLE_MS);
    ck_assert_msg(closed_within(extra, PROMPT_MS), "the connection that arrived while full "
                                                   "was not shed");
    close(extra);

    /* The clients it has are still served, and a client leaving makes room. A newcomer
     * that arrives before the server has seen the leave is shed too: try again. */
    echo_through(fds, 0, 1);
    close(fds[1]);
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; attempt++) {
        int late = connect_client(&s, count + attempt);
        char back[2];
        served = ax_write_all(late, "y\n", 2) == 0 && axt_read_within(late, back, 2, 200) == 2;
        close(late);
        if (!served)
            ax_sleep_ns(20 * AX_NS_PER_MS);
    }
    ck_assert_msg(served, "no newcomer was served after a client left");
    for (int i = 0; i < count; i++)
        if (i != 1)
            close(fds[i]);
    axt_demo_stop(&s);
}
END_TEST

static Suite *c10k_suite(void)
{
    Suite *s = suite_create("03-c10k");
    TCase *tc = axt_tcase("c10k");
    tcase_add_test(tc, echo_reactor_on_epoll_serves_ten_thousand_connections_at_once);
    tcase_add_test(tc, at_its_fd_limit_echo_reactor_sheds_new_connections_and_does_not_spin);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(c10k_suite)
