/*
 * mutex-across-await: a pthread mutex held across an await stalls the loop and
 * deadlocks it; ax_mutex does not.
 *
 *     build/bin/mutex-across-await [--lock pthread|async] [--hold-ms N] [--block-ms N]
 *                                  [--pthread-type default|errorcheck]
 *
 * Three tasks share one executor, on one thread, on real time:
 *
 *   A          locks, sleeps --hold-ms (default 50) while holding the lock, unlocks:
 *              a critical section that awaits, as a task that writes a whole message
 *              to a shared connection does
 *   B          spawned after A, wants the same lock, and gives it back at once
 *   heartbeat  wakes every 10 ms and records how late each tick came: how long the
 *              loop left every other task waiting
 *
 * The lock is one of two:
 *
 *   pthread    a pthread_mutex_t. B's lock cannot return pending: it blocks the thread,
 *              and the thread is the loop. A's sleep can then never end (its timer fires
 *              only when the loop turns), so A never unlocks, and B waits for A while A
 *              waits for the loop that B is holding: a deadlock. pthread_mutex_lock
 *              would wait forever; the demo calls pthread_mutex_clocklock with a
 *              deadline --block-ms (default 500) away, so the deadlock is broken by the
 *              timeout, ETIMEDOUT, and B never gets the lock. Until then nothing runs:
 *              A wakes that late, and the heartbeat misses every tick in between.
 *   async      ax_mutex (ax/mutex.h). B's lock future returns pending and B parks; the
 *              loop runs on, A wakes on time, unlocks, and the lock goes straight to B,
 *              which waited about A's hold time; the heartbeat never noticed.
 *
 * Which pthread mutex. A default mutex (PTHREAD_MUTEX_DEFAULT, on glibc the same as
 * NORMAL) does not check who holds it: a second lock from the thread that holds it is,
 * for POSIX, a deadlock, and glibc's timed lock then waits for the deadline like any
 * other waiter (checked on glibc 2.36). That is the honest picture of what a server
 * would see, so it is the default. --pthread-type errorcheck uses
 * PTHREAD_MUTEX_ERRORCHECK, which notices that the calling thread already holds the
 * mutex and fails at once with EDEADLK: no stall, but no lock for B either, and it
 * helps only because A and B happen to share a thread; B cannot wait for A in any way.
 * (A RECURSIVE mutex would be worse: B would get it at once, in the middle of A's
 * critical section.) The timed lock is pthread_mutex_clocklock (glibc 2.30, POSIX
 * 2024) and not pthread_mutex_timedlock, whose deadline is on the wall clock: its
 * deadline is on CLOCK_MONOTONIC, the clock the runtime and its timers read.
 *
 * Without --lock it runs both, one after the other (about 0.6 s with the defaults),
 * and prints a comparison. For each run it says what happened, then one row of a table:
 * how long B waited for the lock, how late A woke from its sleep, the heartbeat's ticks
 * seen and due (the ticks whose time had come before it stopped, after A and B were
 * done; missed ticks are skipped, not bunched: ax_interval), the latest tick's
 * lateness, and the outcome: ETIMEDOUT (the deadlock, broken only by the timeout),
 * EDEADLK, or "handed over".
 */
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/mutex.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK (10 * AX_NS_PER_MS)

enum lock_kind { LOCK_PTHREAD, LOCK_ASYNC, LOCK_BOTH };

struct options {
    enum lock_kind lock;
    bool errorcheck;
    uint64_t hold, block; /* ns */
};

/* One run: the lock the tasks share and what they measured. */
struct run {
    const struct options *opt;
    enum lock_kind kind;
    pthread_mutex_t pmutex;
    struct ax_mutex amutex;
    bool a_done, b_done;
    uint64_t b_waited, a_late; /* ns */
    int b_outcome; /* 0: B got the lock; else the error pthread_mutex_clocklock returned */
    uint64_t ticks_seen, ticks_due, max_late; /* the heartbeat; max_late in ns */
};

static uint64_t since(uint64_t then)
{
    uint64_t now = ax_now_ns();
    return now > then ? now - then : 0;
}

/* ---- task A: holds the lock across an await ---------------------------------------- */

