/* Challenge 06-challenge-cancel-safe-frames: frames survive their futures. A read or a
 * write dropped at any point (inside a header, inside a payload, with the socket full)
 * leaves the connection in step: the next read goes on with the same frame, and the
 * peer sees every frame whole and byte-exact.
 *
 * The connection is one end of an AF_UNIX stream pair; the test holds the other end,
 * blocking, and plays the peer. Futures live in the test's memory, so a test can poll
 * one, see it wait, and drop it as a timeout would. The executor's clock is paused:
 * `settle` polls a future until it can get no further with what the kernel holds now,
 * which on a socket pair is exactly what the peer has written so far. */
#include "axtest.h"
#include "framed.h"
#include "loopback.h"
#include "virtual_time.h"

#include "ax/error.h"
#include "ax/net.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS (1000ull * 1000)
enum { MAX_FRAME = 256 * 1024, BIG = 200 * 1024 };

struct conn {
    struct ax_executor *executor;
    int peer; /* the test's end: blocking */
    struct ax_source *source;
    struct framed fr;
    int fds_at_start;
};

static void conn_open(struct conn *c, size_t max_frame)
{
    *c = (struct conn){.fds_at_start = axt_open_fds()};
    int fds[2];
    axt_socketpair(fds);
    c->peer = fds[0];
    c->executor = axt_paused_executor();
    ck_assert_int_eq(ax_source_open(c->executor, fds[1], &c->source), 0);
    int rc = framed_init(&c->fr, c->source, max_frame);
    ck_assert_msg(rc == 0, "framed_init: %s", ax_strerror(rc));
}

static void conn_close(struct conn *c)
{
    framed_free(&c->fr);
    ck_assert_msg(c->source->reader == NULL && c->source->writer == NULL,
                  "a dropped future left something waiting on the socket");
    ck_assert_msg(c->source->refs == 1, "%u futures still hold the socket after being dropped",
                  c->source->refs - 1);
    ax_source_close(c->source);
    ax_executor_free(c->executor);
    if (c->peer >= 0)
        close(c->peer);
    int open = axt_open_fds();
    ck_assert_msg(open == c->fds_at_start, "%d descriptors were left open", open - c->fds_at_start);
}

/* ---- driving futures ------------------------------------------------------------------- */

/* Polls the test's future until it finishes or can get no further: a virtual millisecond
 * passes only once nothing is ready, so every byte the kernel holds has been offered. */
struct settler {
    struct ax_future base;
    struct ax_future *future; /* the test's: not dropped here */
    struct ax_sleep quiet;
    ax_result *out;
};

static ax_result settler_poll(struct ax_future *self, struct ax_context *cx)
{
    struct settler *s = (struct settler *)self;
    ax_result rc = ax_poll(s->future, cx);
    if (rc == AX_PENDING && ax_poll(&s->quiet.base, cx) == AX_PENDING)
        return AX_PENDING;
    *s->out = rc;
    return 0;
}

static void settler_drop(struct ax_future *self)
{
    ax_future_drop(&((struct settler *)self)->quiet.base);
}

static const struct ax_future_ops settler_ops = {.poll = settler_poll, .drop = settler_drop};

static ax_result settle(struct conn *c, struct ax_future *future)
{
    ax_result rc = AX_PENDING;
    struct settler *s = ax_task_alloc(c->executor, sizeof *s);
    ck_assert_ptr_nonnull(s);
    *s = (struct settler){.base = {&settler_ops}, .future = future, .out = &rc};
    ax_sleep_init(&s->quiet, 1 * MS);
    ck_assert_int_eq(ax_block_on(c->executor, ax_task_spawn(&s->base)), 0);
    return rc;
}

/* Polls the test's future to its end, however long the peer takes (no timer: the
 * executor waits for the socket). */
struct runner {
    struct ax_future base;
    struct ax_future *future;
    ax_result *out;
};

static ax_result runner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct runner *r = (struct runner *)self;
    ax_result rc = ax_poll(r->future, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    *r->out = rc;
    return 0;
}

static const struct ax_future_ops runner_ops = {.poll = runner_poll};

