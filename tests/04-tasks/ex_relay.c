/* Exercise 04-relay: the relay copies both directions at once, passes each end of
 * stream on, and stops both directions when one fails. The two peers are threads with
 * blocking sockets; a watchdog shuts every socket down if a test runs too long, so a
 * relay that hangs fails with a message instead of a timeout. */
#include "axtest.h"
#include "relay.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/source.h"
#include "ax/task.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { WATCHDOG_MS = 5000 };

/* peer_a <-> relay_a   [the relay]   relay_b <-> peer_b, over loopback TCP. */
struct rig {
    int peer_a, relay_a, relay_b, peer_b;
    struct ax_executor *executor;
    struct ax_source *a, *b; /* relay_a and relay_b, as the relay gets them */
    pthread_t watchdog;
    pthread_mutex_t lock;
    pthread_cond_t over;
    bool finished, timed_out;
    char peer_error[160]; /* the first thing a peer thread found wrong, or "" */
};

static void tcp_pair(int *client, int *server)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(listener, 0);
    *client = ax_connect("127.0.0.1", port);
    ck_assert_int_ge(*client, 0);
    *server = ax_accept(listener, NULL);
    ck_assert_int_ge(*server, 0);
    close(listener);
    struct timeval limit = {.tv_sec = WATCHDOG_MS / 1000 + 1}; /* no read waits forever */
    setsockopt(*client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
}

/* Shuts every socket down: each blocked read and write in the peers ends at once. */
static void unstick(struct rig *rig)
{
    shutdown(rig->peer_a, SHUT_RDWR);
    shutdown(rig->peer_b, SHUT_RDWR);
    shutdown(rig->relay_a, SHUT_RDWR);
    shutdown(rig->relay_b, SHUT_RDWR);
}

static void *watch(void *arg)
{
    struct rig *rig = arg;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WATCHDOG_MS / 1000;
    pthread_mutex_lock(&rig->lock);
    while (!rig->finished)
        if (pthread_cond_timedwait(&rig->over, &rig->lock, &deadline) != 0)
            break;
    if (!rig->finished) {
        rig->timed_out = true;
        unstick(rig);
    }
    pthread_mutex_unlock(&rig->lock);
    return NULL;
}

static void rig_init(struct rig *rig)
{
    *rig = (struct rig){.finished = false};
    tcp_pair(&rig->peer_a, &rig->relay_a);
    tcp_pair(&rig->peer_b, &rig->relay_b);
    ck_assert_int_eq(ax_executor_new(&rig->executor, NULL), 0);
    ck_assert_int_eq(ax_source_open(rig->executor, rig->relay_a, &rig->a), 0);
    ck_assert_int_eq(ax_source_open(rig->executor, rig->relay_b, &rig->b), 0);
    pthread_mutex_init(&rig->lock, NULL);
    pthread_cond_init(&rig->over, NULL);
    ck_assert_int_eq(pthread_create(&rig->watchdog, NULL, watch, rig), 0);
}

static void rig_free(struct rig *rig)
{
    pthread_mutex_lock(&rig->lock);
    rig->finished = true;
    pthread_cond_signal(&rig->over);
    pthread_mutex_unlock(&rig->lock);
    pthread_join(rig->watchdog, NULL);
    ax_source_close(rig->a); /* closes relay_a */
    ax_source_close(rig->b);
    ax_executor_free(rig->executor);
    close(rig->peer_a);
    close(rig->peer_b);
}

/* Runs the relay while `peers` plays the two ends in a thread (NULL: no peers), and
 * checks the relay's result and what the peers saw. */
