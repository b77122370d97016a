/* Exercise 08-copy-file: a copy through the pool, one chunk at a time, whole and exact;
 * an empty file and a bad descriptor; and a copy dropped half-way leaves nothing behind
 * (the leak checkers' part). Files are made with mkstemp and removed at once. */
#include "axtest.h"
#include "copy_file.h"
#include "virtual_time.h"
#include "ax/error.h"
#include "ax/task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int temp_file(void)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[256];
    snprintf(path, sizeof path, "%s/axle-copy-XXXXXX", dir);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

static ax_result copy(struct ax_executor *executor, int from, int to)
{
    struct copy_file *c = ax_task_alloc(executor, sizeof *c);
    ck_assert_ptr_nonnull(c);
    copy_file_init(c, from, to);
    return ax_block_on(executor, ax_task_spawn(&c->base));
}

START_TEST(a_copy_is_whole_and_exact_across_many_chunks)
{
    struct ax_executor *executor = new_executor();
    size_t len = 5 * COPY_CHUNK + 123;
    char *data = malloc(len), *back = malloc(len + 1);
    ck_assert(data != NULL && back != NULL);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)(i * 7 + i / 977);
    int from = temp_file(), to = temp_file();
    ck_assert_int_eq(write(from, data, len), (ssize_t)len);
    ck_assert_int_eq(copy(executor, from, to), (ax_result)len);
    ck_assert_int_eq(pread(to, back, len + 1, 0), (ssize_t)len);
    ck_assert_msg(memcmp(data, back, len) == 0, "the copy differs from the original");
    free(data);
    free(back);
    close(from);
    close(to);
    ax_executor_free(executor);
}
END_TEST

START_TEST(an_empty_file_copies_as_nothing)
{
    struct ax_executor *executor = new_executor();
    int from = temp_file(), to = temp_file();
    ck_assert_int_eq(copy(executor, from, to), 0);
    char byte;
    ck_assert_int_eq(pread(to, &byte, 1, 0), 0);
    close(from);
    close(to);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_bad_descriptor_is_the_copy_s_error)
{
    struct ax_executor *executor = new_executor();
    int to = temp_file();
    ck_assert_int_eq(copy(executor, -1, to), -EBADF);
    int from = temp_file();
    ck_assert_int_eq(write(from, "x", 1), 1);
    ck_assert_int_eq(copy(executor, from, -1), -EBADF);
    close(from);
    close(to);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_copy_dropped_half_way_leaves_nothing_behind)
{
    struct ax_executor *executor = new_executor();
    size_t len = 8 * COPY_CHUNK;
    char *data = calloc(1, len);
    ck_assert_ptr_nonnull(data);
    int from = temp_file(), to = temp_file();
    ck_assert_int_eq(write(from, data, len), (ssize_t)len);
    struct copy_file *c = ax_task_alloc(executor, sizeof *c);
    ck_assert_ptr_nonnull(c);
    copy_file_init(c, from, to);
    struct ax_task *task = ax_task_spawn(&c->base);
    axt_run_turn(executor); /* its first read is on the pool */
    ax_task_abort(task);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ax_executor_free(executor);
    free(data);
    close(from);
    close(to);
}
END_TEST

static Suite *copy_file_suite(void)
{
    Suite *s = suite_create("08-copy-file");
    TCase *tc = axt_tcase("copy");
    tcase_add_test(tc, a_copy_is_whole_and_exact_across_many_chunks);
    tcase_add_test(tc, an_empty_file_copies_as_nothing);
    tcase_add_test(tc, a_bad_descriptor_is_the_copy_s_error);
    tcase_add_test(tc, a_copy_dropped_half_way_leaves_nothing_behind);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(copy_file_suite)
