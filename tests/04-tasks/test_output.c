/* Task outputs, and the slab tasks live in: what a task hands back beyond its result,
 * who owns it when, and tasks of every size. */
#include "axtest.h"
#include "ax/async.h"
#include "ax/task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

/* An output the tests can count the drops of. */
struct page {
    int *drops; /* the test's: it outlives the page */
    char text[32];
};

static void drop_page(void *output)
{
    struct page *page = output;
    ++*page->drops;
    free(page);
}

/* Finishes with the length of `text`, handing over a page holding it; `outputs` pages
 * in all, each replacing the last. */
struct writer {
    struct ax_future base;
    const char *text;
    int outputs;
    int *drops;
};

static ax_result writer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct writer *w = (struct writer *)self;
    for (int i = 0; i < w->outputs; i++) {
        struct page *page = calloc(1, sizeof *page);
        if (page == NULL)
            return -ENOMEM;
        page->drops = w->drops;
        snprintf(page->text, sizeof page->text, "%s", w->text);
        ax_task_set_output(cx, page, drop_page);
    }
    return (ax_result)strlen(w->text);
}

static const struct ax_future_ops writer_ops = {.poll = writer_poll};

static struct ax_task *spawn_writer(struct ax_executor *executor, const char *text, int outputs,
                                    int *drops)
{
    struct writer *w = ax_task_alloc(executor, sizeof *w);
    *w = (struct writer){.base = {&writer_ops}, .text = text, .outputs = outputs, .drops = drops};
    return ax_task_spawn(&w->base);
}

START_TEST(block_on_hands_the_task_output_to_the_caller)
{
    struct ax_executor *executor = new_executor();
    int drops = 0;
    void *output = NULL;
    ck_assert_int_eq(
        ax_block_on_output(executor, spawn_writer(executor, "hello", 1, &drops), &output), 5);
    ck_assert_ptr_nonnull(output);
    ck_assert_str_eq(((struct page *)output)->text, "hello");
    ax_executor_free(executor);
    ck_assert_int_eq(drops, 0); /* the caller's now: nobody else drops it */
    drop_page(output);
}
END_TEST

START_TEST(an_output_nobody_takes_is_dropped_once_with_its_task)
{
    struct ax_executor *executor = new_executor();
    int joined = 0, detached = 0;
    ck_assert_int_eq(ax_block_on(executor, spawn_writer(executor, "joined", 1, &joined)), 6);
    ck_assert_int_eq(joined, 1); /* block_on without a slot: the task went, and its output */
    ax_task_detach(spawn_writer(executor, "detached", 1, &detached));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(detached, 1);
    ax_executor_free(executor);
    ck_assert_int_eq(joined + detached, 2);
}
END_TEST

START_TEST(a_second_output_replaces_and_drops_the_first)
{
    struct ax_executor *executor = new_executor();
    int drops = 0;
    void *output = NULL;
    ax_block_on_output(executor, spawn_writer(executor, "twice", 2, &drops), &output);
    ck_assert_int_eq(drops, 1);
    drop_page(output);
    ax_executor_free(executor);
    ck_assert_int_eq(drops, 2);
}
END_TEST

/* Spawns a writer, joins it with an output slot in the struct, and checks the page. */
struct collector {
    struct ax_future base;
    struct ax_coroutine co;
    int *drops;
    ax_result rc;
    struct page *page; /* the join's output slot: stays valid after the await */
    struct ax_join join;
};

static ax_result collector_poll(struct ax_future *self, struct ax_context *cx)
{
    struct collector *c = (struct collector *)self;
    AX_ASYNC_BEGIN(&c->co);
    ax_join_init_output(&c->join, spawn_writer(cx->executor, "collected", 1, c->drops),
                        (void **)&c->page);
    AX_AWAIT(&c->co, cx, &c->join.base, c->rc);
    if (c->rc != 9 || c->page == NULL || strcmp(c->page->text, "collected") != 0)
        AX_ASYNC_RETURN(&c->co, -EPROTO);
    drop_page(c->page);
    c->page = NULL;
    AX_ASYNC_END(&c->co, 0);
}

