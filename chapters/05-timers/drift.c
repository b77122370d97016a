/*
 * drift: a task that does some work every period, written two ways, and where each
 * one's ticks land.
 *
 *     build/bin/drift [--ticks N] [--period-ms P] [--work-ms W]
 *
 * The first way sleeps for the period after each round of work, so every round starts
 * the work's duration later than planned, and the lateness adds up: tick k comes
 * k * W ms late. The second way awaits an ax_interval, whose next tick is computed
 * from the one before it, so each tick is as late as one round's noise and no more.
 * The work is a busy loop of W ms, the way a real handler's computing would hold the
 * thread. Both run one after the other on the real clock, and the demo prints, for
 * each tick, how late it came.
 */
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

enum { MAX_TICKS = 1000 };

struct options {
    int ticks;
    uint64_t period, work; /* ns */
};

/* Holds the thread for `ns`, as a handler that computes would. */
static void busy_work(uint64_t ns)
{
    uint64_t until = ax_now_ns() + ns;
    while (ax_now_ns() < until) {
    }
}

// snippet drift-loops
/* Both loops: wake, note how late this tick came, work, wait for the next. */
struct ticker {
    struct ax_future base;
    struct ax_coroutine co;
    const struct options *opt;
    bool use_interval;
    int done;
    uint64_t start;
    int64_t *late; /* ns after the planned time of each tick */
    struct ax_sleep sleep;
    struct ax_interval interval;
    struct ax_tick tick;
};

static ax_result ticker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ticker *t = (struct ticker *)self;
    ax_result rc;
    AX_ASYNC_BEGIN(&t->co);
    t->start = ax_now_ns();
    ax_interval_init(&t->interval, t->start + t->opt->period, t->opt->period);
    for (t->done = 0; t->done < t->opt->ticks; t->done++) {
        if (t->use_interval) {
            ax_tick_init(&t->tick, &t->interval); /* the next tick of a fixed schedule */
            AX_AWAIT(&t->co, cx, &t->tick.base, rc);
        } else {
            ax_sleep_init(&t->sleep, t->opt->period); /* a period from now */
            AX_AWAIT(&t->co, cx, &t->sleep.base, rc);
        }
        uint64_t planned = t->start + (uint64_t)(t->done + 1) * t->opt->period;
        t->late[t->done] = (int64_t)(ax_now_ns() - planned);
        busy_work(t->opt->work);
    }
    (void)rc;
    AX_ASYNC_END(&t->co, 0);
}
// end snippet

static void ticker_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct ticker *)self)->co);
}

static const struct ax_future_ops ticker_ops = {.poll = ticker_poll, .drop = ticker_drop};

/* Runs one of the loops in a task of its own executor; late[i] gets tick i's lateness. */
static void run(int64_t *late, const struct options *opt, bool use_interval)
{
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0) {
        fprintf(stderr, "drift: executor: %s\n", ax_strerror(err));
        exit(1);
    }
    struct ticker *t = ax_task_alloc(executor, sizeof *t);
    if (t != NULL)
        *t = (struct ticker){
            .base = {&ticker_ops}, .opt = opt, .use_interval = use_interval, .late = late};
    struct ax_task *task = t == NULL ? NULL : ax_task_spawn(&t->base);
    ax_result rc = task == NULL ? -ENOMEM : ax_block_on(executor, task);
    ax_executor_free(executor);
    if (rc < 0) {
        fprintf(stderr, "drift: %s\n", ax_strerror((int)rc));
        exit(1);
    }
}

static void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: drift [--ticks N] [--period-ms P] [--work-ms W]\n"
            "  N ticks (1..%d, default 10) of P ms (1..10000, default 50), each doing\n"
            "  W ms of work (0..P, default 10): sleep-after-work beside an interval\n",
            MAX_TICKS);
    exit(status);
}

static long parse(const char *text, long max)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > max)
        usage(stderr, 2);
    return v;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"ticks", required_argument, NULL, 'n'},
        {"period-ms", required_argument, NULL, 'p'},
        {"work-ms", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    long ticks = 10, period_ms = 50, work_ms = 10;
    int opt;
    while ((opt = getopt_long(argc, argv, "n:p:w:", options, NULL)) != -1) {
        switch (opt) {
        case 'n':
            ticks = parse(optarg, MAX_TICKS);
            break;
        case 'p':
            period_ms = parse(optarg, 10000);
            break;
        case 'w':
            work_ms = parse(optarg, 10000);
            break;
        case 'H':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind != argc || ticks < 1 || period_ms < 1 || work_ms > period_ms)
        usage(stderr, 2);
    struct options o = {(int)ticks, (uint64_t)period_ms * AX_NS_PER_MS,
                        (uint64_t)work_ms * AX_NS_PER_MS};
    static int64_t slept[MAX_TICKS], ticked[MAX_TICKS];
    run(slept, &o, false);
    run(ticked, &o, true);
    printf("%ld ticks of %ld ms, %ld ms of work each: how late each tick came\n", ticks, period_ms,
           work_ms);
    printf("%6s %22s %16s\n", "tick", "sleep after work", "interval");
    for (int i = 0; i < o.ticks; i++)
        printf("%6d %19.2f ms %13.2f ms\n", i + 1, (double)slept[i] / AX_NS_PER_MS,
               (double)ticked[i] / AX_NS_PER_MS);
    return 0;
}
