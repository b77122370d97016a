/* Challenge 03-challenge-edge-echo: every byte echoed in order, each socket registered
 * once and edge-triggered, a bounded echo that resumes by itself, a thousand clients at
 * once, and connections shed at the descriptor limit.
 *
 * edge_echo_serve runs in a child process, so that the tests can look at it from
 * outside and a server that crashes or returns early is reported as such. It runs on a
 * backend the test provides: epoll, wrapped to count what the server asks of it, with
 * the counts in memory shared with the test. Every wait is bounded; nothing asserts how
 * long anything took. */
#include "axtest.h"
#include "served.h"
#include "edge_echo.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a test waits for anything a working server does promptly; how long a stream
 * must make no progress to count as stalled. */
enum { PROMPT_MS = 3000, STALL_MS = 500 };

/* ---- the counting backend ------------------------------------------------------------ */

/* What the server asked of its backend, counted in the server's process and read by the
 * test's: the struct lives in shared memory. */
struct registrations {
    atomic_int adds;
    atomic_int adds_without_edge;
    atomic_int modifies;
    atomic_int dels;
};

static struct registrations *counts;

static int counting_create(void **state)
{
    return ax_backend_epoll.create(state);
}

static void counting_free(void *state)
{
    ax_backend_epoll.free(state);
}

static int counting_add(void *state, int fd, int events)
{
    atomic_fetch_add(&counts->adds, 1);
    if (!(events & AX_EDGE))
        atomic_fetch_add(&counts->adds_without_edge, 1);
    return ax_backend_epoll.add(state, fd, events);
}

static int counting_modify(void *state, int fd, int old_events, int new_events)
{
    atomic_fetch_add(&counts->modifies, 1);
    return ax_backend_epoll.modify(state, fd, old_events, new_events);
}

static int counting_del(void *state, int fd, int old_events)
{
    atomic_fetch_add(&counts->dels, 1);
    return ax_backend_epoll.del(state, fd, old_events);
}

static int counting_wait(void *state, int64_t timeout_ns, struct ax_fired *fired, int max)
{
    return ax_backend_epoll.wait(state, timeout_ns, fired, max);
}

static const struct ax_backend counting_epoll = {
    .name = "counting-epoll",
    .create = counting_create,
    .free = counting_free,
    .add = counting_add,
    .modify = counting_modify,
    .del = counting_del,
    .wait = counting_wait,
};

/* ---- the server in its own process --------------------------------------------------- */

struct options {
    const struct ax_backend *backend; /* NULL: the counting epoll */
    int sndbuf, rcvbuf; /* > 0: set on the listener, so every client socket has them */
    int free_fds; /* > 0: the server starts with only this many descriptors free */
};

/* Leaves exactly `n` descriptors free below the limit: lowers the limit to 64 when it
 * can, fills the table, then gives n back. (Under valgrind the lower limit is only
 * valgrind's idea, so the table is filled to the real one.) */
static void leave_free(int n)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > 64) {
        limit.rlim_cur = 64;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    int last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        last = fd;
    for (int i = 0; i < n && last >= 0; i++)
        close(last--); /* the highest numbers: the table is dense below them */
}

/* In the child: only the listener is kept of the test's descriptors (what the server
 * holds is then what it opened), and the limit is lowered if the test asks. */
static int serve_edge_echo(struct axt_served *s, void *arg)
{
    const struct options *o = arg;
    axt_served_close_others(s->listen_fd);
    if (o->free_fds > 0)
        leave_free(o->free_fds);
    return edge_echo_serve(s->listen_fd, o->backend ? o->backend : &counting_epoll);
}

static void start_server_with(struct axt_served *s, const struct options *o)
{
    if (counts == NULL) {
        counts =
            mmap(NULL, sizeof *counts, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(counts, MAP_FAILED);
    }
    *counts = (struct registrations){0};
    axt_served_listen(s, "edge_echo_serve");
    if (o->sndbuf > 0)
        setsockopt(s->listen_fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof o->sndbuf);
    if (o->rcvbuf > 0)
        setsockopt(s->listen_fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, sizeof o->rcvbuf);
    axt_served_fork(s, serve_edge_echo, (void *)o);
}

static void start_server(struct axt_served *s)
{
    start_server_with(s, &(struct options){0});
}

static int client_connect(struct axt_served *s)
{
    int fd = ax_connect("127.0.0.1", s->port);
    ck_assert_msg(fd >= 0, "connect: %s", ax_strerror(fd));
    return fd;
}

/* ---- reading what comes back --------------------------------------------------------- */

enum got { DATA, END, NOTHING };

/* Waits up to ms for fd to have bytes (up to n are read into buf, the count in *n) or
 * to end (cleanly or with a reset). */
static enum got next_bytes(struct axt_served *s, int fd, int ms, char *buf, size_t *n)
{
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 20) == 1) {
            ssize_t got = recv(fd, buf, *n, 0);
            if (got > 0) {
                *n = (size_t)got;
                return DATA;
            }
            if (got == 0 || (errno != EINTR && errno != EAGAIN))
                return END;
            continue;
        }
        if (s != NULL)
            axt_served_assert_running(s);
        if (ax_now_ns() >= deadline)
            return NOTHING;
    }
}

