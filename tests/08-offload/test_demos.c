/* Chapter 08's demo tells the story the chapter says it tells, in its shape: loop-lag
 * runs the hashing inline and then offloaded, and in each run the hasher, the ticker
 * and the echo all did their work; --mode runs one of the two; --tsv prints the
 * results the benchmark relays. How late the ticks came is a duration, which a unit
 * test does not assert (bench/offload.c measures it). */
#include "axtest.h"
#include "demo.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OUTPUT_MAX = 4096, RUN_MS = 20000 };

/* Runs build/bin/loop-lag with args to its end; its standard output goes into out. */
static void run_loop_lag(const char *const args[], char out[OUTPUT_MAX])
{
    int fd;
    pid_t pid = axt_demo_spawn("loop-lag", args, 0, &fd, NULL);
    size_t n = axt_read_within(fd, out, OUTPUT_MAX - 1, RUN_MS);
    out[n] = '\0';
    close(fd);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "loop-lag exited with status %#x:\n%s", status, out);
}

/* The row of `mode` in the table: its hashes, ticks and echoes are all above zero. */
static void assert_row_did_its_work(const char *out, const char *mode)
{
    char start[16];
    snprintf(start, sizeof start, "\n%s ", mode);
    const char *row = strstr(out, start);
    ck_assert_msg(row != NULL, "no %s row in:\n%s", mode, out);
    int hashes = 0, echoes = 0;
    unsigned long ticks = 0;
    double p50, p99, max, rtt50;
    int fields = sscanf(row + strlen(start), "%d %lu %lf %lf %lf %d %lf", &hashes, &ticks, &p50,
                        &p99, &max, &echoes, &rtt50);
    ck_assert_msg(fields == 7, "a %s row that does not read as the table's:\n%s", mode, out);
    ck_assert_msg(hashes > 0 && ticks > 0 && echoes > 0,
                  "in the %s run something did nothing (%d hashes, %lu ticks, %d echoes)", mode,
                  hashes, ticks, echoes);
}

START_TEST(loop_lag_runs_the_hash_inline_then_on_the_pool)
{
    char out[OUTPUT_MAX];
    run_loop_lag((const char *const[]){"--run-ms", "100", "--mib", "1", NULL}, out);
    assert_row_did_its_work(out, "inline");
    assert_row_did_its_work(out, "offload");
    ck_assert_msg(strstr(out, "\ninline ") < strstr(out, "\noffload "), "inline runs first:\n%s",
                  out);
}
END_TEST

START_TEST(loop_lag_runs_one_mode_when_asked)
{
    char out[OUTPUT_MAX];
    run_loop_lag((const char *const[]){"--mode", "offload", "--run-ms", "50", "--mib", "1", NULL},
                 out);
    assert_row_did_its_work(out, "offload");
    ck_assert_msg(strstr(out, "\ninline ") == NULL, "an inline run nobody asked for:\n%s", out);
}
END_TEST

START_TEST(loop_lag_prints_the_benchmark_lines_with_tsv)
{
    char out[OUTPUT_MAX];
    run_loop_lag((const char *const[]){"--tsv", "--run-ms", "50", "--mib", "1", NULL}, out);
    static const char *const names[] = {"lag.inline_p99_us\t", "lag.offload_p99_us\t",
                                        "lag.echo_inline_p99_us\t", "lag.echo_offload_p99_us\t"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ck_assert_msg(strstr(out, names[i]) != NULL, "no %s line in:\n%s", names[i], out);
    for (const char *line = out; *line != '\0'; line = strchr(line, '\n') + 1) {
        char name[64], unit[16];
        double value;
        ck_assert_msg(sscanf(line, "%63s %lf %15s", name, &value, unit) == 3,
                      "not a name<TAB>value<TAB>unit line: %s", axt_quoted(line));
        if (strchr(line, '\n') == NULL)
            break;
    }
}
END_TEST

static Suite *demos_suite(void)
{
    Suite *s = suite_create("08-demos");
    TCase *tc = axt_tcase("demos");
    tcase_add_test(tc, loop_lag_runs_the_hash_inline_then_on_the_pool);
    tcase_add_test(tc, loop_lag_runs_one_mode_when_asked);
    tcase_add_test(tc, loop_lag_prints_the_benchmark_lines_with_tsv);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(demos_suite)
