/* The clock, the error text and the logger: the small pieces of the core layer. */
#include "axtest.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/log.h"

#include <errno.h>
#include <string.h>

START_TEST(clock_is_monotonic_and_advances_across_a_sleep)
{
    uint64_t before = ax_now_ns();
    ax_sleep_ns(2 * AX_NS_PER_MS);
    uint64_t after = ax_now_ns();
    ck_assert_uint_ge(after - before, 2 * AX_NS_PER_MS);
}
END_TEST

static uint64_t fake_now(void *ctx)
{
    return *(uint64_t *)ctx;
}

START_TEST(clock_can_be_replaced_by_a_test_and_restored)
{
    uint64_t virtual_time = 42;
    ax_clock_set(fake_now, &virtual_time);
    ck_assert_uint_eq(ax_now_ns(), 42);
    virtual_time += AX_NS_PER_S;
    ck_assert_uint_eq(ax_now_ns(), 42 + AX_NS_PER_S);
    ax_clock_set(NULL, NULL);
    ck_assert_uint_gt(ax_now_ns(), 0);
    ck_assert_uint_ne(ax_now_ns(), 42 + AX_NS_PER_S);
}
END_TEST

START_TEST(strerror_names_errno_values_and_eof)
{
    ck_assert_str_eq(ax_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
    ck_assert_str_eq(ax_strerror(AX_EOF), "Unexpected end of stream");
    ck_assert_str_eq(ax_strerror(0), "Success");
}
END_TEST

START_TEST(logging_keeps_errno_intact)
{
    errno = EAGAIN;
    ax_info("a message with a number %d", 7);
    ax_debug("below the default threshold");
    ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("01-clock");
    TCase *tc = axt_tcase("core");
    tcase_add_test(tc, clock_is_monotonic_and_advances_across_a_sleep);
    tcase_add_test(tc, clock_can_be_replaced_by_a_test_and_restored);
    tcase_add_test(tc, strerror_names_errno_values_and_eof);
    tcase_add_test(tc, logging_keeps_errno_intact);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(core_suite)
