//@ 05
/*
 * timers: a million one-shot timers, spread over one second, and how late each fires.
 *
 * The workload, the same for every variant and for the peers (make bench-peers): t0 is
 * read just before the first timer is armed; timer i is due at t0 + d_i, where d_i is
 * the i-th number of splitmix64 seeded with SEED, modulo 1,000,000,001 ns. Each firing
 * records now - deadline, on the real clock. Three variants:
 *
 *     timers.task.*     one task per timer, awaiting ax_sleep_until: what a program of
 *                       a million sleeping tasks gets from the runtime
 *     timers.wheel.*    bare wheel entries with a callback, advanced by a loop that
 *                       sleeps the thread until the next one is due: the data structure
 *     timers.heap.*     the same with the binary min-heap of exercise 05-timer-heap (its
 *                       reference solution), for the chapter's wheel-or-heap plot
 *
 * and for each:
 *
 *     insert_ns_per_timer       from t0 until the last timer is armed, per timer (for
 *                               tasks: spawning each and polling it once)
 *     total_ms                  from t0 to the last firing
 *     overshoot_{p50,p99,max}_us        now - deadline over all the timers
 *     steady_overshoot_p99_us   the same over the timers due after the last was armed:
 *                               the others measure the backlog of arming, not the timers
 *                               (not reported when arming outlasted every deadline)
 *
 * Each variant runs ROUNDS times, the variants in turn, and each metric is the median
 * of its rounds: one round is a second and a half of a shared machine's life, and a
 * slow spell of the machine should not decide the number. The task rounds share one
 * executor, as the tasks of a long-running program share one, so its slab hands out
 * memory that earlier tasks used and gave back. One more round comes first, on the
 * executor while it is new, and only its arming is reported:
 *
 *     timers.task.insert_cold_ns_per_timer   arming a million tasks in memory fresh
 *                               from the kernel: page faults, and on a virtual machine
 *                               whatever its hypervisor takes to back a page it had
 *                               not handed out yet
 */
#include "bench.h"
#include "ax/task.h"
#include "ax/timer.h"
#include "ax/wheel.h"
#include "../solutions/05-timers/timer_heap.c" /* the heap of exercise 05-timer-heap */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { TIMERS = 1000000, ROUNDS = 3 };
#define SEED      UINT64_C(0x5EED000000000001)
#define SPREAD_NS UINT64_C(1000000001)

// snippet bench-timers-workload
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
// end snippet

/* What one run recorded: each firing, in the order they came, and when arming ended.
 * Firings are appended to a log, not stored at the timer's index: the timers fire in
 * an order unrelated to their index, and a write to a random place of an 8 MB array
 * is a cache miss that would be counted as the runtime's. */
struct firing {
    uint64_t deadline;
    int64_t late; /* ns */
};

struct run {
    uint64_t t0, armed_at, last_fired;
    struct firing *log;
    size_t fired;
    uint64_t *seen; /* bit i: timer i has fired (128 KiB: stays in cache) */
};

/* A buffer of the benchmark's own (the log, the seen bits, the bare entries), on huge
 * pages when the kernel has them, as the task slab's regions are, and with every page
 * faulted in before t0: its costs must not be counted as the timers'. Small pages are
 * not enough on a virtual machine: memory just handed over by the kernel made both the
 * bare wheel and the tasks stall for milliseconds, again and again, long after each of
 * its pages had been touched once, while a buffer of huge pages gave the same numbers
 * round after round. The pages are written with what they hold: a memset of zeros
 * after an allocation may be turned into calloc, which touches nothing. */
static void *buffer_new(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    bytes = (bytes + huge - 1) / huge * huge;
    char *p = aligned_alloc(huge, bytes);
    if (p == NULL)
        bench_fail("out of memory");
    madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it, small pages */
    volatile char *page = p;
    for (size_t i = 0; i < bytes; i += 4096)
        page[i] = page[i];
    return p;
}

static void run_init(struct run *run)
{
    size_t seen_bytes = (TIMERS + 63) / 64 * sizeof *run->seen;
    *run = (struct run){.log = buffer_new(TIMERS * sizeof *run->log),
                        .seen = memset(buffer_new(seen_bytes), 0, seen_bytes)};
}

static void fired(struct run *run, uint32_t i, uint64_t deadline)
{
    uint64_t now = ax_now_ns();
    if (run->fired == TIMERS || run->seen[i / 64] & (uint64_t)1 << (i % 64))
        bench_fail("timer %u fired twice", i);
    run->seen[i / 64] |= (uint64_t)1 << (i % 64);
    run->log[run->fired++] = (struct firing){deadline, (int64_t)(now - deadline)};
    run->last_fired = now;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double percentile_us(int64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)sorted[k] / 1000.0;
}

/* What one round measured, in the units the metrics are reported in. */
enum metric { INSERT, TOTAL, P50, P99, MAX, STEADY_P99, METRICS };
static const struct {
    const char *name, *unit;
} metric[METRICS] = {
    [INSERT] = {"insert_ns_per_timer", "ns"}, [TOTAL] = {"total_ms", "ms"},
    [P50] = {"overshoot_p50_us", "us"},       [P99] = {"overshoot_p99_us", "us"},
    [MAX] = {"overshoot_max_us", "us"},       [STEADY_P99] = {"steady_overshoot_p99_us", "us"},
};

