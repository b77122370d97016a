/* Exercise 08-lookup-all: numeric addresses, "localhost" and a name that RFC 6761
 * promises never resolves (.invalid), looked up together; the name lookups are on the
 * pool at the same time; a lookup_all dropped while they run leaves nothing behind. The
 * resolver gives up after one second and one try (RES_OPTIONS), so a machine without a
 * name server answers within the suite's timeout. */
#include "axtest.h"
#include "lookup_all.h"
#include "virtual_time.h"
#include "ax/error.h"
#include "ax/pool.h"
#include "ax/task.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct ax_executor *new_executor(void)
{
    setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

static struct ax_task *spawn_lookup(struct ax_executor *executor, const char *const *hosts,
                                    size_t count, ax_result *results, char (*text)[AX_ADDR_STRLEN])
{
    struct lookup_all *l = ax_task_alloc(executor, sizeof *l);
    ck_assert_ptr_nonnull(l);
    lookup_all_init(l, hosts, count, results, text);
    return ax_task_spawn(&l->base);
}

START_TEST(each_host_gets_its_first_address_or_its_error)
{
    struct ax_executor *executor = new_executor();
    static const char *const hosts[] = {"127.0.0.1", "localhost", "no-such-host.invalid", "::1"};
    ax_result results[4] = {0};
    char text[4][AX_ADDR_STRLEN] = {"junk", "junk", "junk", "junk"};
    ck_assert_int_eq(ax_block_on(executor, spawn_lookup(executor, hosts, 4, results, text)), 0);
    ck_assert_int_eq(results[0], 1);
    ck_assert_str_eq(text[0], "127.0.0.1:80");
    ck_assert_msg(results[1] >= 1, "localhost: %s", ax_strerror((int)results[1]));
    ck_assert_msg(strcmp(text[1], "127.0.0.1:80") == 0 || strcmp(text[1], "[::1]:80") == 0,
                  "localhost's first address: %s", axt_quoted(text[1]));
    ck_assert_msg(results[2] == AX_ENOHOST || results[2] == AX_ERESOLVE,
                  "no-such-host.invalid: %lld (%s)", (long long)results[2],
                  ax_strerror((int)results[2]));
    ck_assert_str_eq(text[2], "");
    ck_assert_int_eq(results[3], 1);
    ck_assert_str_eq(text[3], "[::1]:80");
    ax_executor_free(executor);
}
END_TEST

START_TEST(the_name_lookups_run_at_the_same_time)
{
    struct ax_executor *executor = new_executor();
    static const char *const hosts[] = {"localhost", "127.0.0.1", "localhost", "localhost"};
    ax_result results[4];
    char text[4][AX_ADDR_STRLEN];
    struct ax_task *task = spawn_lookup(executor, hosts, 4, results, text);
    axt_run_turn(executor); /* one poll: every name is on the pool now */
    struct ax_pool *pool;
    ck_assert_int_eq(ax_executor_pool(executor, &pool), 0);
    int in_flight = ax_pool_in_flight(pool);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_msg(in_flight == 3, "%d lookups were on the pool after the first poll, not 3",
                  in_flight);
    ax_executor_free(executor);
}
END_TEST

START_TEST(more_hosts_than_it_holds_is_einval)
{
    struct ax_executor *executor = new_executor();
    static const char *hosts[LOOKUP_MAX + 1];
    for (size_t i = 0; i <= LOOKUP_MAX; i++)
        hosts[i] = "127.0.0.1";
    ax_result results[LOOKUP_MAX + 1];
    char text[LOOKUP_MAX + 1][AX_ADDR_STRLEN];
    ck_assert_int_eq(
        ax_block_on(executor, spawn_lookup(executor, hosts, LOOKUP_MAX + 1, results, text)),
        -EINVAL);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_lookup_dropped_while_it_runs_leaves_nothing_behind)
{
    struct ax_executor *executor = new_executor();
    static const char *const hosts[] = {"localhost", "127.0.0.1", "localhost"};
    ax_result results[3];
    char text[3][AX_ADDR_STRLEN];
    struct ax_task *task = spawn_lookup(executor, hosts, 3, results, text);
    axt_run_turn(executor);
    ax_task_abort(task);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ax_executor_free(executor); /* waits for the workers; leak checkers see the rest */
}
END_TEST

static Suite *lookup_all_suite(void)
{
    Suite *s = suite_create("08-lookup-all");
    TCase *tc = axt_tcase("lookup");
    tcase_add_test(tc, each_host_gets_its_first_address_or_its_error);
    tcase_add_test(tc, the_name_lookups_run_at_the_same_time);
    tcase_add_test(tc, more_hosts_than_it_holds_is_einval);
    tcase_add_test(tc, a_lookup_dropped_while_it_runs_leaves_nothing_behind);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(lookup_all_suite)
