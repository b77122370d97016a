/* Exercise 05-deadline-layers: fetch_line gets its line from a server that answers, and
 * gives up on one that does not exactly at its one deadline, saying in which step.
 *
 * The servers are real sockets on 127.0.0.1. Most of them are a task on the fetch's own
 * executor (the peer), so that they can act at set moments of virtual time: it accepts
 * when told, reads the whole request, then answers at once, a byte at a time, or never.
 * Two tests have a bare listener nobody accepts from: the kernel still completes the
 * handshake, so a connect succeeds, and a request larger than its buffers blocks.
 * The tests of slow servers run on paused time, where the deadline passes at once; they
 * hold the clock (loopback.h) only while the kernel delivers what the test knows is
 * coming, so that the deadline cannot overtake it. The tests of servers that answer run
 * on the real clock with a deadline that is never reached. */
#include "axtest.h"
#include "fetch_line.h"
#include "loopback.h"

#include "ax/async.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/event.h"
#include "ax/io.h"
#include "ax/net.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT, REPLY_CAP = 64, SEEN_CAP = 256, PATIENCE_MS = 5000 };
static const uint64_t START = 1000 * S; /* paused time starts here */
static const uint64_t DEADLINE = START + 1 * S; /* the deadline of every paused test */
static const char REQUEST[] = "GET greeting\n";

/* What the peer does once it has the whole request. */
struct script {
    uint64_t accept_at; /* the executor's time when it accepts (0: at once) */
    const char *reply; /* then sends this (NULL: nothing, ever) */
    uint64_t pace; /* one byte every `pace` ns (0: all at once) */
    bool close_after; /* then closes the connection; otherwise it keeps it open */
};

struct scene {
    struct ax_executor *executor;
    int fds_at_start;
    int listen_fd;
    uint16_t port;
    /* the fetch */
    char reply[REPLY_CAP];
    enum fetch_stage stage;
    uint64_t ended; /* the executor's time when it finished */
    /* what the peer saw */
    int peer_fd; /* its end of the connection, -1 before it accepted or once it closed */
    char request[SEEN_CAP]; /* the first bytes of the request */
    size_t request_len; /* all of them */
    bool request_in; /* the request's last byte, its "\n", has arrived */
    struct ax_event never;
};

/* ---- the peer: a server on the fetch's executor --------------------------------------- */

struct peer {
    struct ax_future base;
    struct ax_coroutine co;
    struct scene *sc;
    const struct script *script;
    struct ax_source *listener, *conn;
    ax_result rc;
    size_t sent, step;
    union {
        struct ax_sleep sleep;
        struct ax_accept_future accept;
        struct ax_read_future read;
        struct ax_write_future write;
        struct ax_event_wait wait;
    } io;
    char buf[64 * 1024];
};

static ax_result peer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct peer *p = (struct peer *)self;
    struct scene *sc = p->sc;
    AX_ASYNC_BEGIN(&p->co);
    ax_sleep_until_init(&p->io.sleep, p->script->accept_at);
    AX_AWAIT(&p->co, cx, &p->io.sleep.base, p->rc);
    ax_accept_future_init(&p->io.accept, p->listener);
    AX_AWAIT(&p->co, cx, &p->io.accept.base, p->rc);
    ck_assert_msg(p->rc >= 0, "the test's server could not accept: %s", ax_strerror((int)p->rc));
    sc->peer_fd = (int)p->rc;
    ck_assert_int_eq(ax_source_open(cx->executor, sc->peer_fd, &p->conn), 0);

    while (!sc->request_in) { /* the request ends at its only "\n" */
        ax_read_future_init(&p->io.read, p->conn, p->buf, sizeof p->buf);
        AX_AWAIT(&p->co, cx, &p->io.read.base, p->rc);
        if (p->rc <= 0)
            AX_ASYNC_RETURN(&p->co, p->rc == 0 ? AX_EOF : p->rc); /* the fetch gave up */
        size_t n = (size_t)p->rc;
        if (sc->request_len < SEEN_CAP - 1) {
            size_t keep = n < SEEN_CAP - 1 - sc->request_len ? n : SEEN_CAP - 1 - sc->request_len;
            memcpy(sc->request + sc->request_len, p->buf, keep);
        }
        sc->request_len += n;
        sc->request_in = p->buf[n - 1] == '\n';
    }

    for (p->sent = 0; p->script->reply != NULL && p->sent < strlen(p->script->reply);) {
        p->step = p->script->pace != 0 ? 1 : strlen(p->script->reply);
        ax_write_future_init(&p->io.write, p->conn, p->script->reply + p->sent, p->step);
        AX_AWAIT(&p->co, cx, &p->io.write.base, p->rc);
        if (p->rc < 0)
            AX_ASYNC_RETURN(&p->co, p->rc); /* the fetch gave up */
        p->sent += p->step;
        if (p->script->pace != 0) {
            ax_sleep_init(&p->io.sleep, p->script->pace);
            AX_AWAIT(&p->co, cx, &p->io.sleep.base, p->rc);
        }
    }
    if (p->script->close_after) {
        ax_source_close(p->conn);
        p->conn = NULL;
        sc->peer_fd = -1;
    }
    /* It stays, its end open, until the test is over: the test checks that end. */
    ax_event_wait_init(&p->io.wait, &sc->never);
    AX_AWAIT(&p->co, cx, &p->io.wait.base, p->rc);
    AX_ASYNC_END(&p->co, 0);
}

