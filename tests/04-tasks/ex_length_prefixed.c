/* Exercise 04-length-prefixed: frame_read reads exactly one frame, through short reads
 * and waits, and reports every way a frame can go wrong. */
#include "axtest.h"
#include "length_prefixed.h"

#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reactor.h"
#include "ax/source.h"
#include "ax/task.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The task under test: one frame_read, with its polls counted. */
struct probe {
    struct ax_future base;
    struct frame_read frame;
    int *polls; /* the test's: it outlives the task */
};

static ax_result probe_poll(struct ax_future *self, struct ax_context *cx)
{
    struct probe *p = (struct probe *)self;
    ++*p->polls;
    return ax_poll(&p->frame.base, cx);
}

static void probe_drop(struct ax_future *self)
{
    ax_future_drop(&((struct probe *)self)->frame.base);
}

static const struct ax_future_ops probe_ops = {.poll = probe_poll, .drop = probe_drop};

/* Polls a frame_read once and, if it is waiting, gives up on it: drops it and finishes
 * with 1. If the first poll finished the frame read, that result is the task's. */
struct quitter {
    struct ax_future base;
    struct frame_read frame;
    bool polled;
};

static ax_result quitter_poll(struct ax_future *self, struct ax_context *cx)
{
    struct quitter *q = (struct quitter *)self;
    if (q->polled) {
        ax_future_drop(&q->frame.base); /* abandoned while it waits */
        return 1;
    }
    q->polled = true;
    ax_result rc = ax_poll(&q->frame.base, cx);
    if (rc != AX_PENDING) {
        ax_future_drop(&q->frame.base);
        return rc;
    }
    struct ax_waker me = ax_waker_clone(cx); /* come back at once, to give up */
    ax_wake(&me);
    return AX_PENDING;
}

static const struct ax_future_ops quitter_ops = {.poll = quitter_poll};

/* A socket pair: [0] blocking, for the test to write; [1] for frame_read, which gets it
 * as a source (see watch). */
static void make_pair(int fds[2])
{
    axt_socketpair(fds);
}

/* fd as a source of the executor's, which the test closes when done. */
static struct ax_source *watch(struct ax_executor *executor, int fd)
{
    struct ax_source *source;
    ck_assert_int_eq(ax_source_open(executor, fd, &source), 0);
    return source;
}

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

/* Reads one frame from the source into buf with a task and returns its result. */
static ax_result read_frame(struct ax_executor *executor, struct ax_source *source, char *buf,
                            size_t cap, int *polls)
{
    static int ignored;
    struct probe *p = ax_task_alloc(executor, sizeof *p);
    ck_assert_ptr_nonnull(p);
    p->base.ops = &probe_ops;
    p->polls = polls != NULL ? polls : &ignored;
    frame_read_init(&p->frame, source, buf, cap);
    return ax_block_on(executor, ax_task_spawn(&p->base));
}

static void write_frame(int fd, const char *body, uint32_t len)
{
    unsigned char header[4] = {len >> 24, len >> 16, len >> 8, len};
    ck_assert_int_eq(ax_write_all(fd, header, 4), 0);
    ck_assert_int_eq(ax_write_all(fd, body, strlen(body)), 0);
}

static void assert_result(ax_result got, ax_result want)
{
    ck_assert_msg(got == want, "frame_read finished with %lld (%s), expected %lld (%s)",
                  (long long)got, got < 0 ? ax_strerror((int)got) : "a length", (long long)want,
                  want < 0 ? ax_strerror((int)want) : "a length");
}

START_TEST(frame_read_reads_a_frame_that_is_already_there)
{
    int fds[2];
    make_pair(fds);
    write_frame(fds[0], "hello", 5);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char buf[64] = "";
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), 5);
    ck_assert_mem_eq(buf, "hello", 5);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

/* Writes a frame one byte at a time, a millisecond apart. */
static void *dribble(void *arg)
{
    int fd = *(int *)arg;
    static const char frame[] = "\0\0\0\x30"
                                "a frame that arrives one byte at a time, slowly.";
    for (size_t i = 0; i < sizeof frame - 1; i++) {
        ax_sleep_ns(AX_NS_PER_MS);
        if (ax_write_all(fd, frame + i, 1) < 0)
            break;
    }
    return NULL;
}

START_TEST(frame_read_waits_for_a_frame_that_arrives_a_byte_at_a_time)
{
    enum { FRAME_BYTES = 4 + 48 };
    int fds[2];
    make_pair(fds);
    pthread_t writer;
    ck_assert_int_eq(pthread_create(&writer, NULL, dribble, &fds[0]), 0);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char buf[64] = "";
    int polls = 0;
    ax_result rc = read_frame(executor, source, buf, sizeof buf, &polls);
    pthread_join(writer, NULL);
    assert_result(rc, 48);
    ck_assert_mem_eq(buf, "a frame that arrives one byte at a time, slowly.", 48);
    ck_assert_msg(polls >= 2, "polled %d times: it never waited", polls);
    ck_assert_msg(polls <= 3 * FRAME_BYTES,
                  "polled %d times for %d bytes: it is polled without being woken", polls,
                  FRAME_BYTES);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

START_TEST(frame_read_returns_an_empty_frame_as_length_zero)
{
    int fds[2];
    make_pair(fds);
    write_frame(fds[0], "", 0);
    write_frame(fds[0], "next", 4);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char buf[8];
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), 0);
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), 4);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

