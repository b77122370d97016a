/* The intrusive list: order, O(1) removal, and the self-linked "not on a list" state. */
#include "axtest.h"
#include "ax/list.h"

struct item {
    int value;
    struct ax_list link;
};

static int values(struct ax_list *head, int *out, int max)
{
    int n = 0;
    struct ax_list *node;
    ax_list_for_each(node, head)
    {
        if (n < max)
            out[n] = ax_container_of(node, struct item, link)->value;
        n++;
    }
    return n;
}

START_TEST(list_starts_empty_and_keeps_insertion_order)
{
    struct ax_list head;
    ax_list_init(&head);
    ck_assert(ax_list_empty(&head));
    struct item a = {.value = 1}, b = {.value = 2}, c = {.value = 3};
    ax_list_push_back(&head, &b.link);
    ax_list_push_back(&head, &c.link);
    ax_list_push_front(&head, &a.link);
    int got[3];
    ck_assert_int_eq(values(&head, got, 3), 3);
    ck_assert_int_eq(got[0], 1);
    ck_assert_int_eq(got[1], 2);
    ck_assert_int_eq(got[2], 3);
}
END_TEST

START_TEST(list_remove_unlinks_from_the_middle_and_is_idempotent)
{
    struct ax_list head;
    ax_list_init(&head);
    struct item a = {.value = 1}, b = {.value = 2}, c = {.value = 3};
    ax_list_push_back(&head, &a.link);
    ax_list_push_back(&head, &b.link);
    ax_list_push_back(&head, &c.link);
    ax_list_remove(&b.link);
    ck_assert(!ax_list_linked(&b.link));
    ax_list_remove(&b.link); /* a second removal must not corrupt the list */
    int got[3];
    ck_assert_int_eq(values(&head, got, 3), 2);
    ck_assert_int_eq(got[0], 1);
    ck_assert_int_eq(got[1], 3);
}
END_TEST

START_TEST(list_pop_front_drains_in_order_then_returns_null)
{
    struct ax_list head;
    ax_list_init(&head);
    struct item items[5];
    for (int i = 0; i < 5; i++) {
        items[i].value = i;
        ax_list_push_back(&head, &items[i].link);
    }
    for (int i = 0; i < 5; i++) {
        struct ax_list *node = ax_list_pop_front(&head);
        ck_assert_ptr_nonnull(node);
        ck_assert_int_eq(ax_container_of(node, struct item, link)->value, i);
        ck_assert(!ax_list_linked(node));
    }
    ck_assert_ptr_null(ax_list_pop_front(&head));
}
END_TEST

START_TEST(list_splice_moves_everything_in_order)
{
    struct ax_list to, from;
    ax_list_init(&to);
    ax_list_init(&from);
    struct item a = {.value = 1}, b = {.value = 2}, c = {.value = 3};
    ax_list_push_back(&to, &a.link);
    ax_list_push_back(&from, &b.link);
    ax_list_push_back(&from, &c.link);
    ax_list_splice_back(&to, &from);
    ck_assert(ax_list_empty(&from));
    int got[3];
    ck_assert_int_eq(values(&to, got, 3), 3);
    ck_assert_int_eq(got[0], 1);
    ck_assert_int_eq(got[2], 3);
    ax_list_splice_back(&to, &from); /* splicing an empty list changes nothing */
    ck_assert_int_eq(values(&to, got, 3), 3);
}
END_TEST

START_TEST(list_for_each_safe_allows_removing_the_current_node)
{
    struct ax_list head;
    ax_list_init(&head);
    struct item items[6];
    for (int i = 0; i < 6; i++) {
        items[i].value = i;
        ax_list_push_back(&head, &items[i].link);
    }
    struct ax_list *node, *tmp;
    ax_list_for_each_safe(node, tmp, &head)
    {
        if (ax_container_of(node, struct item, link)->value % 2 == 0)
            ax_list_remove(node);
    }
    int got[6];
    ck_assert_int_eq(values(&head, got, 6), 3);
    ck_assert_int_eq(got[0], 1);
    ck_assert_int_eq(got[1], 3);
    ck_assert_int_eq(got[2], 5);
}
END_TEST

static Suite *list_suite(void)
{
    Suite *s = suite_create("01-list");
    TCase *tc = axt_tcase("list");
    tcase_add_test(tc, list_starts_empty_and_keeps_insertion_order);
    tcase_add_test(tc, list_remove_unlinks_from_the_middle_and_is_idempotent);
    tcase_add_test(tc, list_pop_front_drains_in_order_then_returns_null);
    tcase_add_test(tc, list_splice_moves_everything_in_order);
    tcase_add_test(tc, list_for_each_safe_allows_removing_the_current_node);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(list_suite)
