/* The cancel-safe line reader (ax/lines.h): lines in any pieces, CRLF, the bound, EOF,
 * one reader at a time, and, the point of it, no byte lost when a reader is dropped.
 * Most tests drive the reader by hand over a socketpair (tests/support/by_hand.h), so
 * they choose exactly which bytes have arrived at each poll. */
#include "axtest.h"
#include "by_hand.h"
#include "virtual_time.h"
#include "ax/error.h"
#include "ax/lines.h"
#include "ax/net.h"
#include "ax/source.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MAX_LINE = 16, POLLS = 64 };

/* One connection: the reader's end as a source with its ax_lines, the test's end. */
struct conn {
    struct ax_executor *executor;
    struct ax_source *source;
    struct ax_lines lines;
    int peer;
};

static void open_conn(struct conn *c, size_t max_line)
{
    int fds[2];
    axt_socketpair(fds);
    c->executor = axt_paused_executor();
    ck_assert_int_eq(ax_source_open(c->executor, fds[0], &c->source), 0);
    ck_assert_int_eq(ax_lines_init(&c->lines, c->source, max_line), 0);
    c->peer = fds[1];
}

static void close_conn(struct conn *c)
{
    ax_lines_free(&c->lines);
    ax_source_close(c->source);
    close(c->peer);
    ax_executor_free(c->executor);
}

static void say(struct conn *c, const char *text)
{
    axt_send_all(c->peer, text, strlen(text));
}

static void hang_up(struct conn *c)
{
    ck_assert_int_eq(shutdown(c->peer, SHUT_WR), 0);
}

/* Polls a fresh ax_next_line until it answers (the bytes it needs have been sent). */
static ax_result next_line(struct conn *c, const char **line)
{
    struct ax_next_line next;
    ax_next_line_init(&next, &c->lines);
    ax_result rc = AX_PENDING;
    for (int i = 0; i < POLLS && rc == AX_PENDING; i++)
        rc = axt_poll_once(c->executor, &next.base);
    ax_future_drop(&next.base);
    ck_assert_msg(rc != AX_PENDING, "no answer after %d polls", POLLS);
    *line = next.line;
    return rc;
}

static void expect_line(struct conn *c, const char *want)
{
    const char *line = NULL;
    ax_result rc = next_line(c, &line);
    ck_assert_msg(rc >= 0, "expected %s, got %s", axt_quoted(want), ax_strerror((int)rc));
    ck_assert_msg((size_t)rc == strlen(want) && strcmp(line, want) == 0,
                  "expected %s, got %s (length %lld)", axt_quoted(want), axt_quoted(line),
                  (long long)rc);
}

static void expect_result(struct conn *c, ax_result want)
{
    const char *line = NULL;
    ax_result rc = next_line(c, &line);
    ck_assert_msg(rc == want, "expected %s, got %s", ax_strerror((int)want),
                  rc >= 0 ? axt_quoted(line) : ax_strerror((int)rc));
}

START_TEST(a_line_arrives_without_its_newline)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "hello\n");
    expect_line(&c, "hello");
    close_conn(&c);
}
END_TEST

START_TEST(crlf_is_stripped)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "GET / HTTP/1.1\r\n\r\n");
    expect_line(&c, "GET / HTTP/1.1");
    expect_line(&c, "");
    close_conn(&c);
}
END_TEST

START_TEST(a_carriage_return_inside_a_line_is_kept)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "a\rb\n");
    expect_line(&c, "a\rb");
    close_conn(&c);
}
END_TEST

START_TEST(an_empty_line_has_length_zero)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "\n\r\nx\n");
    expect_line(&c, "");
    expect_line(&c, "");
    expect_line(&c, "x");
    close_conn(&c);
}
END_TEST

START_TEST(lines_that_arrive_together_come_out_one_at_a_time)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "one\ntwo\nthree\n");
    expect_line(&c, "one");
    expect_line(&c, "two");
    expect_line(&c, "three");
    ck_assert_uint_eq(ax_lines_buffered(&c.lines), 0);
    close_conn(&c);
}
END_TEST

START_TEST(a_line_split_across_reads_arrives_whole)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    struct ax_next_line next;
    ax_next_line_init(&next, &c.lines);
    say(&c, "hel");
    ck_assert(axt_poll_once(c.executor, &next.base) == AX_PENDING);
    say(&c, "lo wor");
    ck_assert(axt_poll_once(c.executor, &next.base) == AX_PENDING);
    say(&c, "ld\n");
    ax_result rc = AX_PENDING;
    for (int i = 0; i < POLLS && rc == AX_PENDING; i++)
        rc = axt_poll_once(c.executor, &next.base);
    ck_assert_int_eq(rc, 11);
    ck_assert_str_eq(next.line, "hello world");
    ax_future_drop(&next.base);
    close_conn(&c);
}
END_TEST

