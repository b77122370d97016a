/* Challenge 02-challenge-proxy: bytes both ways, in order, for many sessions at once;
 * ends of stream passed on; failures closing both sides; bounded memory in each
 * direction; one thread with non-blocking sockets.
 *
 * proxy_serve runs in a child process, so that the tests can look at it from outside
 * (/proc/<pid>/task, /proc/<pid>/fdinfo) and so that a proxy that crashes or returns
 * early is reported as such. The backend is played by the test itself: a listening
 * socket on 127.0.0.1 whose connections the test accepts and drives by hand. Every
 * wait is bounded; nothing asserts how long anything took. */
#include "axtest.h"
#include "served.h"
#include "proxy.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

/* How long a test waits for anything a working proxy does promptly; how long a stream
 * must make no progress to count as stalled. */
enum { PROMPT_MS = 3000, STALL_MS = 500 };

/* Where a child's proxy_serve sends its sessions. */
struct proxy_target {
    const char *host;
    uint16_t port;
};

/* The child keeps only its listener of the test's descriptors, so that what it holds is
 * what the proxy opened. */
static int serve_proxy(struct axt_served *p, void *arg)
{
    const struct proxy_target *to = arg;
    axt_served_close_others(p->listen_fd);
    return proxy_serve(p->listen_fd, to->host, to->port);
}

/* Starts proxy_serve(listen_fd, host, port) in a child that exits with its result as a
 * positive errno (0 for success). */