static void peer_drop(struct ax_future *self)
{
    struct peer *p = (struct peer *)self;
    AX_ASYNC_DROP(&p->co);
    if (p->conn != NULL)
        ax_source_close(p->conn);
    ax_source_close(p->listener);
}

static const struct ax_future_ops peer_ops = {.poll = peer_poll, .drop = peer_drop};

static void spawn_peer(struct scene *sc, const struct script *script)
{
    struct peer *p = ax_task_alloc(sc->executor, sizeof *p);
    ck_assert_ptr_nonnull(p);
    *p = (struct peer){.base = {&peer_ops}, .sc = sc, .script = script};
    int fd = dup(sc->listen_fd); /* the source owns its copy; the scene keeps its own */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ax_source_open(sc->executor, fd, &p->listener), 0);
    ax_task_detach(ax_task_spawn(&p->base));
}

/* ---- the fetch under test ------------------------------------------------------------- */

/* The fetch, perhaps under a timeout that drops it early; notes when it finished. */
struct fetcher {
    struct ax_future base;
    struct fetch_line fetch;
    struct ax_timeout outer;
    struct ax_future *top; /* &fetch.base, or &outer.base */
    struct scene *sc;
};

static ax_result fetcher_poll(struct ax_future *self, struct ax_context *cx)
{
    struct fetcher *f = (struct fetcher *)self;
    ax_result rc = ax_poll(f->top, cx);
    if (rc != AX_PENDING)
        f->sc->ended = ax_executor_now(cx->executor);
    return rc;
}

static void fetcher_drop(struct ax_future *self)
{
    ax_future_drop(((struct fetcher *)self)->top);
}

static const struct ax_future_ops fetcher_ops = {.poll = fetcher_poll, .drop = fetcher_drop};

/* An executor (on paused time, or on the real clock) and a listener on 127.0.0.1. */
static void scene_open(struct scene *sc, bool paused)
{
    *sc = (struct scene){.fds_at_start = axt_open_fds(), .peer_fd = -1};
    ax_event_init(&sc->never);
    ck_assert_int_eq(ax_executor_new(&sc->executor, NULL), 0);
    if (paused)
        ax_executor_pause_time(sc->executor, START);
    sc->listen_fd = axt_loopback_listen(AF_INET, 16, &sc->port);
}

static void scene_close(struct scene *sc)
{
    ax_executor_free(sc->executor);
    close(sc->listen_fd);
    int open = axt_open_fds();
    ck_assert_msg(open == sc->fds_at_start, "%d descriptors were left open",
                  open - sc->fds_at_start);
}

/* Runs fetch_line(request) to the scene's port by `deadline`, with a reply buffer of
 * `cap` bytes; with drop_at, a timeout drops it at that time. Returns its result. */