START_TEST(a_line_sent_byte_by_byte_arrives_whole)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    struct ax_next_line next;
    ax_next_line_init(&next, &c.lines);
    const char *text = "byte\r\n";
    ax_result rc = AX_PENDING;
    for (size_t i = 0; text[i] != '\0'; i++) {
        ck_assert(rc == AX_PENDING);
        axt_send_all(c.peer, text + i, 1);
        for (int k = 0; k < POLLS && rc == AX_PENDING && ax_lines_buffered(&c.lines) < i + 1; k++)
            rc = axt_poll_once(c.executor, &next.base);
    }
    ck_assert_int_eq(rc, 4);
    ck_assert_str_eq(next.line, "byte");
    ax_future_drop(&next.base);
    close_conn(&c);
}
END_TEST

START_TEST(a_line_of_exactly_max_line_is_accepted_with_either_ending)
{
    struct conn c;
    open_conn(&c, 4);
    say(&c, "abcd\nefgh\r\n");
    expect_line(&c, "abcd");
    expect_line(&c, "efgh");
    close_conn(&c);
}
END_TEST

START_TEST(an_over_long_line_is_refused_once_and_skipped)
{
    struct conn c;
    open_conn(&c, 4);
    say(&c, "abcde\nok\n");
    expect_result(&c, -EMSGSIZE);
    expect_line(&c, "ok");
    close_conn(&c);
}
END_TEST

START_TEST(an_endless_line_is_refused_before_its_end_and_skipped_up_to_its_newline)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    char junk[3 * AX_LINES_READ_ROOM];
    memset(junk, 'x', sizeof junk);
    axt_send_all(c.peer, junk, sizeof junk);
    expect_result(&c, -EMSGSIZE); /* at once, without the "\n" */
    ck_assert_uint_le(c.lines.cap, MAX_LINE + 2 + AX_LINES_READ_ROOM);
    axt_send_all(c.peer, junk, sizeof junk);
    say(&c, "\nafter\n");
    expect_line(&c, "after");
    close_conn(&c);
}
END_TEST

START_TEST(eof_after_a_partial_line_gives_the_line_then_eof)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "last words\r");
    hang_up(&c);
    expect_line(&c, "last words");
    expect_result(&c, AX_EOF);
    close_conn(&c);
}
END_TEST

START_TEST(eof_stays_eof)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "x\n");
    hang_up(&c);
    expect_line(&c, "x");
    expect_result(&c, AX_EOF);
    expect_result(&c, AX_EOF);
    close_conn(&c);
}
END_TEST

START_TEST(an_over_long_last_line_cut_by_eof_is_refused_then_eof)
{
    struct conn c;
    open_conn(&c, 4);
    say(&c, "abcde");
    hang_up(&c);
    expect_result(&c, -EMSGSIZE);
    expect_result(&c, AX_EOF);
    close_conn(&c);
}
END_TEST

START_TEST(a_second_reader_gets_ebusy)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    struct ax_next_line first, second;
    ax_next_line_init(&first, &c.lines);
    ax_next_line_init(&second, &c.lines);
    ck_assert(axt_poll_once(c.executor, &first.base) == AX_PENDING);
    ck_assert_int_eq(axt_poll_once(c.executor, &second.base), -EBUSY);
    ax_future_drop(&second.base); /* leaves the first one in progress */
    say(&c, "mine\n");
    ax_result rc = AX_PENDING;
    for (int i = 0; i < POLLS && rc == AX_PENDING; i++)
        rc = axt_poll_once(c.executor, &first.base);
    ck_assert_int_eq(rc, 4);
    ck_assert_str_eq(first.line, "mine");
    ax_future_drop(&first.base);
    close_conn(&c);
}
END_TEST

START_TEST(a_dropped_reader_lets_the_next_one_in)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    struct ax_next_line first;
    ax_next_line_init(&first, &c.lines);
    ck_assert(axt_poll_once(c.executor, &first.base) == AX_PENDING);
    ax_future_drop(&first.base);
    ck_assert(!c.lines.reading);
    say(&c, "next\n");
    expect_line(&c, "next");
    close_conn(&c);
}
END_TEST

START_TEST(dropping_a_read_mid_line_loses_no_bytes)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    struct ax_next_line next;
    ax_next_line_init(&next, &c.lines);
    say(&c, "half a ");
    for (int i = 0; i < POLLS && ax_lines_buffered(&c.lines) < 7; i++)
        ck_assert(axt_poll_once(c.executor, &next.base) == AX_PENDING);
    ax_future_drop(&next.base); /* as a timeout or a lost select would */
    ck_assert_uint_eq(ax_lines_buffered(&c.lines), 7);
    say(&c, "line\n");
    expect_line(&c, "half a line");
    close_conn(&c);
}
END_TEST

