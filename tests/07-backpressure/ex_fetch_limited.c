/* Exercise 07-fetch-limited: no more requests run at once than the semaphore has
 * permits, across fetches that share it; the tasks are bounded too, not only the
 * requests; failures stay in their own result; a dropped fetch stops its requests and
 * gives every permit back.
 *
 * The requests are the suite's: each takes a set time on virtual time, then finishes
 * with its index times ten, or with -ECONNREFUSED for the indexes a test makes fail.
 * Each counts itself in flight from its first poll to its end or its drop. */
#include "axtest.h"
#include "fetch_limited.h"
#include "virtual_time.h"

#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS (1000ull * 1000)
enum { MAX_REQUESTS = 1000 };

/* The far end: what the requests do, and what the test sees of them. */
struct server {
    struct ax_executor *executor;
    uint64_t takes; /* each request's time */
    size_t fail_every; /* index % fail_every == 0 fails; 0: none fails */
    size_t in_flight, max_in_flight;
    size_t max_tasks; /* the most tasks the executor held at a request's start */
    size_t dropped; /* requests dropped before they finished */
    uint64_t started_at[MAX_REQUESTS];
};

struct request {
    struct ax_future base;
    struct server *server;
    size_t index;
    bool started, finished;
    struct ax_sleep sleep;
};

static ax_result request_poll(struct ax_future *self, struct ax_context *cx)
{
    struct request *r = (struct request *)self;
    struct server *s = r->server;
    if (!r->started) {
        r->started = true;
        s->started_at[r->index] = ax_executor_now(cx->executor);
        if (++s->in_flight > s->max_in_flight)
            s->max_in_flight = s->in_flight;
        if (ax_executor_tasks(cx->executor) > s->max_tasks)
            s->max_tasks = ax_executor_tasks(cx->executor);
        ax_sleep_init(&r->sleep, s->takes);
    }
    if (ax_poll(&r->sleep.base, cx) == AX_PENDING)
        return AX_PENDING;
    r->finished = true;
    s->in_flight--;
    if (s->fail_every != 0 && r->index % s->fail_every == 0)
        return -ECONNREFUSED;
    return (ax_result)r->index * 10;
}

static void request_drop(struct ax_future *self)
{
    struct request *r = (struct request *)self;
    if (r->started) {
        ax_future_drop(&r->sleep.base);
        if (!r->finished) {
            r->server->in_flight--;
            r->server->dropped++;
        }
    }
}

static const struct ax_future_ops request_ops = {.poll = request_poll, .drop = request_drop};

static struct ax_future *make_request(void *storage, size_t index, void *arg)
{
    struct request *r = storage;
    *r = (struct request){.base = {&request_ops}, .server = arg, .index = index};
    return &r->base;
}

/* ---- a fetch in a task of its own ------------------------------------------------------ */

struct runner {
    struct ax_future base;
    struct fetch_all fetch;
    struct ax_timeout timeout; /* drops the fetch, in the tests that want it */
    struct ax_future *top;
    ax_result *result;
};

static ax_result runner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct runner *r = (struct runner *)self;
    ax_result rc = ax_poll(r->top, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    *r->result = rc;
    return 0;
}

static void runner_drop(struct ax_future *self)
{
    ax_future_drop(((struct runner *)self)->top);
}

static const struct ax_future_ops runner_ops = {.poll = runner_poll, .drop = runner_drop};

/* Starts a fetch of n requests limited by sem (dropped at drop_at when that is not 0);
 * its result goes to *result when it ends. */
static void start_fetch(struct server *s, const struct fetch_service *service, struct ax_sem *sem,
                        size_t n, ax_result *results, uint64_t drop_at, ax_result *result)
{
    struct runner *r = ax_task_alloc(s->executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct runner){.base = {&runner_ops}, .top = &r->fetch.base, .result = result};
    fetch_all_init(&r->fetch, service, sem, n, results);
    if (drop_at != 0) {
        ax_timeout_init(&r->timeout, &r->fetch.base, AXT_START + drop_at);
        r->top = &r->timeout.base;
    }
    *result = AX_PENDING;
    ax_task_detach(ax_task_spawn(&r->base));
}

static void server_open(struct server *s, uint64_t takes, size_t fail_every)
{
    *s = (struct server){
        .executor = axt_paused_executor(), .takes = takes, .fail_every = fail_every};
}