static ax_result fetch(struct scene *sc, const char *request, size_t len, uint64_t deadline,
                       size_t cap, uint64_t drop_at)
{
    ck_assert_uint_le(cap, REPLY_CAP);
    struct fetcher *f = ax_task_alloc(sc->executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    *f = (struct fetcher){.base = {&fetcher_ops}, .sc = sc, .top = &f->fetch.base};
    fetch_line_init(&f->fetch, "127.0.0.1", sc->port, request, len, deadline, sc->reply, cap,
                    &sc->stage);
    if (drop_at != 0) {
        ax_timeout_init(&f->outer, &f->fetch.base, drop_at);
        f->top = &f->outer.base;
    }
    return ax_block_on(sc->executor, ax_task_spawn(&f->base));
}

/* ---- checks --------------------------------------------------------------------------- */

static const char *stage_name(enum fetch_stage stage)
{
    static const char *const names[] = {"FETCH_CONNECT", "FETCH_WRITE", "FETCH_READ", "FETCH_DONE"};
    return (unsigned)stage <= FETCH_DONE ? names[stage] : "no stage";
}

static void assert_outcome(const struct scene *sc, ax_result got, ax_result want,
                           enum fetch_stage stage)
{
    ck_assert_msg(got == want && sc->stage == stage,
                  "the fetch finished with %lld (%s) in %s; expected %lld (%s) in %s",
                  (long long)got, got < 0 ? ax_strerror((int)got) : "a line", stage_name(sc->stage),
                  (long long)want, want < 0 ? ax_strerror((int)want) : "a line", stage_name(stage));
}

/* On paused time: the fetch finished at `when` (the wheel may add a tick). */
static void assert_ended_at(const struct scene *sc, uint64_t when)
{
    ck_assert_msg(sc->ended >= when && sc->ended <= when + TICK,
                  "the fetch finished at %+lld ms, expected at %+lld ms (times from the start)",
                  (long long)(sc->ended - START) / (long long)MS,
                  (long long)(when - START) / (long long)MS);
}

/* The far end of the connection sees the fetch hang up: it closed its socket. */
static void assert_hung_up(int far_end)
{
    ck_assert_msg(far_end >= 0, "the server never had a connection");
    struct pollfd pfd = {.fd = far_end, .events = POLLIN | POLLRDHUP};
    poll(&pfd, 1, PATIENCE_MS);
    ck_assert_msg(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR),
                  "the fetch has finished, and its connection is still open");
}

/* The same, for a far end that has not read what the fetch sent: the end of the stream
 * comes after those bytes, so it reads them all first. */
