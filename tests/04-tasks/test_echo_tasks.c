/* The echo-tasks demo, run as a real process: a task per connection serves many clients
 * at once from one thread, idle clients stall nobody, big echoes arrive intact, resets
 * and a descriptor limit do not hurt it, and a thousand connections each get their echo.
 *
 * Each test starts build/bin/echo-tasks (found next to this suite's build tree, so an
 * ASan build tests the ASan demo), reads its `listening on` line, and stops it with
 * SIGTERM. Client sockets are blocking and use ax_write_all (which finishes short
 * writes and retries EINTR); reads go through read_within, which bounds every wait. */
#include "axtest.h"
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

/* How long a test waits for anything a working server does promptly. */
enum { PROMPT_MS = 3000 };

struct server {
    pid_t pid;
    uint16_t port;
};

/* Reads up to n bytes within ms, stopping at end of stream; short reads, EINTR and
 * EAGAIN only mean "go round". Returns the count. */
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
        if (ready <= 0)
            continue; /* EINTR, or the deadline: the loop's test decides */
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Starts build/bin/echo-tasks --port 0 [extra]; nofile > 0 sets its descriptor
 * limit. The child dies with the test process, so a failed test leaves no server. */
static void start_server_with(struct server *s, const char *extra, int nofile)
{
    char self[4096], path[4200];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_msg(len > 0, "cannot read /proc/self/exe");
    self[len] = '\0';
    snprintf(path, sizeof path, "%s/../bin/echo-tasks", dirname(dirname(self)));
    ck_assert_msg(access(path, X_OK) == 0, "%s is missing: run `make` first", path);
    char *argv[] = {path, "--port", "0", (char *)extra, NULL, NULL, NULL, NULL};
    char limit[64];
    if (nofile > 0) {
        /* A shell lowers the limit and then becomes the server (same pid): under
         * valgrind, setrlimit here would change only valgrind's idea of the limit. */
        snprintf(limit, sizeof limit, "ulimit -n %d && exec \"$0\" \"$@\"", nofile);
        char *shell[] = {"/bin/sh", "-c", limit, path, "--port", "0", (char *)extra, NULL};
        memcpy(argv, shell, sizeof shell);
    }

    int out[2];
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    pid_t parent = getpid();
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(out[1], STDOUT_FILENO);
        setenv("AX_LOG", "error", 1); /* the expected warnings stay quiet */
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    char line[128] = "";
    size_t got = 0;
    while (got < sizeof line - 1 && memchr(line, '\n', got) == NULL &&
           read_within(out[0], line + got, 1, PROMPT_MS) == 1)
        got++;
    line[got] = '\0';
    close(out[0]);
    ck_assert_msg(sscanf(line, "listening on 127.0.0.1:%hu", &s->port) == 1,
                  "echo-tasks' first line was '%s', expected 'listening on 127.0.0.1:PORT'", line);
}

static void start_server(struct server *s)
{
    start_server_with(s, NULL, 0);
}

static bool server_alive(const struct server *s)
{
    return waitpid(s->pid, NULL, WNOHANG) == 0;
}

