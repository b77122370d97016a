/* Exercise 06-graceful-chat: the room relays lines, and a cancelled stop token ends it
 * gracefully: nobody new gets in, every client gets what was queued for it, then the
 * goodbye, then the end of the stream, and a client that does not read is cut off at
 * the grace deadline while the others finish. Then nothing is left.
 *
 * The server runs in a task on an executor whose clock is paused; the clients are the
 * test's own sockets on 127.0.0.1, non-blocking. The test drives both in rounds
 * (`step`): the executor runs until nothing more can happen at once and a virtual
 * millisecond has passed, then every client that reads takes what has arrived. Not
 * reading, for a client, is simply being left out of the rounds. The server's accepted
 * sockets inherit a tiny send buffer from the listener, so that what a slow client's
 * kernel buffers cannot hold waits in the server's queue for it. A slow client fixes
 * its receive buffer, so that the kernel does not grow it, at a size still above one
 * loopback segment: a buffer shrunk to a few bytes makes TCP wait on its own timers, in
 * real time, while virtual time runs on. */
#include "axtest.h"
#include "graceful_chat.h"
#include "loopback.h"
#include "virtual_time.h"

#include "ax/cancel.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum {
    TICK = 1 << AX_WHEEL_TICK_SHIFT,
    CLIENTS = 4,
    SEEN = 1024 * 1024,
    MAX_ROUNDS = 200000,
    STILL_ROUNDS = 4,
    BACKLOG = 6000, /* lines of about 100 bytes: more than the kernel's buffers hold */
    SLOW_RCVBUF = 128 * 1024
};
static const uint64_t START = AXT_START;
static const uint64_t LONG_GRACE = 60 * S; /* nobody is cut off */

struct client {
    int fd;
    bool reads; /* takes part in the rounds' reading */
    size_t len;
    char *seen; /* everything received, NUL-ended: SEEN + 1 bytes */
    bool ended; /* end of stream, or a reset */
};

struct scene {
    struct ax_executor *executor;
    int fds_at_start;
    uint16_t port;
    struct ax_cancel_token *stop;
    struct ax_task *server;
    ax_result result;
    uint64_t ended_at;
    bool done;
    struct client client[CLIENTS];
    int clients;
};

/* ---- the server in a task ---------------------------------------------------------------- */

struct runner {
    struct ax_future base;
    struct gchat_server server;
    struct scene *sc;
};

static ax_result runner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct runner *r = (struct runner *)self;
    ax_result rc = ax_poll(&r->server.base, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    r->sc->result = rc;
    r->sc->ended_at = ax_executor_now(cx->executor);
    r->sc->done = true;
    return rc;
}

static void runner_drop(struct ax_future *self)
{
    ax_future_drop(&((struct runner *)self)->server.base);
}

static const struct ax_future_ops runner_ops = {.poll = runner_poll, .drop = runner_drop};

/* A scene with a listener and a server task on it, not yet run. */
static void scene_open(struct scene *sc, uint64_t grace)
{
    memset(sc, 0, sizeof *sc);
    sc->fds_at_start = axt_open_fds();
    sc->executor = axt_paused_executor();
    ck_assert_int_eq(ax_cancel_new(&sc->stop), 0);
    int listen_fd = axt_loopback_listen(AF_INET, 16, &sc->port);
    axt_tiny_sndbuf(listen_fd); /* accepted sockets inherit it */
    struct ax_source *listener;
    ck_assert_int_eq(ax_source_open(sc->executor, listen_fd, &listener), 0);
    struct runner *r = ax_task_alloc(sc->executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct runner){.base = {&runner_ops}, .sc = sc};
    gchat_server_init(&r->server, listener, sc->stop, grace);
    sc->server = ax_task_spawn(&r->base);
}

/* ---- rounds --------------------------------------------------------------------------------- */

/* One turn of the executor that looks at I/O, without moving virtual time: a task that
 * yields again and again keeps the executor from being idle (which would let paused time
 * jump), while every AX_EVENT_INTERVAL polls it looks at I/O. axt_run_turn would only
 * poll the tasks queued already. */
struct yielder {
    struct ax_future base;
    int left;
};