static ax_result run(struct conn *c, struct ax_future *future)
{
    ax_result rc = AX_PENDING;
    struct runner *r = ax_task_alloc(c->executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct runner){.base = {&runner_ops}, .future = future, .out = &rc};
    ck_assert_int_eq(ax_block_on(c->executor, ax_task_spawn(&r->base)), 0);
    return rc;
}

/* One read to its end, dropped after. */
static ax_result read_frame(struct conn *c, char *buf)
{
    struct framed_read r;
    framed_read_init(&r, &c->fr, buf, MAX_FRAME);
    ax_result rc = run(c, &r.base);
    ax_future_drop(&r.base);
    return rc;
}

static ax_result write_frame(struct conn *c, const void *payload, size_t len)
{
    struct framed_write w;
    framed_write_init(&w, &c->fr, payload, len);
    ax_result rc = run(c, &w.base);
    ax_future_drop(&w.base);
    return rc;
}

/* ---- the peer --------------------------------------------------------------------------- */

static void put_header(unsigned char *h, uint32_t len)
{
    h[0] = len >> 24, h[1] = len >> 16, h[2] = len >> 8, h[3] = len;
}

static void peer_send(struct conn *c, const void *bytes, size_t n)
{
    int rc = ax_write_all(c->peer, bytes, n);
    ck_assert_msg(rc == 0, "the peer's write: %s", ax_strerror(rc));
}

/* A whole frame, header and payload, in one buffer the caller frees. */
static unsigned char *encode(const void *payload, uint32_t len, size_t *size)
{
    *size = FRAMED_HEADER + (size_t)len;
    unsigned char *frame = malloc(*size);
    ck_assert_ptr_nonnull(frame);
    put_header(frame, len);
    if (len > 0)
        memcpy(frame + FRAMED_HEADER, payload, len);
    return frame;
}

static void peer_send_frame(struct conn *c, const char *payload, uint32_t len)
{
    size_t size;
    unsigned char *frame = encode(payload, len, &size);
    peer_send(c, frame, size);
    free(frame);
}

/* A payload whose bytes tell their position apart, so a lost or doubled byte shows. */
static char *pattern(size_t len, unsigned seed)
{
    char *p = malloc(len > 0 ? len : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)((i * 131 + seed * 7 + i / 251) & 0xff);
    return p;
}

/* The bytes the peer received, compared whole with what was expected. */
static void assert_bytes(const char *what, const void *got, const void *want, size_t len)
{
    if (memcmp(got, want, len) == 0)
        return;
    size_t i = 0;
    while (((const unsigned char *)got)[i] == ((const unsigned char *)want)[i])
        i++;
    ck_abort_msg("%s: byte %zu of %zu is 0x%02x, expected 0x%02x", what, i, len,
                 ((const unsigned char *)got)[i], ((const unsigned char *)want)[i]);
}

/* The peer reading `want` bytes on a thread of its own, while the executor writes. */
struct drain {
    pthread_t thread;
    int fd;
    char *buf;
    size_t want, got;
    int rc;
};

static void *drain_run(void *arg)
{
    struct drain *d = arg;
    d->rc = ax_read_exact(d->fd, d->buf, d->want, &d->got);
    return NULL;
}

static void drain_start(struct drain *d, int fd, size_t want)
{
    *d = (struct drain){.fd = fd, .buf = malloc(want), .want = want};
    ck_assert_ptr_nonnull(d->buf);
    ck_assert_int_eq(pthread_create(&d->thread, NULL, drain_run, d), 0);
}

static void drain_finish(struct drain *d)
{
    pthread_join(d->thread, NULL);
    ck_assert_msg(d->rc == 0, "the peer read %zu of %zu bytes, then %s", d->got, d->want,
                  ax_strerror(d->rc));
}

/* A frame write with the socket too full for it: polled until it waits, then dropped. */
static void drop_write_mid_frame(struct conn *c, const char *payload, size_t len)
{
    struct framed_write w;
    framed_write_init(&w, &c->fr, payload, len);
    ax_result rc = settle(c, &w.base);
    ck_assert_msg(rc == AX_PENDING,
                  "a %zu-byte frame fit at once in a full socket (finished with %lld)", len,
                  (long long)rc);
    ax_future_drop(&w.base);
    size_t unsent = framed_unsent(&c->fr);
    ck_assert_msg(unsent > 0 && unsent < FRAMED_HEADER + len,
                  "after the write was dropped mid-frame the outbox holds %zu of the frame's %zu "
                  "bytes; expected the unsent rest of it",
                  unsent, FRAMED_HEADER + len);
}

