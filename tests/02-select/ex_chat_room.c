/* Exercise 02-chat-room: lines to everyone else, in order, with both bounds kept, on
 * one thread with non-blocking sockets.
 *
 * chat_serve runs in a child process, so that the tests can look at it from outside
 * (/proc/<pid>/task for its threads, /proc/<pid>/fdinfo for its sockets' flags) and so
 * that a server that crashes or returns early is reported as such. The test holds
 * the same listening socket and stops the server by shutting it down. */
#include "axtest.h"
#include "served.h"
#include "chat_room.h"

#include "ax/buf.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a test waits for anything a working server does promptly. */
enum { PROMPT_MS = 3000 };

/* The child exits with chat_serve's result as a positive errno (0 for success). */
static int serve_chat(struct axt_served *chat, void *unused)
{
    (void)unused;
    return chat_serve(chat->listen_fd);
}

static void start_chat(struct axt_served *chat)
{
    axt_served_listen(chat, "chat_serve");
    axt_served_fork(chat, serve_chat, NULL);
}

/* A connected client and the bytes it has read but not yet taken as lines. */
struct peer {
    int fd;
    struct ax_buf in;
};

static void connect_peer(struct axt_served *chat, struct peer *p)
{
    *p = (struct peer){.fd = ax_connect("127.0.0.1", chat->port)};
    ck_assert_msg(p->fd >= 0, "connect: %s", ax_strerror(p->fd));
}

static void close_peer(struct peer *p)
{
    close(p->fd);
    ax_buf_free(&p->in);
}

static void say(struct peer *p, const char *text)
{
    ck_assert_int_eq(ax_write_all(p->fd, text, strlen(text)), 0);
}

enum line_result { LINE, END, NOTHING };

/* Waits up to ms for p's next line ("\n" included, NUL-terminated in p->in; consume
 * *len bytes when done). END at end of stream or a reset; NOTHING if none came. */
static enum line_result next_line(struct axt_served *chat, struct peer *p, int ms, size_t *len)
{
    uint64_t deadline = ax_now_ns() + (uint64_t)ms * AX_NS_PER_MS;
    for (;;) {
        char *newline =
            ax_buf_len(&p->in) > 0 ? memchr(ax_buf_data(&p->in), '\n', ax_buf_len(&p->in)) : NULL;
        if (newline != NULL) {
            *len = (size_t)(newline - ax_buf_data(&p->in)) + 1;
            return LINE;
        }
        if (ax_now_ns() >= deadline)
            return NOTHING;
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        int ready = poll(&pfd, 1, 20);
        if (ready == 0) {
            axt_served_assert_running(chat);
            continue;
        }
        if (ready < 0)
            continue; /* EINTR */
        ck_assert_int_eq(ax_buf_reserve(&p->in, 65536 + 1), 0);
        ssize_t got = ax_read_some(p->fd, ax_buf_space(&p->in), ax_buf_space_len(&p->in) - 1);
        if (got <= 0)
            return END;
        ax_buf_commit(&p->in, (size_t)got);
        ax_buf_data(&p->in)[ax_buf_len(&p->in)] = '\0';
    }
}

/* The next line p receives must be `expected`. */
static void expect_line(struct axt_served *chat, struct peer *p, const char *expected)
{
    size_t len = 0;
    enum line_result r = next_line(chat, p, PROMPT_MS, &len);
    int shown = (int)strcspn(expected, "\n") < 60 ? (int)strcspn(expected, "\n") : 60;
    ck_assert_msg(r == LINE, "expected the line '%.*s', got %s", shown, expected,
                  r == END ? "the end of the connection" : "nothing");
    ck_assert_msg(len == strlen(expected) && memcmp(ax_buf_data(&p->in), expected, len) == 0,
                  "expected the line '%.*s', got '%.*s'", shown, expected,
                  (int)(len > 60 ? 60 : len - 1), ax_buf_data(&p->in));
    ax_buf_consume(&p->in, len);
}

