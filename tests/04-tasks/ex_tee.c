/* Challenge 04-challenge-tee: every byte to every sink, fast sinks running ahead of slow
 * ones within a bounded window, failed sinks leaving while the rest carry on, errors and
 * ends passed on, and nothing left waiting on a socket when the tee is dropped.
 *
 * The tee runs in a task on the test's thread (ax_block_on); the peers are threads with
 * blocking sockets: one writes the source stream, one per sink reads and checks it. A
 * watchdog shuts every socket down if a run lasts too long, so a tee that hangs fails
 * with a message instead of a timeout. Waits are bounded; no duration is asserted. */
#include "axtest.h"
#include "tee.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/source.h"
#include "ax/task.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PROMPT_MS = 3000, STALL_MS = 500, WATCHDOG_MS = 8000, SINKS = 3 };

static char stream_byte(uint64_t i)
{
    return (char)((i * 7 + i / 251) & 0xff);
}

/* ---- the peers ----------------------------------------------------------------------- */

/* Reads a sink until its end, checking every byte; may wait for `release` first. */
struct reader {
    int fd;
    bool held; /* wait for release before reading anything */
    atomic_bool release;
    atomic_size_t got;
    bool eof, wrong;
    int error;
    pthread_t thread;
};

static void *read_sink(void *arg)
{
    struct reader *r = arg;
    uint64_t deadline = ax_now_ns() + WATCHDOG_MS * AX_NS_PER_MS;
    while (r->held && !atomic_load(&r->release) && ax_now_ns() < deadline)
        ax_sleep_ns(AX_NS_PER_MS);
    char chunk[16384];
    for (;;) {
        ssize_t n = ax_read_some(r->fd, chunk, sizeof chunk);
        if (n <= 0) {
            r->eof = n == 0;
            r->error = n < 0 ? (int)n : 0;
            return NULL;
        }
        size_t at = atomic_load(&r->got);
        for (ssize_t i = 0; i < n; i++)
            r->wrong |= chunk[i] != stream_byte(at + (uint64_t)i);
        atomic_store(&r->got, at + (size_t)n);
    }
}

struct rig;

/* Writes the source stream: what it does is the test's `script`. */
struct writer {
    struct rig *rig;
    void (*script)(struct writer *w);
    size_t len; /* how much to send, for the scripts that say */
    atomic_size_t sent;
    bool flag; /* a script's own finding */
    size_t seen; /* and what it saw then */
    pthread_t thread;
};

struct rig {
    struct ax_executor *executor;
    int src[2]; /* [0] written by the test, [1] read by the tee */
    int sink[TEE_MAX_SINKS + 1][2]; /* [0] written by the tee, [1] read by the test */
    struct ax_source *from, *to[TEE_MAX_SINKS + 1];
    int n;
    struct reader readers[TEE_MAX_SINKS + 1];
    struct writer writer;
    pthread_t watchdog;
    pthread_mutex_t lock;
    pthread_cond_t over;
    bool finished, timed_out;
};

/* Sends [from, from + len) of the stream on the test's end of the source. */
static int send_stream(struct rig *rig, uint64_t from, size_t len)
{
    char chunk[16384];
    while (len > 0) {
        size_t n = len < sizeof chunk ? len : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = stream_byte(from + i);
        int rc = ax_write_all(rig->src[0], chunk, n);
        if (rc < 0)
            return rc;
        from += n;
        len -= n;
    }
    return 0;
}

static void *run_writer(void *arg)
{
    struct writer *w = arg;
    w->script(w);
    return NULL;
}

