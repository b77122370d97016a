//@ 04
/*
 * tasks: what a task costs. Three numbers, each against a target the chapter explains:
 *
 *     tasks.spawn_ns      spawning, running and joining one trivial task: a parent
 *                         task spawns BATCH children, joins them in order, and repeats
 *                         until SPAWNED have run (the median of ROUNDS runs)
 *     tasks.parked_bytes  memory per parked task: PARKED tasks all waiting on one
 *                         ax_event, from the growth of VmRSS (/proc/self/status) while
 *                         they are parked, divided by their number
 *     tasks.switch_ns     two tasks that wake each other in turn, SWITCHES times: one
 *                         switch is one task parking and the other running (the median
 *                         of ROUNDS runs)
 *
 * tasks.parked_future_bytes says how much of tasks.parked_bytes is the future itself;
 * the rest is the task around it and the allocator's own header and rounding. The
 * resident-memory number is the honest one: it is what a million tasks cost a process.
 *
 * Then it runs chapter 04's concurrent-fetch demo with --tsv and passes its lines on
 * (fetch.*): two requests one after the other, and at once.
 */
#include "bench.h"
#include "ax/async.h"
#include "ax/event.h"
#include "ax/task.h"

#include <malloc.h>
#include <stdbool.h>

enum {
    SPAWNED = 1000000,
    BATCH = 1000,
    PARKED = 1000000,
    SWITCHES = 1000000,
    ROUNDS = 5,
};

/* ---- spawn ------------------------------------------------------------------------------- */

/* The smallest task: finishes at once with its value. */
struct trivial {
    struct ax_future base;
    ax_result value;
};

static ax_result trivial_poll(struct ax_future *self, struct ax_context *cx)
{
    (void)cx;
    return ((struct trivial *)self)->value;
}

static const struct ax_future_ops trivial_ops = {.poll = trivial_poll};

// snippet bench-spawner
/* Spawns `total` trivial children, BATCH at a time, and joins each batch in order. */
struct spawner {
    struct ax_future base;
    struct ax_coroutine co;
    int total, done, i;
    ax_result got;
    struct ax_task *children[BATCH];
    struct ax_join join;
};

static ax_result spawner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct spawner *s = (struct spawner *)self;
    AX_ASYNC_BEGIN(&s->co);
    for (; s->done < s->total; s->done += BATCH) {
        for (s->i = 0; s->i < BATCH; s->i++) {
            struct trivial *t = ax_task_alloc(cx->executor, sizeof *t);
            if (t == NULL)
                AX_ASYNC_RETURN(&s->co, -ENOMEM);
            t->base.ops = &trivial_ops;
            t->value = s->i;
            s->children[s->i] = ax_task_spawn(&t->base);
        }
        for (s->i = 0; s->i < BATCH; s->i++) {
            ax_join_init(&s->join, s->children[s->i]);
            AX_AWAIT(&s->co, cx, &s->join.base, s->got);
            if (s->got != s->i)
                AX_ASYNC_RETURN(&s->co, -EPROTO);
        }
    }
    AX_ASYNC_END(&s->co, 0);
}
// end snippet

static void spawner_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct spawner *)self)->co);
}

static const struct ax_future_ops spawner_ops = {.poll = spawner_poll, .drop = spawner_drop};

static double spawn_ns(void)
{
    struct ax_executor *executor = bench_executor_new();
    struct spawner *s = bench_task_alloc(executor, sizeof *s);
    s->base.ops = &spawner_ops;
    s->total = SPAWNED;
    uint64_t start = ax_now_ns();
    ax_result rc = ax_block_on(executor, ax_task_spawn(&s->base));
    uint64_t end = ax_now_ns();
    if (rc < 0)
        bench_fail("spawning: %s", ax_strerror((int)rc));
    ax_executor_free(executor);
    return (double)(end - start) / SPAWNED;
}

/* ---- parked ------------------------------------------------------------------------------ */