static void say(int fd, const char *text)
{
    int rc = ax_write_all(fd, text, strlen(text));
    ck_assert_msg(rc == 0, "writing %s: %s", axt_quoted(text), ax_strerror(rc));
}

/* The next bytes on fd must be exactly `want`. */
static void expect(struct axt_served *s, int fd, const char *want)
{
    size_t len = strlen(want), at = 0;
    char *got = calloc(1, len + 1);
    enum got r = DATA;
    while (at < len) {
        size_t n = len - at;
        if ((r = next_bytes(s, fd, PROMPT_MS, got + at, &n)) != DATA)
            break;
        at += n;
    }
    ck_assert_msg(at == len && memcmp(got, want, len) == 0, "expected %s, got %s%s",
                  axt_quoted(want), axt_quoted(got),
                  r == END       ? " and then the end"
                  : r == NOTHING ? " and then nothing"
                                 : "");
    free(got);
}

static void expect_end(struct axt_served *s, int fd)
{
    char byte;
    size_t n = 1;
    enum got r = next_bytes(s, fd, PROMPT_MS, &byte, &n);
    ck_assert_msg(r == END, "expected the connection to end, got %s",
                  r == DATA ? "more bytes" : "nothing");
}

static void assert_echoes(struct axt_served *s, int fd, const char *text)
{
    say(fd, text);
    expect(s, fd, text);
}

/* ---- streams ------------------------------------------------------------------------- */

static char stream_byte(uint64_t i, unsigned seed)
{
    return (char)((i * 7 + i / 251 + seed * 31) & 0xff);
}

/* A thread that sends `len` bytes of stream `seed` on a blocking fd, counting as it
 * goes, then optionally shuts its writing side down. */
struct sender {
    int fd;
    unsigned seed;
    size_t len;
    bool shut_after;
    atomic_size_t sent;
    atomic_bool done;
    int rc;
    pthread_t thread;
};

static void *send_stream(void *arg)
{
    struct sender *w = arg;
    char chunk[16384];
    int rc = 0;
    for (size_t off = 0; off < w->len && rc == 0;) {
        size_t n = w->len - off < sizeof chunk ? w->len - off : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = stream_byte(off + i, w->seed);
        rc = ax_write_all(w->fd, chunk, n);
        off += n;
        atomic_store(&w->sent, off);
    }
    if (rc == 0 && w->shut_after)
        shutdown(w->fd, SHUT_WR);
    w->rc = rc;
    atomic_store(&w->done, true);
    return NULL;
}

static void sender_start(struct sender *w, int fd, unsigned seed, size_t len, bool shut_after)
{
    w->fd = fd;
    w->seed = seed;
    w->len = len;
    w->shut_after = shut_after;
    atomic_store(&w->sent, 0);
    atomic_store(&w->done, false);
    ck_assert_int_eq(pthread_create(&w->thread, NULL, send_stream, w), 0);
}

/* Waits until the sender has finished or has sent nothing for STALL_MS. */
static void wait_until_done_or_stalled(struct sender *w)
{
    size_t last = atomic_load(&w->sent);
    uint64_t since = ax_now_ns();
    while (!atomic_load(&w->done)) {
        ax_sleep_ns(10 * AX_NS_PER_MS);
        size_t now = atomic_load(&w->sent);
        if (now != last) {
            last = now;
            since = ax_now_ns();
        } else if (ax_now_ns() - since > STALL_MS * AX_NS_PER_MS) {
            return;
        }
    }
}