static void run_relay(struct rig *rig, void *(*peers)(void *), ax_result want)
{
    pthread_t thread;
    if (peers != NULL)
        ck_assert_int_eq(pthread_create(&thread, NULL, peers, rig), 0);
    struct relay *r = ax_task_alloc(rig->executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    relay_init(r, rig->a, rig->b);
    ax_result rc = ax_block_on(rig->executor, ax_task_spawn(&r->base));
    if (rc != want)
        unstick(rig); /* the peers may be waiting for bytes that will not come */
    if (peers != NULL)
        pthread_join(thread, NULL);
    ck_assert_msg(!rig->timed_out, "the relay had not finished after %d ms", WATCHDOG_MS);
    ck_assert_msg(rc == want, "the relay finished with %lld (%s), expected %lld", (long long)rc,
                  rc < 0 ? ax_strerror((int)rc) : "bytes", (long long)want);
    ck_assert_msg(rig->peer_error[0] == '\0', "%s", rig->peer_error);
}

/* A peer found something wrong: keep the first complaint for the test to report. */
static void complain(struct rig *rig, const char *what, int err)
{
    pthread_mutex_lock(&rig->lock);
    if (rig->peer_error[0] == '\0')
        snprintf(rig->peer_error, sizeof rig->peer_error, "%s%s%s", what, err ? ": " : "",
                 err ? ax_strerror(err) : "");
    pthread_mutex_unlock(&rig->lock);
}

/* Reads exactly len bytes and checks them against `want`. */
static bool expect(struct rig *rig, int fd, const char *want, size_t len)
{
    char *got = malloc(len);
    int rc = ax_read_exact(fd, got, len, NULL);
    bool ok = rc == 0 && memcmp(got, want, len) == 0;
    if (rc < 0)
        complain(rig, "a peer reading what the relay sent", rc);
    else if (!ok)
        complain(rig, "the relayed bytes differ from those sent", 0);
    free(got);
    return ok;
}

static bool expect_eof(struct rig *rig, int fd)
{
    char byte;
    ssize_t n = ax_read_some(fd, &byte, 1);
    if (n != 0)
        complain(rig, "a peer expected the relay to pass the end of the stream on",
                 n < 0 ? (int)n : 0);
    return n == 0;
}

/* ---- a simple conversation -------------------------------------------------------------- */

static void *ping_pong(void *arg)
{
    struct rig *rig = arg;
    ax_write_all(rig->peer_a, "ping from a", 11);
    shutdown(rig->peer_a, SHUT_WR);
    if (expect(rig, rig->peer_b, "ping from a", 11) && expect_eof(rig, rig->peer_b)) {
        ax_write_all(rig->peer_b, "pong from b!", 12);
        shutdown(rig->peer_b, SHUT_WR);
        if (expect(rig, rig->peer_a, "pong from b!", 12))
            expect_eof(rig, rig->peer_a);
    }
    return NULL;
}

START_TEST(relay_copies_both_ways_and_passes_each_end_of_stream_on)
{
    struct rig rig;
    rig_init(&rig);
    run_relay(&rig, ping_pong, 23);
    rig_free(&rig);
}
END_TEST

/* ---- both directions at once ------------------------------------------------------------ */

enum { BIG = 1 << 20 };

static char *pattern(unsigned seed)
{
    char *p = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        p[i] = (char)((i * 7 + seed) % 251);
    return p;
}

struct sender {
    int fd;
    const char *data;
};

static void *send_all(void *arg)
{
    struct sender *s = arg;
    ax_write_all(s->fd, s->data, BIG);
    return NULL;
}

/* One peer: sends BIG bytes while it receives BIG bytes, and closes its sending side
 * only after everything from the other side has arrived. A relay that finishes one
 * direction before it starts the other never gets that far. */
struct peer {
    struct rig *rig;
    int fd;
    const char *out, *in;
};

static void *full_duplex(void *arg)
{
    struct peer *p = arg;
    struct sender s = {.fd = p->fd, .data = p->out};
    pthread_t sending;
    pthread_create(&sending, NULL, send_all, &s);
    expect(p->rig, p->fd, p->in, BIG);
    pthread_join(sending, NULL);
    shutdown(p->fd, SHUT_WR);
    return NULL;
}

/* Both peers at once, each in its own thread. */
static void *both_peers(void *arg)
{
    struct rig *rig = arg;
    char *from_a = pattern(1), *from_b = pattern(2);
    struct peer a = {.rig = rig, .fd = rig->peer_a, .out = from_a, .in = from_b};
    struct peer b = {.rig = rig, .fd = rig->peer_b, .out = from_b, .in = from_a};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, full_duplex, &a);
    pthread_create(&tb, NULL, full_duplex, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    free(from_a);
    free(from_b);
    return NULL;
}

START_TEST(relay_copies_both_directions_at_once)
{
    struct rig rig;
    rig_init(&rig);
    axt_tiny_sndbuf(rig.relay_a); /* so the relay's writes park too */
    axt_tiny_sndbuf(rig.relay_b);
    run_relay(&rig, both_peers, 2 * BIG);
    rig_free(&rig);
}
END_TEST

/* ---- half close ------------------------------------------------------------------------- */

static void *half_close(void *arg)
{
    struct rig *rig = arg;
    ax_write_all(rig->peer_a, "hello", 5);
    shutdown(rig->peer_a, SHUT_WR); /* a is done talking, but still listening */
    if (expect(rig, rig->peer_b, "hello", 5) && expect_eof(rig, rig->peer_b)) {
        ax_sleep_ns(20 * AX_NS_PER_MS);
        ax_write_all(rig->peer_b, "still talking", 13);
        if (expect(rig, rig->peer_a, "still talking", 13)) {
            shutdown(rig->peer_b, SHUT_WR);
            expect_eof(rig, rig->peer_a);
        }
    }
    return NULL;
}

START_TEST(relay_keeps_the_other_direction_open_after_a_half_close)
{
    struct rig rig;
    rig_init(&rig);
    run_relay(&rig, half_close, 18);
    rig_free(&rig);
}
END_TEST

/* ---- failure and drop --------------------------------------------------------------------- */

START_TEST(relay_stops_both_directions_when_one_side_resets)
{
    struct rig rig;
    rig_init(&rig);
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(rig.peer_b, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close(rig.peer_b); /* RST: b's side fails; a's side is idle and would wait forever */
    rig.peer_b = socket(AF_INET, SOCK_STREAM, 0); /* something for rig_free to close */
    run_relay(&rig, NULL, -ECONNRESET);
    ck_assert_msg(rig.a->reader == NULL && rig.a->refs == 1,
                  "the idle direction still waits on its socket after the relay finished");
    rig_free(&rig);
}
END_TEST

/* Polls a relay once and then drops it; finishes with 1 if the relay was waiting. */
struct quitter {
    struct ax_future base;
    struct relay relay;
    bool polled;
};

static ax_result quitter_poll(struct ax_future *self, struct ax_context *cx)
{
    struct quitter *q = (struct quitter *)self;
    if (q->polled) {
        ax_future_drop(&q->relay.base);
        return 1;
    }
    q->polled = true;
    ax_result rc = ax_poll(&q->relay.base, cx);
    if (rc != AX_PENDING) {
        ax_future_drop(&q->relay.base);
        return rc < 0 ? rc : -EPROTO;
    }
    struct ax_waker me = ax_waker_clone(cx);
    ax_wake(&me);
    return AX_PENDING;
}

static const struct ax_future_ops quitter_ops = {.poll = quitter_poll};

START_TEST(relay_dropped_leaves_nothing_waiting_on_either_socket)
{
    struct rig rig;
    rig_init(&rig);
    struct quitter *q = ax_task_alloc(rig.executor, sizeof *q);
    q->base.ops = &quitter_ops;
    relay_init(&q->relay, rig.a, rig.b);
    ax_result rc = ax_block_on(rig.executor, ax_task_spawn(&q->base));
    ck_assert_msg(rc == 1, "expected the relay to wait for its idle peers; it finished with %lld",
                  (long long)rc);
    ck_assert_msg(rig.a->reader == NULL && rig.b->reader == NULL,
                  "a read of the dropped relay still waits on a socket");
    ck_assert_msg(rig.a->refs == 1 && rig.b->refs == 1,
                  "a future of the dropped relay was never dropped: it still holds a source");
    rig_free(&rig);
}
END_TEST

static Suite *relay_suite(void)
{
    Suite *s = suite_create("04-relay");
    TCase *tc = axt_tcase("relay");
    tcase_add_test(tc, relay_copies_both_ways_and_passes_each_end_of_stream_on);
    tcase_add_test(tc, relay_copies_both_directions_at_once);
    tcase_add_test(tc, relay_keeps_the_other_direction_open_after_a_half_close);
    tcase_add_test(tc, relay_stops_both_directions_when_one_side_resets);
    tcase_add_test(tc, relay_dropped_leaves_nothing_waiting_on_either_socket);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(relay_suite)
