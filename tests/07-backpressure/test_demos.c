/* Chapter 07's pitfall demos tell the stories the chapter says they tell.
 *
 * queue-growth runs a producer ten times faster than its consumer: through the
 * unbounded list its backlog grows past any capacity and is still there at the end;
 * through an ax_chan of capacity 8 the backlog never passes 8, the producer waits for
 * room, and it produces about what the consumer takes. The demo runs on virtual time,
 * so its counts are the same on every run (and under valgrind); the tests still leave a
 * margin of a few messages on the counts that depend on which task a turn polls first.
 *
 * mutex-across-await holds a lock across a sleep while a second task wants it. It runs
 * on real time, so these tests assert outcomes and only the bounds that blocking
 * implies (a timed lock that timed out waited at least its timeout; a task that waited
 * for a holder waited for at least part of its hold), never how fast anything was. */
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

/* ---- mutex-across-await ------------------------------------------------------------- */

/* One row of mutex-across-await's table. */
struct lock_row {
    unsigned long long b_waited, a_late, ticks_seen, ticks_due, max_late; /* ms, counts */
    char outcome[64];
};

/* Runs mutex-across-await with args, checks it exits 0, and reads its output. */
static void run_mutex_demo(const char *const args[], char *out, size_t size)
{
    int fd;
    pid_t pid = axt_demo_spawn("mutex-across-await", args, 0, &fd, NULL);
    size_t n = axt_read_within(fd, out, size - 1, RUN_MS);
    out[n] = '\0';
    close(fd);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "mutex-across-await exited with status %#x:\n%s", status, out);
}

/* The table row for lock ("pthread", "async"), or the test fails. */
static struct lock_row row_of(const char *out, const char *lock)
{
    const char *table = strstr(out, "\nlock ");
    ck_assert_msg(table != NULL, "no table in the output:\n%s", out);
    for (const char *line = table + 1; line != NULL && *line != '\0';) {
        size_t len = strlen(lock);
        if (strncmp(line, lock, len) == 0 && line[len] == ' ') {
            struct lock_row r = {0};
            int used = 0;
            int got = sscanf(line + len, " %llu %llu %llu %llu %llu %n", &r.b_waited, &r.a_late,
                             &r.ticks_seen, &r.ticks_due, &r.max_late, &used);
            ck_assert_msg(got == 5, "a short \"%s\" row in the output:\n%s", lock, out);
            size_t rest = strcspn(line + len + used, "\n");
            ck_assert_uint_lt(rest, sizeof r.outcome);
            memcpy(r.outcome, line + len + used, rest);
            return r;
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    ck_abort_msg("no \"%s\" row in the table:\n%s", lock, out);
    return (struct lock_row){0};
}

START_TEST(pthread_mutex_held_across_an_await_blocks_the_loop_until_the_timeout)
{
    static char out[OUTPUT_MAX];
    const char *const args[] = {"--lock", "pthread", "--hold-ms", "50", "--block-ms", "200", NULL};
    run_mutex_demo(args, out, sizeof out);
    struct lock_row r = row_of(out, "pthread");
    ck_assert_str_eq(r.outcome, "ETIMEDOUT");
    ck_assert_uint_ge(r.b_waited, 200); /* the timeout, and not a moment less */
    /* A's 50 ms sleep could end only once B let go of the thread. */
    ck_assert_uint_ge(r.a_late, 200 - 50 - 5);
    /* The heartbeat slept through the block: a tick came at least half of it late,
     * and most of the ticks due never came (missed ticks are skipped). */
    ck_assert_uint_ge(r.max_late, 100);
    ck_assert_uint_lt(2 * r.ticks_seen, r.ticks_due);
    ck_assert_ptr_null(strstr(out, "\nasync "));
}
END_TEST

START_TEST(errorcheck_pthread_mutex_refuses_the_holding_thread_at_once)
{
    static char out[OUTPUT_MAX];
    const char *const args[] = {"--lock", "pthread",        "--hold-ms",  "20", "--block-ms",
                                "1000",   "--pthread-type", "errorcheck", NULL};
    run_mutex_demo(args, out, sizeof out);
    struct lock_row r = row_of(out, "pthread");
    ck_assert_str_eq(r.outcome, "EDEADLK");
    ck_assert_uint_lt(r.b_waited, 1000); /* it did not wait for the deadline */
}
END_TEST

START_TEST(async_mutex_hands_the_lock_over_while_the_loop_runs_on)
{
    static char out[OUTPUT_MAX];
    /* A long hold, so that only a stall of most of it could hide what it shows. */
    const char *const args[] = {"--lock", "async", "--hold-ms", "200", NULL};
    run_mutex_demo(args, out, sizeof out);
    struct lock_row r = row_of(out, "async");
    ck_assert_str_eq(r.outcome, "handed over");
    ck_assert_uint_ge(r.b_waited, 50); /* B did wait for A */
    ck_assert_uint_ge(r.ticks_seen, 3); /* the heartbeat ticked while A held the lock */
    ck_assert_ptr_null(strstr(out, "\npthread "));
}
END_TEST

START_TEST(mutex_demo_without_lock_compares_both)
{
    static char out[OUTPUT_MAX];
    const char *const args[] = {"--block-ms", "200", NULL};
    run_mutex_demo(args, out, sizeof out);
    struct lock_row pthread = row_of(out, "pthread"), async = row_of(out, "async");
    ck_assert_str_eq(pthread.outcome, "ETIMEDOUT");
    ck_assert_str_eq(async.outcome, "handed over");
    ck_assert_uint_ge(pthread.b_waited, 200);
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
    tc = axt_tcase("mutex-across-await");
    tcase_add_test(tc, pthread_mutex_held_across_an_await_blocks_the_loop_until_the_timeout);
    tcase_add_test(tc, errorcheck_pthread_mutex_refuses_the_holding_thread_at_once);
    tcase_add_test(tc, async_mutex_hands_the_lock_over_while_the_loop_runs_on);
    tcase_add_test(tc, mutex_demo_without_lock_compares_both);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(demos_suite)
