/*
 * pitfall-recursion: an async function that calls itself costs memory at every level.
 *
 *     build/bin/pitfall-recursion [--depth N] [--tsv]     (default 200000)
 *
 * sum(n) = n + sum(n - 1), written three ways, each run as one top-level task:
 *
 *   spawning     each level spawns a task for the next and awaits its join handle.
 *                Nothing deepens the C stack, but every level is a task parked in
 *                the heap until the one below it finishes: N levels, N tasks alive
 *                at once, and memory in proportion. The demo reports the peak task
 *                count and the resident memory each level cost.
 *   nesting      each level allocates the next level's future and polls it from its
 *                own poll (Rust's Box::pin around a recursive async fn). Now every
 *                poll is a chain of nested calls on the C stack, as deep as the
 *                recursion: the demo measures the stack bytes per level, at a depth
 *                of N / 20 (still a safe fraction of the 8 MiB default stack), and
 *                says how deep an 8 MiB stack would overflow.
 *   iterating    one task with a loop: one task, no growth.
 *
 * --tsv prints the results as name<TAB>value<TAB>unit lines for bench/pitfalls.c.
 */
#include "ax/async.h"
#include "ax/error.h"
#include "ax/task.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the deepest level saw, for the report. */
static struct {
    size_t peak_tasks;
    long leaf_rss_kb;
    uintptr_t leaf_stack; /* address of a local at the deepest nested poll */
} deepest;

/* Resident memory in KiB, from /proc/self/status. */
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
    return kb;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "pitfall-recursion: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

/* ---- recursing by spawning -------------------------------------------------------------- */

// snippet recursion-spawn
/* sum(n) as a task that spawns sum(n - 1) and awaits it: a chain of n parked tasks. */
struct sum_spawn {
    struct ax_future base;
    struct ax_coroutine co;
    int64_t n;
    ax_result below;
    struct ax_join join;
};

static struct ax_task *spawn_sum(struct ax_executor *executor, int64_t n);

static ax_result sum_spawn_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sum_spawn *s = (struct sum_spawn *)self;
    AX_ASYNC_BEGIN(&s->co);
    if (s->n == 0) {
        deepest.peak_tasks = ax_executor_tasks(cx->executor); /* every level is alive */
        deepest.leaf_rss_kb = rss_kb();
        AX_ASYNC_RETURN(&s->co, 0);
    }
    struct ax_task *child = spawn_sum(cx->executor, s->n - 1);
    if (child == NULL)
        AX_ASYNC_RETURN(&s->co, -ENOMEM);
    ax_join_init(&s->join, child);
    AX_AWAIT(&s->co, cx, &s->join.base, s->below); /* parked until the level below ends */
    AX_ASYNC_END(&s->co, s->below < 0 ? s->below : s->n + s->below);
}
// end snippet

static void sum_spawn_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct sum_spawn *)self)->co);
}

static const struct ax_future_ops sum_spawn_ops = {.poll = sum_spawn_poll, .drop = sum_spawn_drop};

static struct ax_task *spawn_sum(struct ax_executor *executor, int64_t n)
{
    struct sum_spawn *s = ax_task_alloc(executor, sizeof *s);
    if (s == NULL)
        return NULL;
    s->base.ops = &sum_spawn_ops;
    s->n = n;
    return ax_task_spawn(&s->base);
}

/* ---- recursing by nesting futures ------------------------------------------------------- */

// snippet recursion-nest
/* sum(n) as a future that owns the future for sum(n - 1) and polls it from its own poll:
 * every poll of the top is a chain of n nested calls. */
struct sum_nest {
    struct ax_future base;
    int64_t n;
    struct sum_nest *below; /* on the heap: a struct cannot contain itself */
};

static const struct ax_future_ops sum_nest_ops;

static ax_result sum_nest_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sum_nest *s = (struct sum_nest *)self;
    if (s->n == 0) {
        volatile char here; /* how deep the C stack is at the bottom */
        deepest.leaf_stack = (uintptr_t)&here;
        return 0;
    }
    if (s->below == NULL) {
        s->below = malloc(sizeof *s->below);
        if (s->below == NULL)
            return -ENOMEM;
        *s->below = (struct sum_nest){.base = {&sum_nest_ops}, .n = s->n - 1};
    }
    ax_result below = ax_poll(&s->below->base, cx); /* one C stack frame per level */
    return below < 0 ? below : s->n + below; /* (never pending: the leaf is ready) */
}
// end snippet

static void sum_nest_drop(struct ax_future *self)
{
    struct sum_nest *s = ((struct sum_nest *)self)->below;
    while (s != NULL) { /* iteratively: a recursive drop would nest just as deep */
        struct sum_nest *next = s->below;
        free(s);
        s = next;
    }
}

static const struct ax_future_ops sum_nest_ops = {.poll = sum_nest_poll, .drop = sum_nest_drop};

/* ---- iterating ---------------------------------------------------------------------------- */

// snippet recursion-iterate
/* sum(n) as a loop in one task. */
struct sum_loop {
    struct ax_future base;
    int64_t n, i, sum;
};

static ax_result sum_loop_poll(struct ax_future *self, struct ax_context *cx)
{
    struct sum_loop *s = (struct sum_loop *)self;
    for (s->i = s->n; s->i > 0; s->i--)
        s->sum += s->i; /* a real step would await here, and resume in the loop */
    deepest.peak_tasks = ax_executor_tasks(cx->executor);
    return s->sum;
}
// end snippet