/* Reads exactly len bytes of stream `seed` from fd, each within PROMPT_MS of the last. */
static void expect_stream(struct axt_served *s, int fd, unsigned seed, size_t len)
{
    char chunk[16384];
    size_t at = 0;
    while (at < len) {
        size_t n = len - at < sizeof chunk ? len - at : sizeof chunk;
        enum got r = next_bytes(s, fd, PROMPT_MS, chunk, &n);
        ck_assert_msg(r == DATA, "the echo %s after %zu of %zu bytes",
                      r == END ? "ended" : "stalled", at, len);
        size_t ok = 0; /* one check per chunk: each ck_assert is a message to Check */
        while (ok < n && chunk[ok] == stream_byte(at + ok, seed))
            ok++;
        ck_assert_msg(ok == n, "byte %zu of the echo is wrong", at + ok);
        at += n;
    }
}

static int sockopt(int fd, int name)
{
    int value = 0;
    socklen_t len = sizeof value;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, name, &value, &len), 0);
    return value;
}

/* ---- the tests ----------------------------------------------------------------------- */

START_TEST(edge_echo_echoes_every_byte_back_in_order)
{
    enum { CLIENTS = 3, LEN = 1 << 20 };
    struct axt_served s;
    start_server(&s);
    int fds[CLIENTS];
    struct sender senders[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = client_connect(&s);
        assert_echoes(&s, fds[i], "hello\n");
    }
    for (int i = 0; i < CLIENTS; i++) /* all three at once, each 1 MiB */
        sender_start(&senders[i], fds[i], (unsigned)i + 1, LEN, false);
    for (int i = CLIENTS - 1; i >= 0; i--)
        expect_stream(&s, fds[i], (unsigned)i + 1, LEN);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(senders[i].thread, NULL);
        ck_assert_int_eq(senders[i].rc, 0);
        close(fds[i]);
    }
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

START_TEST(edge_echo_registers_every_socket_once_edge_triggered)
{
    struct axt_served s;
    start_server_with(&s, &(struct options){.sndbuf = 64 * 1024, .rcvbuf = 64 * 1024});
    int a = client_connect(&s), b = client_connect(&s);
    assert_echoes(&s, a, "a\n");
    assert_echoes(&s, b, "b\n");
    /* b's echo is held back and resumed: the moments a level-triggered server would
     * change its interest. */
    struct sender w;
    sender_start(&w, b, 7, 1 << 20, true);
    wait_until_done_or_stalled(&w);
    expect_stream(&s, b, 7, 1 << 20);
    pthread_join(w.thread, NULL);
    expect_end(&s, b);
    close(b);
    close(a);
    int c = client_connect(&s);
    assert_echoes(&s, c, "c\n");
    close(c);
    axt_served_stop(&s, PROMPT_MS);

    int adds = atomic_load(&counts->adds), dels = atomic_load(&counts->dels);
    ck_assert_msg(adds >= 4, "the backend saw %d adds for a listener and three clients", adds);
    ck_assert_msg(atomic_load(&counts->adds_without_edge) == 0,
                  "%d of %d descriptors were added without AX_EDGE",
                  atomic_load(&counts->adds_without_edge), adds);
    ck_assert_msg(atomic_load(&counts->modifies) == 0,
                  "interest was modified %d times: each socket is registered once",
                  atomic_load(&counts->modifies));
    ck_assert_msg(dels == adds, "%d descriptors were added and %d removed", adds, dels);
}
END_TEST

START_TEST(edge_echo_resumes_a_held_back_echo_without_new_input)
{
    /* The client sends 2 MiB without reading. The server reads until its bound is full
     * and its echo cannot go out, then stops with bytes still in the socket; the client
     * keeps sending until the kernel's buffers are full too, and then sends nothing
     * more. When it starts reading, no new byte arrives at the server: an edge for the
     * bytes already waiting has come and gone. */
    enum { LEN = 2 << 20 };
    struct axt_served s;
    start_server_with(&s, &(struct options){.sndbuf = 64 * 1024, .rcvbuf = 256 * 1024});
    int fd = client_connect(&s);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){64 * 1024}, sizeof(int));
    assert_echoes(&s, fd, "ready\n");
    struct sender w;
    sender_start(&w, fd, 3, LEN, false);
    wait_until_done_or_stalled(&w);
    axt_served_assert_running(&s);
    expect_stream(&s, fd, 3, LEN);
    pthread_join(w.thread, NULL);
    ck_assert_int_eq(w.rc, 0);
    close(fd);
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