static ax_result yielder_poll(struct ax_future *self, struct ax_context *cx)
{
    struct yielder *y = (struct yielder *)self;
    if (y->left-- == 0)
        return 0;
    struct ax_waker me = ax_waker_clone(cx);
    ax_wake(&me);
    return AX_PENDING;
}

static const struct ax_future_ops yielder_ops = {.poll = yielder_poll};

static void turn(struct scene *sc)
{
    struct yielder *y = ax_task_alloc(sc->executor, sizeof *y);
    ck_assert_ptr_nonnull(y);
    *y = (struct yielder){.base = {&yielder_ops}, .left = 3 * AX_EVENT_INTERVAL};
    ck_assert_int_eq(ax_block_on(sc->executor, ax_task_spawn(&y->base)), 0);
}

/* A virtual millisecond, which passes once no task is ready and no I/O is ready at a
 * look. */
static void tick(struct scene *sc)
{
    struct ax_sleep *sleep = ax_task_alloc(sc->executor, sizeof *sleep);
    ck_assert_ptr_nonnull(sleep);
    ax_sleep_init(sleep, 1 * MS);
    ck_assert_int_eq(ax_block_on(sc->executor, ax_task_spawn(&sleep->base)), 0);
}

/* Takes what has arrived for a client, without waiting; whether anything came. */
static bool take(struct client *c)
{
    size_t before = c->len;
    bool was_open = !c->ended;
    int empty = 0;
    while (!c->ended) {
        if (c->len == SEEN)
            ck_abort_msg("a client received more than %d bytes", SEEN);
        ssize_t n = recv(c->fd, c->seen + c->len, SEEN - c->len, MSG_DONTWAIT);
        if (n > 0) {
            c->len += (size_t)n;
            c->seen[c->len] = '\0';
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            c->ended = true; /* an end of stream, or a reset */
        } else if (errno != EINTR && ++empty == 2) {
            break; /* twice: one EAGAIN may be make test-faults' */
        }
    }
    return c->len > before || (was_open && c->ended);
}

/* Reads what is left for a client until its end of stream (or a reset), waiting up to
 * five seconds of real time: the server has finished, so the end is on its way. */
static void read_to_end(struct client *c)
{
    struct timeval patience = {.tv_sec = 5};
    ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience), 0);
    while (!c->ended) {
        if (c->len == SEEN)
            ck_abort_msg("a client received more than %d bytes", SEEN);
        ssize_t n = recv(c->fd, c->seen + c->len, SEEN - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            c->seen[c->len] = '\0';
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            c->ended = true;
        } else if (errno != EINTR) {
            return; /* five seconds without an end: the connection is open */
        }
    }
}

/* One round, in which no virtual time passes: a turn, then every reading client takes
 * what came. Whether any client got anything. */
static bool step(struct scene *sc)
{
    turn(sc);
    bool moved = false;
    for (int i = 0; i < sc->clients; i++)
        if (sc->client[i].reads)
            moved |= take(&sc->client[i]);
    return moved;
}

/* At least n rounds, and more until a few in a row, a little real time apart, have
 * brought nothing: what the kernel was still carrying has arrived. */
static void steps(struct scene *sc, int n)
{
    for (int still = 0, round = 0; round < n || still < STILL_ROUNDS; round++) {
        if (step(sc)) {
            still = 0;
        } else {
            still++;
            struct timespec pause = {.tv_nsec = 200 * 1000};
            nanosleep(&pause, NULL);
        }
    }
}

/* Rounds until the server has finished. Virtual time moves only when the real world is
 * still: a few rounds in a row, a little real time apart, in which nothing arrived. Over
 * loopback the kernel sometimes answers on its own timers (a delayed ACK), and a clock
 * that jumped whenever one look found nothing would overtake it: a reading client would
 * look stalled. */
static void run_to_end(struct scene *sc)
{
    int still = 0;
    for (int round = 0; !sc->done; round++) {
        ck_assert_msg(round < MAX_ROUNDS,
                      "the server has not finished after %d rounds (%lld virtual ms)", round,
                      (long long)(ax_executor_now(sc->executor) - START) / (long long)MS);
        if (step(sc)) {
            still = 0;
        } else if (++still < STILL_ROUNDS) {
            struct timespec pause = {.tv_nsec = 200 * 1000};
            nanosleep(&pause, NULL);
        } else {
            tick(sc);
            still = 0;
        }
    }
    for (int i = 0; i < sc->clients; i++)
        if (sc->client[i].reads)
            read_to_end(&sc->client[i]);
}