static void expect_end(struct axt_served *chat, struct peer *p)
{
    size_t len;
    enum line_result r = next_line(chat, p, PROMPT_MS, &len);
    ck_assert_msg(r == END, "expected the connection to end, got %s",
                  r == LINE ? "another line" : "nothing");
}

/* Makes sure the server has taken in every peer: the last to connect speaks, and all
 * the others hear it. The server accepts in the order clients connected, and it cannot
 * read the last one's line before it has accepted it. */
static void join(struct axt_served *chat, struct peer *peers, int n)
{
    say(&peers[n - 1], "joined\n");
    for (int i = 0; i < n - 1; i++)
        expect_line(chat, &peers[i], "joined\n");
}

static void open_room(struct axt_served *chat, struct peer *peers, int n)
{
    start_chat(chat);
    for (int i = 0; i < n; i++)
        connect_peer(chat, &peers[i]);
    join(chat, peers, n);
}

static void close_room(struct axt_served *chat, struct peer *peers, int n)
{
    for (int i = 0; i < n; i++)
        close_peer(&peers[i]);
    axt_served_stop(chat, PROMPT_MS);
}

START_TEST(chat_room_sends_each_line_to_every_other_client)
{
    struct axt_served chat;
    struct peer p[3];
    open_room(&chat, p, 3);
    say(&p[0], "hello from a\n");
    expect_line(&chat, &p[1], "hello from a\n");
    expect_line(&chat, &p[2], "hello from a\n");
    say(&p[2], "and from c\n");
    expect_line(&chat, &p[0], "and from c\n"); /* its own line never came back to a */
    expect_line(&chat, &p[1], "and from c\n");
    close_room(&chat, p, 3);
}
END_TEST

START_TEST(chat_room_keeps_each_senders_lines_in_order_however_they_arrive)
{
    enum { LINES = 300 };
    struct axt_served chat;
    struct peer p[3];
    open_room(&chat, p, 3);
    /* a's lines go out in pieces that split lines anywhere; b's interleave with them */
    static char text[LINES * 16];
    size_t len = 0;
    for (int i = 0; i < LINES; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "a says %d\n", i);
    for (size_t off = 0, piece = 1; off < len; off += piece, piece = piece % 13 + 1) {
        size_t n = off + piece <= len ? piece : len - off;
        ck_assert_int_eq(ax_write_all(p[0].fd, text + off, n), 0);
        if (off % 97 < piece) {
            char line[32];
            snprintf(line, sizeof line, "b says %zu\n", off);
            say(&p[1], line);
        }
    }
    say(&p[0], "a is done\n");

    int next_a = 0;
    size_t next_b = 0, n;
    bool done = false;
    while (!done) {
        ck_assert_msg(next_line(&chat, &p[2], PROMPT_MS, &n) == LINE, "c missed lines");
        const char *line = ax_buf_data(&p[2].in);
        int a;
        size_t b;
        if (sscanf(line, "a says %d\n", &a) == 1) {
            ck_assert_msg(a == next_a, "c got a's line %d when %d was next", a, next_a);
            next_a++;
        } else if (sscanf(line, "b says %zu\n", &b) == 1) {
            ck_assert_msg(b >= next_b, "c got b's lines out of order");
            next_b = b + 1;
        } else {
            ck_assert_msg(n == 10 && memcmp(line, "a is done\n", n) == 0, "c got '%.*s'",
                          (int)n - 1, line);
            done = true;
        }
        ax_buf_consume(&p[2].in, n);
    }
    ck_assert_int_eq(next_a, LINES);
    for (int i = 0; i < LINES; i++) { /* b heard all of a's lines too, in order */
        char expected[32];
        snprintf(expected, sizeof expected, "a says %d\n", i);
        expect_line(&chat, &p[1], expected);
    }
    close_room(&chat, p, 3);
}
END_TEST

