/* Name resolution on the pool (ax/resolve.h) and the connect future that uses it
 * (ax/io.h): numeric addresses are parsed on the loop, names are looked up on the
 * executor's pool, an unknown name is its own error, and a connection tries every
 * address in turn. Only 127.0.0.1, ::1, "localhost" and a name under .invalid, which
 * RFC 6761 reserves to never resolve, are used; the resolver is told to give up after
 * one second and one try (RES_OPTIONS), so a machine without a name server still
 * answers within the suite's timeout. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/net.h"
#include "ax/remote.h"
#include "ax/resolve.h"
#include "ax/task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNKNOWN_HOST "no-such-host.invalid"

static struct ax_executor *new_executor(void)
{
    setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

static ax_result resolve(struct ax_executor *executor, const char *host, struct addrinfo **out)
{
    struct ax_resolve *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    ax_resolve_init(f, host, 80, out);
    return ax_block_on(executor, ax_task_spawn(&f->base));
}

static bool is_loopback(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET)
        return ((const struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    return ai->ai_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
}

/* An unknown name is AX_ENOHOST; where no name server can be asked at all, the
 * resolver cannot know that, and says AX_ERESOLVE. Neither is "No route to host". */
static void assert_unknown_host(ax_result rc)
{
    ck_assert_msg(rc == AX_ENOHOST || rc == AX_ERESOLVE, "expected AX_ENOHOST, got %lld (%s)",
                  (long long)rc, ax_strerror((int)rc));
    ck_assert_str_ne(ax_strerror((int)rc), ax_strerror(-EHOSTUNREACH));
}

/* ---- lookups ---------------------------------------------------------------------- */

START_TEST(a_numeric_address_is_parsed_on_the_loop_without_a_thread)
{
    struct ax_executor *executor = new_executor();
    struct addrinfo *addrs = NULL;
    ck_assert_int_eq(resolve(executor, "127.0.0.1", &addrs), 1);
    ck_assert_int_eq(addrs->ai_family, AF_INET);
    ck_assert(is_loopback(addrs));
    ck_assert_uint_eq(ax_executor_remote_signals(executor),
                      0); /* nothing came back from a thread */
    freeaddrinfo(addrs);
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_ipv6_literal_resolves_to_an_ipv6_address)
{
    struct ax_executor *executor = new_executor();
    struct addrinfo *addrs = NULL;
    ck_assert_int_eq(resolve(executor, "::1", &addrs), 1);
    ck_assert_int_eq(addrs->ai_family, AF_INET6);
    ck_assert(is_loopback(addrs));
    freeaddrinfo(addrs);
    ax_executor_free(executor);
}
END_TEST

START_TEST(localhost_is_looked_up_on_the_pool_and_is_loopback)
{
    struct ax_executor *executor = new_executor();
    struct addrinfo *addrs = NULL;
    ax_result found = resolve(executor, "localhost", &addrs);
    ck_assert_msg(found >= 1, "localhost: %s", ax_strerror((int)found));
    int n = 0, other = 0;
    for (struct addrinfo *ai = addrs; ai != NULL; ai = ai->ai_next, n++)
        other += !is_loopback(ai);
    ck_assert_int_eq(n, found);
    ck_assert_int_eq(other, 0);
    ck_assert_uint_ge(ax_executor_remote_signals(executor), 1); /* the answer came back */
    freeaddrinfo(addrs);
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_unknown_host_is_its_own_error)
{
    struct ax_executor *executor = new_executor();
    struct addrinfo *addrs = NULL;
    assert_unknown_host(resolve(executor, UNKNOWN_HOST, &addrs));
    ck_assert_ptr_null(addrs);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_dropped_lookup_frees_its_answer_when_it_arrives)
{
    struct ax_executor *executor = new_executor();
    struct addrinfo *addrs = NULL;
    struct ax_resolve *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    ax_resolve_init(f, "localhost", 80, &addrs);
    struct ax_task *task = ax_task_spawn(&f->base);
    axt_run_turn(executor); /* on the pool now */
    ax_task_abort(task);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ax_executor_free(executor); /* waits for the lookup; leak checkers see the rest */
    ck_assert_ptr_null(addrs); /* never handed over */
}
END_TEST

/* ---- connecting ------------------------------------------------------------------- */