/* ---- clients -------------------------------------------------------------------------------- */

/* Connects a client (a slow one does not read until the test says so) and runs until
 * the server has accepted it. */
static struct client *join(struct scene *sc, bool slow)
{
    ck_assert_int_lt(sc->clients, CLIENTS);
    struct client *c = &sc->client[sc->clients++];
    c->seen = calloc(SEEN + 1, 1);
    ck_assert_ptr_nonnull(c->seen);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(c->fd, 0);
    /* A line cut in two by a short write would otherwise wait for an ACK in real time
     * (Nagle's algorithm), which virtual time does not wait for. */
    int on = 1;
    ck_assert_int_eq(setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on), 0);
    if (slow) {
        int size = SLOW_RCVBUF;
        ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size), 0);
    }
    struct sockaddr_storage addr;
    socklen_t len = axt_loopback_addr(AF_INET, sc->port, &addr);
    ck_assert_msg(connect(c->fd, (struct sockaddr *)&addr, len) == 0, "connect: %s",
                  strerror(errno));
    c->reads = !slow;
    steps(sc, 2);
    return c;
}

/* A client sends text (whole lines), then a round. */
static void say(struct scene *sc, struct client *c, const char *text)
{
    int rc = ax_write_all(c->fd, text, strlen(text));
    ck_assert_msg(rc == 0, "a client's send: %s", ax_strerror(rc));
    step(sc);
}

/* Sends `lines` numbered lines of about 100 bytes from c, with rounds between, and
 * returns what the others must receive, in a buffer the caller frees. */
static char *chatter(struct scene *sc, struct client *c, int lines)
{
    char *all = malloc((size_t)lines * 128 + 1);
    ck_assert_ptr_nonnull(all);
    size_t len = 0;
    for (int i = 0; i < lines; i++) {
        char line[128];
        int n = snprintf(line, sizeof line, "line %05d %s\n", i,
                         "................................................................"
                         "......................");
        int rc = ax_write_all(c->fd, line, (size_t)n);
        ck_assert_msg(rc == 0, "a client's send: %s", ax_strerror(rc));
        memcpy(all + len, line, (size_t)n);
        len += (size_t)n;
        if (i % 16 == 15)
            step(sc);
    }
    all[len] = '\0';
    steps(sc, 2);
    return all;
}

/* The test's own, from elsewhere: cancels the stop token, then a round. */
static uint64_t stop(struct scene *sc)
{
    uint64_t at = ax_executor_now(sc->executor);
    ax_cancel(sc->stop);
    step(sc);
    return at;
}

/* ---- checks --------------------------------------------------------------------------------- */

static void assert_saw(const struct client *c, const char *want, const char *who)
{
    size_t n = strlen(want);
    if (c->len == n && memcmp(c->seen, want, n) == 0)
        return;
    size_t i = 0;
    while (i < c->len && i < n && c->seen[i] == want[i])
        i++;
    ck_abort_msg("%s received %zu bytes, expected %zu; they differ from byte %zu: got %s, "
                 "expected %s",
                 who, c->len, n, i, axt_quoted(c->seen + i), axt_quoted(want + i));
}

static void assert_goodbye_then_end(const struct client *c, const char *before, const char *who)
{
    size_t n = strlen(before);
    char *want = malloc(n + sizeof GCHAT_GOODBYE);
    ck_assert_ptr_nonnull(want);
    memcpy(want, before, n);
    memcpy(want + n, GCHAT_GOODBYE, sizeof GCHAT_GOODBYE);
    assert_saw(c, want, who);
    free(want);
    ck_assert_msg(c->ended, "%s got its goodbye, and its connection was not closed", who);
}