/* Resident memory in KiB. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    if (kb < 0)
        bench_fail("cannot read VmRSS from /proc/self/status");
    return kb;
}

// snippet bench-parked
/* A parked task: its whole future is one wait on the shared event. */
static struct ax_task *spawn_waiter(struct ax_executor *executor, struct ax_event *event)
{
    struct ax_event_wait *wait = bench_task_alloc(executor, sizeof *wait);
    ax_event_wait_init(wait, event);
    return ax_task_spawn(&wait->base);
}
// end snippet

static double parked_bytes(void)
{
    struct ax_executor *executor = bench_executor_new();
    struct ax_event event;
    ax_event_init(&event);
    malloc_trim(0); /* count from what is really in use */
    long before = rss_kb();
    for (int i = 0; i < PARKED; i++)
        ax_task_detach(spawn_waiter(executor, &event));
    struct trivial *last = bench_task_alloc(executor, sizeof *last);
    last->base.ops = &trivial_ops;
    ax_block_on(executor, ax_task_spawn(&last->base)); /* every waiter has polled and parked */
    if (ax_executor_tasks(executor) != PARKED)
        bench_fail("expected %d parked tasks, found %zu", PARKED, ax_executor_tasks(executor));
    long after = rss_kb();
    ax_event_set(&event);
    int err = ax_executor_run(executor);
    if (err < 0)
        bench_fail("waking the parked tasks: %s", ax_strerror(err));
    ax_executor_free(executor);
    return (double)(after - before) * 1024 / PARKED;
}

/* ---- switch ------------------------------------------------------------------------------ */

// snippet bench-ping-pong
/* Two players and one ball: the player whose turn it is counts a switch, passes the
 * turn and wakes the other, then parks. */
struct table {
    int turn;
    long switches, target;
    struct ax_waker players[2];
};

struct player {
    struct ax_future base;
    struct table *table;
    int me;
};

static ax_result player_poll(struct ax_future *self, struct ax_context *cx)
{
    struct player *p = (struct player *)self;
    struct table *t = p->table;
    if (t->switches >= t->target) {
        ax_waker_wake(&t->players[!p->me]); /* so the other sees the end too */
        return 0;
    }
    if (!ax_waker_wakes(&t->players[p->me], cx)) {
        ax_waker_drop(&t->players[p->me]);
        t->players[p->me] = ax_waker_clone(cx);
    }
    if (t->turn == p->me) {
        t->switches++;
        t->turn = !p->me;
        ax_waker_wake(&t->players[!p->me]);
    }
    return AX_PENDING;
}
// end snippet

static const struct ax_future_ops player_ops = {.poll = player_poll};

static double switch_ns(void)
{
    struct ax_executor *executor = bench_executor_new();
    struct table table = {.target = SWITCHES};
    struct ax_task *players[2];
    for (int i = 0; i < 2; i++) {
        struct player *p = bench_task_alloc(executor, sizeof *p);
        *p = (struct player){.base = {&player_ops}, .table = &table, .me = i};
        players[i] = ax_task_spawn(&p->base);
    }
    uint64_t start = ax_now_ns();
    for (int i = 0; i < 2; i++) {
        ax_result rc = ax_block_on(executor, players[i]);
        if (rc < 0)
            bench_fail("ping-pong: %s", ax_strerror((int)rc));
    }
    uint64_t end = ax_now_ns();
    for (int i = 0; i < 2; i++)
        ax_waker_drop(&table.players[i]);
    ax_executor_free(executor);
    return (double)(end - start) / SWITCHES;
}

int main(int argc, char **argv)
{
    bench_args(argc, argv,
               "what a task costs: spawn and join, memory when parked, one switch; and chapter "
               "04's concurrent fetch");
    double spawn[ROUNDS], switches[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        spawn[i] = spawn_ns();
        switches[i] = switch_ns();
    }
    bench_report("tasks.spawn_ns", bench_median(spawn, ROUNDS), "ns");
    bench_report("tasks.parked_bytes", parked_bytes(), "bytes");
    bench_report("tasks.parked_future_bytes", sizeof(struct ax_event_wait), "bytes");
    bench_report("tasks.switch_ns", bench_median(switches, ROUNDS), "ns");
    bench_relay("concurrent-fetch --tsv");
    return 0;
}
