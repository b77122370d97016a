//@ 01
/* The shared Check helpers declared in axtest.h. */
#include "axtest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

TCase *axt_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, AXT_TIMEOUT_SECONDS);
    return tc;
}

int axt_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_FORK_GETENV);
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

void axt_socketpair(int fds[2])
{
    ck_assert_msg(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair: errno %d", errno);
}

void axt_tiny_sndbuf(int fd)
{
    int size = 1; /* the kernel rounds this up to its minimum, a few KiB */
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
}

size_t axt_read_until_eof(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

const char *axt_quoted(const char *s)
{
    static char texts[4][160];
    static int next;
    char *out = texts[next++ % 4];
    size_t n = 0;
    out[n++] = '"';
    for (; *s != '\0' && n < sizeof texts[0] - 10; s++) {
        if (*s == '\n')
            n += (size_t)sprintf(out + n, "\\n");
        else if (*s == '\r')
            n += (size_t)sprintf(out + n, "\\r");
        else if (*s == '\t')
            n += (size_t)sprintf(out + n, "\\t");
        else if ((unsigned char)*s < ' ')
            n += (size_t)sprintf(out + n, "\\x%02x", (unsigned char)*s);
        else
            out[n++] = *s;
    }
    if (*s != '\0')
        n += (size_t)sprintf(out + n, "...");
    out[n++] = '"';
    out[n] = '\0';
    return out;
}

void axt_need_fds(unsigned long needed)
{
    struct rlimit limit;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur >= needed)
        return;
    ck_assert_msg(
        limit.rlim_max >= needed,
        "this test needs %lu open files; the hard limit is %llu (raise it with ulimit -Hn)", needed,
        (unsigned long long)limit.rlim_max);
    limit.rlim_cur = needed;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &limit), 0);
}
