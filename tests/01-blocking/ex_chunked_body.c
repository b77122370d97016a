/* Challenge 01-challenge-chunked: chunked_read decodes HTTP/1.1's chunked coding from a
 * blocking socket, hands back exactly what it read past the body, refuses every
 * malformed or oversized body without waiting for more, and leaves the caller's body
 * untouched when it fails.
 *
 * The bytes come from a feeder thread on the other end of a socket pair: all at once
 * or one at a time, then either the end of the stream or silence (the stream held
 * open, as a server that keeps the connection does). The reading end times out after
 * a few seconds, so a chunked_read that waits for bytes that will never come fails
 * with -ETIMEDOUT instead of hanging the test. */
#include "axtest.h"
#include "chunked_body.h"

#include "ax/buf.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/net.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { PATIENCE_S = 3, NO_LIMIT = 64 << 20 };

/* One stream: a feeder thread writes `bytes` into fds[0]; chunked_read reads fds[1]. */
struct feed {
    int fds[2];
    const char *bytes;
    size_t len;
    bool trickle; /* a byte at a time, so every read finds one */
    bool hold_open; /* no end of stream after the last byte */
    pthread_t thread;
    bool joined;
};

static void *feed_bytes(void *arg)
{
    struct feed *f = arg;
    size_t step = f->trickle ? 1 : f->len;
    for (size_t done = 0; done < f->len; done += step) {
        if (ax_write_all(f->fds[0], f->bytes + done, step) < 0)
            return NULL; /* the reader has gone: the test is over */
        if (f->trickle)
            ax_sleep_ns(100 * AX_NS_PER_US);
    }
    if (!f->hold_open)
        shutdown(f->fds[0], SHUT_WR);
    return NULL;
}

