/* The byte buffer: append at the back, consume from the front, grow and compact. */
#include "axtest.h"
#include "ax/buf.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

START_TEST(buf_zeroed_is_empty_and_free_is_safe)
{
    struct ax_buf buf = AX_BUF_INIT;
    ck_assert_uint_eq(ax_buf_len(&buf), 0);
    ax_buf_free(&buf);
    ax_buf_free(&buf);
    ck_assert_uint_eq(ax_buf_len(&buf), 0);
}
END_TEST

START_TEST(buf_append_then_consume_returns_bytes_in_order)
{
    struct ax_buf buf = AX_BUF_INIT;
    ck_assert_int_eq(ax_buf_append(&buf, "hello ", 6), 0);
    ck_assert_int_eq(ax_buf_append(&buf, "world", 5), 0);
    ck_assert_uint_eq(ax_buf_len(&buf), 11);
    ck_assert(memcmp(ax_buf_data(&buf), "hello world", 11) == 0);
    ax_buf_consume(&buf, 6);
    ck_assert_uint_eq(ax_buf_len(&buf), 5);
    ck_assert(memcmp(ax_buf_data(&buf), "world", 5) == 0);
    ax_buf_consume(&buf, 100); /* more than there is: empties it */
    ck_assert_uint_eq(ax_buf_len(&buf), 0);
    ax_buf_free(&buf);
}
END_TEST

START_TEST(buf_grows_past_many_doublings_without_losing_bytes)
{
    struct ax_buf buf = AX_BUF_INIT;
    for (int i = 0; i < 100000; i++) {
        unsigned char byte = (unsigned char)(i * 31);
        ck_assert_int_eq(ax_buf_append(&buf, &byte, 1), 0);
    }
    ck_assert_uint_eq(ax_buf_len(&buf), 100000);
    for (int i = 0; i < 100000; i++)
        ck_assert_uint_eq((unsigned char)ax_buf_data(&buf)[i], (unsigned char)(i * 31));
    ax_buf_free(&buf);
}
END_TEST

START_TEST(buf_reuses_consumed_space_instead_of_growing)
{
    struct ax_buf buf = AX_BUF_INIT;
    char chunk[100];
    memset(chunk, 'x', sizeof chunk);
    ck_assert_int_eq(ax_buf_append(&buf, chunk, sizeof chunk), 0);
    size_t cap = buf.cap;
    /* A steady stream through the buffer: what is consumed makes room for what comes. */
    for (int i = 0; i < 1000; i++) {
        ax_buf_consume(&buf, sizeof chunk);
        ck_assert_int_eq(ax_buf_append(&buf, chunk, sizeof chunk), 0);
    }
    ck_assert_uint_eq(buf.cap, cap);
    ck_assert_uint_eq(ax_buf_len(&buf), sizeof chunk);
    ax_buf_free(&buf);
}
END_TEST

START_TEST(buf_reserve_then_commit_reads_in_place)
{
    struct ax_buf buf = AX_BUF_INIT;
    ck_assert_int_eq(ax_buf_reserve(&buf, 10), 0);
    ck_assert_uint_ge(ax_buf_space_len(&buf), 10);
    memcpy(ax_buf_space(&buf), "0123456789", 10);
    ax_buf_commit(&buf, 10);
    ck_assert_uint_eq(ax_buf_len(&buf), 10);
    ck_assert(memcmp(ax_buf_data(&buf), "0123456789", 10) == 0);
    ax_buf_free(&buf);
}
END_TEST

START_TEST(buf_impossible_growth_fails_with_enomem_and_keeps_contents)
{
    struct ax_buf buf = AX_BUF_INIT;
    ck_assert_int_eq(ax_buf_append(&buf, "keep", 4), 0);
    ck_assert_int_eq(ax_buf_reserve(&buf, SIZE_MAX - 2), -ENOMEM);
    ck_assert_int_eq(ax_buf_reserve(&buf, SIZE_MAX / 2 + 1), -ENOMEM);
    ck_assert_uint_eq(ax_buf_len(&buf), 4);
    ck_assert(memcmp(ax_buf_data(&buf), "keep", 4) == 0);
    ax_buf_free(&buf);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("01-buf");
    TCase *tc = axt_tcase("buf");
    tcase_add_test(tc, buf_zeroed_is_empty_and_free_is_safe);
    tcase_add_test(tc, buf_append_then_consume_returns_bytes_in_order);
    tcase_add_test(tc, buf_grows_past_many_doublings_without_losing_bytes);
    tcase_add_test(tc, buf_reuses_consumed_space_instead_of_growing);
    tcase_add_test(tc, buf_reserve_then_commit_reads_in_place);
    tcase_add_test(tc, buf_impossible_growth_fails_with_enomem_and_keeps_contents);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(buf_suite)
