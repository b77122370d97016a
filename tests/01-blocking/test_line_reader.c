/* The bounded line reader: lines in any pieces, CRLF, over-long lines, EOF. */
#include "axtest.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Feeds `text` into a socket one small piece at a time from its own thread, then
 * closes it, so that lines arrive split at every possible place. */
struct feeder {
    int fd;
    const char *text;
    size_t len;
    size_t piece;
};

static void *feed_thread(void *arg)
{
    struct feeder *f = arg;
    for (size_t off = 0; off < f->len; off += f->piece) {
        size_t n = f->len - off < f->piece ? f->len - off : f->piece;
        if (ax_write_all(f->fd, f->text + off, n) < 0)
            break;
    }
    close(f->fd);
    return NULL;
}

struct lines {
    int fds[2];
    pthread_t thread;
    struct feeder feeder;
    struct ax_line_reader reader;
};

static void start_lines(struct lines *l, const char *text, size_t len, size_t piece,
                        size_t max_line)
{
    axt_socketpair(l->fds);
    l->feeder = (struct feeder){.fd = l->fds[0], .text = text, .len = len, .piece = piece};
    pthread_create(&l->thread, NULL, feed_thread, &l->feeder);
    ax_line_reader_init(&l->reader, l->fds[1], max_line);
}

static void finish_lines(struct lines *l)
{
    pthread_join(l->thread, NULL);
    ax_line_reader_free(&l->reader);
    close(l->fds[1]);
}

static void expect_line(struct ax_line_reader *reader, const char *want)
{
    char *line = NULL;
    ssize_t n = ax_read_line(reader, &line);
    ck_assert_msg(n >= 0, "read_line failed: %s (expected \"%s\")", ax_strerror((int)n), want);
    ck_assert_str_eq(line, want);
    ck_assert_int_eq(n, (ssize_t)strlen(want));
}

static void expect_result(struct ax_line_reader *reader, int want)
{
    char *line = NULL;
    ssize_t n = ax_read_line(reader, &line);
    ck_assert_msg(n == want, "read_line returned %zd, expected %d (%s)", n, want,
                  ax_strerror(want));
}

START_TEST(read_line_returns_each_line_whatever_pieces_it_arrives_in)
{
    static const char text[] = "first\nsecond line\n\nfourth\r\nlast\n";
    size_t piece = (size_t)_i + 1; /* one run per piece size: 1, 2, 3, 7 bytes ... */
    struct lines l;
    start_lines(&l, text, sizeof text - 1, piece, 64);
    expect_line(&l.reader, "first");
    expect_line(&l.reader, "second line");
    expect_line(&l.reader, "");
    expect_line(&l.reader, "fourth");
    expect_line(&l.reader, "last");
    expect_result(&l.reader, AX_EOF);
    expect_result(&l.reader, AX_EOF); /* and it stays at EOF */
    finish_lines(&l);
}
END_TEST

START_TEST(read_line_returns_a_last_line_without_newline_then_eof)
{
    static const char text[] = "one\ntwo";
    struct lines l;
    start_lines(&l, text, sizeof text - 1, 100, 64);
    expect_line(&l.reader, "one");
    expect_line(&l.reader, "two");
    expect_result(&l.reader, AX_EOF);
    finish_lines(&l);
}
END_TEST

START_TEST(read_line_accepts_a_line_of_exactly_the_maximum)
{
    static const char text[] = "12345678\n12345678\r\n";
    struct lines l;
    start_lines(&l, text, sizeof text - 1, 3, 8);
    expect_line(&l.reader, "12345678");
    expect_line(&l.reader, "12345678");
    expect_result(&l.reader, AX_EOF);
    finish_lines(&l);
}
END_TEST

START_TEST(read_line_reports_an_over_long_line_once_and_resumes_after_it)
{
    static const char text[] = "ok\n123456789\nstill ok\n";
    struct lines l;
    start_lines(&l, text, sizeof text - 1, (size_t)_i + 1, 8);
    expect_line(&l.reader, "ok");
    expect_result(&l.reader, -EMSGSIZE);
    expect_line(&l.reader, "still ok");
    expect_result(&l.reader, AX_EOF);
    finish_lines(&l);
}
END_TEST

START_TEST(read_line_never_buffers_more_than_its_bound_for_an_endless_line)
{
    enum { LEN = 16 << 20, MAX = 1000 };
    char *flood = malloc(LEN); /* 16 MiB without a single newline */
    memset(flood, 'z', LEN);
    struct lines l;
    start_lines(&l, flood, LEN, 64 * 1024, MAX);
    expect_result(&l.reader, -EMSGSIZE);
    expect_result(&l.reader, AX_EOF); /* the rest of the line is read and dropped */
    ck_assert_msg(l.reader.buf.cap <= 4 * (MAX + 4096), "the buffer grew to %zu bytes",
                  l.reader.buf.cap);
    finish_lines(&l);
    free(flood);
}
END_TEST

START_TEST(read_line_reports_a_last_line_over_the_bound_even_without_newline)
{
    static const char text[] = "ok\n123456789";
    struct lines l;
    start_lines(&l, text, sizeof text - 1, (size_t)_i + 1, 8);
    expect_line(&l.reader, "ok");
    expect_result(&l.reader, -EMSGSIZE);
    expect_result(&l.reader, AX_EOF);
    finish_lines(&l);
}
END_TEST

START_TEST(take_buffered_hands_over_the_bytes_after_the_last_line_once)
{
    static const char text[] = "HEAD\n\nbody bytes";
    struct lines l;
    start_lines(&l, text, sizeof text - 1, sizeof text, 64);
    expect_line(&l.reader, "HEAD");
    expect_line(&l.reader, "");
    pthread_join(l.thread, NULL); /* everything has been sent (and the socket closed) */
    char *bytes;
    size_t n = ax_line_reader_take_buffered(&l.reader, &bytes);
    ck_assert_msg(n <= 10 && memcmp(bytes, "body bytes", n) == 0, "took %zu bytes", n);
    /* What the reader had not yet read is still on the socket, after what it took. */
    char rest[16];
    size_t more = axt_read_until_eof(l.fds[1], rest, sizeof rest);
    ck_assert_uint_eq(n + more, 10);
    ck_assert(memcmp(rest, "body bytes" + n, more) == 0);
    expect_result(&l.reader, AX_EOF); /* the taken bytes are not returned as a line */
    ax_line_reader_free(&l.reader);
    close(l.fds[1]);
}
END_TEST

static Suite *line_reader_suite(void)
{
    Suite *s = suite_create("01-line-reader");
    TCase *tc = axt_tcase("line-reader");
    tcase_add_loop_test(tc, read_line_returns_each_line_whatever_pieces_it_arrives_in, 0, 8);
    tcase_add_test(tc, read_line_returns_a_last_line_without_newline_then_eof);
    tcase_add_test(tc, read_line_accepts_a_line_of_exactly_the_maximum);
    tcase_add_loop_test(tc, read_line_reports_an_over_long_line_once_and_resumes_after_it, 0, 6);
    tcase_add_test(tc, read_line_never_buffers_more_than_its_bound_for_an_endless_line);
    tcase_add_loop_test(tc, read_line_reports_a_last_line_over_the_bound_even_without_newline, 0,
                        4);
    tcase_add_test(tc, take_buffered_hands_over_the_bytes_after_the_last_line_once);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(line_reader_suite)