/* Runs everything to its end: no task, no timer, no request left. */
static void run_to_the_end(struct server *s)
{
    ck_assert_int_eq(ax_executor_run(s->executor), 0);
    ck_assert_uint_eq(ax_executor_tasks(s->executor), 0);
    ck_assert_uint_eq(ax_executor_timers(s->executor), 0);
    ck_assert_uint_eq(s->in_flight, 0);
}

/* results[i] is i * 10, or -ECONNREFUSED where the server fails it: one assertion. */
static void assert_results(const struct server *s, const ax_result *results, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ax_result expected =
            s->fail_every != 0 && i % s->fail_every == 0 ? -ECONNREFUSED : (ax_result)i * 10;
        if (results[i] != expected)
            ck_abort_msg("results[%zu] is %lld, expected %lld", i, (long long)results[i],
                         (long long)expected);
    }
}

START_TEST(no_more_requests_run_at_once_than_there_are_permits)
{
    static struct server s;
    server_open(&s, 10 * MS, 0);
    struct fetch_service service = {sizeof(struct request), make_request, &s};
    struct ax_sem sem;
    ax_sem_init(&sem, 3);
    static ax_result results[20];
    ax_result result;
    start_fetch(&s, &service, &sem, 20, results, 0, &result);
    run_to_the_end(&s);
    ck_assert_int_eq(result, 0);
    assert_results(&s, results, 20);
    ck_assert_msg(s.max_in_flight == 3, "%zu requests ran at once with 3 permits", s.max_in_flight);
    ck_assert_uint_eq(ax_sem_available(&sem), 3);
    /* Seven rounds of three (the last of two), each starting as the one before ends. */
    for (size_t i = 1; i < 20; i++)
        ck_assert_msg(s.started_at[i] >= s.started_at[i - 1], "request %zu started before %zu", i,
                      i - 1);
    uint64_t last = s.started_at[19] - AXT_START;
    ck_assert_msg(last >= 60 * MS && last < 61 * MS,
                  "the last request started at %llu us; with permits passed on at once, at 60 ms",
                  (unsigned long long)(last / 1000));
    ax_executor_free(s.executor);
}
END_TEST

START_TEST(the_permit_is_taken_before_the_task_is_made)
{
    enum { LIMIT = 4, N = 1000 };
    static struct server s;
    server_open(&s, 1 * MS, 0);
    struct fetch_service service = {sizeof(struct request), make_request, &s};
    struct ax_sem sem;
    ax_sem_init(&sem, LIMIT);
    static ax_result results[N];
    ax_result result;
    start_fetch(&s, &service, &sem, N, results, 0, &result);
    run_to_the_end(&s);
    ck_assert_int_eq(result, 0);
    assert_results(&s, results, N);
    /* The fetch's task, and a task and a scope's watcher per request in flight (one more
     * for a request whose watcher has not reported yet). */
    ck_assert_msg(s.max_tasks <= 1 + 2 * (LIMIT + 1),
                  "%zu tasks existed at once for %d requests in flight: a task was made before "
                  "its permit was there",
                  s.max_tasks, LIMIT);
    ax_executor_free(s.executor);
}
END_TEST

START_TEST(a_failed_request_does_not_stop_the_others)
{
    static struct server s;
    server_open(&s, 5 * MS, 4);
    struct fetch_service service = {sizeof(struct request), make_request, &s};
    struct ax_sem sem;
    ax_sem_init(&sem, 2);
    static ax_result results[17];
    ax_result result;
    start_fetch(&s, &service, &sem, 17, results, 0, &result);
    run_to_the_end(&s);
    ck_assert_int_eq(result, 0);
    assert_results(&s, results, 17);
    ck_assert_uint_eq(ax_sem_available(&sem), 2);
    ax_executor_free(s.executor);
}
END_TEST

START_TEST(fetches_sharing_a_semaphore_stay_within_it_together)
{
    static struct server s;
    server_open(&s, 10 * MS, 0);
    struct fetch_service service = {sizeof(struct request), make_request, &s};
    struct ax_sem sem;
    ax_sem_init(&sem, 4);
    static ax_result one[10], two[10];
    ax_result r1, r2;
    start_fetch(&s, &service, &sem, 10, one, 0, &r1);
    start_fetch(&s, &service, &sem, 10, two, 0, &r2);
    run_to_the_end(&s);
    ck_assert_int_eq(r1, 0);
    ck_assert_int_eq(r2, 0);
    assert_results(&s, one, 10);
    assert_results(&s, two, 10);
    ck_assert_msg(s.max_in_flight == 4, "%zu requests ran at once on one semaphore of 4",
                  s.max_in_flight);
    ax_executor_free(s.executor);
}
END_TEST