static const char *describe(ax_result rc)
{
    if (rc == AX_PENDING)
        return "still waiting";
    return rc < 0 ? ax_strerror((int)rc) : "a length";
}

static void assert_result(const char *what, ax_result got, ax_result want)
{
    if (got == want)
        return;
    if (want == AX_PENDING)
        ck_abort_msg("%s finished with %lld (%s); expected it to wait", what, (long long)got,
                     describe(got));
    ck_abort_msg("%s finished with %lld (%s), expected %lld (%s)", what, (long long)got,
                 describe(got), (long long)want, describe(want));
}

static char inbox[MAX_FRAME];

/* ---- reading ---------------------------------------------------------------------------- */

START_TEST(a_frame_is_read_whole)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    peer_send_frame(&c, "hello, frames", 13);
    assert_result("the read", read_frame(&c, inbox), 13);
    assert_bytes("the payload", inbox, "hello, frames", 13);
    conn_close(&c);
}
END_TEST

START_TEST(back_to_back_frames_are_read_one_per_future)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    peer_send_frame(&c, "first", 5);
    peer_send_frame(&c, "", 0);
    peer_send_frame(&c, "third!", 6);
    assert_result("the first read", read_frame(&c, inbox), 5);
    assert_bytes("the first payload", inbox, "first", 5);
    assert_result("the empty frame's read", read_frame(&c, inbox), 0);
    assert_result("the third read", read_frame(&c, inbox), 6);
    assert_bytes("the third payload", inbox, "third!", 6);
    conn_close(&c);
}
END_TEST

START_TEST(a_frame_of_exactly_the_limit_is_read)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    char *payload = pattern(MAX_FRAME, 1);
    size_t size;
    unsigned char *frame = encode(payload, MAX_FRAME, &size);
    struct framed_read r;
    framed_read_init(&r, &c.fr, inbox, MAX_FRAME);
    /* More than the socket holds: the peer writes a piece, the read takes it. */
    for (size_t sent = 0; sent < size;) {
        size_t piece = size - sent < 32 * 1024 ? size - sent : 32 * 1024;
        peer_send(&c, frame + sent, piece);
        sent += piece;
        ax_result rc = settle(&c, &r.base);
        if (sent < size)
            assert_result("the read of a frame not yet all sent", rc, AX_PENDING);
        else
            assert_result("the read of a frame at the limit", rc, MAX_FRAME);
    }
    ax_future_drop(&r.base);
    assert_bytes("the payload", inbox, payload, MAX_FRAME);
    free(frame);
    free(payload);
    conn_close(&c);
}
END_TEST

START_TEST(a_read_waits_for_a_frame_that_has_not_come)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    struct framed_read r;
    framed_read_init(&r, &c.fr, inbox, MAX_FRAME);
    assert_result("a read with nothing sent", settle(&c, &r.base), AX_PENDING);
    peer_send_frame(&c, "late", 4);
    assert_result("the same read, once the frame came", settle(&c, &r.base), 4);
    ax_future_drop(&r.base);
    assert_bytes("the payload", inbox, "late", 4);
    conn_close(&c);
}
END_TEST

/* Sends the frame in two parts with a read dropped between them. */
static void drop_read_after(size_t first_part)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    static const char payload[] = "the frame that was interrupted";
    size_t size;
    unsigned char *frame = encode(payload, sizeof payload - 1, &size);
    peer_send(&c, frame, first_part);
    struct framed_read r;
    framed_read_init(&r, &c.fr, inbox, MAX_FRAME);
    assert_result("a read of part of a frame", settle(&c, &r.base), AX_PENDING);
    ax_future_drop(&r.base); /* as a timeout around it would */
    peer_send(&c, frame + first_part, size - first_part);
    peer_send_frame(&c, "next", 4);
    assert_result("the read after the dropped one", read_frame(&c, inbox), sizeof payload - 1);
    assert_bytes("the interrupted frame", inbox, payload, sizeof payload - 1);
    assert_result("the frame after it", read_frame(&c, inbox), 4);
    assert_bytes("the frame after it", inbox, "next", 4);
    free(frame);
    conn_close(&c);
}

