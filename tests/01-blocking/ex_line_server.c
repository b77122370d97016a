/* Exercise 01-line-server: the command protocol, line by line, and its bounds. */
#include "axtest.h"
#include "line_server.h"

#include "ax/net.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * A session: the server runs on one end of a socket pair in its own thread, a writer
 * thread sends the client's input to the other end (in one write, or byte by byte)
 * and then ends its stream, and the test reads every reply until the server is done.
 * Reading and writing in different threads means a large input cannot deadlock
 * against the replies.
 */
struct session {
    int fds[2]; /* [0] the server's end, [1] the client's */
    const char *input;
    size_t input_len;
    int byte_by_byte;
    int rc;
};

static void *run_server(void *arg)
{
    struct session *s = arg;
    s->rc = line_server_serve(s->fds[0]);
    shutdown(s->fds[0], SHUT_WR); /* the client sees end of stream */
    return NULL;
}

static void *run_writer(void *arg)
{
    struct session *s = arg;
    size_t step = s->byte_by_byte ? 1 : s->input_len;
    for (size_t done = 0; done < s->input_len; done += step)
        if (ax_write_all(s->fds[1], s->input + done, step) < 0)
            break; /* the server has stopped reading and gone */
    shutdown(s->fds[1], SHUT_WR);
    return NULL;
}

/* Runs a session on `input` and returns everything the server replied, NUL-terminated
 * (the caller frees it); *rc is line_server_serve's result. */
static char *converse(const char *input, size_t input_len, int byte_by_byte, int *rc)
{
    enum { REPLY_CAP = 64 * 1024 };
    struct session s = {.input = input, .input_len = input_len, .byte_by_byte = byte_by_byte};
    axt_socketpair(s.fds);
    pthread_t server, writer;
    pthread_create(&server, NULL, run_server, &s);
    pthread_create(&writer, NULL, run_writer, &s);

    char *replies = malloc(REPLY_CAP + 1);
    size_t got = axt_read_until_eof(s.fds[1], replies, REPLY_CAP);
    replies[got] = '\0';

    pthread_join(server, NULL);
    close(s.fds[0]); /* unblocks a writer whose input the server never read */
    pthread_join(writer, NULL);
    close(s.fds[1]);
    *rc = s.rc;
    return replies;
}

/* Sends `input`, expects exactly `expected` back and a clean end of session. */
static void assert_replies(const char *input, const char *expected)
{
    int rc;
    char *replies = converse(input, strlen(input), 0, &rc);
    ck_assert_msg(strcmp(replies, expected) == 0, "sent %s, the replies were %s, expected %s",
                  axt_quoted(input), axt_quoted(replies), axt_quoted(expected));
    ck_assert_msg(rc == 0, "line_server_serve returned %d (%s), expected 0", rc, strerror(-rc));
    free(replies);
}

/* A line of `len` bytes: the command, then 'a's. */
static char *long_line(const char *command, size_t len)
{
    char *line = malloc(len + 2);
    memset(line, 'a', len);
    memcpy(line, command, strlen(command));
    line[len] = '\n';
    line[len + 1] = '\0';
    return line;
}

START_TEST(line_server_echoes_the_text_after_echo)
{
    assert_replies("ECHO hello, world\n", "hello, world\n");
}
END_TEST

START_TEST(line_server_upper_cases_the_text_after_upper)
{
    assert_replies("UPPER Mixed case 123!\n", "MIXED CASE 123!\n");
}
END_TEST

START_TEST(line_server_answers_every_line_in_order)
{
    assert_replies("ECHO one\nUPPER two\nECHO three\n", "one\nTWO\nthree\n");
}
END_TEST

START_TEST(line_server_answers_lines_that_arrive_byte_by_byte)
{
    const char *input = "ECHO slow\nUPPER and steady\n";
    int rc;
    char *replies = converse(input, strlen(input), 1, &rc);
    ck_assert_msg(strcmp(replies, "slow\nAND STEADY\n") == 0, "the replies were %s, expected %s",
                  axt_quoted(replies), axt_quoted("slow\nAND STEADY\n"));
    ck_assert_int_eq(rc, 0);
    free(replies);
}
END_TEST

START_TEST(line_server_accepts_crlf_line_endings)
{
    assert_replies("ECHO windows\r\nUPPER style\r\n", "windows\nSTYLE\n");
}
END_TEST