START_TEST(chat_room_refuses_an_over_long_line_and_carries_on)
{
    struct axt_served chat;
    struct peer p[2];
    open_room(&chat, p, 2);
    static char longest[CHAT_MAX_LINE + 2], too_long[5 * CHAT_MAX_LINE + 2];
    memset(longest, 'y', CHAT_MAX_LINE);
    longest[CHAT_MAX_LINE] = '\n';
    memset(too_long, 'x', sizeof too_long - 2);
    too_long[sizeof too_long - 2] = '\n';

    say(&p[0], too_long);
    say(&p[0], "short\n");
    expect_line(&chat, &p[0], CHAT_TOO_LONG);
    expect_line(&chat, &p[1], "short\n"); /* nothing of the long line came first */
    say(&p[0], longest);
    expect_line(&chat, &p[1], longest); /* exactly CHAT_MAX_LINE bytes is allowed */
    close_room(&chat, p, 2);
}
END_TEST

/* Line i of the flood: "line 000000042 000...0\n", width + 1 bytes in all. */
static int flood_line(char buf[CHAT_MAX_LINE + 2], int i, int width)
{
    return snprintf(buf, CHAT_MAX_LINE + 2, "line %09d %0*d\n", i, width - 15, 0);
}

/* a's side of the flood, on a thread of its own: numbered lines, never more than
 * WINDOW lines ahead of what b has read, so b never falls behind (the slow one does). */
struct flood {
    int fd;
    int lines;
    int width;
    int window;
    atomic_int b_has_read;
    int result;
};

static void *write_flood(void *arg)
{
    struct flood *f = arg;
    char line[CHAT_MAX_LINE + 2];
    f->result = 0;
    for (int i = 1; i <= f->lines && f->result == 0; i++) {
        uint64_t deadline = ax_now_ns() + PROMPT_MS * AX_NS_PER_MS;
        while (i - atomic_load(&f->b_has_read) > f->window) {
            if (ax_now_ns() > deadline) {
                f->result = -ETIMEDOUT; /* b stopped receiving: its test fails */
                return NULL;
            }
            ax_sleep_ns(AX_NS_PER_MS);
        }
        f->result = ax_write_all(f->fd, line, (size_t)flood_line(line, i, f->width));
    }
    return NULL;
}

/* How much a client that never reads can leave in the kernel's buffers, doubled. */
static long flood_bytes(int rcvbuf)
{
    long wmem[3] = {0, 0, 4 << 20};
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld %ld", &wmem[0], &wmem[1], &wmem[2]) != 3)
            wmem[2] = 4 << 20;
        fclose(f);
    }
    long bytes = 2 * (wmem[2] + rcvbuf + CHAT_MAX_PENDING);
    return bytes < (8 << 20) ? 8 << 20 : bytes;
}