static void start_proxy_to(struct axt_served *p, const char *host, uint16_t port, int bufsize)
{
    axt_served_listen(p, "proxy_serve");
    if (bufsize > 0) { /* the proxy's accepted sockets inherit these */
        setsockopt(p->listen_fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
        setsockopt(p->listen_fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    }
    axt_served_fork(p, serve_proxy, &(struct proxy_target){.host = host, .port = port});
}

static void start_proxy(struct axt_served *p, uint16_t backend_port)
{
    start_proxy_to(p, "127.0.0.1", backend_port, 0);
}

/* The backend: a listener whose connections the test accepts itself. */
struct backend {
    int fd;
    uint16_t port;
};

static void start_backend(struct backend *b, int bufsize)
{
    b->fd = ax_listen("127.0.0.1", 0, &b->port);
    ck_assert_msg(b->fd >= 0, "listen: %s", ax_strerror(b->fd));
    if (bufsize > 0) {
        setsockopt(b->fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
        setsockopt(b->fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    }
}

/* The proxy's connection to the backend, accepted within ms, or the test fails. */
static int backend_accept(struct backend *b, struct axt_served *p, int ms)
{
    struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    while (poll(&pfd, 1, 20) != 1) {
        axt_served_assert_running(p);
        ck_assert_msg(ax_now_ns() < deadline, "the proxy did not connect to the backend");
    }
    int fd = ax_accept(b->fd, NULL);
    ck_assert_msg(fd >= 0, "accept: %s", ax_strerror(fd));
    return fd;
}

static int client_connect(struct axt_served *p)
{
    int fd = ax_connect("127.0.0.1", p->port);
    ck_assert_msg(fd >= 0, "connect to the proxy: %s", ax_strerror(fd));
    return fd;
}

/* A client of the proxy and the backend connection that serves it. */
static void open_session(struct axt_served *p, struct backend *b, int *client, int *server)
{
    *client = client_connect(p);
    *server = backend_accept(b, p, PROMPT_MS);
}

static void say(int fd, const char *text)
{
    int rc = ax_write_all(fd, text, strlen(text));
    ck_assert_msg(rc == 0, "writing %s: %s", axt_quoted(text), ax_strerror(rc));
}

enum got { DATA, END, NOTHING };

/* Waits up to ms for fd to have bytes (one is read into *byte) or to end (a clean end
 * or a reset). */
static enum got next_byte(struct axt_served *p, int fd, int ms, char *byte)
{
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, 20);
        if (ready == 1) {
            ssize_t n = recv(fd, byte, 1, 0);
            if (n == 1)
                return DATA;
            if (n == 0 || (errno != EINTR && errno != EAGAIN))
                return END;
            continue;
        }
        if (p != NULL)
            axt_served_assert_running(p);
        if (ax_now_ns() >= deadline)
            return NOTHING;
    }
}

/* The next bytes on fd must be exactly `want`. */
static void expect(struct axt_served *p, int fd, const char *want)
{
    size_t len = strlen(want);
    char *got = calloc(1, len + 1);
    size_t n = 0;
    enum got r = DATA;
    while (n < len && (r = next_byte(p, fd, PROMPT_MS, &got[n])) == DATA)
        n++;
    ck_assert_msg(n == len && memcmp(got, want, len) == 0, "expected %s, got %s and then %s",
                  axt_quoted(want), axt_quoted(got),
                  r == END       ? "the end of the stream"
                  : r == NOTHING ? "nothing"
                                 : "more");
    free(got);
}

/* fd must end (cleanly or with a reset) within PROMPT_MS, with no more bytes first. */
static void expect_end(struct axt_served *p, int fd)
{
    char byte;
    enum got r = next_byte(p, fd, PROMPT_MS, &byte);
    ck_assert_msg(r == END, "expected the connection to end, got %s",
                  r == DATA ? "more bytes" : "nothing");
}

static void reset_close(int fd)
{
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close(fd);
}

/* ---- the byte stream ------------------------------------------------------------------ */

/* Byte i of stream `seed`: position-dependent, so a lost, repeated or reordered byte
 * shows. */
static char stream_byte(uint64_t i, unsigned seed)
{
    return (char)((i * 7 + i / 251 + seed * 31) & 0xff);
}

/* Sends bytes [from, from + len) of stream `seed` on a blocking fd. */
static int send_stream(int fd, unsigned seed, uint64_t from, size_t len)
{
    char chunk[16384];
    while (len > 0) {
        size_t n = len < sizeof chunk ? len : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = stream_byte(from + i, seed);
        int rc = ax_write_all(fd, chunk, n);
        if (rc < 0)
            return rc;
        from += n;
        len -= n;
    }
    return 0;
}

/* Reads exactly len bytes of stream `seed` from fd, each within PROMPT_MS of the last;
 * fails the test at the first wrong byte or a stall. */
static void expect_stream(struct axt_served *p, int fd, unsigned seed, uint64_t from, size_t len)
{
    char chunk[16384];
    uint64_t at = from;
    while (at < from + len) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t deadline = ax_now_ns() + PROMPT_MS * AX_NS_PER_MS;
        while (poll(&pfd, 1, 20) != 1) {
            axt_served_assert_running(p);
            ck_assert_msg(ax_now_ns() < deadline, "the stream stalled after %llu of %zu bytes",
                          (unsigned long long)(at - from), len);
        }
        size_t want = from + len - at < sizeof chunk ? (size_t)(from + len - at) : sizeof chunk;
        ssize_t n = recv(fd, chunk, want, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        ck_assert_msg(n > 0, "the stream ended after %llu of %zu bytes (%s)",
                      (unsigned long long)(at - from), len, n < 0 ? strerror(errno) : "end");
        ssize_t wrong = 0; /* one check per chunk: each ck_assert is a message to Check */
        while (wrong < n && chunk[wrong] == stream_byte(at + (uint64_t)wrong, seed))
            wrong++;
        ck_assert_msg(wrong == n, "byte %llu of the stream is wrong",
                      (unsigned long long)(at + (uint64_t)wrong));
        at += (uint64_t)n;
    }
}

/* Sends stream `seed` on fd, made non-blocking, until `limit` bytes went out or none
 * could go for STALL_MS; returns how many went. fd is blocking again afterwards. */
static size_t push_until_stalled(int fd, unsigned seed, size_t limit)
{
    ck_assert_int_eq(ax_set_nonblocking(fd, true), 0);
    char chunk[16384];
    size_t sent = 0;
    while (sent < limit) {
        size_t n = limit - sent < sizeof chunk ? limit - sent : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = stream_byte(sent + i, seed);
        ssize_t rc = send(fd, chunk, n, MSG_NOSIGNAL);
        if (rc > 0) {
            sent += (size_t)rc;
            continue;
        }
        ck_assert_msg(rc < 0 && (errno == EAGAIN || errno == EINTR), "send: %s", strerror(errno));
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (errno == EAGAIN && poll(&pfd, 1, STALL_MS) == 0)
            break; /* nothing went for STALL_MS: the path is full */
    }
    ck_assert_int_eq(ax_set_nonblocking(fd, false), 0);
    return sent;
}

static long sysctl_max(const char *path)
{
    long v[3] = {0, 0, 0};
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld %ld", &v[0], &v[1], &v[2]) != 3)
            v[2] = 0;
        fclose(f);
    }
    return v[2] > 0 ? v[2] : 64L << 20;
}

static int sockopt(int fd, int name)
{
    int value = 0;
    socklen_t len = sizeof value;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, name, &value, &len), 0);
    return value;
}