struct round {
    double value[METRICS];
    bool steady; /* some timer was due after arming ended: STEADY_P99 means something */
};

static void summarize(const char *variant, struct run *run, struct round *round)
{
    if (run->fired != TIMERS)
        bench_fail("%s: %zu of %d timers fired", variant, run->fired, TIMERS);
    int64_t *late = malloc(TIMERS * sizeof *late), *steady = malloc(TIMERS * sizeof *steady);
    if (late == NULL || steady == NULL)
        bench_fail("out of memory");
    size_t n = 0;
    for (size_t i = 0; i < TIMERS; i++) {
        late[i] = run->log[i].late;
        if (late[i] < 0)
            bench_fail("%s: a timer fired %lld ns early", variant, (long long)-late[i]);
        if (run->log[i].deadline > run->armed_at)
            steady[n++] = late[i];
    }
    qsort(late, TIMERS, sizeof *late, by_value);
    qsort(steady, n, sizeof *steady, by_value);
    *round = (struct round){.value = {[INSERT] = (double)(run->armed_at - run->t0) / TIMERS,
                                      [TOTAL] = (double)(run->last_fired - run->t0) / AX_NS_PER_MS,
                                      [P50] = percentile_us(late, TIMERS, 0.50),
                                      [P99] = percentile_us(late, TIMERS, 0.99),
                                      [MAX] = percentile_us(late, TIMERS, 1.0),
                                      [STEADY_P99] = percentile_us(steady, n, 0.99)},
                            .steady = n > 0};
    free(late);
    free(steady);
    free(run->log);
    free(run->seen);
}

/* Each metric's median over the rounds. */
static void report(const char *variant, const struct round rounds[ROUNDS])
{
    char name[80];
    double values[ROUNDS];
    for (int m = 0; m < METRICS; m++) {
        size_t n = 0;
        for (int r = 0; r < ROUNDS; r++)
            if (m != STEADY_P99 || rounds[r].steady)
                values[n++] = rounds[r].value[m];
        if (n == 0) /* arming outlasted every deadline in every round: no timer was steady */
            continue;
        snprintf(name, sizeof name, "timers.%s.%s", variant, metric[m].name);
        bench_report(name, bench_median(values, n), metric[m].unit);
    }
}

/* ---- one task per timer ------------------------------------------------------------- */

// snippet bench-timers-task
/* One timer's task: sleeps until its deadline, then notes how late it woke. */
struct sleeper {
    struct ax_future base;
    struct ax_sleep sleep;
    struct run *run;
    uint32_t index;
    bool armed;
};

static size_t armed; /* tasks that have polled once, and so armed their timer */

static ax_result sleeper_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sleeper *s = (struct sleeper *)self;
    ax_result rc = ax_poll(&s->sleep.base, cx);
    if (!s->armed && (s->armed = true) && ++armed == TIMERS)
        s->run->armed_at = ax_now_ns();
    if (rc == AX_PENDING)
        return rc;
    fired(s->run, s->index, s->sleep.deadline);
    return 0;
}
// end snippet

static void sleeper_drop(struct ax_future *self)
{
    ax_future_drop(&((struct sleeper *)self)->sleep.base);
}

static const struct ax_future_ops sleeper_ops = {.poll = sleeper_poll, .drop = sleeper_drop};

static void task_variant(struct ax_executor *executor, struct round *round)
{
    struct run run;
    run_init(&run);
    uint64_t seed = SEED;
    armed = 0;
    run.t0 = ax_now_ns();
    for (uint32_t i = 0; i < TIMERS; i++) {
        uint64_t deadline = run.t0 + splitmix64(&seed) % SPREAD_NS;
        struct sleeper *s = ax_task_alloc(executor, sizeof *s);
        if (s == NULL)
            bench_fail("out of memory");
        *s = (struct sleeper){.base = {&sleeper_ops}, .run = &run, .index = i};
        ax_sleep_until_init(&s->sleep, deadline);
        ax_task_detach(ax_task_spawn(&s->base));
    }
    int err = ax_executor_run(executor);
    if (err < 0)
        bench_fail("running the timers: %s", ax_strerror(err));
    summarize("task", &run, round);
}

/* ---- bare queues: the wheel, and the exercise's heap ------------------------------ */

/* A timer queue used bare, through its own five operations: entries are armed for the
 * workload's deadlines, then a loop advances the queue by the real clock and sleeps the
 * thread until the queue's next deadline, until nothing is left. */
struct bare_queue {
    const char *variant;
    void *queue;
    void (*init)(void *queue, uint64_t now_ns);
    void (*arm)(void *queue, uint32_t index, uint64_t deadline_ns, struct run *run);
    size_t (*advance)(void *queue, uint64_t now_ns);
    uint64_t (*next_ns)(void *queue);
    size_t (*pending)(void *queue);
};