START_TEST(a_read_dropped_after_two_header_bytes_loses_nothing)
{
    drop_read_after(2);
}
END_TEST

START_TEST(a_read_dropped_after_the_whole_header_goes_on_with_the_same_frame)
{
    drop_read_after(FRAMED_HEADER);
}
END_TEST

START_TEST(a_read_dropped_mid_payload_goes_on_with_the_same_frame)
{
    drop_read_after(FRAMED_HEADER + 11);
}
END_TEST

START_TEST(reads_dropped_at_every_byte_of_a_frame_still_deliver_it_whole)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    static const char payload[] = "one byte at a time";
    size_t size;
    unsigned char *frame = encode(payload, sizeof payload - 1, &size);
    ax_result rc = AX_PENDING;
    for (size_t i = 0; i < size; i++) {
        peer_send(&c, frame + i, 1);
        struct framed_read r;
        framed_read_init(&r, &c.fr, inbox, MAX_FRAME);
        rc = settle(&c, &r.base);
        ax_future_drop(&r.base);
        if (i + 1 < size)
            ck_assert_msg(rc == AX_PENDING, "with %zu of %zu bytes sent, a read finished with %lld",
                          i + 1, size, (long long)rc);
    }
    assert_result("the read after the last byte", rc, sizeof payload - 1);
    assert_bytes("the payload", inbox, payload, sizeof payload - 1);
    free(frame);
    conn_close(&c);
}
END_TEST

START_TEST(a_read_dropped_while_waiting_leaves_nothing_on_the_socket)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    struct framed_read r;
    framed_read_init(&r, &c.fr, inbox, MAX_FRAME);
    assert_result("a read with nothing sent", settle(&c, &r.base), AX_PENDING);
    ax_future_drop(&r.base);
    conn_close(&c); /* checks that nothing waits and no reference is left */
}
END_TEST

/* ---- reading: errors ------------------------------------------------------------------- */

START_TEST(a_frame_over_the_limit_is_refused_with_emsgsize)
{
    struct conn c;
    conn_open(&c, 16);
    peer_send_frame(&c, "seventeen bytes!!", 17);
    assert_result("the read of an oversize frame", read_frame(&c, inbox), -EMSGSIZE);
    conn_close(&c);
}
END_TEST

START_TEST(after_an_oversize_frame_every_read_is_refused)
{
    struct conn c;
    conn_open(&c, 16);
    unsigned char header[FRAMED_HEADER];
    put_header(header, 1u << 31);
    peer_send(&c, header, sizeof header);
    peer_send_frame(&c, "fine", 4);
    assert_result("the read of the oversize header", read_frame(&c, inbox), -EMSGSIZE);
    assert_result("the read after it", read_frame(&c, inbox), -EMSGSIZE);
    conn_close(&c);
}
END_TEST

START_TEST(a_clean_end_between_frames_is_eof)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    peer_send_frame(&c, "last", 4);
    close(c.peer);
    c.peer = -1;
    assert_result("the read of the last frame", read_frame(&c, inbox), 4);
    assert_result("the read after it", read_frame(&c, inbox), AX_EOF);
    conn_close(&c);
}
END_TEST

START_TEST(an_end_inside_the_header_is_a_reset)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    peer_send(&c, "\0\0", 2);
    close(c.peer);
    c.peer = -1;
    assert_result("a read of half a header", read_frame(&c, inbox), -ECONNRESET);
    conn_close(&c);
}
END_TEST

