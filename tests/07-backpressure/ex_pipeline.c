/* Exercise 07-pipeline: every value arrives transformed and in order, the stages overlap
 * (the pipeline takes as long as its slowest stage, not the sum), a slow sink holds what
 * is in flight to what the channels hold, a sink that stops early stops the stages
 * before it, and a dropped pipeline leaves nothing behind.
 *
 * The stages' costs are sleeps on virtual time, so durations are exact up to the timer
 * wheel's tick and the tests run in no time. */
#include "axtest.h"
#include "pipeline.h"
#include "virtual_time.h"

#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS (1000ull * 1000)
enum { MAX_VALUES = 2000 };

static uint64_t times_three_plus_one(uint64_t v)
{
    return 3 * v + 1;
}

/* What a run gave: the pipeline's result and counts, and when it ended. */
struct outcome {
    ax_result result;
    uint64_t elapsed; /* ns from the spawn to the end */
    uint64_t produced, sunk, max_in_flight;
    uint64_t out[MAX_VALUES];
};

struct runner {
    struct ax_future base;
    struct pipeline pipeline;
    struct ax_timeout timeout; /* drops the pipeline, in the tests that want it */
    struct ax_future *top;
    struct outcome *outcome;
};

static ax_result runner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct runner *r = (struct runner *)self;
    ax_result rc = ax_poll(r->top, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    struct outcome *o = r->outcome;
    o->result = rc;
    o->elapsed = ax_executor_now(cx->executor) - AXT_START;
    o->produced = r->pipeline.produced;
    o->sunk = r->pipeline.sunk;
    o->max_in_flight = r->pipeline.max_in_flight;
    return 0;
}

static void runner_drop(struct ax_future *self)
{
    struct runner *r = (struct runner *)self;
    ax_future_drop(r->top);
}

static const struct ax_future_ops runner_ops = {.poll = runner_poll, .drop = runner_drop};

/* Runs a pipeline to its end (or until drop_after ns have passed, when that is not 0),
 * and checks it left no task and no timer behind. */
static void run(const struct pipeline_config *config, uint64_t drop_after, struct outcome *o)
{
    ck_assert_uint_le(config->count, MAX_VALUES);
    struct ax_executor *executor = axt_paused_executor();
    struct runner *r = ax_task_alloc(executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct runner){.base = {&runner_ops}, .outcome = o, .top = &r->pipeline.base};
    pipeline_init(&r->pipeline, config, o->out);
    if (drop_after != 0) {
        ax_timeout_init(&r->timeout, &r->pipeline.base, AXT_START + drop_after);
        r->top = &r->timeout.base;
    }
    o->result = AX_PENDING;
    ax_result rc = ax_block_on(executor, ax_task_spawn(&r->base));
    ck_assert_msg(rc == 0, "the pipeline's task ended with %lld (-EDEADLK: a stage waits forever)",
                  (long long)rc);
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ck_assert_msg(ax_executor_timers(executor) == 0, "%zu timers left armed",
                  ax_executor_timers(executor));
    ax_executor_free(executor);
}

/* The sink holds f(1), f(2), ..., f(n): asserts once, naming the first difference. */
static void assert_values(const struct outcome *o, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (o->out[i] != times_three_plus_one(i + 1))
            ck_abort_msg("value %llu at the sink is %llu, expected %llu", (unsigned long long)i,
                         (unsigned long long)o->out[i],
                         (unsigned long long)times_three_plus_one(i + 1));
}

START_TEST(every_value_arrives_transformed_and_in_order)
{
    static struct outcome o;
    struct pipeline_config config = {
        .count = 500, .capacity = 4, .transform = times_three_plus_one};
    run(&config, 0, &o);
    ck_assert_int_eq(o.result, 500);
    ck_assert_uint_eq(o.produced, 500);
    ck_assert_uint_eq(o.sunk, 500);
    assert_values(&o, 500);
}
END_TEST

START_TEST(the_stages_overlap_so_the_slowest_sets_the_pace)
{
    static struct outcome o;
    struct pipeline_config config = {.count = 50,
                                     .capacity = 2,
                                     .cost_ns = {1 * MS, 3 * MS, 2 * MS},
                                     .transform = times_three_plus_one};
    run(&config, 0, &o);
    ck_assert_int_eq(o.result, 50);
    assert_values(&o, 50);
    /* One after the other, the stages would take 50 * 6 ms = 300 ms. */
    ck_assert_msg(o.elapsed >= 150 * MS && o.elapsed <= 165 * MS,
                  "50 values through stages of 1, 3 and 2 ms took %llu ms; overlapped, about 153",
                  (unsigned long long)(o.elapsed / MS));
}
END_TEST