START_TEST(dropping_a_reader_again_and_again_mid_line_loses_no_bytes)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    const char *text = "a patient line\n";
    for (size_t i = 0; text[i] != '\n'; i++) {
        axt_send_all(c.peer, text + i, 1);
        struct ax_next_line next;
        ax_next_line_init(&next, &c.lines);
        for (int k = 0; k < POLLS && ax_lines_buffered(&c.lines) < i + 1; k++)
            ck_assert(axt_poll_once(c.executor, &next.base) == AX_PENDING);
        ax_future_drop(&next.base);
    }
    say(&c, "\n");
    expect_line(&c, "a patient line");
    close_conn(&c);
}
END_TEST

START_TEST(a_line_stays_readable_until_the_next_reader_is_polled)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    say(&c, "first\n");
    const char *line;
    ck_assert_int_eq(next_line(&c, &line), 5);
    say(&c, "second\n"); /* arrives, but nobody has read it yet */
    ck_assert_str_eq(line, "first");
    expect_line(&c, "second");
    close_conn(&c);
}
END_TEST

START_TEST(a_closed_source_gives_ebadf)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    struct ax_next_line next;
    ax_next_line_init(&next, &c.lines);
    ck_assert(axt_poll_once(c.executor, &next.base) == AX_PENDING);
    ax_source_close(c.source); /* our reference keeps the memory; the fd is gone */
    ck_assert_int_eq(axt_poll_once(c.executor, &next.base), -EBADF);
    ck_assert(!c.lines.reading);
    ax_future_drop(&next.base);
    ax_lines_free(&c.lines);
    close(c.peer);
    ax_executor_free(c.executor);
}
END_TEST

/* What a reader task saw, kept outside it: its memory goes when it finishes. */
struct tally {
    size_t count, bytes;
    int bad; /* lines that were not what the writer sent */
};

/* A task that reads lines until EOF and counts them and their bytes. */
struct reader {
    struct ax_future base;
    struct ax_lines *lines;
    struct ax_next_line next;
    bool started;
    struct tally *tally;
};

static ax_result reader_poll(struct ax_future *self, struct ax_context *cx)
{
    struct reader *r = (struct reader *)self;
    for (;;) {
        if (!r->started)
            ax_next_line_init(&r->next, r->lines);
        r->started = true;
        ax_result rc = ax_poll(&r->next.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&r->next.base);
        r->started = false;
        if (rc < 0)
            return rc == AX_EOF ? 0 : rc;
        char want[32];
        snprintf(want, sizeof want, "line %zu", r->tally->count);
        r->tally->bad += strcmp(r->next.line, want) != 0;
        r->tally->count++;
        r->tally->bytes += (size_t)rc;
    }
}

static void reader_drop(struct ax_future *self)
{
    struct reader *r = (struct reader *)self;
    if (r->started)
        ax_future_drop(&r->next.base);
}

static const struct ax_future_ops reader_ops = {.poll = reader_poll, .drop = reader_drop};

enum { LOOPBACK_LINES = 20000 };

static void *write_lines(void *arg)
{
    int fd = *(int *)arg;
    char line[32];
    for (int i = 0; i < LOOPBACK_LINES; i++) {
        int n = snprintf(line, sizeof line, i % 2 ? "line %d\r\n" : "line %d\n", i);
        axt_send_all(fd, line, (size_t)n);
    }
    shutdown(fd, SHUT_WR);
    return NULL;
}

START_TEST(a_task_reads_every_line_sent_over_loopback)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(listener, 0);
    int writer_fd = ax_connect("127.0.0.1", port);
    ck_assert_int_ge(writer_fd, 0);
    int fd = ax_accept(listener, NULL);
    ck_assert_int_ge(fd, 0);
    close(listener);
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    struct ax_source *source;
    ck_assert_int_eq(ax_source_open(executor, fd, &source), 0);
    struct ax_lines lines;
    ck_assert_int_eq(ax_lines_init(&lines, source, 64), 0);
    pthread_t writer;
    ck_assert_int_eq(pthread_create(&writer, NULL, write_lines, &writer_fd), 0);

    struct reader *r = ax_task_alloc(executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    struct tally tally = {0};
    *r = (struct reader){.base = {&reader_ops}, .lines = &lines, .tally = &tally};
    ax_result rc = ax_block_on(executor, ax_task_spawn(&r->base));
    pthread_join(writer, NULL);
    ck_assert_msg(rc == 0, "reader: %s", ax_strerror((int)rc));
    ck_assert_uint_eq(tally.count, LOOPBACK_LINES);
    ck_assert_int_eq(tally.bad, 0);
    ax_lines_free(&lines);
    ax_source_close(source);
    close(writer_fd);
    ax_executor_free(executor);
}
END_TEST