static void assert_clean_end(const struct scene *sc)
{
    ck_assert_msg(sc->done, "the server has not finished");
    ck_assert_msg(sc->result == 0, "the server finished with %lld (%s), expected 0",
                  (long long)sc->result, ax_strerror((int)sc->result));
    ck_assert_msg(ax_executor_tasks(sc->executor) == 0,
                  "%zu tasks are left after the server finished", ax_executor_tasks(sc->executor));
    ck_assert_msg(ax_executor_timers(sc->executor) == 0,
                  "%zu timers are pending after the server finished",
                  ax_executor_timers(sc->executor));
    ck_assert_msg(ax_list_empty(&sc->stop->waiters), "something still waits on the stop token");
    ck_assert_msg(sc->stop->refs == 1, "the server kept %u references to the stop token",
                  sc->stop->refs - 1);
}

static void assert_ended_at(const struct scene *sc, uint64_t when)
{
    ck_assert_msg(sc->ended_at >= when && sc->ended_at < when + TICK,
                  "the server finished at %+lld ms, expected at %+lld ms (from the start)",
                  (long long)(sc->ended_at - START) / (long long)MS,
                  (long long)(when - START) / (long long)MS);
}

static void scene_close(struct scene *sc)
{
    if (sc->server != NULL)
        ax_task_detach(sc->server);
    ax_executor_free(sc->executor);
    for (int i = 0; i < sc->clients; i++) {
        close(sc->client[i].fd);
        free(sc->client[i].seen);
    }
    ax_cancel_release(sc->stop);
    int open = axt_open_fds();
    ck_assert_msg(open == sc->fds_at_start, "%d descriptors were left open",
                  open - sc->fds_at_start);
}

/* ---- the room ------------------------------------------------------------------------------- */

START_TEST(a_line_reaches_every_other_client_and_not_its_sender)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *a = join(&sc, false), *b = join(&sc, false), *c = join(&sc, false);
    say(&sc, a, "hello from a\n");
    steps(&sc, 2);
    assert_saw(b, "hello from a\n", "b");
    assert_saw(c, "hello from a\n", "c");
    assert_saw(a, "", "a, the sender,");
    scene_close(&sc);
}
END_TEST

START_TEST(lines_arrive_whole_and_in_the_order_the_server_read_them)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *a = join(&sc, false), *b = join(&sc, false), *c = join(&sc, false);
    ck_assert_int_eq(ax_write_all(a->fd, "one, in ", 8), 0);
    step(&sc);
    say(&sc, b, "two\n");
    say(&sc, a, "two parts\n");
    steps(&sc, 2);
    assert_saw(c, "two\none, in two parts\n", "c");
    assert_saw(a, "two\n", "a");
    assert_saw(b, "one, in two parts\n", "b");
    scene_close(&sc);
}
END_TEST

START_TEST(a_client_that_leaves_is_forgotten_and_the_room_goes_on)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *a = join(&sc, false), *b = join(&sc, false), *c = join(&sc, false);
    ck_assert_int_eq(ax_write_all(b->fd, "half a li", 9), 0);
    shutdown(b->fd, SHUT_WR); /* b leaves, its last line unfinished */
    b->reads = false;
    steps(&sc, 2);
    say(&sc, a, "still here?\n");
    steps(&sc, 2);
    assert_saw(c, "still here?\n", "c");
    ck_assert_msg(ax_executor_tasks(sc.executor) == 1 + 2 * 2,
                  "%zu tasks run; expected the server and two clients (each with its watcher)",
                  ax_executor_tasks(sc.executor));
    scene_close(&sc);
}
END_TEST

START_TEST(a_line_over_the_limit_disconnects_its_sender_only)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *a = join(&sc, false), *b = join(&sc, false);
    char *long_line = malloc(GCHAT_MAX_LINE + 3);
    ck_assert_ptr_nonnull(long_line);
    memset(long_line, 'x', GCHAT_MAX_LINE + 1);
    strcpy(long_line + GCHAT_MAX_LINE + 1, "\n");
    say(&sc, a, long_line);
    steps(&sc, 2);
    free(long_line);
    ck_assert_msg(a->ended, "the sender of a line over the limit is still connected");
    assert_saw(b, "", "b");
    ck_assert_msg(!b->ended, "b was disconnected for a's line");
    scene_close(&sc);
}
END_TEST

/* ---- stopping ------------------------------------------------------------------------------- */

