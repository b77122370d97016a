//@ 01
/*
 * axtest: the few helpers every Check suite in this course shares.
 *
 * Suites run in Check's fork mode, so a crash or a hang in one test is that test's
 * error and the run goes on. Every test case gets a default timeout of
 * AXT_TIMEOUT_SECONDS, which Check scales by CK_TIMEOUT_MULTIPLIER (the sanitizer and
 * valgrind runs raise it). A suite file ends with AXT_MAIN(its_suite_function).
 */
#ifndef AXTEST_H
#define AXTEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#define AXT_TIMEOUT_SECONDS 10

/* A test case with the course's default timeout. */
TCase *axt_tcase(const char *name);

/* Runs the suite and returns the process exit status: 0 only if every test passed. */
int axt_run(Suite *suite);

#define AXT_MAIN(make_suite)                                                                       \
    int main(void)                                                                                 \
    {                                                                                              \
        return axt_run(make_suite());                                                              \
    }

/* A connected pair of stream sockets (AF_UNIX), or the test fails. */
void axt_socketpair(int fds[2]);

/* Shrinks a socket's kernel send buffer so that writes come back short. */
void axt_tiny_sndbuf(int fd);

/* Reads from fd until EOF or until len bytes arrived; returns the count. */
size_t axt_read_until_eof(int fd, void *buf, size_t len);

/* s as a quoted C string, control characters escaped and long text cut short, so a
 * failure message stays on one line. Up to four may appear in one message. */
const char *axt_quoted(const char *s);

/* Raises the soft limit on open files to at least `needed` (up to the hard limit),
 * or fails the test saying how many it needed. */
void axt_need_fds(unsigned long needed);

#endif