struct task_a {
    struct ax_future base;
    struct ax_coroutine co;
    struct run *run;
    bool holding;
    uint64_t deadline; /* when its sleep should end */
    ax_result rc;
    struct ax_mutex_lock lock;
    struct ax_sleep sleep;
};

static void unlock(struct run *r)
{
    if (r->kind == LOCK_PTHREAD)
        pthread_mutex_unlock(&r->pmutex);
    else
        ax_mutex_unlock(&r->amutex);
}

static ax_result task_a_poll(struct ax_future *self, struct ax_context *cx)
{
    struct task_a *a = (struct task_a *)self;
    struct run *r = a->run;
    AX_ASYNC_BEGIN(&a->co);
    if (r->kind == LOCK_PTHREAD) {
        pthread_mutex_lock(&r->pmutex); /* free: returns at once */
    } else {
        ax_mutex_lock_init(&a->lock, &r->amutex);
        AX_AWAIT(&a->co, cx, &a->lock.base, a->rc); /* free: ready at the first poll */
    }
    a->holding = true;
    /* The critical section awaits: this is what the pthread lock cannot survive. */
    a->deadline = ax_now_ns() + r->opt->hold;
    ax_sleep_until_init(&a->sleep, a->deadline);
    AX_AWAIT(&a->co, cx, &a->sleep.base, a->rc);
    r->a_late = since(a->deadline);
    unlock(r);
    a->holding = false;
    r->a_done = true;
    AX_ASYNC_END(&a->co, 0);
}

static void task_a_drop(struct ax_future *self)
{
    struct task_a *a = (struct task_a *)self;
    AX_ASYNC_DROP(&a->co);
    if (a->holding)
        unlock(a->run);
    a->holding = false;
}

static const struct ax_future_ops task_a_ops = {.poll = task_a_poll, .drop = task_a_drop};

/* ---- task B: wants the lock A holds ------------------------------------------------ */

/* What a task that takes a pthread mutex does: block the thread until it has it. The
 * deadline is the only thing that lets this return while A holds the lock. It is on
 * CLOCK_MONOTONIC, the clock the runtime reads, so a change to the wall clock can
 * neither cut the block short nor stretch it. */
static int pthread_lock_bounded(struct run *r)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    uint64_t ns = (uint64_t)deadline.tv_nsec + r->opt->block;
    deadline.tv_sec += (time_t)(ns / AX_NS_PER_S);
    deadline.tv_nsec = (long)(ns % AX_NS_PER_S);
    return pthread_mutex_clocklock(&r->pmutex, CLOCK_MONOTONIC, &deadline);
}

struct task_b {
    struct ax_future base;
    struct ax_coroutine co;
    struct run *run;
    uint64_t asked; /* when it asked for the lock */
    ax_result rc;
    struct ax_mutex_lock lock;
};

// snippet mutex-demo-b
static ax_result task_b_poll(struct ax_future *self, struct ax_context *cx)
{
    struct task_b *b = (struct task_b *)self;
    struct run *r = b->run;
    AX_ASYNC_BEGIN(&b->co);
    b->asked = ax_now_ns();
    if (r->kind == LOCK_PTHREAD) {
        r->b_outcome = pthread_lock_bounded(r); /* the whole loop stops here */
        r->b_waited = since(b->asked);
        if (r->b_outcome == 0) /* not with A on this thread, but say what it would mean */
            pthread_mutex_unlock(&r->pmutex);
    } else {
        ax_mutex_lock_init(&b->lock, &r->amutex);
        AX_AWAIT(&b->co, cx, &b->lock.base, b->rc); /* parks; the loop runs on */
        r->b_waited = since(b->asked);
        r->b_outcome = 0;
        ax_mutex_unlock(&r->amutex);
    }
    r->b_done = true;
    AX_ASYNC_END(&b->co, 0);
}
// end snippet

static void task_b_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct task_b *)self)->co); /* a lock handed to it is passed on */
}

static const struct ax_future_ops task_b_ops = {.poll = task_b_poll, .drop = task_b_drop};

/* ---- the heartbeat: a tick every 10 ms, and how late each one came ----------------- */

