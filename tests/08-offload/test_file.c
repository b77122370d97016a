/* Files on the pool (ax/file.h): reads and writes at an offset or at the descriptor's
 * position, writes longer than one job, whole-file reads with a limit, and the promise
 * cancellation rests on: a worker never writes into the caller's buffer once the future
 * is gone. Files are made with mkstemp in $TMPDIR (or /tmp) and removed at once. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/error.h"
#include "ax/file.h"
#include "ax/pool.h"
#include "ax/task.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char TEXT[] = "the quick brown fox jumps over the lazy dog\n";

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    ck_assert_int_eq(ax_executor_new(&executor, NULL), 0);
    return executor;
}

/* A new temporary file holding len bytes of data; its path goes in path. */
static int temp_file(const void *data, size_t len, char path[64])
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, 64, "%s/axle-file-XXXXXX", dir);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    return fd;
}

static ax_result read_at(struct ax_executor *executor, int fd, void *buf, size_t len,
                         uint64_t offset)
{
    struct ax_file_read *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    ax_file_read_init(f, fd, buf, len, offset);
    return ax_block_on(executor, ax_task_spawn(&f->base));
}

static ax_result write_at(struct ax_executor *executor, int fd, const void *buf, size_t len,
                          uint64_t offset)
{
    struct ax_file_write *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    ax_file_write_init(f, fd, buf, len, offset);
    return ax_block_on(executor, ax_task_spawn(&f->base));
}

static ax_result read_all(struct ax_executor *executor, const char *path, size_t max, char **data)
{
    struct ax_file_read_all *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    ax_file_read_all_init(f, path, max, data);
    return ax_block_on(executor, ax_task_spawn(&f->base));
}

/* ---- read and write --------------------------------------------------------------- */

START_TEST(a_read_returns_the_bytes_at_its_offset)
{
    struct ax_executor *executor = new_executor();
    char path[64], buf[16] = {0};
    int fd = temp_file(TEXT, sizeof TEXT - 1, path);
    unlink(path);
    ck_assert_int_eq(read_at(executor, fd, buf, 5, 4), 5);
    ck_assert_mem_eq(buf, "quick", 5);
    ck_assert_int_eq(read_at(executor, fd, buf, sizeof buf, sizeof TEXT - 1), 0); /* the end */
    close(fd);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_read_at_the_current_position_moves_it)
{
    struct ax_executor *executor = new_executor();
    char path[64], buf[16] = {0};
    int fd = temp_file(TEXT, sizeof TEXT - 1, path);
    unlink(path);
    lseek(fd, 0, SEEK_SET);
    ck_assert_int_eq(read_at(executor, fd, buf, 4, AX_FILE_CURRENT), 4);
    ck_assert_int_eq(read_at(executor, fd, buf, 5, AX_FILE_CURRENT), 5);
    ck_assert_mem_eq(buf, "quick", 5);
    close(fd);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_read_of_a_bad_descriptor_is_ebadf)
{
    struct ax_executor *executor = new_executor();
    char buf[4];
    ck_assert_int_eq(read_at(executor, -1, buf, sizeof buf, 0), -EBADF);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_write_lands_at_its_offset)
{
    struct ax_executor *executor = new_executor();
    char path[64], back[sizeof TEXT] = {0};
    int fd = temp_file(TEXT, sizeof TEXT - 1, path);
    unlink(path);
    ck_assert_int_eq(write_at(executor, fd, "QUICK", 5, 4), 0);
    ck_assert_int_eq(pread(fd, back, sizeof TEXT - 1, 0), (ssize_t)sizeof TEXT - 1);
    ck_assert_str_eq(back, "the QUICK brown fox jumps over the lazy dog\n");
    close(fd);
    ax_executor_free(executor);
}
END_TEST

START_TEST(writes_at_the_current_position_follow_each_other)
{
    struct ax_executor *executor = new_executor();
    char path[64], back[16] = {0};
    int fd = temp_file("", 0, path);
    unlink(path);
    ck_assert_int_eq(write_at(executor, fd, "one ", 4, AX_FILE_CURRENT), 0);
    ck_assert_int_eq(write_at(executor, fd, "two", 3, AX_FILE_CURRENT), 0);
    ck_assert_int_eq(pread(fd, back, sizeof back - 1, 0), 7);
    ck_assert_str_eq(back, "one two");
    close(fd);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_write_longer_than_one_job_is_written_whole)
{
    struct ax_executor *executor = new_executor();
    size_t len = 3 * AX_FILE_CHUNK + 17;
    char *data = malloc(len), *back = malloc(len);
    ck_assert(data != NULL && back != NULL);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)('a' + i % 23);
    char path[64];
    int fd = temp_file("", 0, path);
    unlink(path);
    ck_assert_int_eq(write_at(executor, fd, data, len, 0), 0);
    ck_assert_int_eq(pread(fd, back, len, 0), (ssize_t)len);
    ck_assert_msg(memcmp(data, back, len) == 0, "the file differs from what was written");
    free(data);
    free(back);
    close(fd);
    ax_executor_free(executor);
}
END_TEST