START_TEST(edge_echo_holds_a_bounded_amount_for_a_client_that_does_not_read)
{
    enum { BUF = 256 * 1024 };
    struct axt_served s;
    start_server_with(&s, &(struct options){.sndbuf = BUF, .rcvbuf = BUF});
    int fd = client_connect(&s);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){BUF}, sizeof(int));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int){BUF}, sizeof(int));
    /* What the path holds without the server keeping more than its bound: four kernel
     * buffers (their sizes fixed above), EDGE_ECHO_MAX_PENDING, and a margin. */
    size_t bound =
        2 * ((size_t)sockopt(fd, SO_SNDBUF) + (size_t)sockopt(fd, SO_RCVBUF) +
             (size_t)sockopt(s.listen_fd, SO_SNDBUF) + (size_t)sockopt(s.listen_fd, SO_RCVBUF)) +
        EDGE_ECHO_MAX_PENDING + (1 << 20);
    struct sender w;
    sender_start(&w, fd, 4, bound + 1, false);
    wait_until_done_or_stalled(&w);
    size_t sent = atomic_load(&w.sent);
    ck_assert_msg(!atomic_load(&w.done),
                  "a client that read nothing sent %zu bytes and they all went: the server "
                  "keeps what it cannot send back (the path holds at most %zu)",
                  bound + 1, bound);
    /* The client reads now: the whole echo comes back, and the sender finishes. */
    expect_stream(&s, fd, 4, bound + 1);
    pthread_join(w.thread, NULL);
    ck_assert_uint_ge(atomic_load(&w.sent), sent);
    close(fd);
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