START_TEST(an_end_inside_the_payload_is_a_reset_even_after_a_dropped_read)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    unsigned char header[FRAMED_HEADER];
    put_header(header, 10);
    peer_send(&c, header, sizeof header);
    peer_send(&c, "abc", 3);
    struct framed_read r;
    framed_read_init(&r, &c.fr, inbox, MAX_FRAME);
    assert_result("a read of part of a frame", settle(&c, &r.base), AX_PENDING);
    ax_future_drop(&r.base); /* the bytes it took are the connection's, not gone */
    close(c.peer);
    c.peer = -1;
    assert_result("the read after the peer left mid-frame", read_frame(&c, inbox), -ECONNRESET);
    conn_close(&c);
}
END_TEST

START_TEST(a_read_passes_a_socket_error_on)
{
    int fds_at_start = axt_open_fds();
    struct ax_executor *executor = axt_paused_executor();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0); /* never connected */
    ck_assert_int_ge(fd, 0);
    struct conn c = {.executor = executor, .peer = -1, .fds_at_start = fds_at_start};
    ck_assert_int_eq(ax_source_open(executor, fd, &c.source), 0);
    ck_assert_int_eq(framed_init(&c.fr, c.source, 64), 0);
    assert_result("a read on a socket never connected", read_frame(&c, inbox), -ENOTCONN);
    conn_close(&c);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    struct conn c;
    conn_open(&c, 64);
    struct framed other;
    ck_assert_msg(framed_init(&other, c.source, 0) == -EINVAL, "a max_frame of 0 was accepted");
    ck_assert_msg(framed_init(&other, NULL, 64) == -EINVAL, "a NULL source was accepted");
    ck_assert_msg(framed_init(&other, c.source, (size_t)UINT32_MAX + 1) == -EINVAL,
                  "a max_frame that no header can announce was accepted");
    char small[8];
    struct framed_read r;
    framed_read_init(&r, &c.fr, small, sizeof small);
    assert_result("a read into less room than max_frame", run(&c, &r.base), -EINVAL);
    ax_future_drop(&r.base);
    conn_close(&c);
}
END_TEST

/* ---- writing ---------------------------------------------------------------------------- */

START_TEST(a_frame_is_written_as_a_big_endian_length_then_its_payload)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    char *payload = pattern(300, 2);
    assert_result("the write", write_frame(&c, payload, 300), 0);
    assert_result("an empty frame's write", write_frame(&c, "", 0), 0);
    size_t size;
    unsigned char *want = encode(payload, 300, &size);
    unsigned char got[FRAMED_HEADER + 300 + FRAMED_HEADER];
    ck_assert_int_eq(ax_read_exact(c.peer, got, sizeof got, NULL), 0);
    assert_bytes("the frame on the wire", got, want, size);
    assert_bytes("the empty frame on the wire", got + size, "\0\0\0\0", FRAMED_HEADER);
    ck_assert_uint_eq(framed_unsent(&c.fr), 0);
    free(want);
    free(payload);
    conn_close(&c);
}
END_TEST

START_TEST(a_payload_over_the_limit_is_refused_and_nothing_is_sent)
{
    struct conn c;
    conn_open(&c, 16);
    assert_result("the write of 17 bytes", write_frame(&c, "seventeen bytes!!", 17), -EMSGSIZE);
    ck_assert_uint_eq(framed_unsent(&c.fr), 0);
    assert_result("the write of 16 bytes", write_frame(&c, "sixteen bytes!!!", 16), 0);
    unsigned char got[FRAMED_HEADER + 16];
    ck_assert_int_eq(ax_read_exact(c.peer, got, sizeof got, NULL), 0);
    assert_bytes("the only frame on the wire", got, "\0\0\0\x10sixteen bytes!!!", sizeof got);
    conn_close(&c);
}
END_TEST

/* The peer must see both frames whole, in order, and nothing else. */
static void assert_two_frames(struct drain *d, const char *one, size_t len_one, const char *two,
                              size_t len_two)
{
    size_t size_one, size_two;
    unsigned char *first = encode(one, (uint32_t)len_one, &size_one);
    unsigned char *second = encode(two, (uint32_t)len_two, &size_two);
    ck_assert_uint_eq(d->got, size_one + size_two);
    assert_bytes("the frame whose write was dropped", d->buf, first, size_one);
    assert_bytes("the frame written after it", d->buf + size_one, second, size_two);
    free(first);
    free(second);
}