START_TEST(a_dropped_fetch_stops_its_requests_and_gives_every_permit_back)
{
    static struct server s;
    server_open(&s, 100 * MS, 0);
    struct fetch_service service = {sizeof(struct request), make_request, &s};
    struct ax_sem sem;
    ax_sem_init(&sem, 3);
    static ax_result results[10];
    ax_result result;
    start_fetch(&s, &service, &sem, 10, results, 150 * MS, &result);
    run_to_the_end(&s);
    ck_assert_int_eq(result, -ETIMEDOUT);
    assert_results(&s, results, 3); /* the first three finished at 100 ms */
    for (size_t i = 3; i < 10; i++)
        ck_assert_msg(results[i] == AX_PENDING, "results[%zu] of a dropped fetch is %lld", i,
                      (long long)results[i]);
    ck_assert_msg(s.dropped == 3, "%zu requests were dropped; the three running at 150 ms",
                  s.dropped);
    ck_assert_msg(ax_sem_available(&sem) == 3,
                  "the semaphore has %zu permits of 3 after the drop: a dropped request kept one",
                  ax_sem_available(&sem));
    /* The semaphore serves the next fetch in full. */
    static ax_result again[6];
    s.max_in_flight = 0;
    start_fetch(&s, &service, &sem, 6, again, 0, &result);
    run_to_the_end(&s);
    ck_assert_int_eq(result, 0);
    assert_results(&s, again, 6);
    ck_assert_uint_eq(s.max_in_flight, 3);
    ax_executor_free(s.executor);
}
END_TEST

START_TEST(a_fetch_dropped_while_it_waits_for_a_permit_leaves_the_line)
{
    static struct server s;
    server_open(&s, 100 * MS, 0);
    struct fetch_service service = {sizeof(struct request), make_request, &s};
    struct ax_sem sem;
    ax_sem_init(&sem, 1);
    static ax_result first[2], second[2];
    ax_result r1, r2;
    start_fetch(&s, &service, &sem, 2, first, 0, &r1);
    start_fetch(&s, &service, &sem, 2, second, 50 * MS, &r2); /* waits, then is dropped */
    run_to_the_end(&s);
    ck_assert_int_eq(r1, 0);
    assert_results(&s, first, 2);
    ck_assert_int_eq(r2, -ETIMEDOUT);
    ck_assert_msg(second[0] == AX_PENDING && second[1] == AX_PENDING,
                  "the dropped fetch never had a permit, yet a request of it ran");
    ck_assert_uint_eq(ax_sem_available(&sem), 1);
    ax_executor_free(s.executor);
}
END_TEST

START_TEST(a_fetch_of_nothing_finishes_at_once)
{
    static struct server s;
    server_open(&s, MS, 0);
    struct fetch_service service = {sizeof(struct request), make_request, &s};
    struct ax_sem sem;
    ax_sem_init(&sem, 1);
    ax_result result;
    start_fetch(&s, &service, &sem, 0, NULL, 0, &result);
    run_to_the_end(&s);
    ck_assert_int_eq(result, 0);
    ax_executor_free(s.executor);
}
END_TEST

static Suite *fetch_limited_suite(void)
{
    Suite *s = suite_create("07-fetch-limited");
    TCase *tc = axt_tcase("fetch-limited");
    tcase_add_test(tc, no_more_requests_run_at_once_than_there_are_permits);
    tcase_add_test(tc, the_permit_is_taken_before_the_task_is_made);
    tcase_add_test(tc, a_failed_request_does_not_stop_the_others);
    tcase_add_test(tc, fetches_sharing_a_semaphore_stay_within_it_together);
    tcase_add_test(tc, a_dropped_fetch_stops_its_requests_and_gives_every_permit_back);
    tcase_add_test(tc, a_fetch_dropped_while_it_waits_for_a_permit_leaves_the_line);
    tcase_add_test(tc, a_fetch_of_nothing_finishes_at_once);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(fetch_limited_suite)