struct heartbeat {
    struct ax_future base;
    struct ax_coroutine co;
    struct run *run;
    uint64_t first; /* the first tick's time */
    ax_result rc;
    struct ax_interval interval;
    struct ax_tick tick;
};

static ax_result heartbeat_poll(struct ax_future *self, struct ax_context *cx)
{
    struct heartbeat *h = (struct heartbeat *)self;
    struct run *r = h->run;
    AX_ASYNC_BEGIN(&h->co);
    h->first = ax_executor_now(cx->executor) + TICK;
    ax_interval_init(&h->interval, h->first, TICK);
    while (!r->a_done || !r->b_done) {
        ax_tick_init(&h->tick, &h->interval);
        AX_AWAIT(&h->co, cx, &h->tick.base, h->rc); /* the tick's scheduled time */
        uint64_t late = since((uint64_t)h->rc);
        if (late > r->max_late)
            r->max_late = late;
        r->ticks_seen++;
    }
    r->ticks_due = since(h->first) / TICK + 1;
    AX_ASYNC_END(&h->co, 0);
}

static void heartbeat_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct heartbeat *)self)->co);
}

static const struct ax_future_ops heartbeat_ops = {.poll = heartbeat_poll, .drop = heartbeat_drop};

/* ---- main ------------------------------------------------------------------------- */

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: mutex-across-await [--lock pthread|async] [--hold-ms N] [--block-ms N]\n"
                "                          [--pthread-type default|errorcheck]\n"
                "  task A holds a lock across a --hold-ms (50) sleep; task B wants it; a\n"
                "  heartbeat ticks every 10 ms. With a pthread mutex B blocks the loop until\n"
                "  its pthread_mutex_clocklock gives up after --block-ms (500); with ax_mutex\n"
                "  B parks and the loop runs on. Without --lock, runs both and compares them.\n");
    exit(status);
}

static uint64_t parse_ms(const char *text, uint64_t min, uint64_t max)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || *end != '\0' || v < min || v > max)
        usage(stderr, 2);
    return v * AX_NS_PER_MS;
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "mutex-across-await: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option options[] = {
        {"lock", required_argument, NULL, 'l'},     {"hold-ms", required_argument, NULL, 'o'},
        {"block-ms", required_argument, NULL, 'b'}, {"pthread-type", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},           {0},
    };
    struct options o = {.lock = LOCK_BOTH, .hold = 50 * AX_NS_PER_MS, .block = 500 * AX_NS_PER_MS};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'l':
            if (strcmp(optarg, "pthread") == 0)
                o.lock = LOCK_PTHREAD;
            else if (strcmp(optarg, "async") == 0)
                o.lock = LOCK_ASYNC;
            else
                usage(stderr, 2);
            break;
        case 'o': /* the bounds keep both runs together under 2 s */
            o.hold = parse_ms(optarg, 1, 400);
            break;
        case 'b':
            o.block = parse_ms(optarg, 1, 1000);
            break;
        case 't':
            if (strcmp(optarg, "default") != 0 && strcmp(optarg, "errorcheck") != 0)
                usage(stderr, 2);
            o.errorcheck = strcmp(optarg, "errorcheck") == 0;
            break;
        case 'H':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind != argc)
        usage(stderr, 2);
    return o;
}

static void spawn(struct ax_executor *executor, size_t size, const void *future)
{
    struct ax_future *f = ax_task_alloc(executor, size);
    if (f == NULL)
        fail("tasks", -ENOMEM);
    memcpy(f, future, size);
    ax_task_detach(ax_task_spawn(f));
}

static void run_once(struct run *r)
{
    if (r->kind == LOCK_PTHREAD) {
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, r->opt->errorcheck ? PTHREAD_MUTEX_ERRORCHECK
                                                            : PTHREAD_MUTEX_DEFAULT);
        int err = pthread_mutex_init(&r->pmutex, &attr);
        pthread_mutexattr_destroy(&attr);
        if (err != 0)
            fail("pthread_mutex_init", -err);
    } else {
        ax_mutex_init(&r->amutex);
    }
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        fail("executor", err);
    /* In this order, so the heartbeat's schedule starts first, and A locks before B
     * asks: the executor polls them in the order they were spawned. */
    spawn(executor, sizeof(struct heartbeat),
          &(struct heartbeat){.base = {&heartbeat_ops}, .run = r});
    spawn(executor, sizeof(struct task_a), &(struct task_a){.base = {&task_a_ops}, .run = r});
    spawn(executor, sizeof(struct task_b), &(struct task_b){.base = {&task_b_ops}, .run = r});
    if ((err = ax_executor_run(executor)) < 0)
        fail("run", err);
    ax_executor_free(executor);
    if (r->kind == LOCK_PTHREAD)
        pthread_mutex_destroy(&r->pmutex);
}

