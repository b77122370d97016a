/* Exercise 01-writev-all: writev_all must deliver every byte, whatever the kernel does. */
#include "axtest.h"
#include "writev_all.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The receiving side, in its own thread so that the writer can block on a full buffer. */
struct drain {
    int fd;
    char *data;
    size_t cap;
    size_t got;
};

static void *drain_thread(void *arg)
{
    struct drain *d = arg;
    d->got = axt_read_until_eof(d->fd, d->data, d->cap);
    return NULL;
}

/* A recognisable byte pattern, different for each piece, so reordering shows. */
static char *pattern(size_t len, unsigned seed)
{
    char *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)('a' + (i * 7 + seed) % 26);
    return p;
}

/* Sends iov through a socket pair whose send buffer is tiny, so writes come back
 * short, and checks that exactly `expected` arrived. */
static void assert_delivers(struct iovec *iov, int iovcnt, const char *expected, size_t len)
{
    int fds[2];
    axt_socketpair(fds);
    axt_tiny_sndbuf(fds[0]);
    struct drain d = {.fd = fds[1], .data = malloc(len + 1), .cap = len + 1};
    pthread_t reader;
    pthread_create(&reader, NULL, drain_thread, &d);

    int rc = writev_all(fds[0], iov, iovcnt);
    close(fds[0]); /* EOF for the reader */
    pthread_join(reader, NULL);
    close(fds[1]);

    ck_assert_msg(rc == 0, "writev_all returned %d (%s), expected 0", rc, strerror(-rc));
    ck_assert_msg(d.got == len, "the peer received %zu bytes, expected %zu", d.got, len);
    ck_assert_msg(memcmp(d.data, expected, len) == 0, "the bytes arrived changed or out of order");
    free(d.data);
}

START_TEST(writev_all_delivers_large_pieces_in_order)
{
    enum { PIECE = 300 * 1000 };
    char *pieces[3] = {pattern(PIECE, 1), pattern(PIECE, 2), pattern(PIECE, 3)};
    char *expected = malloc(3 * PIECE);
    struct iovec iov[3];
    for (int i = 0; i < 3; i++) {
        memcpy(expected + i * PIECE, pieces[i], PIECE);
        iov[i] = (struct iovec){.iov_base = pieces[i], .iov_len = PIECE};
    }
    assert_delivers(iov, 3, expected, 3 * PIECE);
    for (int i = 0; i < 3; i++)
        free(pieces[i]);
    free(expected);
}
END_TEST

START_TEST(writev_all_accepts_more_than_iov_max_pieces)
{
    enum { COUNT = 3 * IOV_MAX + 7 };
    char *bytes = pattern(COUNT, 4);
    struct iovec *iov = calloc(COUNT, sizeof *iov);
    for (int i = 0; i < COUNT; i++)
        iov[i] = (struct iovec){.iov_base = bytes + i, .iov_len = 1};
    assert_delivers(iov, COUNT, bytes, COUNT);
    free(iov);
    free(bytes);
}
END_TEST

START_TEST(writev_all_skips_empty_pieces)
{
    char *a = pattern(50000, 5), *b = pattern(70000, 6);
    char *expected = malloc(120000);
    memcpy(expected, a, 50000);
    memcpy(expected + 50000, b, 70000);
    struct iovec iov[] = {
        {.iov_base = NULL, .iov_len = 0},  {.iov_base = a, .iov_len = 50000},
        {.iov_base = NULL, .iov_len = 0},  {.iov_base = NULL, .iov_len = 0},
        {.iov_base = b, .iov_len = 70000}, {.iov_base = NULL, .iov_len = 0},
    };
    assert_delivers(iov, 6, expected, 120000);
    free(a);
    free(b);
    free(expected);
}
END_TEST

START_TEST(writev_all_with_nothing_to_write_returns_zero)
{
    int fds[2];
    axt_socketpair(fds);
    struct iovec empty = {.iov_base = NULL, .iov_len = 0};
    ck_assert_int_eq(writev_all(fds[0], NULL, 0), 0);
    ck_assert_int_eq(writev_all(fds[0], &empty, 1), 0);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
}

START_TEST(writev_all_survives_signals_interrupting_it)
{
    /* No SA_RESTART: a signal makes a blocked writev return early, short or EINTR. */
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every_ms = {.it_interval = {0, 5000}, .it_value = {0, 5000}};
    setitimer(ITIMER_REAL, &every_ms, NULL);

    enum { LEN = 2 * 1000 * 1000 };
    char *bytes = pattern(LEN, 7);
    struct iovec iov[2] = {{.iov_base = bytes, .iov_len = LEN / 2},
                           {.iov_base = bytes + LEN / 2, .iov_len = LEN / 2}};
    assert_delivers(iov, 2, bytes, LEN);

    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
    free(bytes);
}
END_TEST

START_TEST(writev_all_reports_epipe_instead_of_dying_when_peer_closed)
{
    int fds[2];
    axt_socketpair(fds);
    close(fds[1]);
    char byte = 'x';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    int rc = writev_all(fds[0], &iov, 1);
    ck_assert_msg(rc == -EPIPE, "writev_all returned %d (%s), expected -EPIPE", rc, strerror(-rc));
    close(fds[0]);
}
END_TEST

START_TEST(writev_all_reports_a_bad_descriptor)
{
    char byte = 'x';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    int rc = writev_all(-1, &iov, 1);
    ck_assert_msg(rc == -EBADF, "writev_all returned %d (%s), expected -EBADF", rc, strerror(-rc));
}
END_TEST

static Suite *writev_all_suite(void)
{
    Suite *s = suite_create("01-writev-all");
    TCase *tc = axt_tcase("writev_all");
    tcase_add_test(tc, writev_all_delivers_large_pieces_in_order);
    tcase_add_test(tc, writev_all_accepts_more_than_iov_max_pieces);
    tcase_add_test(tc, writev_all_skips_empty_pieces);
    tcase_add_test(tc, writev_all_with_nothing_to_write_returns_zero);
    tcase_add_test(tc, writev_all_survives_signals_interrupting_it);
    tcase_add_test(tc, writev_all_reports_epipe_instead_of_dying_when_peer_closed);
    tcase_add_test(tc, writev_all_reports_a_bad_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(writev_all_suite)