START_TEST(the_next_write_sends_the_rest_of_a_dropped_frame_first)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    axt_tiny_sndbuf(ax_source_fd(c.source));
    char *big = pattern(BIG, 3);
    drop_write_mid_frame(&c, big, BIG);
    struct drain d;
    drain_start(&d, c.peer, FRAMED_HEADER + BIG + FRAMED_HEADER + 5);
    assert_result("the write after the dropped one", write_frame(&c, "after", 5), 0);
    drain_finish(&d);
    assert_two_frames(&d, big, BIG, "after", 5);
    ck_assert_uint_eq(framed_unsent(&c.fr), 0);
    free(d.buf);
    free(big);
    conn_close(&c);
}
END_TEST

START_TEST(a_flush_sends_the_rest_of_a_dropped_frame)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    axt_tiny_sndbuf(ax_source_fd(c.source));
    char *big = pattern(BIG, 4);
    drop_write_mid_frame(&c, big, BIG);
    struct drain d;
    drain_start(&d, c.peer, FRAMED_HEADER + BIG);
    struct framed_write f;
    framed_flush_init(&f, &c.fr);
    assert_result("the flush", run(&c, &f.base), 0);
    ax_future_drop(&f.base);
    drain_finish(&d);
    size_t size;
    unsigned char *want = encode(big, BIG, &size);
    assert_bytes("the frame on the wire", d.buf, want, size);
    ck_assert_uint_eq(framed_unsent(&c.fr), 0);
    free(want);
    free(d.buf);
    free(big);
    conn_close(&c);
}
END_TEST

START_TEST(a_flush_of_an_empty_outbox_finishes_at_once)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    struct framed_write f;
    framed_flush_init(&f, &c.fr);
    assert_result("a flush with nothing to send", settle(&c, &f.base), 0);
    ax_future_drop(&f.base);
    conn_close(&c);
}
END_TEST

/* The peer reading until the end of the stream on a thread of its own. */
static void *drain_to_eof_run(void *arg)
{
    struct drain *d = arg;
    d->got = axt_read_until_eof(d->fd, d->buf, d->want);
    return NULL;
}

START_TEST(writes_dropped_again_and_again_never_tear_a_frame)
{
    enum { FRAMES = 6 };
    struct conn c;
    conn_open(&c, MAX_FRAME);
    axt_tiny_sndbuf(ax_source_fd(c.source));
    char *payload[FRAMES];
    size_t room = 0;
    for (int i = 0; i < FRAMES; i++) {
        payload[i] = pattern(BIG + (size_t)i, 10 + (unsigned)i);
        room += FRAMED_HEADER + BIG + (size_t)i;
    }
    struct drain d = {.fd = c.peer, .buf = malloc(room + 1), .want = room + 1};
    ck_assert_ptr_nonnull(d.buf);
    ck_assert_int_eq(pthread_create(&d.thread, NULL, drain_to_eof_run, &d), 0);
    /* Every write is dropped as soon as it waits: while it still sends the rest of the
     * frame before (then its own never started, and is offered again), or in the middle
     * of its own. */
    int drops = 0, own = 0;
    for (int i = 0; i < FRAMES; i++) {
        for (int offers = 0;; offers++) {
            ck_assert_msg(offers < 100000, "frame %d was offered %d times and never started", i,
                          offers);
            struct framed_write w;
            framed_write_init(&w, &c.fr, payload[i], BIG + (size_t)i);
            ax_result rc = settle(&c, &w.base);
            bool started = w.started;
            ax_future_drop(&w.base);
            ck_assert_msg(rc == AX_PENDING || rc == 0, "write %d finished with %s", i,
                          ax_strerror((int)rc));
            ck_assert_msg(rc == AX_PENDING || started,
                          "write %d finished and says it never started", i);
            drops += rc == AX_PENDING;
            own += rc == AX_PENDING && started;
            if (started)
                break;
        }
    }
    struct framed_write f;
    framed_flush_init(&f, &c.fr);
    assert_result("the flush at the end", run(&c, &f.base), 0);
    ax_future_drop(&f.base);
    ck_assert_int_eq(shutdown(ax_source_fd(c.source), SHUT_WR), 0);
    pthread_join(d.thread, NULL);
    size_t at = 0;
    for (int i = 0; i < FRAMES; i++) {
        size_t size;
        unsigned char *want = encode(payload[i], BIG + (uint32_t)i, &size);
        ck_assert_msg(d.got - at >= size, "the stream ends inside frame %d", i);
        char what[32];
        snprintf(what, sizeof what, "frame %d", i);
        assert_bytes(what, d.buf + at, want, size);
        at += size;
        free(want);
    }
    ck_assert_msg(at == d.got, "%zu bytes more than the frames arrived", d.got - at);
    ck_assert_msg(own > 0, "no write was dropped in the middle of its own frame (%d drops)", drops);
    for (int i = 0; i < FRAMES; i++)
        free(payload[i]);
    free(d.buf);
    conn_close(&c);
}
END_TEST