START_TEST(edge_echo_sends_a_half_closed_client_its_whole_echo_then_closes)
{
    enum { LEN = 1 << 20 };
    struct axt_served s;
    start_server(&s);
    int fd = client_connect(&s);
    struct sender w;
    sender_start(&w, fd, 5, LEN, true); /* then the end of its stream */
    expect_stream(&s, fd, 5, LEN);
    expect_end(&s, fd);
    pthread_join(w.thread, NULL);
    close(fd);
    int other = client_connect(&s); /* and the server goes on */
    assert_echoes(&s, other, "next\n");
    close(other);
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

START_TEST(edge_echo_serves_a_thousand_clients_at_once)
{
    enum { N = 1000 };
    axt_need_fds(2 * N + 64);
    struct axt_served s;
    start_server(&s);
    int *fds = malloc(N * sizeof *fds);
    for (int i = 0; i < N; i++)
        fds[i] = client_connect(&s);
    for (int i = 0; i < N; i++) { /* every one connected before any is answered */
        char line[32];
        snprintf(line, sizeof line, "client %d\n", i);
        say(fds[i], line);
    }
    for (int i = N - 1; i >= 0; i--) {
        char line[32];
        snprintf(line, sizeof line, "client %d\n", i);
        expect(&s, fds[i], line);
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    free(fds);
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

/* A client that is either served (its ping echoed) or turned away (its connection
 * ends); anything else fails the test. */
static bool served(struct axt_served *s, int fd)
{
    ax_write_all(fd, "ping\n", 5); /* fails if it was turned away already */
    char got[8] = "";
    size_t n = 5, at = 0;
    enum got r = DATA;
    while (at < 5 && (r = next_bytes(s, fd, PROMPT_MS, got + at, &n)) == DATA) {
        at += n;
        n = 5 - at;
    }
    ck_assert_msg(r != NOTHING, "a client at the descriptor limit was neither served nor "
                                "turned away: it waits in the listener's queue");
    ck_assert_msg(r == END || memcmp(got, "ping\n", 5) == 0, "expected the echo, got %s",
                  axt_quoted(got));
    return r == DATA;
}

START_TEST(edge_echo_sheds_connections_at_its_descriptor_limit_and_recovers)
{
    /* Room for the server's own descriptors (its epoll instance and its spare, and a
     * few in hand) and a handful of clients; the rest must be turned away. */
    enum { FREE = 8, CLIENTS = 24 };
    struct axt_served s;
    start_server_with(&s, &(struct options){.free_fds = FREE});
    int fds[CLIENTS];
    bool in[CLIENTS];
    int admitted = 0, refused = 0;
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = client_connect(&s);
        in[i] = served(&s, fds[i]);
        if (in[i])
            admitted++;
        else
            refused++;
    }
    ck_assert_msg(admitted > 0 && admitted < FREE,
                  "%d of %d clients were served with %d descriptors free", admitted, CLIENTS, FREE);
    ck_assert_int_eq(refused, CLIENTS - admitted);

    /* Two arrive together while the server is full: both are turned away. */
    int x = client_connect(&s), y = client_connect(&s);
    expect_end(&s, x);
    expect_end(&s, y);
    close(x);
    close(y);

    /* Those it serves are still served. */
    int first = -1;
    for (int i = 0; i < CLIENTS; i++) {
        if (in[i]) {
            assert_echoes(&s, fds[i], "still here\n");
            if (first < 0)
                first = i;
        }
    }

    /* One leaves; a newcomer is served once the server has noticed. */
    close(fds[first]);
    fds[first] = -1;
    uint64_t deadline = ax_now_ns() + PROMPT_MS * AX_NS_PER_MS;
    bool newcomer = false;
    while (!newcomer && ax_now_ns() < deadline) {
        int fd = client_connect(&s);
        newcomer = served(&s, fd);
        close(fd);
        if (!newcomer)
            ax_sleep_ns(10 * AX_NS_PER_MS);
    }
    ck_assert_msg(newcomer, "no newcomer was served after a client left");
    for (int i = 0; i < CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

START_TEST(edge_echo_carries_on_when_a_client_resets)
{
    struct axt_served s;
    start_server(&s);
    int a = client_connect(&s), b = client_connect(&s);
    assert_echoes(&s, a, "a\n");
    assert_echoes(&s, b, "b\n");
    say(a, "unread echo"); /* a will not read this: its close becomes a reset */
    ax_sleep_ns(20 * AX_NS_PER_MS);
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(a, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close(a);
    assert_echoes(&s, b, "b is still served\n");
    int c = client_connect(&s);
    assert_echoes(&s, c, "and so is c\n");
    close(b);
    close(c);
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

START_TEST(edge_echo_refuses_a_backend_that_cannot_report_edges)
{
    struct axt_served s;
    start_server_with(&s, &(struct options){.backend = &ax_backend_select});
    bool returned = axt_served_exits_within(&s, PROMPT_MS);
    close(s.listen_fd);
    ck_assert_msg(returned, "edge_echo_serve kept running on select");
    ck_assert_msg(WIFEXITED(s.status) && WEXITSTATUS(s.status) == EOPNOTSUPP,
                  "on select: %s, expected -EOPNOTSUPP", axt_served_exit_text(&s));
}
END_TEST

START_TEST(edge_echo_closes_everyone_and_returns_zero_when_shut_down)
{
    struct axt_served s;
    start_server(&s);
    int a = client_connect(&s), b = client_connect(&s);
    assert_echoes(&s, a, "a\n");
    assert_echoes(&s, b, "b\n");
    axt_served_stop(&s, PROMPT_MS);
    expect_end(NULL, a);
    expect_end(NULL, b);
    close(a);
    close(b);
}
END_TEST

START_TEST(edge_echo_serves_everyone_from_one_thread_with_non_blocking_sockets)
{
    enum { N = 3 };
    struct axt_served s;
    start_server(&s);
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = client_connect(&s);
        assert_echoes(&s, fds[i], "here\n");
    }
    int threads = axt_served_threads(&s);
    ck_assert_msg(threads == 1, "the server runs %d threads; one is the point", threads);

    int sockets[64];
    int count = axt_served_sockets(&s, sockets, 64);
    for (int i = 0; i < count; i++)
        ck_assert_msg(axt_served_fd_flags(&s, sockets[i]) & O_NONBLOCK,
                      "socket %d in the server is blocking: edge triggering needs reads and "
                      "writes that stop at EAGAIN",
                      sockets[i]);
    ck_assert_msg(count >= N, "the server holds %d client sockets, expected %d", count, N);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    axt_served_stop(&s, PROMPT_MS);
}
END_TEST

static Suite *edge_echo_suite(void)
{
    Suite *s = suite_create("03-challenge-edge-echo");
    TCase *tc = axt_tcase("edge_echo");
    tcase_add_test(tc, edge_echo_echoes_every_byte_back_in_order);
    tcase_add_test(tc, edge_echo_registers_every_socket_once_edge_triggered);
    tcase_add_test(tc, edge_echo_resumes_a_held_back_echo_without_new_input);
    tcase_add_test(tc, edge_echo_holds_a_bounded_amount_for_a_client_that_does_not_read);
    tcase_add_test(tc, edge_echo_sends_a_half_closed_client_its_whole_echo_then_closes);
    tcase_add_test(tc, edge_echo_serves_a_thousand_clients_at_once);
    tcase_add_test(tc, edge_echo_sheds_connections_at_its_descriptor_limit_and_recovers);
    tcase_add_test(tc, edge_echo_carries_on_when_a_client_resets);
    tcase_add_test(tc, edge_echo_refuses_a_backend_that_cannot_report_edges);
    tcase_add_test(tc, edge_echo_closes_everyone_and_returns_zero_when_shut_down);
    tcase_add_test(tc, edge_echo_serves_everyone_from_one_thread_with_non_blocking_sockets);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(edge_echo_suite)