/* Shuts every test-side socket down: whatever the tee waits for ends at once. */
static void unstick(struct rig *rig)
{
    shutdown(rig->src[0], SHUT_RDWR);
    for (int i = 0; i < rig->n; i++)
        if (rig->sink[i][1] >= 0)
            shutdown(rig->sink[i][1], SHUT_RDWR);
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

/* n sinks; the tee's end of sink 0 gets the smallest send buffer when tiny_sink0. */
static void rig_init(struct rig *rig, int n, bool tiny_sink0)
{
    memset(rig, 0, sizeof *rig);
    rig->n = n;
    ck_assert_int_eq(ax_executor_new(&rig->executor, NULL), 0);
    axt_socketpair(rig->src);
    int big = 64 * 1024;
    setsockopt(rig->src[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    ck_assert_int_eq(ax_source_open(rig->executor, rig->src[1], &rig->from), 0);
    for (int i = 0; i < n; i++) {
        axt_socketpair(rig->sink[i]);
        if (i == 0 && tiny_sink0)
            axt_tiny_sndbuf(rig->sink[i][0]);
        ck_assert_int_eq(ax_source_open(rig->executor, rig->sink[i][0], &rig->to[i]), 0);
        rig->readers[i].fd = rig->sink[i][1];
    }
    pthread_mutex_init(&rig->lock, NULL);
    pthread_cond_init(&rig->over, NULL);
    ck_assert_int_eq(pthread_create(&rig->watchdog, NULL, watch, rig), 0);
}

static void start_peers(struct rig *rig, void (*script)(struct writer *), size_t len)
{
    for (int i = 0; i < rig->n; i++)
        if (rig->sink[i][1] >= 0)
            ck_assert_int_eq(
                pthread_create(&rig->readers[i].thread, NULL, read_sink, &rig->readers[i]), 0);
    rig->writer = (struct writer){.rig = rig, .script = script, .len = len};
    ck_assert_int_eq(pthread_create(&rig->writer.thread, NULL, run_writer, &rig->writer), 0);
}

static void join_peers(struct rig *rig)
{
    pthread_join(rig->writer.thread, NULL);
    for (int i = 0; i < rig->n; i++)
        if (rig->sink[i][1] >= 0)
            pthread_join(rig->readers[i].thread, NULL);
}

/* Every source is back to its owner's reference alone, with nobody waiting on it. */
static void assert_nothing_waits(struct rig *rig)
{
    ck_assert_msg(rig->from->reader == NULL && rig->from->refs == 1,
                  "a read of the tee still waits on (or holds) the source");
    for (int i = 0; i < rig->n; i++)
        ck_assert_msg(rig->to[i]->writer == NULL && rig->to[i]->refs == 1,
                      "a write of the tee still waits on (or holds) sink %d", i);
}

static void rig_free(struct rig *rig)
{
    pthread_mutex_lock(&rig->lock);
    rig->finished = true;
    pthread_cond_signal(&rig->over);
    pthread_mutex_unlock(&rig->lock);
    pthread_join(rig->watchdog, NULL);
    ax_source_close(rig->from);
    for (int i = 0; i < rig->n; i++)
        ax_source_close(rig->to[i]);
    ax_executor_free(rig->executor);
    close(rig->src[0]);
    for (int i = 0; i < rig->n; i++)
        if (rig->sink[i][1] >= 0)
            close(rig->sink[i][1]);
}

/* The task under test: a tee, polled until it finishes, or (quit_after > 0) given up
 * on and dropped after that many polls, finishing with 1. */
struct harness {
    struct ax_future base;
    struct tee tee;
    int init_rc;
    int quit_after;
    int polls;
};

static ax_result harness_poll(struct ax_future *self, struct ax_context *cx)
{
    struct harness *h = (struct harness *)self;
    if (h->init_rc < 0)
        return h->init_rc;
    if (h->quit_after > 0 && h->polls == h->quit_after) {
        ax_future_drop(&h->tee.base); /* abandoned while it works */
        h->init_rc = -ECANCELED; /* dropped: the harness's own drop must not again */
        return 1;
    }
    h->polls++;
    ax_result rc = ax_poll(&h->tee.base, cx);
    if (rc == AX_PENDING && h->quit_after > 0) { /* come back at once, to give up */
        struct ax_waker me = ax_waker_clone(cx);
        ax_wake(&me);
    }
    return rc;
}

static void harness_drop(struct ax_future *self)
{
    struct harness *h = (struct harness *)self;
    if (h->init_rc == 0)
        ax_future_drop(&h->tee.base);
}

static const struct ax_future_ops harness_ops = {.poll = harness_poll, .drop = harness_drop};

static ax_result run_tee(struct rig *rig, int quit_after)
{
    struct harness *h = ax_task_alloc(rig->executor, sizeof *h);
    ck_assert_ptr_nonnull(h);
    h->base.ops = &harness_ops;
    h->quit_after = quit_after;
    h->init_rc = tee_init(&h->tee, rig->from, rig->to, (size_t)rig->n);
    ck_assert_msg(h->init_rc == 0, "tee_init returned %d (%s)", h->init_rc,
                  ax_strerror(h->init_rc));
    ax_result rc = ax_block_on(rig->executor, ax_task_spawn(&h->base));
    ck_assert_msg(!rig->timed_out, "the tee had not finished after %d ms", WATCHDOG_MS);
    return rc;
}

static void assert_result(ax_result got, ax_result want)
{
    ck_assert_msg(got == want, "the tee finished with %lld (%s), expected %lld (%s)",
                  (long long)got, got < 0 ? ax_strerror((int)got) : "bytes", (long long)want,
                  want < 0 ? ax_strerror((int)want) : "bytes");
}

static void assert_sink_got(struct rig *rig, int i, size_t len)
{
    struct reader *r = &rig->readers[i];
    ck_assert_msg(!r->wrong, "sink %d received bytes that differ from the stream", i);
    ck_assert_msg(atomic_load(&r->got) == len, "sink %d received %zu bytes, expected %zu", i,
                  atomic_load(&r->got), len);
    ck_assert_msg(r->eof, "sink %d was not shut down after the stream ended%s", i,
                  r->error ? " (its read failed)" : "");
}

/* ---- scripts for the source's writer --------------------------------------------------- */

/* Sends len bytes, then the end of the stream. */
static void send_then_end(struct writer *w)
{
    w->flag = send_stream(w->rig, 0, w->len) == 0;
    atomic_store(&w->sent, w->len);
    shutdown(w->rig->src[0], SHUT_WR);
}

/* Sends len bytes and keeps the stream open (the watchdog or the test ends it). */
static void send_and_hold(struct writer *w)
{
    send_stream(w->rig, 0, w->len);
    atomic_store(&w->sent, w->len);
}

/* Waits up to PROMPT_MS for reader i to have `n` bytes. */
static bool reader_has(struct reader *r, size_t n)
{
    uint64_t deadline = ax_now_ns() + PROMPT_MS * AX_NS_PER_MS;
    while (atomic_load(&r->got) < n && ax_now_ns() < deadline)
        ax_sleep_ns(AX_NS_PER_MS);
    return atomic_load(&r->got) >= n;
}

/* Sends len bytes in 8 KiB pieces, each only once sink 1 has every byte before it, while
 * sink 0 reads nothing; flag is set if sink 1 was kept waiting. Then sink 0 may read. */
static void send_while_sink0_sleeps(struct writer *w)
{
    enum { PIECE = 8 * 1024 };
    for (size_t off = 0; off < w->len; off += PIECE) {
        if (send_stream(w->rig, off, PIECE) < 0)
            break;
        atomic_store(&w->sent, off + PIECE);
        if (!reader_has(&w->rig->readers[1], off + PIECE)) {
            w->flag = true; /* sink 1 waits for sink 0 */
            w->seen = atomic_load(&w->rig->readers[1].got);
            break;
        }
    }
    atomic_store(&w->rig->readers[0].release, true);
    shutdown(w->rig->src[0], SHUT_WR);
}

/* Pushes the stream, non-blocking, until `len` bytes went or none went for STALL_MS,
 * while sink 0 reads nothing; then lets sink 0 read and ends the stream. */
static void push_until_stalled(struct writer *w)
{
    int fd = w->rig->src[0];
    ax_set_nonblocking(fd, true);
    char chunk[16384];
    size_t sent = 0;
    while (sent < w->len) {
        size_t n = w->len - sent < sizeof chunk ? w->len - sent : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = stream_byte(sent + i);
        ssize_t rc = send(fd, chunk, n, MSG_NOSIGNAL);
        if (rc > 0) {
            sent += (size_t)rc;
            atomic_store(&w->sent, sent);
            continue;
        }
        if (rc < 0 && errno != EAGAIN && errno != EINTR)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (rc < 0 && errno == EAGAIN && poll(&pfd, 1, STALL_MS) == 0)
            break; /* nothing went for STALL_MS: the tee stopped reading */
    }
    ax_set_nonblocking(fd, false);
    atomic_store(&w->rig->readers[0].release, true);
    shutdown(fd, SHUT_WR);
}

/* ---- the tests ------------------------------------------------------------------------- */

START_TEST(tee_copies_every_byte_to_every_sink_and_passes_the_end_on)
{
    enum { LEN = 1 << 20 };
    struct rig rig;
    rig_init(&rig, SINKS, false);
    start_peers(&rig, send_then_end, LEN);
    ax_result rc = run_tee(&rig, 0);
    join_peers(&rig);
    assert_result(rc, LEN);
    for (int i = 0; i < SINKS; i++)
        assert_sink_got(&rig, i, LEN);
    assert_nothing_waits(&rig);
    rig_free(&rig);
}
END_TEST

START_TEST(tee_of_an_empty_stream_shuts_every_sink_down)
{
    struct rig rig;
    rig_init(&rig, SINKS, false);
    start_peers(&rig, send_then_end, 0);
    ax_result rc = run_tee(&rig, 0);
    join_peers(&rig);
    assert_result(rc, 0);
    for (int i = 0; i < SINKS; i++)
        assert_sink_got(&rig, i, 0);
    rig_free(&rig);
}
END_TEST

START_TEST(tee_lets_a_fast_sink_run_ahead_of_a_slow_one)
{
    /* Sink 0's socket holds a few KiB and its reader sleeps; sink 1 must still get 48 KiB,
     * which is within the tee's window. */
    enum { LEN = 48 * 1024 };
    ck_assert_int_le(LEN, TEE_MAX_BUFFERED);
    struct rig rig;
    rig_init(&rig, 2, true);
    rig.readers[0].held = true;
    start_peers(&rig, send_while_sink0_sleeps, LEN);
    ax_result rc = run_tee(&rig, 0);
    join_peers(&rig);
    ck_assert_msg(!rig.writer.flag,
                  "sink 1 got %zu of %zu bytes while sink 0 read nothing: it was held to the "
                  "pace of the slowest sink",
                  rig.writer.seen, atomic_load(&rig.writer.sent));
    assert_result(rc, LEN);
    assert_sink_got(&rig, 0, LEN);
    assert_sink_got(&rig, 1, LEN);
    rig_free(&rig);
}
END_TEST

START_TEST(tee_reads_no_further_ahead_of_the_slowest_sink_than_its_window)
{
    struct rig rig;
    rig_init(&rig, 2, true);
    rig.readers[0].held = true; /* sink 1 reads all along; sink 0 not until the end */
    /* What the path to the slow sink holds without the tee keeping more than its window:
     * the source's buffer, sink 0's buffer, TEE_MAX_BUFFERED, and one read's margin. */
    int src_buf = 0, sink_buf = 0;
    socklen_t len = sizeof src_buf;
    getsockopt(rig.src[0], SOL_SOCKET, SO_SNDBUF, &src_buf, &len);
    getsockopt(rig.sink[0][0], SOL_SOCKET, SO_SNDBUF, &sink_buf, &len);
    size_t bound = 2 * ((size_t)src_buf + (size_t)sink_buf) + 2 * TEE_MAX_BUFFERED;
    start_peers(&rig, push_until_stalled, bound + 1);
    ax_result rc = run_tee(&rig, 0);
    join_peers(&rig);
    size_t pushed = atomic_load(&rig.writer.sent);
    ck_assert_msg(pushed <= bound,
                  "%zu bytes went into the source while one sink read nothing: the tee keeps "
                  "more than its window for it (the path holds at most %zu)",
                  pushed, bound);
    assert_result(rc, (ax_result)pushed);
    assert_sink_got(&rig, 0, pushed);
    assert_sink_got(&rig, 1, pushed);
    rig_free(&rig);
}
END_TEST

START_TEST(tee_drops_a_sink_that_fails_and_serves_the_others)
{
    enum { LEN = 256 * 1024 };
    struct rig rig;
    rig_init(&rig, SINKS, false);
    close(rig.sink[1][1]); /* sink 1's peer is gone: writing to it fails */
    rig.sink[1][1] = -1;
    start_peers(&rig, send_then_end, LEN);
    ax_result rc = run_tee(&rig, 0);
    join_peers(&rig);
    assert_result(rc, LEN);
    assert_sink_got(&rig, 0, LEN);
    assert_sink_got(&rig, 2, LEN);
    assert_nothing_waits(&rig);
    rig_free(&rig);
}
END_TEST

START_TEST(tee_fails_with_the_last_error_when_every_sink_has_failed)
{
    struct rig rig;
    rig_init(&rig, SINKS, false);
    for (int i = 0; i < SINKS; i++) {
        close(rig.sink[i][1]);
        rig.sink[i][1] = -1;
    }
    start_peers(&rig, send_and_hold, 4096); /* the stream stays open: no end will come */
    ax_result rc = run_tee(&rig, 0);
    unstick(&rig);
    join_peers(&rig);
    assert_result(rc, -EPIPE);
    assert_nothing_waits(&rig);
    rig_free(&rig);
}
END_TEST

START_TEST(tee_passes_a_read_error_on_without_shutting_the_sinks_down)
{
    struct rig rig;
    rig_init(&rig, 2, false);
    ax_source_close(rig.from); /* replace the source with a socket that was never connected */
    int lonely = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(lonely, 0);
    ck_assert_int_eq(ax_source_open(rig.executor, lonely, &rig.from), 0);
    ax_result rc = run_tee(&rig, 0);
    assert_result(rc, -ENOTCONN);
    for (int i = 0; i < 2; i++) {
        struct pollfd pfd = {.fd = rig.sink[i][1], .events = POLLIN};
        ck_assert_msg(poll(&pfd, 1, 0) == 0,
                      "sink %d was shut down (or sent something) after a failed read", i);
    }
    assert_nothing_waits(&rig);
    rig_free(&rig);
}
END_TEST

START_TEST(tee_dropped_while_it_waits_leaves_nothing_waiting)
{
    /* Waiting to read: the stream is open and has nothing more. */
    struct rig rig;
    rig_init(&rig, SINKS, false);
    start_peers(&rig, send_and_hold, 1000);
    ax_result rc = run_tee(&rig, 2);
    ck_assert_msg(rc == 1, "expected the tee to wait for more of the stream; it finished with %lld",
                  (long long)rc);
    assert_nothing_waits(&rig);
    unstick(&rig);
    join_peers(&rig);
    rig_free(&rig);

    /* Waiting to write: a sink that reads nothing has a full socket. */
    struct rig full;
    rig_init(&full, 2, true);
    full.readers[0].held = true;
    start_peers(&full, send_and_hold, 32 * 1024);
    uint64_t deadline = ax_now_ns() + PROMPT_MS * AX_NS_PER_MS;
    while (atomic_load(&full.writer.sent) < 32 * 1024 && ax_now_ns() < deadline)
        ax_sleep_ns(AX_NS_PER_MS); /* all of it in the source before the tee starts */
    rc = run_tee(&full, 3);
    ck_assert_msg(rc == 1, "expected the tee to wait for the slow sink; it finished with %lld",
                  (long long)rc);
    assert_nothing_waits(&full);
    atomic_store(&full.readers[0].release, true);
    unstick(&full);
    join_peers(&full);
    rig_free(&full);
}
END_TEST

START_TEST(tee_refuses_what_it_cannot_do)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    enum { MANY = TEE_MAX_SINKS + 1 };
    int fds[MANY + 1][2];
    struct ax_source *s[MANY + 1];
    for (int i = 0; i <= MANY; i++) {
        axt_socketpair(fds[i]);
        ck_assert_int_eq(ax_source_open(executor, fds[i][0], &s[i]), 0);
    }
    struct ax_source *from = s[MANY];
    struct tee tee;
    ck_assert_int_eq(tee_init(&tee, from, s, 0), -EINVAL);
    ck_assert_int_eq(tee_init(&tee, from, s, MANY), -EINVAL);
    struct ax_source *twice[] = {s[0], s[1], s[0]};
    ck_assert_int_eq(tee_init(&tee, from, twice, 3), -EINVAL);
    struct ax_source *itself[] = {s[0], from};
    ck_assert_int_eq(tee_init(&tee, from, itself, 2), -EINVAL);
    ck_assert_int_eq(tee_init(&tee, from, s, TEE_MAX_SINKS), 0); /* the most it takes */
    ax_future_drop(&tee.base);
    for (int i = 0; i <= MANY; i++) {
        ck_assert_msg(s[i]->refs == 1, "a dropped tee that never ran holds a source");
        ax_source_close(s[i]);
        close(fds[i][1]);
    }
    ax_executor_free(executor);
}
END_TEST

static Suite *tee_suite(void)
{
    Suite *s = suite_create("04-challenge-tee");
    TCase *tc = axt_tcase("tee");
    tcase_add_test(tc, tee_copies_every_byte_to_every_sink_and_passes_the_end_on);
    tcase_add_test(tc, tee_of_an_empty_stream_shuts_every_sink_down);
    tcase_add_test(tc, tee_lets_a_fast_sink_run_ahead_of_a_slow_one);
    tcase_add_test(tc, tee_reads_no_further_ahead_of_the_slowest_sink_than_its_window);
    tcase_add_test(tc, tee_drops_a_sink_that_fails_and_serves_the_others);
    tcase_add_test(tc, tee_fails_with_the_last_error_when_every_sink_has_failed);
    tcase_add_test(tc, tee_passes_a_read_error_on_without_shutting_the_sinks_down);
    tcase_add_test(tc, tee_dropped_while_it_waits_leaves_nothing_waiting);
    tcase_add_test(tc, tee_refuses_what_it_cannot_do);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(tee_suite)