static void feed_start(struct feed *f, const char *bytes, size_t len)
{
    axt_socketpair(f->fds);
    struct timeval patience = {.tv_sec = PATIENCE_S};
    setsockopt(f->fds[1], SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    f->bytes = bytes;
    f->len = len;
    ck_assert_int_eq(pthread_create(&f->thread, NULL, feed_bytes, f), 0);
}

/* Ends the feed: a feeder still writing into a reader that stopped gets EPIPE. */
static void feed_stop(struct feed *f)
{
    shutdown(f->fds[1], SHUT_RDWR);
    if (!f->joined)
        pthread_join(f->thread, NULL);
    close(f->fds[0]);
    close(f->fds[1]);
}

/* After a feeder that holds the stream open has written everything: what is left in
 * the stream, appended to `into`. The feeder is done, so the count queued is all. */
static void take_rest(struct feed *f, struct ax_buf *into)
{
    pthread_join(f->thread, NULL);
    f->joined = true;
    int queued = 0;
    ck_assert_int_eq(ioctl(f->fds[1], FIONREAD, &queued), 0);
    ck_assert_int_eq(ax_buf_reserve(into, (size_t)queued), 0);
    ck_assert_int_eq(ax_read_exact(f->fds[1], ax_buf_space(into), (size_t)queued, NULL), 0);
    ax_buf_commit(into, (size_t)queued);
}

static const char *result_text(ssize_t rc)
{
    return rc >= 0 ? "a length" : ax_strerror((int)rc);
}

static void assert_buf(const struct ax_buf *buf, const char *what, const char *want, size_t len)
{
    ck_assert_msg(ax_buf_len(buf) == len, "%s holds %zu bytes, expected %zu", what, ax_buf_len(buf),
                  len);
    ck_assert_msg(len == 0 || memcmp(ax_buf_data(buf), want, len) == 0,
                  "%s holds other bytes than expected", what);
}

/* Decodes `input` (a C string) with an empty carry; expects the body `want`. The
 * stream is held open after the input, so a chunked_read that waits past the body
 * times out. Whatever followed the body must come back as `after`, from carry and
 * then the stream. */
static void assert_decodes(const char *input, const char *want, const char *after, bool trickle)
{
    struct feed f = {.trickle = trickle, .hold_open = true};
    feed_start(&f, input, strlen(input));
    struct ax_buf carry = AX_BUF_INIT, body = AX_BUF_INIT;
    ssize_t rc = chunked_read(f.fds[1], &carry, NO_LIMIT, &body);
    ck_assert_msg(rc == (ssize_t)strlen(want),
                  "for %s, chunked_read returned %zd (%s), expected %zu", axt_quoted(input), rc,
                  result_text(rc), strlen(want));
    assert_buf(&body, "the body", want, strlen(want));
    take_rest(&f, &carry);
    assert_buf(&carry, "what followed the body (carry, then the stream)", after, strlen(after));
    feed_stop(&f);
    ax_buf_free(&carry);
    ax_buf_free(&body);
}

/* Feeds `len` bytes, closed or held open, and expects chunked_read to fail with `want`,
 * leaving a body that held "kept" as it was. */
static void assert_fails_with(const char *input, size_t len, bool hold_open, size_t max_body,
                              ssize_t want)
{
    struct feed f = {.hold_open = hold_open};
    feed_start(&f, input, len);
    struct ax_buf carry = AX_BUF_INIT, body = AX_BUF_INIT;
    ck_assert_int_eq(ax_buf_append(&body, "kept", 4), 0);
    ssize_t rc = chunked_read(f.fds[1], &carry, max_body, &body);
    ck_assert_msg(rc == want, "for %s%s, chunked_read returned %zd (%s), expected %zd (%s)",
                  axt_quoted(input), hold_open ? " (stream held open)" : "", rc, result_text(rc),
                  want, result_text(want));
    ck_assert_msg(ax_buf_len(&body) == 4 && memcmp(ax_buf_data(&body), "kept", 4) == 0,
                  "for %s, the failed chunked_read changed the body it was given (%zu bytes)",
                  axt_quoted(input), ax_buf_len(&body));
    feed_stop(&f);
    ax_buf_free(&carry);
    ax_buf_free(&body);
}

static void assert_malformed(const char *input)
{
    assert_fails_with(input, strlen(input), false, NO_LIMIT, -EPROTO);
}

START_TEST(chunked_read_decodes_a_body_of_several_chunks)
{
    assert_decodes("5\r\nhello\r\n7\r\n, world\r\n1\r\n!\r\n0\r\n\r\n", "hello, world!", "", false);
}
END_TEST

START_TEST(chunked_read_decodes_a_body_that_arrives_byte_by_byte)
{
    assert_decodes(
        "4;a=b\r\nslow\r\n0003\r\n an\r\nA\r\nd steady.\n\r\n0\r\nX-End: yes\r\n\r\nnext",
        "slow and steady.\n", "next", true);
}
END_TEST

START_TEST(chunked_read_decodes_a_large_body_in_chunks_of_every_size)
{
    enum { LEN = 300 * 1000 };
    char *plain = malloc(LEN);
    for (size_t i = 0; i < LEN; i++)
        plain[i] = (char)('a' + (i * 7 + i / 97) % 26);
    struct ax_buf encoded = AX_BUF_INIT;
    for (size_t off = 0, size = 1; off < LEN; off += size, size = size * 5 % 20011 + 1) {
        if (size > LEN - off)
            size = LEN - off;
        char line[32];
        int n = snprintf(line, sizeof line, "%zx\r\n", size);
        ax_buf_append(&encoded, line, (size_t)n);
        ax_buf_append(&encoded, plain + off, size);
        ax_buf_append(&encoded, "\r\n", 2);
    }
    ax_buf_append(&encoded, "0\r\n\r\n", 6); /* with the NUL: a C string */
    char *want = malloc(LEN + 1);
    memcpy(want, plain, LEN);
    want[LEN] = '\0';
    assert_decodes(ax_buf_data(&encoded), want, "", false);
    free(want);
    free(plain);
    ax_buf_free(&encoded);
}
END_TEST

START_TEST(chunked_read_accepts_hex_in_either_case_leading_zeros_and_extensions)
{
    assert_decodes("a\r\n0123456789\r\n"
                   "0000000000000000000000000B\r\nabcdefghijk\r\n"
                   "1 ;name=value\r\nX\r\n"
                   "2\t; quoted=\"a;b\" ; flag\r\nYZ\r\n"
                   "0;last=yes\r\n\r\n",
                   "0123456789abcdefghijkXYZ", "", false);
}
END_TEST

START_TEST(chunked_read_skips_trailer_fields)
{
    assert_decodes("3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum:1234\r\n\r\nNEXT", "abc", "NEXT",
                   false);
}
END_TEST

START_TEST(chunked_read_accepts_bare_newlines)
{
    assert_decodes("3\nabc\n2\r\nde\n0\nA: b\n\n", "abcde", "", false);
}
END_TEST

START_TEST(chunked_read_returns_zero_for_an_empty_body)
{
    assert_decodes("0\r\n\r\nHTTP/1.1 200 OK\r\n", "", "HTTP/1.1 200 OK\r\n", false);
}
END_TEST

START_TEST(chunked_read_leaves_what_follows_the_body_for_the_next_read)
{
    /* Two bodies back to back and the start of a third response, in one write: the
     * first call may read far past its body, and must hand the rest over. */
    static const char input[] = "4\r\nfirs\r\n1\r\nt\r\n0\r\n\r\n"
                                "6\r\nsecond\r\n0\r\nTrailer: x\r\n\r\n"
                                "HTTP/1.1 204 No Content\r\n\r\n";
    struct feed f = {.hold_open = true};
    feed_start(&f, input, strlen(input));
    struct ax_buf carry = AX_BUF_INIT, one = AX_BUF_INIT, two = AX_BUF_INIT;
    ssize_t rc = chunked_read(f.fds[1], &carry, NO_LIMIT, &one);
    ck_assert_msg(rc == 5, "the first body: %zd (%s)", rc, result_text(rc));
    assert_buf(&one, "the first body", "first", 5);
    rc = chunked_read(f.fds[1], &carry, NO_LIMIT, &two);
    ck_assert_msg(rc == 6, "the second body, from what the first call left: %zd (%s)", rc,
                  result_text(rc));
    assert_buf(&two, "the second body", "second", 6);
    take_rest(&f, &carry);
    assert_buf(&carry, "what followed both bodies", "HTTP/1.1 204 No Content\r\n\r\n", 27);
    feed_stop(&f);
    ax_buf_free(&carry);
    ax_buf_free(&one);
    ax_buf_free(&two);
}
END_TEST

START_TEST(chunked_read_takes_its_first_bytes_from_carry)
{
    /* Half the body already read by someone else, the rest in the stream. */
    struct feed f = {.hold_open = true};
    static const char rest[] = "lo\r\n0\r\n\r\nafter";
    feed_start(&f, rest, strlen(rest));
    struct ax_buf carry = AX_BUF_INIT, body = AX_BUF_INIT;
    ax_buf_append(&carry, "5\r\nhel", 6);
    ssize_t rc = chunked_read(f.fds[1], &carry, NO_LIMIT, &body);
    ck_assert_msg(rc == 5, "chunked_read returned %zd (%s)", rc, result_text(rc));
    assert_buf(&body, "the body", "hello", 5);
    take_rest(&f, &carry);
    assert_buf(&carry, "what followed the body", "after", 5);
    feed_stop(&f);

    /* The whole body in carry: the stream, empty and open, must not be waited on. */
    struct feed g = {.hold_open = true};
    feed_start(&g, "", 0);
    ax_buf_clear(&carry);
    ax_buf_clear(&body);
    static const char whole[] = "2\r\nhi\r\n0\r\n\r\nNEXT";
    ax_buf_append(&carry, whole, strlen(whole));
    rc = chunked_read(g.fds[1], &carry, NO_LIMIT, &body);
    ck_assert_msg(rc == 2, "with the whole body in carry, chunked_read returned %zd (%s)", rc,
                  result_text(rc));
    assert_buf(&body, "the body", "hi", 2);
    assert_buf(&carry, "carry", "NEXT", 4);
    feed_stop(&g);
    ax_buf_free(&carry);
    ax_buf_free(&body);
}
END_TEST

START_TEST(chunked_read_appends_to_the_body_it_is_given)
{
    struct feed f = {0};
    static const char input[] = "4\r\n def\r\n0\r\n\r\n";
    feed_start(&f, input, strlen(input));
    struct ax_buf carry = AX_BUF_INIT, body = AX_BUF_INIT;
    ax_buf_append(&body, "abc", 3);
    ssize_t rc = chunked_read(f.fds[1], &carry, NO_LIMIT, &body);
    ck_assert_msg(rc == 4, "chunked_read returned %zd (%s), expected the 4 bytes it appended", rc,
                  result_text(rc));
    assert_buf(&body, "the body", "abc def", 7);
    feed_stop(&f);
    ax_buf_free(&carry);
    ax_buf_free(&body);
}
END_TEST

START_TEST(chunked_read_accepts_a_body_of_exactly_the_limit)
{
    struct feed f = {0};
    static const char input[] = "6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n";
    feed_start(&f, input, strlen(input));
    struct ax_buf carry = AX_BUF_INIT, body = AX_BUF_INIT;
    ssize_t rc = chunked_read(f.fds[1], &carry, 10, &body);
    ck_assert_msg(rc == 10, "chunked_read returned %zd (%s)", rc, result_text(rc));
    assert_buf(&body, "the body", "0123456789", 10);
    feed_stop(&f);
    ax_buf_free(&carry);
    ax_buf_free(&body);
}
END_TEST

START_TEST(chunked_read_refuses_a_chunk_that_passes_the_limit_before_reading_it)
{
    /* The second chunk's data never comes: the size line alone must settle it. */
    static const char over[] = "5\r\nhello\r\n6\r\n";
    assert_fails_with(over, strlen(over), true, 10, -EMSGSIZE);
    static const char huge[] = "FFFFFFFFFFFFFFFF\r\n"; /* 2^64 - 1: a number, and too big */
    assert_fails_with(huge, strlen(huge), true, NO_LIMIT, -EMSGSIZE);
}
END_TEST

START_TEST(chunked_read_rejects_malformed_chunk_sizes)
{
    static const char *const bad[] = {
        "\r\nhello\r\n0\r\n\r\n",
        " 5\r\nhello\r\n0\r\n\r\n",
        "5x\r\nhello\r\n0\r\n\r\n",
        "-5\r\nhello\r\n0\r\n\r\n",
        "+5\r\nhello\r\n0\r\n\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",
        "5 x\r\nhello\r\n0\r\n\r\n",
        "g\r\nhello\r\n0\r\n\r\n",
        ";ext\r\nhello\r\n0\r\n\r\n",
        "10000000000000000\r\nhello\r\n0\r\n\r\n", /* 2^64: more than 64 bits */
        "5\r\nhello\r\nzero\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_malformed(bad[i]);
}
END_TEST

START_TEST(chunked_read_rejects_data_not_followed_by_a_line_end)
{
    assert_malformed("5\r\nhelloX\r\n0\r\n\r\n");
    assert_malformed("5\r\nhello0\r\n\r\n");
    assert_malformed("3\r\nhello\r\n0\r\n\r\n");
    assert_malformed("5\r\nhello\r\r\n0\r\n\r\n");
}
END_TEST

START_TEST(chunked_read_rejects_malformed_trailers)
{
    assert_malformed("0\r\nno colon here\r\n\r\n");
    assert_malformed("0\r\n: no name\r\n\r\n");
    assert_malformed("2\r\nok\r\n0\r\nA: b\r\nbroken\r\n\r\n");
}
END_TEST

/* "0\r\n", then `count` trailer lines, then the empty line. */
static char *with_trailers(int count)
{
    char *text = malloc(16 + (size_t)count * 16);
    strcpy(text, "0\r\n");
    for (int i = 0; i < count; i++)
        sprintf(text + strlen(text), "T%d: v\r\n", i);
    strcat(text, "\r\n");
    return text;
}

START_TEST(chunked_read_accepts_trailers_up_to_the_maximum_and_no_more)
{
    char *most = with_trailers(CHUNKED_MAX_TRAILERS);
    assert_decodes(most, "", "", false);
    free(most);
    char *too_many = with_trailers(CHUNKED_MAX_TRAILERS + 1);
    assert_malformed(too_many);
    free(too_many);
}
END_TEST

/* A line of exactly `len` bytes starting with `start` and padded with `pad`, then
 * `rest`. */
static char *line_of(const char *start, size_t len, char pad, const char *rest)
{
    char *text = malloc(len + strlen(rest) + 1);
    memset(text, pad, len);
    memcpy(text, start, strlen(start));
    strcpy(text + len, rest);
    return text;
}

START_TEST(chunked_read_accepts_lines_up_to_the_maximum_length)
{
    char *size_line = line_of("2;", CHUNKED_MAX_LINE, 'x', "\r\nok\r\n0\r\n\r\n");
    assert_decodes(size_line, "ok", "", false);
    free(size_line);
    char *trailer = line_of("0\r\nX-Long: ", CHUNKED_MAX_LINE + 3, 'y', "\r\n\r\n");
    assert_decodes(trailer, "", "", false);
    free(trailer);
}
END_TEST

START_TEST(chunked_read_rejects_a_line_one_byte_too_long)
{
    char *size_line = line_of("2;", CHUNKED_MAX_LINE + 1, 'x', "\r\nok\r\n0\r\n\r\n");
    assert_malformed(size_line);
    free(size_line);
    char *trailer = line_of("0\r\nX-Long: ", CHUNKED_MAX_LINE + 4, 'y', "\r\n\r\n");
    assert_malformed(trailer);
    free(trailer);
}
END_TEST

START_TEST(chunked_read_rejects_an_endless_line_without_waiting_for_its_end)
{
    /* Ten times the limit and no line end, the stream held open: a reader that waits
     * for the "\n" (or buffers without bound) never returns. */
    char *size_line = line_of("5;", 10 * CHUNKED_MAX_LINE, 'x', "");
    assert_fails_with(size_line, strlen(size_line), true, NO_LIMIT, -EPROTO);
    free(size_line);
    char *trailer = line_of("0\r\nX-Long: ", 10 * CHUNKED_MAX_LINE, 'y', "");
    assert_fails_with(trailer, strlen(trailer), true, NO_LIMIT, -EPROTO);
    free(trailer);
}
END_TEST

START_TEST(chunked_read_reports_a_stream_that_ends_anywhere_inside_the_body)
{
    /* Every proper prefix of a well-formed body, then the end of the stream. */
    static const char whole[] = "5;x=y\r\nhello\r\n3\r\nabc\r\n0\r\nA: b\r\n\r\n";
    for (size_t len = 0; len < strlen(whole); len++)
        assert_fails_with(whole, len, false, NO_LIMIT, AX_EOF);
}
END_TEST

START_TEST(chunked_read_leaves_the_body_as_it_was_when_it_fails_late)
{
    /* Failures after some chunks were decoded: the body still holds only "kept". */
    static const char malformed[] = "5\r\nhello\r\n3\r\nabc\r\nzz\r\n";
    assert_fails_with(malformed, strlen(malformed), false, NO_LIMIT, -EPROTO);
    static const char oversized[] = "5\r\nhello\r\n3\r\nabc\r\n9\r\n";
    assert_fails_with(oversized, strlen(oversized), true, 12, -EMSGSIZE);
    static const char cut[] = "5\r\nhello\r\n3\r\nabc\r\n9\r\nabcd";
    assert_fails_with(cut, strlen(cut), false, NO_LIMIT, AX_EOF);
}
END_TEST

START_TEST(chunked_read_reports_a_descriptor_that_is_not_open)
{
    struct ax_buf carry = AX_BUF_INIT, body = AX_BUF_INIT;
    ssize_t rc = chunked_read(-1, &carry, NO_LIMIT, &body);
    ck_assert_msg(rc == -EBADF, "chunked_read(-1) returned %zd (%s), expected -EBADF", rc,
                  result_text(rc));
    ck_assert_uint_eq(ax_buf_len(&body), 0);
    ax_buf_free(&carry);
    ax_buf_free(&body);
}
END_TEST

static Suite *chunked_body_suite(void)
{
    Suite *s = suite_create("01-challenge-chunked");
    TCase *tc = axt_tcase("chunked_read");
    tcase_add_test(tc, chunked_read_decodes_a_body_of_several_chunks);
    tcase_add_test(tc, chunked_read_decodes_a_body_that_arrives_byte_by_byte);
    tcase_add_test(tc, chunked_read_decodes_a_large_body_in_chunks_of_every_size);
    tcase_add_test(tc, chunked_read_accepts_hex_in_either_case_leading_zeros_and_extensions);
    tcase_add_test(tc, chunked_read_skips_trailer_fields);
    tcase_add_test(tc, chunked_read_accepts_bare_newlines);
    tcase_add_test(tc, chunked_read_returns_zero_for_an_empty_body);
    tcase_add_test(tc, chunked_read_leaves_what_follows_the_body_for_the_next_read);
    tcase_add_test(tc, chunked_read_takes_its_first_bytes_from_carry);
    tcase_add_test(tc, chunked_read_appends_to_the_body_it_is_given);
    tcase_add_test(tc, chunked_read_accepts_a_body_of_exactly_the_limit);
    tcase_add_test(tc, chunked_read_refuses_a_chunk_that_passes_the_limit_before_reading_it);
    tcase_add_test(tc, chunked_read_rejects_malformed_chunk_sizes);
    tcase_add_test(tc, chunked_read_rejects_data_not_followed_by_a_line_end);
    tcase_add_test(tc, chunked_read_rejects_malformed_trailers);
    tcase_add_test(tc, chunked_read_accepts_trailers_up_to_the_maximum_and_no_more);
    tcase_add_test(tc, chunked_read_accepts_lines_up_to_the_maximum_length);
    tcase_add_test(tc, chunked_read_rejects_a_line_one_byte_too_long);
    tcase_add_test(tc, chunked_read_rejects_an_endless_line_without_waiting_for_its_end);
    tcase_add_test(tc, chunked_read_reports_a_stream_that_ends_anywhere_inside_the_body);
    tcase_add_test(tc, chunked_read_leaves_the_body_as_it_was_when_it_fails_late);
    tcase_add_test(tc, chunked_read_reports_a_descriptor_that_is_not_open);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(chunked_body_suite)