/* A reader raced against a short timeout again and again, on virtual time: every
 * timeout drops it mid-line, and still every line arrives whole. */
struct patience {
    size_t lines_read, timeouts;
    char last[MAX_LINE + 1];
};

struct patient {
    struct ax_future base;
    struct ax_lines *lines;
    struct ax_next_line next;
    struct ax_timeout timeout;
    bool started;
    struct patience *seen; /* outside the task, which goes when it finishes */
};

static ax_result patient_poll(struct ax_future *self, struct ax_context *cx)
{
    struct patient *p = (struct patient *)self;
    for (;;) {
        if (!p->started) {
            ax_next_line_init(&p->next, p->lines);
            ax_timeout_init(&p->timeout, &p->next.base,
                            ax_executor_now(cx->executor) + 1000 * 1000);
        }
        p->started = true;
        ax_result rc = ax_poll(&p->timeout.base, cx);
        if (rc == AX_PENDING)
            return rc;
        ax_future_drop(&p->timeout.base);
        p->started = false;
        if (rc == -ETIMEDOUT) {
            p->seen->timeouts++;
            continue;
        }
        if (rc < 0)
            return rc == AX_EOF ? 0 : rc;
        snprintf(p->seen->last, sizeof p->seen->last, "%s", p->next.line);
        p->seen->lines_read++;
    }
}

static void patient_drop(struct ax_future *self)
{
    struct patient *p = (struct patient *)self;
    if (p->started)
        ax_future_drop(&p->timeout.base);
}

static const struct ax_future_ops patient_ops = {.poll = patient_poll, .drop = patient_drop};

START_TEST(a_reader_dropped_by_timeouts_mid_line_still_gets_the_whole_line)
{
    struct conn c;
    open_conn(&c, MAX_LINE);
    struct patient *p = ax_task_alloc(c.executor, sizeof *p);
    ck_assert_ptr_nonnull(p);
    struct patience seen = {0};
    *p = (struct patient){.base = {&patient_ops}, .lines = &c.lines, .seen = &seen};
    struct ax_task *task = ax_task_spawn(&p->base);
    const char *pieces[] = {"slow", "ly, ", "slowly\n"};
    for (size_t i = 0; i < 3; i++) {
        say(&c, pieces[i]);
        axt_run_turn(c.executor);
        axt_run_turn(c.executor);
        ax_executor_advance_time(c.executor, 2 * 1000 * 1000); /* past one timeout */
        axt_run_turn(c.executor);
    }
    hang_up(&c);
    ck_assert_int_eq(ax_block_on(c.executor, task), 0);
    ck_assert_uint_ge(seen.timeouts, 2);
    ck_assert_uint_eq(seen.lines_read, 1);
    ck_assert_str_eq(seen.last, "slowly, slowly");
    close_conn(&c);
}
END_TEST

static Suite *lines_suite(void)
{
    Suite *s = suite_create("lines");
    TCase *tc = axt_tcase("lines");
    tcase_add_test(tc, a_line_arrives_without_its_newline);
    tcase_add_test(tc, crlf_is_stripped);
    tcase_add_test(tc, a_carriage_return_inside_a_line_is_kept);
    tcase_add_test(tc, an_empty_line_has_length_zero);
    tcase_add_test(tc, lines_that_arrive_together_come_out_one_at_a_time);
    tcase_add_test(tc, a_line_split_across_reads_arrives_whole);
    tcase_add_test(tc, a_line_sent_byte_by_byte_arrives_whole);
    tcase_add_test(tc, a_line_of_exactly_max_line_is_accepted_with_either_ending);
    tcase_add_test(tc, an_over_long_line_is_refused_once_and_skipped);
    tcase_add_test(tc, an_endless_line_is_refused_before_its_end_and_skipped_up_to_its_newline);
    tcase_add_test(tc, eof_after_a_partial_line_gives_the_line_then_eof);
    tcase_add_test(tc, eof_stays_eof);
    tcase_add_test(tc, an_over_long_last_line_cut_by_eof_is_refused_then_eof);
    tcase_add_test(tc, a_second_reader_gets_ebusy);
    tcase_add_test(tc, a_dropped_reader_lets_the_next_one_in);
    tcase_add_test(tc, dropping_a_read_mid_line_loses_no_bytes);
    tcase_add_test(tc, dropping_a_reader_again_and_again_mid_line_loses_no_bytes);
    tcase_add_test(tc, a_line_stays_readable_until_the_next_reader_is_polled);
    tcase_add_test(tc, a_closed_source_gives_ebadf);
    tcase_add_test(tc, a_task_reads_every_line_sent_over_loopback);
    tcase_add_test(tc, a_reader_dropped_by_timeouts_mid_line_still_gets_the_whole_line);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(lines_suite)
