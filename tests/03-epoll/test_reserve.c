/* The spare-descriptor trick: at the fd limit, a waiting connection is shed, so the
 * listening socket stops being readable instead of making the loop spin. */
#include "axtest.h"
#include "ax/error.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

static int readable_now(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) == 1;
}

/* Opens descriptors until the process has none left; returns how many. */
static int exhaust(int *held, int max)
{
    int n = 0;
    while (n < max && (held[n] = open("/dev/null", O_RDONLY)) >= 0)
        n++;
    ck_assert_int_eq(errno, EMFILE);
    return n;
}

START_TEST(at_the_fd_limit_a_waiting_connection_is_shed_and_the_listener_goes_quiet)
{
    struct rlimit low = {.rlim_cur = 64, .rlim_max = 64};
    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    low.rlim_max = old.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);

    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ax_set_nonblocking(listener, true);
    struct ax_fd_reserve reserve;
    ck_assert_int_eq(ax_fd_reserve_init(&reserve), 0);
    int client = ax_connect("127.0.0.1", port); /* before the descriptors run out */
    ck_assert_int_ge(client, 0);

    int held[64];
    int n = exhaust(held, 64);
    struct pollfd wait = {.fd = listener, .events = POLLIN};
    ck_assert_int_eq(poll(&wait, 1, 5000), 1);
    ck_assert_int_eq(ax_accept_nonblocking(listener, NULL), -EMFILE);
    /* valgrind accepts and closes the connection itself when its fd would exceed the
     * limit; then there is nothing left to shed, and nothing to check. */
    if (readable_now(listener)) { /* the spin: still readable, still failing */
        ck_assert_int_eq(ax_fd_reserve_shed(&reserve, listener), 1);
        ck_assert(!readable_now(listener)); /* quiet: nothing left to accept */
        ck_assert_int_ge(reserve.fd, 0); /* and the spare is back */
        char byte;
        ck_assert_int_le(read(client, &byte, 1), 0); /* the client saw its connection end */
    }

    for (int i = 0; i < n; i++)
        close(held[i]);
    setrlimit(RLIMIT_NOFILE, &old);
    ax_fd_reserve_free(&reserve);
    close(client);
    close(listener);
}
END_TEST

START_TEST(shedding_with_nothing_waiting_returns_zero)
{
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ax_set_nonblocking(listener, true);
    struct ax_fd_reserve reserve;
    ck_assert_int_eq(ax_fd_reserve_init(&reserve), 0);
    ck_assert_int_eq(ax_fd_reserve_shed(&reserve, listener), 0);
    ck_assert_int_ge(reserve.fd, 0);
    ax_fd_reserve_free(&reserve);
    close(listener);
}
END_TEST

static Suite *reserve_suite(void)
{
    Suite *s = suite_create("03-reserve");
    TCase *tc = axt_tcase("reserve");
    tcase_add_test(tc, at_the_fd_limit_a_waiting_connection_is_shed_and_the_listener_goes_quiet);
    tcase_add_test(tc, shedding_with_nothing_waiting_returns_zero);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(reserve_suite)
