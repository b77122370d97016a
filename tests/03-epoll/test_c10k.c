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

struct server {
    pid_t pid;
    uint16_t port;
};

/* build/tests/03-epoll/test_c10k -> build/bin/echo-reactor */
static void demo_path(char *path, size_t size)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_msg(len > 0, "cannot read /proc/self/exe");
    self[len] = '\0';
    char *tests_dir = dirname(dirname(self)); /* build/tests */
    snprintf(path, size, "%s/../bin/echo-reactor", tests_dir);
    ck_assert_msg(access(path, X_OK) == 0, "%s is missing: run `make` first", path);
}

/* Reads up to n bytes within ms, stopping at end of stream or an error. The count. */
static size_t read_within(int fd, void *buf, size_t n, int ms)
{
    size_t got = 0;
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    while (got < n) {
        uint64_t now = ax_now_ns();
        if (now >= deadline)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, (int)((deadline - now) / AX_NS_PER_MS) + 1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            break;
        ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
        if (r < 0 && errno == ENOTSOCK)
            r = read(fd, (char *)buf + got, n - got); /* the server's stdout pipe */
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Starts echo-reactor --backend epoll --port 0 with a descriptor limit of nofile. The
 * shell sets the limit (soft and hard) before exec: under valgrind, setrlimit in this
 * process would only change valgrind's idea of it. The child dies with the test. */
static void start_server(struct server *s, int nofile)
{
    char path[4200], limit[96];
    demo_path(path, sizeof path);
    snprintf(limit, sizeof limit,
             "ulimit -n %d || { echo \"cannot set the fd limit to %d\" >&2; exit 126; }; "
             "exec \"$0\" \"$@\"",
             nofile, nofile);
    char *argv[] = {"/bin/sh", "-c", limit, path, "--backend", "epoll", "--port", "0", NULL};
    int out[2];
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(out[1], STDOUT_FILENO);
        if (getenv("AX_LOG") == NULL)
            setenv("AX_LOG", "error", 1); /* the expected warnings stay quiet */
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    s->pid = pid;
    char line[128] = "";
    size_t len = 0;
    while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL &&
           read_within(out[0], line + len, 1, PROMPT_MS) == 1)
        len++;
    line[len] = '\0';
    close(out[0]);
    ck_assert_msg(sscanf(line, "listening on 127.0.0.1:%hu", &s->port) == 1,
                  "echo-reactor (fd limit %d) printed '%s', expected 'listening on "
                  "127.0.0.1:PORT'",
                  nofile, line);
}

static bool server_alive(const struct server *s)
{
    return waitpid(s->pid, NULL, WNOHANG) == 0;
}

static void stop_server(struct server *s)
{
    ck_assert_msg(server_alive(s), "echo-reactor exited during the test");
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

/* A blocking connection to the server, or the test fails saying which one. */
static int connect_client(const struct server *s, int index)
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
        size_t got = read_within(fds[i], back, len, PROMPT_MS);
        if (got != len || memcmp(back, msg, len) != 0) /* not ck_assert: each one writes */
            ck_abort_msg("connection %d of %d got %zu of %zu bytes of its echo back", i, to, got,
                         len);
    }
}

START_TEST(echo_reactor_on_epoll_serves_ten_thousand_connections_at_once)
{
    axt_need_fds(CONNS + SPARE_FDS); /* fails the test naming the limit it needs */
    struct server s;
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
    ck_assert_msg(server_alive(&s), "echo-reactor died holding %d connections", CONNS);
    for (int i = 0; i < CONNS; i++)
        close(fds[i]);

    fds[0] = connect_client(&s, 0); /* and after they all left, a newcomer */
    echo_through(fds, 0, 1);
    close(fds[0]);
    stop_server(&s);
}
END_TEST

/* utime + stime of a process, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *p = strrchr(text, ')'); /* the command name may hold spaces */
    ck_assert_ptr_nonnull(p);
    long utime, stime;
    ck_assert_int_eq(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime), 2);
    return utime + stime;
}

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
    struct server s;
    start_server(&s, LIMIT);
    int fds[MAX_CLIENTS];
    int count = 0, over = -1;
    while (count < MAX_CLIENTS && over < 0) {
        fds[count] = connect_client(&s, count); /* the kernel queues it either way */
        int err = ax_write_all(fds[count], "x\n", 2);
        char back[2];
        if (err < 0 || read_within(fds[count], back, 2, WAIT_MS) != 2)
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
    long before = cpu_ticks(s.pid);
    ax_sleep_ns(IDLE_MS * AX_NS_PER_MS);
    long used_ms = (cpu_ticks(s.pid) - before) * 1000 / sysconf(_SC_CLK_TCK);
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
        served = ax_write_all(late, "y\n", 2) == 0 && read_within(late, back, 2, 200) == 2;
        close(late);
        if (!served)
            ax_sleep_ns(20 * AX_NS_PER_MS);
    }
    ck_assert_msg(served, "no newcomer was served after a client left");
    for (int i = 0; i < count; i++)
        if (i != 1)
            close(fds[i]);
    stop_server(&s);
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