/* ---- the tests ---------------------------------------------------------------------- */

START_TEST(proxy_relays_a_request_and_its_response)
{
    struct backend b;
    start_backend(&b, 0);
    struct axt_served p;
    start_proxy(&p, b.port);
    int client, server;
    open_session(&p, &b, &client, &server);
    say(client, "GET /index.html HTTP/1.0\r\n\r\n");
    expect(&p, server, "GET /index.html HTTP/1.0\r\n\r\n");
    say(server, "HTTP/1.0 200 OK\r\n\r\nhello");
    close(server); /* the response ends with the connection */
    expect(&p, client, "HTTP/1.0 200 OK\r\n\r\nhello");
    expect_end(&p, client);
    close(client);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

/* One side of a full-duplex transfer: sends BIG bytes of its stream in a thread. */
enum { BIG = 2 << 20 };

struct sender {
    int fd;
    unsigned seed;
    int rc;
};

static void *send_big(void *arg)
{
    struct sender *s = arg;
    s->rc = send_stream(s->fd, s->seed, 0, BIG);
    shutdown(s->fd, SHUT_WR);
    return NULL;
}

START_TEST(proxy_copies_both_directions_at_once)
{
    struct backend b;
    start_backend(&b, 0);
    struct axt_served p;
    start_proxy(&p, b.port);
    int client, server;
    open_session(&p, &b, &client, &server);
    /* Both send 2 MiB before reading anything: a proxy that copies one direction at a
     * time, or waits for one side to finish, deadlocks here. */
    struct sender up = {.fd = client, .seed = 1}, down = {.fd = server, .seed = 2};
    pthread_t tu, td;
    pthread_create(&tu, NULL, send_big, &up);
    pthread_create(&td, NULL, send_big, &down);
    expect_stream(&p, server, 1, 0, BIG);
    expect_stream(&p, client, 2, 0, BIG);
    pthread_join(tu, NULL);
    pthread_join(td, NULL);
    ck_assert_int_eq(up.rc, 0);
    ck_assert_int_eq(down.rc, 0);
    expect_end(&p, server);
    expect_end(&p, client);
    close(client);
    close(server);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_serves_many_sessions_at_once)
{
    enum { N = 20 };
    struct backend b;
    start_backend(&b, 0);
    struct axt_served p;
    start_proxy(&p, b.port);
    int clients[N], servers[N];
    for (int i = 0; i < N; i++)
        clients[i] = client_connect(&p);
    for (int i = 0; i < N; i++)
        servers[i] = backend_accept(&b, &p, PROMPT_MS);
    /* The last client first; each backend connection answers whatever line it gets.
     * Which backend connection serves which client is the proxy's business. */
    for (int i = N - 1; i >= 0; i--) {
        char line[32], answer[64];
        snprintf(line, sizeof line, "client %d\n", i);
        say(clients[i], line);
        struct pollfd pfds[N];
        for (int j = 0; j < N; j++)
            pfds[j] = (struct pollfd){.fd = servers[j], .events = POLLIN};
        ck_assert_msg(poll(pfds, N, PROMPT_MS) > 0, "no backend connection got '%s'", line);
        int j = 0;
        while (!(pfds[j].revents & POLLIN))
            j++;
        expect(&p, servers[j], line);
        snprintf(answer, sizeof answer, "answer to %s", line);
        say(servers[j], answer);
        expect(&p, clients[i], answer);
    }
    for (int i = 0; i < N; i++) {
        close(clients[i]);
        expect_end(&p, servers[i]); /* each session ends on its own */
        close(servers[i]);
    }
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_passes_each_end_of_stream_on_and_keeps_the_other_direction)
{
    struct backend b;
    start_backend(&b, 0);
    struct axt_served p;
    start_proxy(&p, b.port);
    int client, server;
    open_session(&p, &b, &client, &server);
    say(client, "the whole request");
    shutdown(client, SHUT_WR); /* done talking, still listening */
    expect(&p, server, "the whole request");
    expect_end(&p, server);
    say(server, "a reply, ");
    expect(&p, client, "a reply, ");
    say(server, "in two parts");
    expect(&p, client, "in two parts");
    shutdown(server, SHUT_WR);
    expect_end(&p, client);
    close(client);
    close(server);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

/* A backend listener that completes no more connections for now: its accept queue
 * (backlog 0) is full and Linux drops further SYNs, to be retried a second later. */
struct stuck {
    int fillers[16];
    int count;
};

static void fill_queue(struct backend *b, struct stuck *s)
{
    ck_assert_int_eq(listen(b->fd, 0), 0);
    s->count = 0;
    while (s->count < 16) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_in addr = {.sin_family = AF_INET,
                                   .sin_port = htons(b->port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ck_assert(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 || errno == EINPROGRESS);
        s->fillers[s->count++] = fd;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 200) == 0)
            return; /* this one is stuck: so is every later one */
    }
    ck_abort_msg("16 connections to a listener with backlog 0 all completed");
}

/* Frees the queue: the stuck filler gives up, the queued ones are taken and closed. */
static void unstick_queue(struct backend *b, struct stuck *s)
{
    close(s->fillers[--s->count]);
    for (int i = 0; i < s->count; i++) {
        close(s->fillers[i]);
        int fd = ax_accept(b->fd, NULL);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    ck_assert_int_eq(listen(b->fd, 16), 0);
}

START_TEST(proxy_delivers_what_a_client_sent_before_the_backend_answered)
{
    struct backend b;
    start_backend(&b, 0);
    struct stuck stuck;
    fill_queue(&b, &stuck);
    struct axt_served p;
    start_proxy(&p, b.port);
    int client = client_connect(&p);
    say(client, "sent before the backend answered");
    shutdown(client, SHUT_WR);
    ax_sleep_ns(200 * AX_NS_PER_MS); /* the proxy has read it by now, and cannot pass it on */
    axt_served_assert_running(&p);
    unstick_queue(&b, &stuck);
    /* The proxy's SYN is retried about a second after the first was dropped. */
    int server = backend_accept(&b, &p, PROMPT_MS + 1000);
    expect(&p, server, "sent before the backend answered");
    expect_end(&p, server);
    say(server, "and answered after");
    close(server);
    expect(&p, client, "and answered after");
    expect_end(&p, client);
    close(client);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_closes_the_client_when_the_backend_cannot_be_reached)
{
    struct backend b;
    start_backend(&b, 0);
    uint16_t port = b.port;
    close(b.fd); /* nothing listens there now: connections are refused */
    struct axt_served p;
    start_proxy(&p, port);
    for (int i = 0; i < 3; i++) { /* a failed session is that session's end, not the proxy's */
        int client = client_connect(&p);
        ax_write_all(client, "anyone there?", 13); /* the proxy may have closed already */
        expect_end(&p, client);
        close(client);
    }
    axt_served_stop(&p, PROMPT_MS);
}
END_TEST

START_TEST(proxy_closes_both_sides_when_either_resets)
{
    struct backend b;
    start_backend(&b, 0);
    struct axt_served p;
    start_proxy(&p, b.port);

    int client, server;
    open_session(&p, &b, &client, &server);
    say(client, "ping");
    expect(&p, server, "ping");
    reset_close(client);
    expect_end(&p, server); /* the client's reset ends the backend's side too */
    close(server);

    open_session(&p, &b, &client, &server);
    say(server, "pong");
    expect(&p, client, "pong");
    reset_close(server);
    expect_end(&p, client);
    close(client);

    open_session(&p, &b, &client, &server); /* and the proxy carries on */
    say(client, "still there?");
    expect(&p, server, "still there?");
    close(client);
    close(server);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_stops_reading_a_client_whose_backend_does_not_read)
{
    enum { SMALL = 256 * 1024 };
    struct backend b;
    start_backend(&b, SMALL);
    struct axt_served p;
    start_proxy_to(&p, "127.0.0.1", b.port, SMALL);
    int client, server;
    open_session(&p, &b, &client, &server);
    setsockopt(client, SOL_SOCKET, SO_SNDBUF, &(int){SMALL}, sizeof(int));

    /* What the path can hold without the proxy keeping more than its bound: the kernel's
     * buffers on the way (the proxy's socket to the backend may grow its send buffer up
     * to tcp_wmem's maximum), PROXY_MAX_PENDING, and a margin. */
    size_t bound =
        2 * ((size_t)sockopt(client, SO_SNDBUF) + (size_t)sockopt(p.listen_fd, SO_RCVBUF) +
             (size_t)sockopt(server, SO_RCVBUF) +
             (size_t)sysctl_max("/proc/sys/net/ipv4/tcp_wmem")) +
        PROXY_MAX_PENDING + (1 << 20);
    size_t pushed = push_until_stalled(client, 3, bound + 1);
    axt_served_assert_running(&p);
    ck_assert_msg(pushed <= bound,
                  "the client sent %zu bytes to a backend that read none, and they all went: "
                  "the proxy keeps what the backend does not take (the path holds at most %zu)",
                  pushed, bound);
    /* The backend reads now: every byte arrives, in order, and then the end. */
    shutdown(client, SHUT_WR);
    expect_stream(&p, server, 3, 0, pushed);
    expect_end(&p, server);
    close(client);
    close(server);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_stops_reading_a_backend_whose_client_does_not_read)
{
    enum { SMALL = 256 * 1024 };
    struct backend b;
    start_backend(&b, SMALL);
    struct axt_served p;
    start_proxy_to(&p, "127.0.0.1", b.port, SMALL);
    int client, server;
    open_session(&p, &b, &client, &server);
    setsockopt(client, SOL_SOCKET, SO_RCVBUF, &(int){SMALL}, sizeof(int));

    /* Here the proxy's socket from the backend may grow its receive buffer up to
     * tcp_rmem's maximum. */
    size_t bound =
        2 * ((size_t)sockopt(server, SO_SNDBUF) + (size_t)sockopt(p.listen_fd, SO_SNDBUF) +
             (size_t)sockopt(client, SO_RCVBUF) +
             (size_t)sysctl_max("/proc/sys/net/ipv4/tcp_rmem")) +
        PROXY_MAX_PENDING + (1 << 20);
    size_t pushed = push_until_stalled(server, 4, bound + 1);
    axt_served_assert_running(&p);
    ck_assert_msg(pushed <= bound,
                  "the backend sent %zu bytes to a client that read none, and they all went: "
                  "the proxy keeps what the client does not take (the path holds at most %zu)",
                  pushed, bound);
    shutdown(server, SHUT_WR);
    expect_stream(&p, client, 4, 0, pushed);
    expect_end(&p, client);
    close(client);
    close(server);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_keeps_one_direction_going_while_the_other_is_held_back)
{
    enum { SMALL = 256 * 1024 };
    struct backend b;
    start_backend(&b, SMALL);
    struct axt_served p;
    start_proxy_to(&p, "127.0.0.1", b.port, SMALL);
    int client, server;
    open_session(&p, &b, &client, &server);
    /* The backend reads nothing, so the upload stalls; the download must not. */
    size_t pushed = push_until_stalled(client, 5, 64 << 20);
    for (int i = 0; i < 20; i++) {
        char line[32];
        snprintf(line, sizeof line, "download %d\n", i);
        say(server, line);
        expect(&p, client, line);
    }
    expect_stream(&p, server, 5, 0, pushed);
    close(client);
    close(server);
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_serves_everyone_from_one_thread_with_non_blocking_sockets)
{
    enum { N = 3 };
    struct backend b;
    start_backend(&b, 0);
    struct axt_served p;
    start_proxy(&p, b.port);
    int clients[N], servers[N];
    for (int i = 0; i < N; i++) {
        open_session(&p, &b, &clients[i], &servers[i]);
        say(clients[i], "x");
        expect(&p, servers[i], "x"); /* the session is up at both ends */
    }

    int threads = axt_served_threads(&p);
    ck_assert_msg(threads == 1, "the proxy runs %d threads; one is the point", threads);

    int fds[64];
    int count = axt_served_sockets(&p, fds, 64);
    ck_assert_msg(count >= 2 * N, "the proxy holds %d sockets for %d sessions, expected %d", count,
                  N, 2 * N);
    for (int i = 0; i < count; i++)
        ck_assert_msg(axt_served_fd_flags(&p, fds[i]) & O_NONBLOCK,
                      "socket %d in the proxy is blocking: one slow peer could stall everyone",
                      fds[i]);
    for (int i = 0; i < N; i++) {
        close(clients[i]);
        close(servers[i]);
    }
    axt_served_stop(&p, PROMPT_MS);
    close(b.fd);
}
END_TEST

START_TEST(proxy_closes_every_connection_and_returns_zero_when_shut_down)
{
    struct backend b;
    start_backend(&b, 0);
    struct axt_served p;
    start_proxy(&p, b.port);
    int c1, s1, c2, s2;
    open_session(&p, &b, &c1, &s1);
    open_session(&p, &b, &c2, &s2);
    say(c1, "a");
    expect(&p, s1, "a");
    say(s2, "b");
    expect(&p, c2, "b");
    axt_served_stop(&p, PROMPT_MS);
    expect_end(NULL, c1);
    expect_end(NULL, s1);
    expect_end(NULL, c2);
    expect_end(NULL, s2);
    close(c1);
    close(s1);
    close(c2);
    close(s2);
    close(b.fd);
}
END_TEST

START_TEST(proxy_refuses_a_backend_address_it_cannot_use)
{
    static const struct {
        const char *host;
        uint16_t port;
    } bad[] = {{"localhost", 80}, {"127.0.0.1", 0}, {"", 80}, {"1.2.3", 80}, {"::1:::", 80}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct axt_served p;
        start_proxy_to(&p, bad[i].host, bad[i].port, 0);
        bool returned = axt_served_exits_within(&p, PROMPT_MS);
        close(p.listen_fd);
        ck_assert_msg(returned, "proxy_serve(%s, %u) kept running instead of refusing",
                      axt_quoted(bad[i].host), (unsigned)bad[i].port);
        ck_assert_msg(WIFEXITED(p.status) && WEXITSTATUS(p.status) == EINVAL,
                      "proxy_serve(%s, %u): %s, expected -EINVAL", axt_quoted(bad[i].host),
                      (unsigned)bad[i].port, axt_served_exit_text(&p));
    }
}
END_TEST

static Suite *proxy_suite(void)
{
    Suite *s = suite_create("02-challenge-proxy");
    TCase *tc = axt_tcase("proxy");
    tcase_add_test(tc, proxy_relays_a_request_and_its_response);
    tcase_add_test(tc, proxy_copies_both_directions_at_once);
    tcase_add_test(tc, proxy_serves_many_sessions_at_once);
    tcase_add_test(tc, proxy_passes_each_end_of_stream_on_and_keeps_the_other_direction);
    tcase_add_test(tc, proxy_delivers_what_a_client_sent_before_the_backend_answered);
    tcase_add_test(tc, proxy_closes_the_client_when_the_backend_cannot_be_reached);
    tcase_add_test(tc, proxy_closes_both_sides_when_either_resets);
    tcase_add_test(tc, proxy_stops_reading_a_client_whose_backend_does_not_read);
    tcase_add_test(tc, proxy_stops_reading_a_backend_whose_client_does_not_read);
    tcase_add_test(tc, proxy_keeps_one_direction_going_while_the_other_is_held_back);
    tcase_add_test(tc, proxy_serves_everyone_from_one_thread_with_non_blocking_sockets);
    tcase_add_test(tc, proxy_closes_every_connection_and_returns_zero_when_shut_down);
    tcase_add_test(tc, proxy_refuses_a_backend_address_it_cannot_use);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(proxy_suite)
