/* Chapter 06's small demos tell the story the chapter says they tell. cancel-token is the
 * C twin of the Rust and Go examples: the worker reports "cancelled" when its parent
 * token is cancelled, at once or by a deadline, and "done" when nobody cancels it.
 * layers passes a deadline and a shutdown down three layers: its output, with the times
 * taken off, must be exactly the timeline the chapter describes for each case. The
 * durations given to the demo differ by hundreds of milliseconds, so a slow run (under
 * valgrind) cannot reorder the events; no duration is asserted. */
#include "axtest.h"
#include "demo.h"

#include <ctype.h>
#include <string.h>
#include <sys/wait.h>

enum { OUTPUT_MAX = 4096, RUN_MS = 20000 };

/* Runs build/bin/NAME with args to its end; its standard output, each line with its
 * leading "  12.3 ms" taken off and runs of spaces made one, goes into out. */
static void run_demo(const char *name, const char *const args[], char out[OUTPUT_MAX])
{
    int fd;
    pid_t pid = axt_demo_spawn(name, args, 0, &fd, NULL);
    char raw[OUTPUT_MAX];
    size_t n = axt_read_within(fd, raw, sizeof raw - 1, RUN_MS);
    raw[n] = '\0';
    close(fd);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status %#x", name,
                  status);
    size_t o = 0;
    for (char *line = strtok(raw, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *ms = strstr(line, " ms  ");
        const char *p =
            ms != NULL && strspn(line, " 0123456789.") > (size_t)(ms - line) ? ms + 5 : line;
        for (; *p != '\0' && o < OUTPUT_MAX - 2; p++)
            if (!(isspace((unsigned char)*p) && o > 0 && out[o - 1] == ' '))
                out[o++] = isspace((unsigned char)*p) ? ' ' : *p;
        out[o++] = '\n';
    }
    out[o] = '\0';
}

/* The first line of cancel-token's output up to " after". */
static void worker_says(const char *const args[], const char *expected)
{
    char out[OUTPUT_MAX];
    run_demo("cancel-token", args, out);
    ck_assert_msg(strncmp(out, expected, strlen(expected)) == 0 &&
                      strncmp(out + strlen(expected), " after ", 7) == 0,
                  "expected \"%s after ...\", got \"%s\"", expected, out);
}

START_TEST(cancel_token_cancels_the_worker_through_its_parent_at_once)
{
    worker_says(NULL, "worker: cancelled");
}
END_TEST

START_TEST(cancel_token_cancels_the_worker_when_the_parent_deadline_comes)
{
    worker_says((const char *const[]){"--cancel-ms", "100", "--sleep-ms", "10000", NULL},
                "worker: cancelled");
}
END_TEST

START_TEST(cancel_token_lets_the_sleep_win_when_nobody_cancels)
{
    worker_says((const char *const[]){"--no-cancel", "--sleep-ms", "50", NULL}, "worker: done");
}
END_TEST

static void layers_tell(const char *const args[], const char *expected)
{
    char out[OUTPUT_MAX];
    run_demo("layers", args, out);
    ck_assert_msg(strcmp(out, expected) == 0, "expected:\n%s\ngot:\n%s", expected, out);
}

START_TEST(layers_skips_recommendations_that_miss_their_own_deadline)
{
    layers_tell((const char *const[]){"--optional-ms", "50", "--recs-ms", "3000", "--users-ms",
                                      "450", "--deadline-ms", "5000", NULL},
                "handler called users and recommendations\n"
                "recommendations gave up: its own deadline\n"
                "users answered\n"
                "handler replied without recommendations\n"
                "request answered\n");
}
END_TEST

START_TEST(layers_replies_in_full_when_both_backends_answer_in_time)
{
    layers_tell((const char *const[]){"--optional-ms", "5000", "--recs-ms", "30", "--users-ms",
                                      "450", "--deadline-ms", "5000", NULL},
                "handler called users and recommendations\n"
                "recommendations answered\n"
                "users answered\n"
                "handler replied in full\n"
                "request answered\n");
}
END_TEST

START_TEST(layers_drops_everything_under_a_request_past_its_deadline)
{
    layers_tell((const char *const[]){"--optional-ms", "50", "--recs-ms", "3000", "--users-ms",
                                      "5000", "--deadline-ms", "400", NULL},
                "handler called users and recommendations\n"
                "recommendations gave up: its own deadline\n"
                "handler dropped: no reply\n"
                "users dropped: its call abandoned\n"
                "request failed: the request's deadline\n");
}
END_TEST

START_TEST(layers_drops_every_layer_when_the_server_shuts_down)
{
    layers_tell((const char *const[]){"--optional-ms", "5000", "--recs-ms", "5000", "--users-ms",
                                      "5000", "--deadline-ms", "5000", "--shutdown-ms", "200",
                                      NULL},
                "handler called users and recommendations\n"
                "handler dropped: no reply\n"
                "users dropped: its call abandoned\n"
                "recommendations dropped: its call abandoned\n"
                "request failed: the server is shutting down\n");
}
END_TEST

static Suite *demos_suite(void)
{
    Suite *s = suite_create("06-demos");
    TCase *tc = axt_tcase("demos");
    tcase_add_test(tc, cancel_token_cancels_the_worker_through_its_parent_at_once);
    tcase_add_test(tc, cancel_token_cancels_the_worker_when_the_parent_deadline_comes);
    tcase_add_test(tc, cancel_token_lets_the_sleep_win_when_nobody_cancels);
    tcase_add_test(tc, layers_skips_recommendations_that_miss_their_own_deadline);
    tcase_add_test(tc, layers_replies_in_full_when_both_backends_answer_in_time);
    tcase_add_test(tc, layers_drops_everything_under_a_request_past_its_deadline);
    tcase_add_test(tc, layers_drops_every_layer_when_the_server_shuts_down);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(demos_suite)