START_TEST(chat_room_cuts_off_a_client_that_stops_reading_and_nobody_else_waits)
{
    enum { WIDTH = 1000, WINDOW = 100 };
    struct axt_served chat;
    struct peer p[3]; /* a floods, b reads along, the slow one reads only at the end */
    start_chat(&chat);
    connect_peer(&chat, &p[0]);
    connect_peer(&chat, &p[1]);
    int small = 4096;
    p[2] = (struct peer){.fd = socket(AF_INET, SOCK_STREAM, 0)};
    setsockopt(p[2].fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(chat.port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(p[2].fd, (struct sockaddr *)&addr, sizeof addr), 0);
    join(&chat, p, 3);

    struct flood f = {.fd = p[0].fd, .width = WIDTH, .window = WINDOW};
    f.lines = (int)(flood_bytes(small) / (WIDTH + 1)) + 1;
    pthread_t writer;
    pthread_create(&writer, NULL, write_flood, &f);
    char expected[CHAT_MAX_LINE + 2];
    for (int i = 1; i <= f.lines; i++) {
        flood_line(expected, i, WIDTH);
        expect_line(&chat, &p[1], expected);
        atomic_store(&f.b_has_read, i);
    }
    pthread_join(writer, NULL);
    ck_assert_int_eq(f.result, 0);
    int lines = f.lines;
    say(&p[1], "b is still here\n");
    expect_line(&chat, &p[0], "b is still here\n");

    /* The slow client gets whole lines from the start, then the notice, then the end. */
    int i = 1;
    size_t n;
    while (next_line(&chat, &p[2], PROMPT_MS, &n) == LINE) {
        const char *line = ax_buf_data(&p[2].in);
        if (n == strlen(CHAT_CUT_OFF) && memcmp(line, CHAT_CUT_OFF, n) == 0)
            break;
        flood_line(expected, i, WIDTH);
        ck_assert_msg(n == strlen(expected) && memcmp(line, expected, n) == 0,
                      "the slow client's line %d is wrong", i);
        ax_buf_consume(&p[2].in, n);
        i++;
    }
    ck_assert_msg(i <= lines, "the slow client got all %d lines: it was never cut off", lines);
    expect_line(&chat, &p[2], CHAT_CUT_OFF);
    expect_end(&chat, &p[2]);
    close_room(&chat, p, 3);
}
END_TEST

START_TEST(chat_room_carries_on_when_a_client_vanishes_mid_line)
{
    struct axt_served chat;
    struct peer p[4]; /* the last arrives after the first has vanished */
    open_room(&chat, p, 3);
    say(&p[0], "half a li"); /* never finished: nobody gets it */
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(p[0].fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close_peer(&p[0]); /* a reset, not a goodbye */
    say(&p[1], "is a gone?\n");
    expect_line(&chat, &p[2], "is a gone?\n");
    say(&p[2], "yes\n");
    expect_line(&chat, &p[1], "yes\n");
    connect_peer(&chat, &p[3]);
    join(&chat, p + 1, 3);
    close_room(&chat, p + 1, 3);
}
END_TEST

START_TEST(chat_room_closes_everyone_and_returns_zero_when_shut_down)
{
    struct axt_served chat;
    struct peer p[2];
    open_room(&chat, p, 2);
    axt_served_stop(&chat, PROMPT_MS);
    expect_end(&chat, &p[0]);
    expect_end(&chat, &p[1]);
    close_peer(&p[0]);
    close_peer(&p[1]);
}
END_TEST

START_TEST(chat_room_serves_everyone_from_one_thread_with_non_blocking_sockets)
{
    struct axt_served chat;
    struct peer p[3];
    open_room(&chat, p, 3); /* all three joined: the server holds their sockets */

    int threads = axt_served_threads(&chat);
    ck_assert_msg(threads == 1, "the chat server runs %d threads; one is the point", threads);

    int fds[64];
    int count = axt_served_sockets(&chat, fds, 64);
    ck_assert_msg(count >= 3, "the server holds %d client sockets, expected 3", count);
    for (int i = 0; i < count; i++)
        ck_assert_msg(axt_served_fd_flags(&chat, fds[i]) & O_NONBLOCK,
                      "client socket %d in the server is blocking: one slow client could stall "
                      "everyone",
                      fds[i]);
    close_room(&chat, p, 3);
}
END_TEST

static Suite *chat_room_suite(void)
{
    Suite *s = suite_create("02-chat-room");
    TCase *tc = axt_tcase("chat_room");
    tcase_add_test(tc, chat_room_sends_each_line_to_every_other_client);
    tcase_add_test(tc, chat_room_keeps_each_senders_lines_in_order_however_they_arrive);
    tcase_add_test(tc, chat_room_refuses_an_over_long_line_and_carries_on);
    tcase_add_test(tc, chat_room_cuts_off_a_client_that_stops_reading_and_nobody_else_waits);
    tcase_add_test(tc, chat_room_carries_on_when_a_client_vanishes_mid_line);
    tcase_add_test(tc, chat_room_closes_everyone_and_returns_zero_when_shut_down);
    tcase_add_test(tc, chat_room_serves_everyone_from_one_thread_with_non_blocking_sockets);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(chat_room_suite)