START_TEST(frame_read_reads_back_to_back_frames_one_at_a_time)
{
    int fds[2];
    make_pair(fds);
    write_frame(fds[0], "first", 5); /* both are in the socket before anything reads */
    write_frame(fds[0], "second!", 7);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char one[16] = "", two[16] = "";
    assert_result(read_frame(executor, source, one, sizeof one, NULL), 5);
    assert_result(read_frame(executor, source, two, sizeof two, NULL), 7);
    ck_assert_mem_eq(one, "first", 5);
    ck_assert_mem_eq(two, "second!", 7);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

START_TEST(frame_read_refuses_a_frame_longer_than_its_buffer_without_reading_it)
{
    int fds[2];
    make_pair(fds);
    write_frame(fds[0], "0123456789abcdef", 16);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char buf[8];
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), -EMSGSIZE);
    char next[4] = "";
    ck_assert_int_eq(ax_set_nonblocking(fds[1], false), 0);
    ck_assert_int_eq(ax_read_exact(fds[1], next, sizeof next, NULL), 0);
    ck_assert_msg(memcmp(next, "0123", 4) == 0,
                  "after the refused header the socket held '%.4s', not the body's start", next);
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

START_TEST(frame_read_reports_eof_before_the_first_byte)
{
    int fds[2];
    make_pair(fds);
    close(fds[0]);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char buf[8];
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), AX_EOF);
    ax_source_close(source);
    ax_executor_free(executor);
}
END_TEST

START_TEST(frame_read_reports_eof_in_the_middle_of_the_header)
{
    int fds[2];
    make_pair(fds);
    ck_assert_int_eq(ax_write_all(fds[0], "\0\0", 2), 0);
    close(fds[0]);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char buf[8];
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), AX_EOF);
    ax_source_close(source);
    ax_executor_free(executor);
}
END_TEST

START_TEST(frame_read_reports_eof_in_the_middle_of_the_body)
{
    int fds[2];
    make_pair(fds);
    write_frame(fds[0], "abc", 10); /* promises ten bytes, sends three */
    close(fds[0]);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    char buf[16];
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), AX_EOF);
    ax_source_close(source);
    ax_executor_free(executor);
}
END_TEST

START_TEST(frame_read_passes_a_read_error_on)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0); /* never connected */
    ck_assert_int_ge(fd, 0);
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fd);
    char buf[8];
    assert_result(read_frame(executor, source, buf, sizeof buf, NULL), -ENOTCONN);
    ax_source_close(source);
    ax_executor_free(executor);
}
END_TEST

START_TEST(frame_read_dropped_while_waiting_stops_waiting_on_the_socket)
{
    int fds[2];
    make_pair(fds);
    ck_assert_int_eq(ax_write_all(fds[0], "\0\0\0", 3), 0); /* a header, almost */
    struct ax_executor *executor = new_executor();
    struct ax_source *source = watch(executor, fds[1]);
    struct quitter *q = ax_task_alloc(executor, sizeof *q);
    q->base.ops = &quitter_ops;
    char buf[8];
    frame_read_init(&q->frame, source, buf, sizeof buf);
    ax_result rc = ax_block_on(executor, ax_task_spawn(&q->base));
    ck_assert_msg(rc == 1,
                  "expected the frame read to wait for the rest of the header; it "
                  "finished with %lld",
                  (long long)rc);
    ck_assert_msg(source->reader == NULL && source->refs == 1,
                  "the dropped frame read left a read future waiting on the socket");
    ax_source_close(source);
    ax_executor_free(executor);
    close(fds[0]);
}
END_TEST

static Suite *length_prefixed_suite(void)
{
    Suite *s = suite_create("04-length-prefixed");
    TCase *tc = axt_tcase("length_prefixed");
    tcase_add_test(tc, frame_read_reads_a_frame_that_is_already_there);
    tcase_add_test(tc, frame_read_waits_for_a_frame_that_arrives_a_byte_at_a_time);
    tcase_add_test(tc, frame_read_returns_an_empty_frame_as_length_zero);
    tcase_add_test(tc, frame_read_reads_back_to_back_frames_one_at_a_time);
    tcase_add_test(tc, frame_read_refuses_a_frame_longer_than_its_buffer_without_reading_it);
    tcase_add_test(tc, frame_read_reports_eof_before_the_first_byte);
    tcase_add_test(tc, frame_read_reports_eof_in_the_middle_of_the_header);
    tcase_add_test(tc, frame_read_reports_eof_in_the_middle_of_the_body);
    tcase_add_test(tc, frame_read_passes_a_read_error_on);
    tcase_add_test(tc, frame_read_dropped_while_waiting_stops_waiting_on_the_socket);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(length_prefixed_suite)