static ax_result connect_to(struct ax_executor *executor, const char *host, uint16_t port,
                            const struct addrinfo *addrs, struct ax_source **out)
{
    struct ax_connect_future *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    if (addrs != NULL)
        ax_connect_future_init_addrs(f, addrs, out);
    else
        ax_connect_future_init(f, host, port, out);
    return ax_block_on(executor, ax_task_spawn(&f->base));
}

/* A port on 127.0.0.1 where nothing listens: one the kernel just gave out and took
 * back. */
static uint16_t closed_port(void)
{
    uint16_t port;
    int fd = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return port;
}

static struct addrinfo *numeric(uint16_t port)
{
    struct addrinfo *ai;
    ck_assert_int_eq(ax__resolve("127.0.0.1", port, AI_NUMERICHOST, &ai), 0);
    return ai;
}

START_TEST(connecting_by_name_reaches_a_local_listener)
{
    struct ax_executor *executor = new_executor();
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(listener, 0);
    struct ax_source *conn = NULL;
    ax_result rc = connect_to(executor, "localhost", port, NULL, &conn);
    ck_assert_msg(rc == 0, "connect localhost:%u: %s", port, ax_strerror((int)rc));
    ck_assert_int_eq(ax_local_port(ax_source_fd(conn)) > 0, 1);
    ax_source_close(conn);
    close(listener);
    ax_executor_free(executor);
}
END_TEST

START_TEST(connecting_tries_every_address_in_turn)
{
    struct ax_executor *executor = new_executor();
    uint16_t port;
    int listener = ax_listen("127.0.0.1", 0, &port);
    ck_assert_int_ge(listener, 0);
    struct addrinfo *refusing = numeric(closed_port()), *listening = numeric(port);
    refusing->ai_next = listening; /* the first refuses; the second accepts */
    struct ax_source *conn = NULL;
    ck_assert_int_eq(connect_to(executor, NULL, 0, refusing, &conn), 0);
    char peer[AX_ADDR_STRLEN];
    int fd = ax_accept(listener, peer);
    ck_assert_int_ge(fd, 0); /* it is this listener's connection */
    close(fd);
    ax_source_close(conn);
    refusing->ai_next = NULL;
    freeaddrinfo(refusing);
    freeaddrinfo(listening);
    close(listener);
    ax_executor_free(executor);
}
END_TEST

START_TEST(connecting_gives_the_last_address_error_when_none_accepts)
{
    struct ax_executor *executor = new_executor();
    struct addrinfo *first = numeric(closed_port()), *second = numeric(closed_port());
    first->ai_next = second;
    struct ax_source *conn = NULL;
    ck_assert_int_eq(connect_to(executor, NULL, 0, first, &conn), -ECONNREFUSED);
    ck_assert_ptr_null(conn);
    first->ai_next = NULL;
    freeaddrinfo(first);
    freeaddrinfo(second);
    ax_executor_free(executor);
}
END_TEST

START_TEST(connecting_to_an_unknown_host_says_so)
{
    struct ax_executor *executor = new_executor();
    struct ax_source *conn = NULL;
    assert_unknown_host(connect_to(executor, UNKNOWN_HOST, 80, NULL, &conn));
    ck_assert_ptr_null(conn);
    ax_executor_free(executor);
}
END_TEST

START_TEST(the_blocking_connect_names_an_unknown_host_too)
{
    setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
    assert_unknown_host(ax_connect(UNKNOWN_HOST, 80));
}
END_TEST

static Suite *resolve_suite(void)
{
    Suite *s = suite_create("08-resolve");
    TCase *tc = axt_tcase("lookups");
    tcase_add_test(tc, a_numeric_address_is_parsed_on_the_loop_without_a_thread);
    tcase_add_test(tc, an_ipv6_literal_resolves_to_an_ipv6_address);
    tcase_add_test(tc, localhost_is_looked_up_on_the_pool_and_is_loopback);
    tcase_add_test(tc, an_unknown_host_is_its_own_error);
    tcase_add_test(tc, a_dropped_lookup_frees_its_answer_when_it_arrives);
    suite_add_tcase(s, tc);
    tc = axt_tcase("connect");
    tcase_add_test(tc, connecting_by_name_reaches_a_local_listener);
    tcase_add_test(tc, connecting_tries_every_address_in_turn);
    tcase_add_test(tc, connecting_gives_the_last_address_error_when_none_accepts);
    tcase_add_test(tc, connecting_to_an_unknown_host_says_so);
    tcase_add_test(tc, the_blocking_connect_names_an_unknown_host_too);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(resolve_suite)