static void run_bare(const struct bare_queue *q, struct round *round)
{
    struct run run;
    run_init(&run);
    uint64_t seed = SEED;
    run.t0 = ax_now_ns();
    q->init(q->queue, run.t0);
    for (uint32_t i = 0; i < TIMERS; i++)
        q->arm(q->queue, i, run.t0 + splitmix64(&seed) % SPREAD_NS, &run);
    run.armed_at = ax_now_ns();
    while (q->pending(q->queue) > 0) {
        q->advance(q->queue, ax_now_ns());
        uint64_t next = q->next_ns(q->queue);
        if (next != UINT64_MAX && next > ax_now_ns()) {
            struct timespec at = {.tv_sec = (time_t)(next / AX_NS_PER_S),
                                  .tv_nsec = (long)(next % AX_NS_PER_S)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        }
    }
    summarize(q->variant, &run, round);
}

struct wheel_entry {
    struct ax_timer timer;
    struct run *run;
    uint32_t index;
};

static struct wheel_entry *wheel_entries;

static void wheel_entry_fired(struct ax_timer *timer)
{
    struct wheel_entry *e = ax_container_of(timer, struct wheel_entry, timer);
    fired(e->run, e->index, e->timer.deadline);
}

static void wheel_init(void *wheel, uint64_t now_ns)
{
    ax_wheel_init(wheel, now_ns);
}

static void wheel_arm(void *wheel, uint32_t i, uint64_t deadline_ns, struct run *run)
{
    struct wheel_entry *e = &wheel_entries[i];
    *e = (struct wheel_entry){.run = run, .index = i};
    ax_timer_init(&e->timer, wheel_entry_fired);
    ax_wheel_insert(wheel, &e->timer, deadline_ns);
}

static size_t wheel_advance(void *wheel, uint64_t now_ns)
{
    return ax_wheel_advance(wheel, now_ns);
}

static uint64_t wheel_next_ns(void *wheel)
{
    return ax_wheel_next_ns(wheel);
}

static size_t wheel_pending(void *wheel)
{
    return ((struct ax_wheel *)wheel)->count;
}

struct heap_entry {
    struct heap_timer timer;
    struct run *run;
    uint32_t index;
};

static struct heap_entry *heap_entries;

static void heap_entry_fired(struct heap_timer *timer)
{
    struct heap_entry *e = ax_container_of(timer, struct heap_entry, timer);
    fired(e->run, e->index, e->timer.deadline);
}

static void heap_init(void *heap, uint64_t now_ns)
{
    timer_heap_init(heap, now_ns);
}

static void heap_arm(void *heap, uint32_t i, uint64_t deadline_ns, struct run *run)
{
    struct heap_entry *e = &heap_entries[i];
    *e = (struct heap_entry){.run = run, .index = i};
    heap_timer_init(&e->timer, heap_entry_fired);
    if (timer_heap_insert(heap, &e->timer, deadline_ns) < 0)
        bench_fail("heap: out of memory");
}

static size_t heap_advance(void *heap, uint64_t now_ns)
{
    return timer_heap_advance(heap, now_ns);
}

static uint64_t heap_next_ns(void *heap)
{
    return timer_heap_next_ns(heap);
}

static size_t heap_pending(void *heap)
{
    return ((struct timer_heap *)heap)->count;
}

static void bare_variants(struct round *wheel_round, struct round *heap_round)
{
    struct ax_wheel *wheel = malloc(sizeof *wheel);
    struct timer_heap heap;
    if (wheel == NULL)
        bench_fail("out of memory");
    wheel_entries = buffer_new(TIMERS * sizeof *wheel_entries);
    run_bare(&(struct bare_queue){"wheel", wheel, wheel_init, wheel_arm, wheel_advance,
                                  wheel_next_ns, wheel_pending},
             wheel_round);
    free(wheel_entries);
    free(wheel);
    heap_entries = buffer_new(TIMERS * sizeof *heap_entries);
    run_bare(&(struct bare_queue){"heap", &heap, heap_init, heap_arm, heap_advance, heap_next_ns,
                                  heap_pending},
             heap_round);
    timer_heap_free(&heap);
    free(heap_entries);
}

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "a million timers over one second: insert cost, total time and lateness, as tasks, "
               "as wheel entries and as heap entries");
    bench_report("timers.count", TIMERS, "timers");
    struct ax_executor *executor = bench_executor_new();
    struct round wheel[ROUNDS], heap[ROUNDS], task[ROUNDS], task_cold;
    task_variant(executor, &task_cold); /* the executor's first million tasks */
    for (int r = 0; r < ROUNDS; r++) { /* interleaved: a slow spell of the machine hits all three */
        bare_variants(&wheel[r], &heap[r]);
        task_variant(executor, &task[r]);
    }
    ax_executor_free(executor);
    report("wheel", wheel);
    report("heap", heap);
    report("task", task);
    bench_report("timers.task.insert_cold_ns_per_timer", task_cold.value[INSERT], "ns");
    return 0;
}