START_TEST(a_slow_sink_holds_what_is_in_flight_to_the_channels)
{
    static struct outcome o;
    enum { CAPACITY = 4 };
    struct pipeline_config config = {.count = 100,
                                     .capacity = CAPACITY,
                                     .cost_ns = {0, 0, 10 * MS},
                                     .transform = times_three_plus_one};
    run(&config, 0, &o);
    ck_assert_int_eq(o.result, 100);
    assert_values(&o, 100);
    /* Two full channels and one value in the hands of each of the two stages after. */
    ck_assert_msg(o.max_in_flight <= 2 * CAPACITY + 2,
                  "%llu values were in flight at once; two channels of %d hold at most %d",
                  (unsigned long long)o.max_in_flight, CAPACITY, 2 * CAPACITY + 2);
    ck_assert_msg(o.max_in_flight >= 2 * CAPACITY,
                  "only %llu values were ever in flight: the channels were not used to the full",
                  (unsigned long long)o.max_in_flight);
}
END_TEST

START_TEST(a_sink_that_stops_early_stops_the_stages_before_it)
{
    static struct outcome o;
    enum { CAPACITY = 4, LIMIT = 10 };
    struct pipeline_config config = {.count = 1000,
                                     .capacity = CAPACITY,
                                     .cost_ns = {0, 0, 1 * MS},
                                     .transform = times_three_plus_one,
                                     .limit = LIMIT};
    run(&config, 0, &o);
    ck_assert_int_eq(o.result, LIMIT);
    assert_values(&o, LIMIT);
    ck_assert_msg(o.produced <= LIMIT + 2 * CAPACITY + 2,
                  "the source made %llu values for a sink that took %d",
                  (unsigned long long)o.produced, LIMIT);
}
END_TEST

START_TEST(a_sink_that_stops_early_stops_a_fast_pipeline_too)
{
    static struct outcome o;
    struct pipeline_config config = {
        .count = 1000, .capacity = 3, .transform = times_three_plus_one, .limit = 1};
    run(&config, 0, &o);
    ck_assert_int_eq(o.result, 1);
    assert_values(&o, 1);
    ck_assert_uint_lt(o.produced, 1000);
}
END_TEST

START_TEST(an_empty_source_ends_the_pipeline)
{
    static struct outcome o;
    struct pipeline_config config = {
        .count = 0, .capacity = 1, .cost_ns = {MS, MS, MS}, .transform = times_three_plus_one};
    run(&config, 0, &o);
    ck_assert_int_eq(o.result, 0);
}
END_TEST

START_TEST(a_dropped_pipeline_leaves_nothing_behind)
{
    static struct outcome o;
    struct pipeline_config config = {.count = 1000,
                                     .capacity = 4,
                                     .cost_ns = {1 * MS, 1 * MS, 5 * MS},
                                     .transform = times_three_plus_one};
    run(&config, 100 * MS, &o); /* run() checks for tasks and timers left */
    ck_assert_int_eq(o.result, -ETIMEDOUT);
    ck_assert_uint_ge(o.sunk, 15);
    assert_values(&o, o.sunk);
}
END_TEST

START_TEST(a_capacity_of_zero_is_refused)
{
    static struct outcome o;
    struct pipeline_config config = {.count = 10, .transform = times_three_plus_one};
    run(&config, 0, &o);
    ck_assert_int_eq(o.result, -EINVAL);
}
END_TEST

static Suite *pipeline_suite(void)
{
    Suite *s = suite_create("07-pipeline");
    TCase *tc = axt_tcase("pipeline");
    tcase_add_test(tc, every_value_arrives_transformed_and_in_order);
    tcase_add_test(tc, the_stages_overlap_so_the_slowest_sets_the_pace);
    tcase_add_test(tc, a_slow_sink_holds_what_is_in_flight_to_the_channels);
    tcase_add_test(tc, a_sink_that_stops_early_stops_the_stages_before_it);
    tcase_add_test(tc, a_sink_that_stops_early_stops_a_fast_pipeline_too);
    tcase_add_test(tc, an_empty_source_ends_the_pipeline);
    tcase_add_test(tc, a_dropped_pipeline_leaves_nothing_behind);
    tcase_add_test(tc, a_capacity_of_zero_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(pipeline_suite)