static void assert_hung_up_after_draining(int far_end)
{
    ck_assert_msg(far_end >= 0, "the server never had a connection");
    struct timeval limit = {.tv_sec = PATIENCE_MS / 1000};
    setsockopt(far_end, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    static char sink[64 * 1024];
    ssize_t n;
    while ((n = ax_read_some(far_end, sink, sizeof sink)) > 0)
        continue;
    ck_assert_msg(n == 0 || n == -ECONNRESET,
                  "the fetch has finished, and its connection is still open (%s)",
                  ax_strerror((int)n));
}

static void assert_request_seen(const struct scene *sc, const char *request, size_t len)
{
    ck_assert_msg(sc->request_in && sc->request_len == len,
                  "the server got %zu bytes%s; the request has %zu", sc->request_len,
                  sc->request_in ? " ending in \\n" : " and no \\n", len);
    ck_assert_msg(memcmp(sc->request, request, len < SEEN_CAP - 1 ? len : SEEN_CAP - 1) == 0,
                  "the server got %s, not the request", axt_quoted(sc->request));
}

/* Connections the listener takes from now on get a fixed receive buffer: a megabyte if
 * the system allows (net.core.rmem_max), so that a server that reads drains the request
 * in a few rounds. Returns the buffer's size as the kernel counts it. */
static size_t fix_receive_buffer(int listen_fd)
{
    int size = 1 << 20;
    socklen_t len = sizeof size;
    ck_assert_int_eq(setsockopt(listen_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size), 0);
    ck_assert_int_eq(getsockopt(listen_fd, SOL_SOCKET, SO_RCVBUF, &size, &len), 0);
    return (size_t)size;
}

/* A request more than the kernel can hold while the server does not read: more than a
 * full send buffer (at most tcp_wmem's maximum) and the server's receive buffer
 * together. One "\n", at the end. */
static char *big_request(size_t receive_buffer, size_t *len)
{
    size_t wmem_max = 4 << 20;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (f != NULL) {
        unsigned long low, def, max;
        if (fscanf(f, "%lu %lu %lu", &low, &def, &max) == 3)
            wmem_max = max;
        fclose(f);
    }
    *len = wmem_max + receive_buffer + (1 << 20);
    char *request = malloc(*len);
    ck_assert_ptr_nonnull(request);
    memset(request, 'a', *len - 1);
    request[*len - 1] = '\n';
    return request;
}

/* ---- servers that answer (real clock) ------------------------------------------------- */

START_TEST(fetch_line_returns_the_first_line_of_the_reply)
{
    struct scene sc;
    scene_open(&sc, false);
    static const struct script script = {.reply = "hello, client\nand a second line\n"};
    spawn_peer(&sc, &script);
    ax_result rc =
        fetch(&sc, REQUEST, strlen(REQUEST), ax_now_ns() + PATIENCE_MS * MS, REPLY_CAP, 0);
    assert_outcome(&sc, rc, 13, FETCH_DONE);
    ck_assert_msg(strcmp(sc.reply, "hello, client") == 0, "the reply line is %s",
                  axt_quoted(sc.reply));
    assert_request_seen(&sc, REQUEST, strlen(REQUEST));
    assert_hung_up(sc.peer_fd);
    scene_close(&sc);
}
END_TEST

START_TEST(fetch_line_refuses_a_line_longer_than_its_buffer)
{
    struct scene sc;
    scene_open(&sc, false);
    static const struct script script = {.reply = "a line of rather more than sixteen bytes\n"};
    spawn_peer(&sc, &script);
    ax_result rc = fetch(&sc, REQUEST, strlen(REQUEST), ax_now_ns() + PATIENCE_MS * MS, 16, 0);
    assert_outcome(&sc, rc, -EMSGSIZE, FETCH_READ);
    assert_hung_up(sc.peer_fd);
    scene_close(&sc);
}
END_TEST

START_TEST(fetch_line_takes_a_line_that_just_fits_its_buffer)
{
    struct scene sc;
    scene_open(&sc, false);
    static const struct script script = {.reply = "fifteen bytes!!\n"}; /* + NUL = 16 */
    spawn_peer(&sc, &script);
    ax_result rc = fetch(&sc, REQUEST, strlen(REQUEST), ax_now_ns() + PATIENCE_MS * MS, 16, 0);
    assert_outcome(&sc, rc, 15, FETCH_DONE);
    ck_assert_str_eq(sc.reply, "fifteen bytes!!");
    scene_close(&sc);
}
END_TEST

START_TEST(fetch_line_says_eof_when_the_server_closes_mid_line)
{
    struct scene sc;
    scene_open(&sc, false);
    static const struct script script = {.reply = "half a li", .close_after = true};
    spawn_peer(&sc, &script);
    ax_result rc =
        fetch(&sc, REQUEST, strlen(REQUEST), ax_now_ns() + PATIENCE_MS * MS, REPLY_CAP, 0);
    assert_outcome(&sc, rc, AX_EOF, FETCH_READ);
    scene_close(&sc);
}
END_TEST

START_TEST(fetch_line_reports_a_refused_connection_in_the_connect_step)
{
    struct scene sc;
    scene_open(&sc, false);
    close(sc.listen_fd);
    sc.listen_fd = -1;
    sc.port = axt_refused_port(AF_INET);
    ax_result rc =
        fetch(&sc, REQUEST, strlen(REQUEST), ax_now_ns() + PATIENCE_MS * MS, REPLY_CAP, 0);
    assert_outcome(&sc, rc, -ECONNREFUSED, FETCH_CONNECT);
    scene_close(&sc);
}
END_TEST

/* ---- servers that are too slow (paused time) ------------------------------------------ */

START_TEST(fetch_line_with_a_deadline_already_past_gives_up_in_the_connect_step)
{
    struct scene sc;
    scene_open(&sc, true);
    ax_result rc = fetch(&sc, REQUEST, strlen(REQUEST), START - 1, REPLY_CAP, 0);
    assert_outcome(&sc, rc, -ETIMEDOUT, FETCH_CONNECT);
    ck_assert_msg(sc.ended == START, "the fetch waited for a deadline that had passed");
    scene_close(&sc);
}
END_TEST

START_TEST(fetch_line_gives_up_reading_at_the_deadline_when_the_server_never_replies)
{
    struct scene sc;
    scene_open(&sc, true);
    static const struct script silent = {.reply = NULL};
    spawn_peer(&sc, &silent);
    axt_hold_clock(sc.executor, 0, axt_until_true, &sc.request_in);
    ax_result rc = fetch(&sc, REQUEST, strlen(REQUEST), DEADLINE, REPLY_CAP, 0);
    assert_outcome(&sc, rc, -ETIMEDOUT, FETCH_READ);
    assert_ended_at(&sc, DEADLINE);
    assert_request_seen(&sc, REQUEST, strlen(REQUEST));
    assert_hung_up(sc.peer_fd);
    scene_close(&sc);
}
END_TEST

/* Nobody accepts: the kernel takes the connection alone, and the request fills its
 * buffers. */
START_TEST(fetch_line_gives_up_writing_at_the_deadline_when_the_server_never_reads)
{
    struct scene sc;
    scene_open(&sc, true);
    size_t len;
    char *request = big_request(fix_receive_buffer(sc.listen_fd), &len);
    axt_hold_clock(sc.executor, 0, axt_until_connection_waiting, &sc.listen_fd);
    ax_result rc = fetch(&sc, request, len, DEADLINE, REPLY_CAP, 0);
    assert_outcome(&sc, rc, -ETIMEDOUT, FETCH_WRITE);
    assert_ended_at(&sc, DEADLINE);
    int far_end = accept(sc.listen_fd, NULL, NULL);
    assert_hung_up_after_draining(far_end);
    close(far_end);
    free(request);
    scene_close(&sc);
}
END_TEST

/* The request does not fit in the kernel's buffers, so the write step lasts until the
 * server starts reading, 600 ms in; the read step that follows has the 400 ms left. */
START_TEST(fetch_line_counts_the_time_spent_writing_against_the_read)
{
    struct scene sc;
    scene_open(&sc, true);
    size_t len;
    char *request = big_request(fix_receive_buffer(sc.listen_fd), &len);
    const struct script late_reader = {.accept_at = START + 600 * MS, .reply = NULL};
    spawn_peer(&sc, &late_reader);
    axt_hold_clock(sc.executor, START + 600 * MS, axt_until_true, &sc.request_in);
    ax_result rc = fetch(&sc, request, len, DEADLINE, REPLY_CAP, 0);
    assert_outcome(&sc, rc, -ETIMEDOUT, FETCH_READ);
    assert_ended_at(&sc, DEADLINE);
    assert_request_seen(&sc, request, len);
    assert_hung_up(sc.peer_fd);
    free(request);
    scene_close(&sc);
}
END_TEST

/* A byte every 300 ms: each read is quick, the line is not. */
START_TEST(fetch_line_does_not_extend_the_deadline_for_a_reply_that_trickles_in)
{
    struct scene sc;
    scene_open(&sc, true);
    static const struct script trickle = {.reply = "slowly\n", .pace = 300 * MS};
    spawn_peer(&sc, &trickle);
    axt_hold_clock(sc.executor, 0, axt_until_true, &sc.request_in);
    ax_result rc = fetch(&sc, REQUEST, strlen(REQUEST), DEADLINE, REPLY_CAP, 0);
    assert_outcome(&sc, rc, -ETIMEDOUT, FETCH_READ);
    assert_ended_at(&sc, DEADLINE);
    assert_hung_up(sc.peer_fd);
    scene_close(&sc);
}
END_TEST

START_TEST(fetch_line_dropped_mid_read_closes_its_connection_and_leaves_no_timer)
{
    struct scene sc;
    scene_open(&sc, true);
    static const struct script silent = {.reply = NULL};
    spawn_peer(&sc, &silent);
    axt_hold_clock(sc.executor, 0, axt_until_true, &sc.request_in);
    ax_result rc = fetch(&sc, REQUEST, strlen(REQUEST), DEADLINE, REPLY_CAP, START + 300 * MS);
    ck_assert_msg(rc == -ETIMEDOUT, "the timeout around the fetch finished with %lld (%s)",
                  (long long)rc, rc < 0 ? ax_strerror((int)rc) : "a line");
    assert_ended_at(&sc, START + 300 * MS);
    ck_assert_msg(sc.stage == FETCH_READ, "the fetch was dropped in %s, expected FETCH_READ",
                  stage_name(sc.stage));
    ck_assert_msg(ax_executor_timers(sc.executor) == 0,
                  "the dropped fetch left its timer in the executor");
    assert_hung_up(sc.peer_fd);
    scene_close(&sc);
}
END_TEST

static Suite *fetch_line_suite(void)
{
    Suite *s = suite_create("05-deadline-layers");
    TCase *tc = axt_tcase("fetch_line");
    tcase_add_test(tc, fetch_line_returns_the_first_line_of_the_reply);
    tcase_add_test(tc, fetch_line_refuses_a_line_longer_than_its_buffer);
    tcase_add_test(tc, fetch_line_takes_a_line_that_just_fits_its_buffer);
    tcase_add_test(tc, fetch_line_says_eof_when_the_server_closes_mid_line);
    tcase_add_test(tc, fetch_line_reports_a_refused_connection_in_the_connect_step);
    tcase_add_test(tc, fetch_line_with_a_deadline_already_past_gives_up_in_the_connect_step);
    tcase_add_test(tc, fetch_line_gives_up_reading_at_the_deadline_when_the_server_never_replies);
    tcase_add_test(tc, fetch_line_gives_up_writing_at_the_deadline_when_the_server_never_reads);
    tcase_add_test(tc, fetch_line_counts_the_time_spent_writing_against_the_read);
    tcase_add_test(tc, fetch_line_does_not_extend_the_deadline_for_a_reply_that_trickles_in);
    tcase_add_test(tc, fetch_line_dropped_mid_read_closes_its_connection_and_leaves_no_timer);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(fetch_line_suite)