static unsigned long long ms(uint64_t ns)
{
    return (unsigned long long)((ns + AX_NS_PER_MS / 2) / AX_NS_PER_MS); /* to the nearest */
}

static const char *outcome(const struct run *r)
{
    switch (r->b_outcome) {
    case 0:
        return r->kind == LOCK_ASYNC ? "handed over" : "locked";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case EDEADLK:
        return "EDEADLK";
    default:
        return strerror(r->b_outcome);
    }
}

static void tell(const struct run *r)
{
    const struct options *o = r->opt;
    if (r->kind == LOCK_PTHREAD) {
        printf("pthread_mutex_t (%s), held by A across a %llu ms sleep:\n",
               o->errorcheck ? "PTHREAD_MUTEX_ERRORCHECK" : "default type", ms(o->hold));
        if (r->b_outcome == ETIMEDOUT)
            printf("  B's pthread_mutex_clocklock blocked the one thread, and with it the loop,\n"
                   "  for %llu ms, then gave up: ETIMEDOUT. B never got the lock.\n",
                   ms(r->b_waited));
        else if (r->b_outcome == EDEADLK)
            printf("  B's pthread_mutex_clocklock failed at once (%llu ms): EDEADLK, the library\n"
                   "  saw that this thread already holds the mutex. B never got the lock.\n",
                   ms(r->b_waited));
        else
            printf("  B's pthread_mutex_clocklock returned after %llu ms: %s.\n", ms(r->b_waited),
                   outcome(r));
    } else {
        printf("ax_mutex, held by A across a %llu ms sleep:\n", ms(o->hold));
        printf("  B's lock future parked for %llu ms while the loop ran on.\n", ms(r->b_waited));
    }
    printf("  A woke %llu ms late from its sleep", ms(r->a_late));
    if (r->kind == LOCK_ASYNC)
        printf(", unlocked, and the lock went straight to B.\n");
    else if (r->b_outcome == ETIMEDOUT)
        printf(": its timer could not fire while B held the thread.\n");
    else
        printf(".\n");
    printf("  The heartbeat saw %llu of its %llu ticks; the latest came %llu ms late.\n",
           (unsigned long long)r->ticks_seen, (unsigned long long)r->ticks_due, ms(r->max_late));
    if (r->b_outcome == ETIMEDOUT)
        printf("  A deadlock, broken only by the timeout: B waited for A, A for its timer,\n"
               "  and the timer for the loop that B was blocking.\n");
    printf("\n");
}

int main(int argc, char **argv)
{
    struct options opt = parse_options(argc, argv);
    struct run runs[2];
    int count = 0;
    if (opt.lock != LOCK_ASYNC)
        runs[count++] = (struct run){.opt = &opt, .kind = LOCK_PTHREAD};
    if (opt.lock != LOCK_PTHREAD)
        runs[count++] = (struct run){.opt = &opt, .kind = LOCK_ASYNC};

    for (int i = 0; i < count; i++) {
        run_once(&runs[i]);
        tell(&runs[i]);
    }
    printf("%-8s %13s %17s %11s %10s %14s  %s\n", "lock", "B waited (ms)", "A woke late (ms)",
           "ticks seen", "ticks due", "max late (ms)", "outcome");
    for (int i = 0; i < count; i++) {
        const struct run *r = &runs[i];
        printf("%-8s %13llu %17llu %11llu %10llu %14llu  %s\n",
               r->kind == LOCK_PTHREAD ? "pthread" : "async", ms(r->b_waited), ms(r->a_late),
               (unsigned long long)r->ticks_seen, (unsigned long long)r->ticks_due, ms(r->max_late),
               outcome(r));
    }
    return 0;
}