START_TEST(line_server_keeps_the_text_exactly_after_the_first_space)
{
    assert_replies("ECHO  two  spaces \nECHO\nUPPER \n", " two  spaces \n\n\n");
}
END_TEST

START_TEST(line_server_says_bye_and_stops_reading_at_quit)
{
    assert_replies("ECHO before\nQUIT\nECHO after\n", "before\nbye\n");
}
END_TEST

START_TEST(line_server_rejects_unknown_commands_and_keeps_going)
{
    assert_replies("FROB x\necho lower\nECHOES x\n\nECHO still here\n",
                   "error: unknown command\nerror: unknown command\nerror: unknown command\n"
                   "error: unknown command\nstill here\n");
}
END_TEST

START_TEST(line_server_accepts_a_line_of_exactly_the_maximum_length)
{
    char *line = long_line("ECHO ", LINE_SERVER_MAX_LINE);
    char *expected = strdup(line + strlen("ECHO "));
    assert_replies(line, expected);
    free(line);
    free(expected);
}
END_TEST

START_TEST(line_server_rejects_a_line_one_byte_too_long_and_stays_usable)
{
    char *line = long_line("ECHO ", LINE_SERVER_MAX_LINE + 1);
    char *input = malloc(strlen(line) + 32);
    strcat(strcpy(input, line), "ECHO next\n");
    assert_replies(input, "error: line too long\nnext\n");
    free(line);
    free(input);
}
END_TEST

START_TEST(line_server_reports_a_huge_line_once_and_stays_usable)
{
    char *line = long_line("ECHO ", 1000 * 1000);
    char *input = malloc(strlen(line) + 32);
    strcat(strcpy(input, line), "UPPER next\n");
    assert_replies(input, "error: line too long\nNEXT\n");
    free(line);
    free(input);
}
END_TEST

START_TEST(line_server_answers_a_last_line_cut_off_by_end_of_stream)
{
    assert_replies("ECHO whole\nUPPER cut off", "whole\nCUT OFF\n");
}
END_TEST

START_TEST(line_server_returns_zero_when_the_client_sends_nothing)
{
    assert_replies("", "");
}
END_TEST

START_TEST(line_server_reports_epipe_instead_of_dying_when_the_client_vanished)
{
    int fds[2];
    axt_socketpair(fds);
    ck_assert_int_eq(ax_write_all(fds[1], "ECHO anyone?\n", 13), 0);
    close(fds[1]); /* gone before the reply can be written */
    int rc = line_server_serve(fds[0]);
    ck_assert_msg(rc == -EPIPE, "line_server_serve returned %d (%s), expected -EPIPE", rc,
                  strerror(-rc));
    close(fds[0]);
}
END_TEST

START_TEST(line_server_reports_a_bad_descriptor)
{
    int rc = line_server_serve(-1);
    ck_assert_msg(rc == -EBADF, "line_server_serve returned %d (%s), expected -EBADF", rc,
                  strerror(-rc));
}
END_TEST

static Suite *line_server_suite(void)
{
    Suite *s = suite_create("01-line-server");
    TCase *tc = axt_tcase("line_server");
    tcase_add_test(tc, line_server_echoes_the_text_after_echo);
    tcase_add_test(tc, line_server_upper_cases_the_text_after_upper);
    tcase_add_test(tc, line_server_answers_every_line_in_order);
    tcase_add_test(tc, line_server_answers_lines_that_arrive_byte_by_byte);
    tcase_add_test(tc, line_server_accepts_crlf_line_endings);
    tcase_add_test(tc, line_server_keeps_the_text_exactly_after_the_first_space);
    tcase_add_test(tc, line_server_says_bye_and_stops_reading_at_quit);
    tcase_add_test(tc, line_server_rejects_unknown_commands_and_keeps_going);
    tcase_add_test(tc, line_server_accepts_a_line_of_exactly_the_maximum_length);
    tcase_add_test(tc, line_server_rejects_a_line_one_byte_too_long_and_stays_usable);
    tcase_add_test(tc, line_server_reports_a_huge_line_once_and_stays_usable);
    tcase_add_test(tc, line_server_answers_a_last_line_cut_off_by_end_of_stream);
    tcase_add_test(tc, line_server_returns_zero_when_the_client_sends_nothing);
    tcase_add_test(tc, line_server_reports_epipe_instead_of_dying_when_the_client_vanished);
    tcase_add_test(tc, line_server_reports_a_bad_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(line_server_suite)