START_TEST(stopping_an_idle_room_ends_it_at_once)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    steps(&sc, 3);
    uint64_t at = stop(&sc);
    run_to_end(&sc);
    assert_ended_at(&sc, at);
    assert_clean_end(&sc);
    scene_close(&sc);
}
END_TEST

START_TEST(a_room_stopped_before_it_starts_ends_at_once)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    ax_cancel(sc.stop);
    run_to_end(&sc);
    assert_ended_at(&sc, START);
    assert_clean_end(&sc);
    scene_close(&sc);
}
END_TEST

START_TEST(on_stop_every_client_gets_the_goodbye_then_the_end_of_its_stream)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *a = join(&sc, false), *b = join(&sc, false), *c = join(&sc, false);
    say(&sc, a, "before the end\n");
    steps(&sc, 2);
    uint64_t at = stop(&sc);
    run_to_end(&sc);
    assert_goodbye_then_end(a, "", "a");
    assert_goodbye_then_end(b, "before the end\n", "b");
    assert_goodbye_then_end(c, "before the end\n", "c");
    ck_assert_msg(sc.ended_at < at + 1 * S,
                  "the server finished %lld ms after the stop; every client had read all",
                  (long long)(sc.ended_at - at) / (long long)MS);
    assert_clean_end(&sc);
    scene_close(&sc);
}
END_TEST

START_TEST(every_queued_line_is_delivered_before_the_goodbye)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *talker = join(&sc, false), *slow = join(&sc, true);
    char *said = chatter(&sc, talker, BACKLOG); /* much of it waits in a queue */
    stop(&sc);
    slow->reads = true; /* it reads at last, all of it */
    run_to_end(&sc);
    assert_goodbye_then_end(slow, said, "the slow client");
    assert_goodbye_then_end(talker, "", "the talker");
    assert_clean_end(&sc);
    free(said);
    scene_close(&sc);
}
END_TEST

START_TEST(after_the_stop_no_new_client_is_accepted)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *talker = join(&sc, false), *slow = join(&sc, true);
    char *said = chatter(&sc, talker, BACKLOG); /* keeps the server busy after the stop */
    stop(&sc);
    ck_assert_msg(!sc.done, "the server finished with lines still queued for a client");
    int late = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(late, 0);
    struct sockaddr_storage addr;
    socklen_t len = axt_loopback_addr(AF_INET, sc.port, &addr);
    int rc = connect(late, (struct sockaddr *)&addr, len);
    int err = errno;
    close(late);
    ck_assert_msg(rc < 0 && err == ECONNREFUSED,
                  "a client connecting after the stop was not refused (%s): the listener is open",
                  rc == 0 ? "it connected" : strerror(err));
    slow->reads = true;
    run_to_end(&sc);
    assert_goodbye_then_end(slow, said, "the slow client");
    assert_clean_end(&sc);
    free(said);
    scene_close(&sc);
}
END_TEST

START_TEST(after_the_stop_no_line_is_relayed)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *a = join(&sc, false), *b = join(&sc, true);
    stop(&sc);
    (void)ax_write_all(a->fd, "too late\n", 9); /* a may be closed already: then EPIPE */
    steps(&sc, 2);
    b->reads = true;
    run_to_end(&sc);
    assert_goodbye_then_end(b, "", "b");
    assert_clean_end(&sc);
    scene_close(&sc);
}
END_TEST

START_TEST(a_client_that_does_not_read_is_cut_at_the_grace_deadline_while_others_finish)
{
    static const uint64_t grace = 200 * MS;
    struct scene sc;
    scene_open(&sc, grace);
    struct client *talker = join(&sc, false), *reader = join(&sc, false);
    struct client *stalled = join(&sc, true);
    char *said = chatter(&sc, talker, BACKLOG);
    uint64_t at = stop(&sc);
    run_to_end(&sc);
    assert_goodbye_then_end(reader, said, "the reading client");
    assert_goodbye_then_end(talker, "", "the talker");
    assert_ended_at(&sc, at + grace);
    /* What the stalled client finds when it reads at last: a part of the lines, cut,
     * and no goodbye. */
    read_to_end(stalled);
    ck_assert_msg(stalled->ended, "the stalled client's connection is still open");
    ck_assert_msg(stalled->len < strlen(said) && memcmp(stalled->seen, said, stalled->len) == 0,
                  "the stalled client received %zu of %zu bytes, or bytes that were not said",
                  stalled->len, strlen(said));
    assert_clean_end(&sc);
    free(said);
    scene_close(&sc);
}
END_TEST