static const struct ax_future_ops sum_loop_ops = {.poll = sum_loop_poll};

/* ---- the three runs ----------------------------------------------------------------------- */

struct outcome {
    size_t peak_tasks;
    double bytes_per_level;
};

static struct ax_executor *new_executor(void)
{
    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        die("executor", err);
    return executor;
}

static void check_sum(const char *how, ax_result got, int64_t n)
{
    if (got != n * (n + 1) / 2) {
        fprintf(stderr, "pitfall-recursion: %s: sum(%lld) came out as %lld (%s)\n", how,
                (long long)n, (long long)got, got < 0 ? ax_strerror((int)got) : "wrong");
        exit(1);
    }
}

static struct outcome run_spawning(int64_t depth)
{
    struct ax_executor *executor = new_executor();
    long before = rss_kb();
    struct ax_task *top = spawn_sum(executor, depth);
    if (top == NULL)
        die("spawn", -ENOMEM);
    check_sum("spawning", ax_block_on(executor, top), depth);
    ax_executor_free(executor);
    return (struct outcome){deepest.peak_tasks,
                            (double)(deepest.leaf_rss_kb - before) * 1024 / (double)depth};
}

static struct outcome run_nesting(int64_t depth)
{
    struct ax_executor *executor = new_executor();
    struct sum_nest *top = ax_task_alloc(executor, sizeof *top);
    if (top == NULL)
        die("spawn", -ENOMEM);
    top->base.ops = &sum_nest_ops;
    top->n = depth;
    volatile char here;
    uintptr_t start = (uintptr_t)&here;
    check_sum("nesting", ax_block_on(executor, ax_task_spawn(&top->base)), depth);
    ax_executor_free(executor);
    return (struct outcome){1, (double)(start - deepest.leaf_stack) / (double)depth};
}

static struct outcome run_iterating(int64_t depth)
{
    struct ax_executor *executor = new_executor();
    long before = rss_kb();
    struct sum_loop *top = ax_task_alloc(executor, sizeof *top);
    if (top == NULL)
        die("spawn", -ENOMEM);
    top->base.ops = &sum_loop_ops;
    top->n = depth;
    check_sum("iterating", ax_block_on(executor, ax_task_spawn(&top->base)), depth);
    long after = rss_kb();
    ax_executor_free(executor);
    return (struct outcome){deepest.peak_tasks, (double)(after - before) * 1024 / (double)depth};
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: pitfall-recursion [--depth N] [--tsv]\n"
                "  sum(N) = N + sum(N - 1) as tasks that spawn tasks, as nested futures and\n"
                "  as a loop, and what each costs (N in 1000..2000000, default 200000)\n"
                "  --tsv  the results as name<TAB>value<TAB>unit lines\n");
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"depth", required_argument, NULL, 'd'},
        {"tsv", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    long depth = 200000;
    bool tsv = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "d:t", options, NULL)) != -1) {
        char extra;
        if (opt == 'H')
            usage(stdout, 0);
        else if (opt == 't')
            tsv = true;
        else if (opt != 'd' || sscanf(optarg, "%ld%c", &depth, &extra) != 1 || depth < 1000 ||
                 depth > 2000000)
            usage(stderr, 2);
    }
    if (optind != argc)
        usage(stderr, 2);

    long nest_depth = depth / 20;
    struct outcome spawning = run_spawning(depth);
    struct outcome nesting = run_nesting(nest_depth);
    struct outcome iterating = run_iterating(depth);
    double overflow_levels = 8.0 * 1024 * 1024 / nesting.bytes_per_level;
    if (tsv) {
        printf("pitfalls.recursion_depth\t%ld\tlevels\n", depth);
        printf("pitfalls.recursion_peak_tasks.spawning\t%zu\ttasks\n", spawning.peak_tasks);
        printf("pitfalls.recursion_bytes_per_level.spawning\t%.1f\tbytes\n",
               spawning.bytes_per_level);
        printf("pitfalls.recursion_stack_bytes_per_level.nesting\t%.1f\tbytes\n",
               nesting.bytes_per_level);
        printf("pitfalls.recursion_overflow_levels.nesting\t%.0f\tlevels\n", overflow_levels);
        printf("pitfalls.recursion_peak_tasks.iterating\t%zu\ttasks\n", iterating.peak_tasks);
        printf("pitfalls.recursion_bytes_per_level.iterating\t%.1f\tbytes\n",
               iterating.bytes_per_level);
        return 0;
    }
    printf("sum(n) = n + sum(n - 1), three ways\n");
    printf("  spawning:  %ld levels: %zu tasks alive at the deepest point, %.0f bytes of "
           "memory a level\n",
           depth, spawning.peak_tasks, spawning.bytes_per_level);
    printf("  nesting:   %ld levels: %.0f bytes of C stack a level; an 8 MiB stack overflows "
           "near %.0f levels\n",
           nest_depth, nesting.bytes_per_level, overflow_levels);
    printf("  iterating: %ld steps: %zu task alive, %.1f bytes a step\n", depth,
           iterating.peak_tasks, iterating.bytes_per_level);
    return 0;
}
