/* lost-lines tells the story of cancel safety: a reader whose line future owns its
 * buffer loses bytes each time a timeout drops it mid-line; ax_next_line, whose bytes
 * live in the connection, loses none; and a timeout longer than a line takes hides the
 * difference. The demo runs on virtual time, so its counts are the same on every run. */
#include "axtest.h"
#include "demo.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OUTPUT_MAX = 4096, RUN_MS = 20000 };

/* One reader's line of the demo's output. */
struct counts {
    int lost, intact, lines, timeouts;
};

/* Runs lost-lines with args and reads the counts it prints for each reader. */
static void run_lost_lines(const char *const args[], struct counts *naive, struct counts *safe)
{
    int fd;
    pid_t pid = axt_demo_spawn("lost-lines", args, 0, &fd, NULL);
    char out[OUTPUT_MAX];
    size_t n = axt_read_within(fd, out, sizeof out - 1, RUN_MS);
    out[n] = '\0';
    close(fd);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "lost-lines exited with %#x",
                  status);
    const char *format = "%d bytes lost, %d of %d lines intact, %d timeouts";
    const char *at = strstr(out, "naive reader:");
    ck_assert_msg(at != NULL, "no naive reader line in:\n%s", out);
    ck_assert_int_eq(sscanf(at + strlen("naive reader:"), format, &naive->lost, &naive->intact,
                            &naive->lines, &naive->timeouts),
                     4);
    at = strstr(out, "safe reader:");
    ck_assert_msg(at != NULL, "no safe reader line in:\n%s", out);
    ck_assert_int_eq(sscanf(at + strlen("safe reader:"), format, &safe->lost, &safe->intact,
                            &safe->lines, &safe->timeouts),
                     4);
}

START_TEST(the_naive_reader_loses_bytes_each_time_a_timeout_drops_it_mid_line)
{
    struct counts naive, safe;
    run_lost_lines(NULL, &naive, &safe);
    ck_assert_int_gt(naive.timeouts, 0);
    ck_assert_int_gt(naive.lost, 0);
    ck_assert_int_lt(naive.intact, naive.lines);
}
END_TEST

START_TEST(the_safe_reader_loses_no_byte_and_no_line_to_the_same_timeouts)
{
    struct counts naive, safe;
    run_lost_lines(NULL, &naive, &safe);
    ck_assert_int_eq(safe.timeouts, naive.timeouts); /* the same drops, mid-line */
    ck_assert_int_gt(safe.timeouts, 0);
    ck_assert_int_eq(safe.lost, 0);
    ck_assert_int_eq(safe.intact, safe.lines);
}
END_TEST

START_TEST(a_timeout_longer_than_a_line_takes_hides_the_bug)
{
    struct counts naive, safe;
    run_lost_lines((const char *const[]){"--timeout-ms", "300", NULL}, &naive, &safe);
    ck_assert_int_eq(naive.timeouts, 0);
    ck_assert_int_eq(naive.lost, 0);
    ck_assert_int_eq(naive.intact, naive.lines);
    ck_assert_int_eq(safe.lost, 0);
    ck_assert_int_eq(safe.intact, safe.lines);
}
END_TEST

START_TEST(a_timeout_that_fires_once_per_line_is_enough_to_damage_every_line)
{
    struct counts naive, safe;
    run_lost_lines((const char *const[]){"--timeout-ms", "140", NULL}, &naive, &safe);
    ck_assert_int_eq(naive.timeouts, naive.lines);
    ck_assert_int_eq(naive.intact, 0);
    ck_assert_int_eq(safe.lost, 0);
    ck_assert_int_eq(safe.intact, safe.lines);
}
END_TEST

static Suite *lost_lines_suite(void)
{
    Suite *s = suite_create("lost-lines");
    TCase *tc = axt_tcase("lost-lines");
    tcase_add_test(tc, the_naive_reader_loses_bytes_each_time_a_timeout_drops_it_mid_line);
    tcase_add_test(tc, the_safe_reader_loses_no_byte_and_no_line_to_the_same_timeouts);
    tcase_add_test(tc, a_timeout_longer_than_a_line_takes_hides_the_bug);
    tcase_add_test(tc, a_timeout_that_fires_once_per_line_is_enough_to_damage_every_line);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(lost_lines_suite)