START_TEST(the_server_finishes_as_soon_as_the_last_client_has_everything)
{
    struct scene sc;
    scene_open(&sc, 10 * S);
    struct client *talker = join(&sc, false), *slow = join(&sc, true);
    char *said = chatter(&sc, talker, BACKLOG);
    uint64_t at = stop(&sc);
    for (int i = 0; i < 500; i++) /* half a second of not reading */
        tick(&sc);
    ck_assert_msg(!sc.done, "the server finished while a client still had lines queued");
    slow->reads = true;
    run_to_end(&sc);
    assert_goodbye_then_end(slow, said, "the slow client");
    ck_assert_msg(sc.ended_at < at + 1 * S,
                  "the server finished %lld ms after the stop: it waited for its deadline",
                  (long long)(sc.ended_at - at) / (long long)MS);
    assert_clean_end(&sc);
    free(said);
    scene_close(&sc);
}
END_TEST

START_TEST(a_server_dropped_mid_run_closes_everything_at_once)
{
    struct scene sc;
    scene_open(&sc, LONG_GRACE);
    struct client *a = join(&sc, false), *b = join(&sc, false);
    say(&sc, a, "hello\n");
    ax_task_abort(sc.server);
    steps(&sc, 3);
    assert_saw(b, "hello\n", "b");
    ck_assert_msg(a->ended && b->ended, "a connection is still open after the server was dropped");
    ck_assert_msg(ax_executor_tasks(sc.executor) == 0, "%zu tasks are left",
                  ax_executor_tasks(sc.executor));
    ck_assert_msg(ax_list_empty(&sc.stop->waiters) && sc.stop->refs == 1,
                  "the dropped server left itself on the stop token");
    ck_assert_msg(!ax_cancelled(sc.stop), "the server cancelled the token it was given");
    scene_close(&sc);
}
END_TEST

START_TEST(a_stopped_room_leaves_no_task_timer_token_or_descriptor)
{
    struct scene sc;
    scene_open(&sc, 2 * S);
    struct client *talker = join(&sc, false);
    join(&sc, true); /* stalled for good */
    char *said = chatter(&sc, talker, BACKLOG);
    stop(&sc);
    run_to_end(&sc);
    assert_clean_end(&sc);
    ck_assert_int_eq(sc.result, 0);
    free(said);
    scene_close(&sc); /* checks the descriptors */
}
END_TEST

static Suite *graceful_chat_suite(void)
{
    Suite *s = suite_create("06-graceful-chat");
    TCase *tc = axt_tcase("graceful_chat");
    tcase_add_test(tc, a_line_reaches_every_other_client_and_not_its_sender);
    tcase_add_test(tc, lines_arrive_whole_and_in_the_order_the_server_read_them);
    tcase_add_test(tc, a_client_that_leaves_is_forgotten_and_the_room_goes_on);
    tcase_add_test(tc, a_line_over_the_limit_disconnects_its_sender_only);
    tcase_add_test(tc, stopping_an_idle_room_ends_it_at_once);
    tcase_add_test(tc, a_room_stopped_before_it_starts_ends_at_once);
    tcase_add_test(tc, on_stop_every_client_gets_the_goodbye_then_the_end_of_its_stream);
    tcase_add_test(tc, every_queued_line_is_delivered_before_the_goodbye);
    tcase_add_test(tc, after_the_stop_no_new_client_is_accepted);
    tcase_add_test(tc, after_the_stop_no_line_is_relayed);
    tcase_add_test(tc,
                   a_client_that_does_not_read_is_cut_at_the_grace_deadline_while_others_finish);
    tcase_add_test(tc, the_server_finishes_as_soon_as_the_last_client_has_everything);
    tcase_add_test(tc, a_server_dropped_mid_run_closes_everything_at_once);
    tcase_add_test(tc, a_stopped_room_leaves_no_task_timer_token_or_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(graceful_chat_suite)