static const struct ax_future_ops collector_ops = {.poll = collector_poll};

START_TEST(a_join_with_an_output_slot_moves_the_output_there)
{
    struct ax_executor *executor = new_executor();
    int drops = 0;
    struct collector *c = ax_task_alloc(executor, sizeof *c);
    *c = (struct collector){.base = {&collector_ops}, .drops = &drops};
    ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&c->base)), 0);
    ck_assert_int_eq(drops, 1); /* dropped by the collector, not by the task */
    ax_executor_free(executor);
    ck_assert_int_eq(drops, 1);
}
END_TEST

START_TEST(a_finished_join_polled_again_returns_einval)
{
    struct ax_executor *executor = new_executor();
    struct ax_join *join = malloc(sizeof *join);
    ax_join_init(join, spawn_writer(executor, "x", 0, NULL));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    struct ax_context cx = {0}; /* the task is done: the join needs no waker */
    ck_assert_int_eq(ax_poll(&join->base, &cx), 1);
    ck_assert_int_eq(ax_poll(&join->base, &cx), -EINVAL);
    ax_future_drop(&join->base);
    free(join);
    ax_executor_free(executor);
}
END_TEST

START_TEST(tasks_are_numbered_in_the_order_they_are_spawned)
{
    struct ax_executor *executor = new_executor();
    struct ax_task *first = spawn_writer(executor, "a", 0, NULL);
    struct ax_task *second = spawn_writer(executor, "b", 0, NULL);
    ck_assert_uint_eq(ax_task_id(first), 1);
    ck_assert_uint_eq(ax_task_id(second), 2);
    ax_block_on(executor, first);
    ax_block_on(executor, second);
    ax_executor_free(executor);
}
END_TEST

/* A future of any size: fills its buffer, then finishes with a checksum of it. */
struct sized {
    struct ax_future base;
    size_t len;
    unsigned char bytes[];
};

static ax_result sized_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    struct sized *s = (struct sized *)self;
    ax_result sum = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->bytes[i] != 0)
            return -EILSEQ; /* task storage is handed out zeroed */
        s->bytes[i] = (unsigned char)i;
        sum += s->bytes[i];
    }
    return sum;
}

static const struct ax_future_ops sized_ops = {.poll = sized_poll};

START_TEST(tasks_of_every_size_from_a_few_bytes_to_a_megabyte_run_and_are_freed)
{
    static const size_t sizes[] = {0,    1,    15,    16,    100,   1000,   1024,
                                   1025, 4000, 16384, 16385, 70000, 1 << 20};
    struct ax_executor *executor = new_executor();
    for (int round = 0; round < 3; round++) { /* again: freed blocks are reused */
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            struct sized *s = ax_task_alloc(executor, sizeof *s + sizes[i]);
            ck_assert_ptr_nonnull(s);
            ck_assert_uint_eq((uintptr_t)s % 16, 0);
            s->base.ops = &sized_ops;
            s->len = sizes[i];
            ax_result want = 0;
            for (size_t k = 0; k < sizes[i]; k++)
                want += (unsigned char)k;
            ck_assert_int_eq(ax_block_on(executor, ax_task_spawn(&s->base)), want);
        }
    }
    ax_executor_free(executor);
}
END_TEST

static Suite *output_suite(void)
{
    Suite *s = suite_create("04-output");
    TCase *tc = axt_tcase("output");
    tcase_add_test(tc, block_on_hands_the_task_output_to_the_caller);
    tcase_add_test(tc, an_output_nobody_takes_is_dropped_once_with_its_task);
    tcase_add_test(tc, a_second_output_replaces_and_drops_the_first);
    tcase_add_test(tc, a_join_with_an_output_slot_moves_the_output_there);
    tcase_add_test(tc, a_finished_join_polled_again_returns_einval);
    tcase_add_test(tc, tasks_are_numbered_in_the_order_they_are_spawned);
    tcase_add_test(tc, tasks_of_every_size_from_a_few_bytes_to_a_megabyte_run_and_are_freed);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(output_suite)
