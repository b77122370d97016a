/* The reactor on the select backend: the conformance suite, and select's own limit. */
#include "axtest.h"
#include "conformance.h"
#include "ax/error.h"
#include "ax/reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static void ignore(struct ax_reactor *reactor, int fd, int events, void *data)
{
    (void)reactor, (void)fd, (void)events, (void)data;
}

START_TEST(select_backend_refuses_an_fd_at_or_above_fd_setsize)
{
    axt_need_fds(FD_SETSIZE + 16);
    int fds[2];
    axt_socketpair(fds);
    int high = dup2(fds[0], FD_SETSIZE + 5);
    ck_assert_int_eq(high, FD_SETSIZE + 5);
    int edge = dup2(fds[0], FD_SETSIZE);
    ck_assert_int_eq(edge, FD_SETSIZE);

    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, "select"), 0);
    ck_assert_int_eq(ax_reactor_watch(reactor, high, AX_READABLE, ignore, NULL), -ERANGE);
    ck_assert_int_eq(ax_reactor_watch(reactor, edge, AX_READABLE, ignore, NULL), -ERANGE);
    ck_assert_int_eq(ax_reactor_watch(reactor, fds[1], AX_READABLE, ignore, NULL), 0);
    ck_assert_int_eq(ax_reactor_watching(reactor), 1);
    ax_reactor_free(reactor);
}
END_TEST

START_TEST(reactor_picks_a_backend_by_name_and_rejects_unknown_names)
{
    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, "select"), 0);
    ck_assert_str_eq(ax_reactor_backend_name(reactor), "select");
    ax_reactor_free(reactor);
    ck_assert_int_eq(ax_reactor_new(&reactor, "kqueue"), -EINVAL);
    ck_assert_ptr_nonnull(strstr(ax_reactor_backend_names(), "select"));
}
END_TEST

START_TEST(reactor_backend_comes_from_ax_backend_when_not_named)
{
    setenv("AX_BACKEND", "select", 1);
    struct ax_reactor *reactor;
    ck_assert_int_eq(ax_reactor_new(&reactor, NULL), 0);
    ck_assert_str_eq(ax_reactor_backend_name(reactor), "select");
    ax_reactor_free(reactor);
    setenv("AX_BACKEND", "no-such-backend", 1);
    ck_assert_int_eq(ax_reactor_new(&reactor, NULL), -EINVAL);
    unsetenv("AX_BACKEND");
}
END_TEST

static Suite *select_suite(void)
{
    Suite *s = suite_create("02-reactor-select");
    axt_add_backend_conformance(s, &ax_backend_select);
    TCase *tc = axt_tcase("select");
    tcase_add_test(tc, select_backend_refuses_an_fd_at_or_above_fd_setsize);
    tcase_add_test(tc, reactor_picks_a_backend_by_name_and_rejects_unknown_names);
    tcase_add_test(tc, reactor_backend_comes_from_ax_backend_when_not_named);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(select_suite)