static void stop_server(struct server *s)
{
    ck_assert_msg(server_alive(s), "echo-tasks exited during the test");
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

static int connect_client(const struct server *s)
{
    int fd = ax_connect("127.0.0.1", s->port);
    ck_assert_msg(fd >= 0, "connect: %s", ax_strerror(fd));
    return fd;
}

/* Sends msg and expects it back within ms; false if it did not come. */
static bool echoes_within(int fd, const char *msg, int ms)
{
    size_t len = strlen(msg);
    char back[256];
    ck_assert_uint_lt(len, sizeof back);
    ck_assert_int_eq(ax_write_all(fd, msg, len), 0);
    return read_within(fd, back, len, ms) == len && memcmp(back, msg, len) == 0;
}

static void assert_echoes(int fd, const char *msg)
{
    ck_assert_msg(echoes_within(fd, msg, PROMPT_MS), "'%.*s' did not come back within %d ms",
                  (int)strcspn(msg, "\n"), msg, PROMPT_MS);
}

/* Connects `count` clients, has every one speak before any listens, then checks each
 * one's echo: a server that serves one client at a time cannot pass. */
static void assert_many_clients_echo(const struct server *s, int count)
{
    int *fds = calloc((size_t)count, sizeof *fds);
    ck_assert_ptr_nonnull(fds);
    for (int i = 0; i < count; i++)
        fds[i] = connect_client(s);
    for (int i = count - 1; i >= 0; i--) {
        char msg[32];
        snprintf(msg, sizeof msg, "client %d\n", i);
        ck_assert_int_eq(ax_write_all(fds[i], msg, strlen(msg)), 0);
    }
    for (int i = 0; i < count; i++) {
        char msg[32], back[32] = "";
        size_t len = (size_t)snprintf(msg, sizeof msg, "client %d\n", i);
        size_t got = read_within(fds[i], back, len, PROMPT_MS);
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
static void assert_stream_echoes(const struct server *s, size_t len)
{
    int fd = connect_client(s);
    struct writer w = {.fd = fd, .len = len};
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, write_stream, &w), 0);
    static char buf[64 * 1024];
    size_t done = 0;
    while (done < len) {
        size_t want = len - done < sizeof buf ? len - done : sizeof buf;
        size_t got = read_within(fd, buf, want, PROMPT_MS);
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
    ck_assert_msg(read_within(fd, &byte, 1, PROMPT_MS) == 0,
                  "the server did not close the connection after the client's end of stream");
    pthread_join(thread, NULL);
    ck_assert_int_eq(w.result, 0);
    close(fd);
}

/* ---- the tests -------------------------------------------------------------------------- */

START_TEST(echo_tasks_echoes_to_many_clients_at_once)
{
    struct server s;
    start_server(&s);
    assert_many_clients_echo(&s, 200);
    stop_server(&s);
}
END_TEST

START_TEST(echo_tasks_serves_a_client_while_another_sits_idle)
{
    struct server s;
    start_server(&s);
    int idle = connect_client(&s);
    assert_echoes(idle, "hello, then nothing\n");
    ck_assert_int_eq(ax_write_all(idle, "half a mess", 11), 0); /* and no more */
    int busy = connect_client(&s);
    assert_echoes(busy, "one\n");
    assert_echoes(busy, "two\n");
    char back[11];
    ck_assert_uint_eq(read_within(idle, back, sizeof back, PROMPT_MS), sizeof back);
    close(busy);
    close(idle);
    stop_server(&s);
}
END_TEST

START_TEST(echo_tasks_echoes_four_megabytes_intact)
{
    struct server s;
    start_server(&s);
    assert_stream_echoes(&s, 4 << 20);
    int other = connect_client(&s);
    assert_echoes(other, "still serving\n");
    close(other);
    stop_server(&s);
}
END_TEST

START_TEST(echo_tasks_keeps_running_after_clients_reset)
{
    struct server s;
    start_server(&s);
    int staying = connect_client(&s);
    assert_echoes(staying, "before\n");
    for (int i = 0; i < 10; i++) {
        int fd = connect_client(&s);
        assert_echoes(fd, "then reset\n");
        static char unread[200 * 1024]; /* the server is mid-echo when the reset comes */
        memset(unread, 'r', sizeof unread);
        ax_write_all(fd, unread, sizeof unread);
        struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        close(fd); /* RST instead of FIN */
    }
    assert_echoes(staying, "after\n");
    int late = connect_client(&s);
    assert_echoes(late, "newcomer\n");
    close(late);
    close(staying);
    ck_assert_msg(server_alive(&s), "echo-tasks died after a client reset");
    stop_server(&s);
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
    struct server s;
    start_server(&s);
    assert_many_clients_echo(&s, CONNECTIONS);
    stop_server(&s);
}
END_TEST

START_TEST(echo_tasks_by_hand_behaves_like_the_macro_version)
{
    struct server s;
    start_server_with(&s, "--by-hand", 0);
    assert_many_clients_echo(&s, 100);
    assert_stream_echoes(&s, 1 << 20);
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

START_TEST(echo_tasks_out_of_descriptors_keeps_serving_and_does_not_spin)
{
    enum { MAX_CLIENTS = 40, WAIT_MS = 300, IDLE_MS = 600 };
    struct server s;
    start_server_with(&s, NULL, 16); /* room for about a dozen clients */
    int fds[MAX_CLIENTS];
    int count = 0, stalled = -1;
    while (count < MAX_CLIENTS && stalled < 0) {
        fds[count] = connect_client(&s); /* the kernel queues it either way */
        if (!echoes_within(fds[count], "x\n", WAIT_MS))
            stalled = count;
        count++;
    }
    ck_assert_msg(stalled > 0, "with a limit of 16 descriptors the server %s",
                  stalled == 0 ? "served nobody" : "never ran out");

    long before = cpu_ticks(s.pid);
    ax_sleep_ns(IDLE_MS * AX_NS_PER_MS);
    long used_ms = (cpu_ticks(s.pid) - before) * 1000 / sysconf(_SC_CLK_TCK);
    ck_assert_msg(used_ms < IDLE_MS / 2,
                  "out of descriptors with nothing to do, the server used %ld ms of CPU in %d "
                  "ms: it is retrying accept in a busy loop",
                  used_ms, IDLE_MS);

    assert_echoes(fds[0], "the first is still served\n");
    close(fds[0]); /* a client leaves: the acceptor wakes and takes the waiting one */
    char back[2];
    ck_assert_msg(read_within(fds[stalled], back, 2, PROMPT_MS) == 2,
                  "the waiting client was not served after another left");
    for (int i = 1; i < count; i++)
        close(fds[i]);
    stop_server(&s);
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
