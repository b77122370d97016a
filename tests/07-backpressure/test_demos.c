/* Chapter 07's pitfall demo tells the story the chapter says it tells. queue-growth
 * runs a producer ten times faster than its consumer: through the unbounded list its
 * backlog grows past any capacity and is still there at the end; through an ax_chan of
 * capacity 8 the backlog never passes 8, the producer waits for room, and it produces
 * about what the consumer takes. The demo runs on virtual time, so its counts are the
 * same on every run (and under valgrind); the tests still leave a margin of a few
 * messages on the counts that depend on which task a turn polls first. */
#include "axtest.h"
#include "demo.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OUTPUT_MAX = 8192, RUN_MS = 20000, CAPACITY = 8 };

struct measured {
    unsigned long long produced, consumed, left, peak_queued, peak_bytes, waited_ms;
    int samples; /* rows of the backlog table */
    unsigned long long last_queued; /* the backlog in the last row */
};

/* The number on the line of out that starts with label, or the test fails. */
static unsigned long long value_of(const char *out, const char *label)
{
    for (const char *line = out; line != NULL && *line != '\0';) {
        if (strncmp(line, label, strlen(label)) == 0) {
            unsigned long long v;
            ck_assert_msg(sscanf(line + strlen(label), " %llu", &v) == 1, "no number after \"%s\"",
                          label);
            return v;
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    ck_abort_msg("no line \"%s ...\" in the output:\n%s", label, out);
    return 0;
}

/* Runs queue-growth over 50 ms of virtual time with small messages, in the given mode,
 * and reads its table. */
static void run_queue_growth(const char *mode, struct measured *m)
{
    char capacity[16];
    snprintf(capacity, sizeof capacity, "%d", CAPACITY);
    const char *const args[] = {"--queue",         mode, "--capacity", capacity,
                                "--duration-ms",   "50", "--every-ms", "10",
                                "--message-bytes", "64", NULL};
    int fd;
    pid_t pid = axt_demo_spawn("queue-growth", args, 0, &fd, NULL);
    static char out[OUTPUT_MAX];
    size_t n = axt_read_within(fd, out, sizeof out - 1, RUN_MS);
    out[n] = '\0';
    close(fd);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "queue-growth exited with status %#x:\n%s", status, out);
    *m = (struct measured){
        .produced = value_of(out, "messages produced"),
        .consumed = value_of(out, "messages consumed"),
        .left = value_of(out, "left queued at end"),
        .peak_queued = value_of(out, "peak queued items"),
        .peak_bytes = value_of(out, "peak bytes held"),
        .waited_ms = value_of(out, "producer waited (ms)"),
    };
    /* The backlog table: "  10  90  9360" rows between the header and the totals. */
    const char *row = strstr(out, "bytes held\n");
    ck_assert_msg(row != NULL, "no backlog table in the output:\n%s", out);
    row += strlen("bytes held\n");
    unsigned long long at, queued, bytes;
    int used;
    while (sscanf(row, " %llu %llu %llu%n", &at, &queued, &bytes, &used) == 3) {
        m->samples++;
        m->last_queued = queued;
        row += used;
    }
}

START_TEST(unbounded_queue_grows_past_any_capacity)
{
    struct measured m;
    run_queue_growth("unbounded", &m);
    /* 500 made at one per 100 us, 50 taken at one per ms: 450 waiting at the end. */
    ck_assert_uint_ge(m.produced, 480);
    ck_assert_uint_le(m.consumed, 51);
    ck_assert_uint_gt(m.peak_queued, 10 * CAPACITY);
    ck_assert_uint_ge(m.left, m.produced - m.consumed - 2);
    ck_assert_uint_eq(m.waited_ms, 0); /* nothing ever made the producer wait */
    ck_assert_int_eq(m.samples, 5);
    ck_assert_uint_gt(m.last_queued, 4 * CAPACITY);
}
END_TEST

START_TEST(bounded_channel_holds_the_backlog_at_its_capacity)
{
    struct measured m;
    run_queue_growth("bounded", &m);
    ck_assert_uint_le(m.peak_queued, CAPACITY);
    ck_assert_uint_ge(m.peak_queued, CAPACITY - 1); /* the producer did fill it */
    ck_assert_uint_le(m.left, CAPACITY);
    ck_assert_int_eq(m.samples, 5);
    ck_assert_uint_le(m.last_queued, CAPACITY);
}
END_TEST

START_TEST(bounded_channel_slows_the_producer_to_the_consumers_pace)
{
    struct measured m;
    run_queue_growth("bounded", &m);
    /* What was made was taken, or is in the channel, or in the producer's hand. */
    ck_assert_uint_le(m.produced, m.consumed + CAPACITY + 2);
    ck_assert_uint_ge(m.consumed, 45);
    ck_assert_uint_gt(m.waited_ms, 25); /* most of the run */
}
END_TEST

START_TEST(bounded_channel_holds_a_fraction_of_the_unbounded_bytes)
{
    struct measured bounded, unbounded;
    run_queue_growth("bounded", &bounded);
    run_queue_growth("unbounded", &unbounded);
    ck_assert_uint_lt(bounded.peak_bytes * 10, unbounded.peak_bytes);
}
END_TEST

static Suite *demos_suite(void)
{
    Suite *s = suite_create("07-demos");
    TCase *tc = axt_tcase("queue-growth");
    tcase_add_test(tc, unbounded_queue_grows_past_any_capacity);
    tcase_add_test(tc, bounded_channel_holds_the_backlog_at_its_capacity);
    tcase_add_test(tc, bounded_channel_slows_the_producer_to_the_consumers_pace);
    tcase_add_test(tc, bounded_channel_holds_a_fraction_of_the_unbounded_bytes);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(demos_suite)