/* ---- whole files ------------------------------------------------------------------ */

START_TEST(read_all_returns_the_whole_file_nul_terminated)
{
    struct ax_executor *executor = new_executor();
    char path[64];
    close(temp_file(TEXT, sizeof TEXT - 1, path));
    char *data = NULL;
    ck_assert_int_eq(read_all(executor, path, 1 << 20, &data), sizeof TEXT - 1);
    ck_assert_str_eq(data, TEXT);
    free(data);
    unlink(path);
    ax_executor_free(executor);
}
END_TEST

START_TEST(read_all_refuses_a_file_over_its_limit)
{
    struct ax_executor *executor = new_executor();
    char path[64];
    close(temp_file(TEXT, sizeof TEXT - 1, path));
    char *data = NULL;
    ck_assert_int_eq(read_all(executor, path, sizeof TEXT - 2, &data), -EFBIG);
    ck_assert_ptr_null(data);
    ck_assert_int_eq(read_all(executor, path, sizeof TEXT - 1, &data), sizeof TEXT - 1);
    free(data);
    unlink(path);
    ax_executor_free(executor);
}
END_TEST

START_TEST(read_all_reads_a_file_that_reports_no_size)
{
    struct ax_executor *executor = new_executor();
    char *data = NULL;
    ax_result len = read_all(executor, "/proc/self/status", 1 << 20, &data);
    ck_assert_int_gt(len, 0);
    ck_assert_ptr_nonnull(strstr(data, "Name:"));
    ck_assert_uint_eq(strlen(data), (size_t)len);
    free(data);
    ax_executor_free(executor);
}
END_TEST

START_TEST(read_all_of_a_missing_file_or_a_directory_says_which)
{
    struct ax_executor *executor = new_executor();
    char *data = NULL;
    ck_assert_int_eq(read_all(executor, "/nonexistent/axle", 100, &data), -ENOENT);
    ck_assert_int_eq(read_all(executor, "/", 100, &data), -EISDIR);
    ck_assert_ptr_null(data);
    ax_executor_free(executor);
}
END_TEST

/* ---- cancellation ----------------------------------------------------------------- */

START_TEST(a_dropped_read_never_writes_into_the_callers_buffer)
{
    struct ax_executor *executor = new_executor();
    int pipe_fds[2];
    ck_assert_int_eq(pipe(pipe_fds), 0);
    char *buf = malloc(64);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 'x', 64);
    struct ax_file_read *f = ax_task_alloc(executor, sizeof *f);
    ck_assert_ptr_nonnull(f);
    ax_file_read_init(f, pipe_fds[0], buf, 64, AX_FILE_CURRENT); /* blocks on a worker */
    struct ax_task *task = ax_task_spawn(&f->base);
    axt_run_turn(executor);
    ax_task_abort(task);
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ck_assert_int_eq(write(pipe_fds[1], "late", 4), 4); /* now the worker's read returns */
    ax_executor_free(executor); /* waits for it; its four bytes go nowhere */
    int touched = -1;
    for (int i = 0; i < 64 && touched < 0; i++)
        if (buf[i] != 'x')
            touched = i;
    ck_assert_msg(touched < 0, "byte %d of the dropped read's buffer was written", touched);
    free(buf);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}
END_TEST

static Suite *file_suite(void)
{
    Suite *s = suite_create("08-file");
    TCase *tc = axt_tcase("read-write");
    tcase_add_test(tc, a_read_returns_the_bytes_at_its_offset);
    tcase_add_test(tc, a_read_at_the_current_position_moves_it);
    tcase_add_test(tc, a_read_of_a_bad_descriptor_is_ebadf);
    tcase_add_test(tc, a_write_lands_at_its_offset);
    tcase_add_test(tc, writes_at_the_current_position_follow_each_other);
    tcase_add_test(tc, a_write_longer_than_one_job_is_written_whole);
    suite_add_tcase(s, tc);
    tc = axt_tcase("read-all");
    tcase_add_test(tc, read_all_returns_the_whole_file_nul_terminated);
    tcase_add_test(tc, read_all_refuses_a_file_over_its_limit);
    tcase_add_test(tc, read_all_reads_a_file_that_reports_no_size);
    tcase_add_test(tc, read_all_of_a_missing_file_or_a_directory_says_which);
    suite_add_tcase(s, tc);
    tc = axt_tcase("cancel");
    tcase_add_test(tc, a_dropped_read_never_writes_into_the_callers_buffer);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(file_suite)