START_TEST(a_write_dropped_before_its_first_poll_sends_nothing)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    struct framed_write w;
    framed_write_init(&w, &c.fr, "never", 5);
    ax_future_drop(&w.base); /* lost a select before it was polled */
    assert_result("the write after it", write_frame(&c, "sent", 4), 0);
    unsigned char got[FRAMED_HEADER + 4];
    ck_assert_int_eq(ax_read_exact(c.peer, got, sizeof got, NULL), 0);
    assert_bytes("the only frame on the wire", got, "\0\0\0\x04sent", sizeof got);
    ck_assert_uint_eq(framed_unsent(&c.fr), 0);
    conn_close(&c);
}
END_TEST

START_TEST(a_write_passes_a_socket_error_on)
{
    struct conn c;
    conn_open(&c, MAX_FRAME);
    close(c.peer);
    c.peer = -1;
    assert_result("a write to a peer that left", write_frame(&c, "anyone?", 7), -EPIPE);
    conn_close(&c);
}
END_TEST

static Suite *framed_suite(void)
{
    Suite *s = suite_create("06-challenge-cancel-safe-frames");
    TCase *tc = axt_tcase("framed");
    tcase_add_test(tc, a_frame_is_read_whole);
    tcase_add_test(tc, back_to_back_frames_are_read_one_per_future);
    tcase_add_test(tc, a_frame_of_exactly_the_limit_is_read);
    tcase_add_test(tc, a_read_waits_for_a_frame_that_has_not_come);
    tcase_add_test(tc, a_read_dropped_after_two_header_bytes_loses_nothing);
    tcase_add_test(tc, a_read_dropped_after_the_whole_header_goes_on_with_the_same_frame);
    tcase_add_test(tc, a_read_dropped_mid_payload_goes_on_with_the_same_frame);
    tcase_add_test(tc, reads_dropped_at_every_byte_of_a_frame_still_deliver_it_whole);
    tcase_add_test(tc, a_read_dropped_while_waiting_leaves_nothing_on_the_socket);
    tcase_add_test(tc, a_frame_over_the_limit_is_refused_with_emsgsize);
    tcase_add_test(tc, after_an_oversize_frame_every_read_is_refused);
    tcase_add_test(tc, a_clean_end_between_frames_is_eof);
    tcase_add_test(tc, an_end_inside_the_header_is_a_reset);
    tcase_add_test(tc, an_end_inside_the_payload_is_a_reset_even_after_a_dropped_read);
    tcase_add_test(tc, a_read_passes_a_socket_error_on);
    tcase_add_test(tc, bad_arguments_are_refused);
    tcase_add_test(tc, a_frame_is_written_as_a_big_endian_length_then_its_payload);
    tcase_add_test(tc, a_payload_over_the_limit_is_refused_and_nothing_is_sent);
    tcase_add_test(tc, the_next_write_sends_the_rest_of_a_dropped_frame_first);
    tcase_add_test(tc, a_flush_sends_the_rest_of_a_dropped_frame);
    tcase_add_test(tc, a_flush_of_an_empty_outbox_finishes_at_once);
    tcase_add_test(tc, writes_dropped_again_and_again_never_tear_a_frame);
    tcase_add_test(tc, a_write_dropped_before_its_first_poll_sends_nothing);
    tcase_add_test(tc, a_write_passes_a_socket_error_on);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(framed_suite)
