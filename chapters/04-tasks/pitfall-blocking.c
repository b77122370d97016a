/*
 * pitfall-blocking: one blocking call inside one task stalls every task.
 *
 *     build/bin/pitfall-blocking [--sleep-ms N] [--tsv]     (default 200)
 *
 * A metronome thread, standing in for the world outside, sends its clock reading down
 * a socket every TICK_MS. A ticker task reads each reading as it arrives and notes how
 * late it got it: that lateness is how long any task of this runtime would wait before
 * it noticed its socket was ready. A second task, the worker, waits for a signal from
 * the metronome and then does a slow job, which is a sleep of N ms. It runs twice:
 *
 *   in the task     the worker calls a blocking sleep (ax_sleep_ns, i.e. nanosleep)
 *                   itself: the thread sleeps, so no task runs, and the ticker's worst
 *                   lateness is about N ms
 *   on a thread     the worker hands the sleep to a helper thread and awaits a byte the
 *                   helper sends when it is done: the worker's task is parked, the
 *                   thread is free, and the ticker stays on time
 *
 * The second is the idea of chapter 08's thread pool, in miniature. --tsv prints the
 * results as name<TAB>value<TAB>unit lines for bench/pitfalls.c.
 */
#include "ax/async.h"
#include "ax/clock.h"
#include "ax/error.h"
#include "ax/io.h"
#include "ax/net.h"
#include "ax/nonblock.h"
#include "ax/task.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TICK_MS = 10, TICKS = 50, GO_AT_TICK = 10 };

static void die(const char *what, int err)
{
    fprintf(stderr, "pitfall-blocking: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

static void make_socketpair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        die("socketpair", ax__errno());
}

/* ---- the metronome: a plain thread ---------------------------------------------------- */

struct metronome {
    int tick_fd; /* writes a uint64_t clock reading every TICK_MS */
    int go_fd; /* writes one byte at GO_AT_TICK: the worker's cue */
};

static void *metronome_run(void *arg)
{
    struct metronome *m = arg;
    uint64_t start = ax_now_ns();
    for (int i = 1; i <= TICKS; i++) {
        uint64_t due = start + (uint64_t)i * TICK_MS * AX_NS_PER_MS, now = ax_now_ns();
        if (due > now)
            ax_sleep_ns(due - now);
        uint64_t sent = ax_now_ns();
        if (ax_write_all(m->tick_fd, &sent, sizeof sent) < 0)
            break;
        if (i == GO_AT_TICK)
            ax_write_all(m->go_fd, "!", 1);
    }
    shutdown(m->tick_fd, SHUT_WR); /* end of stream: the ticker is done */
    return NULL;
}

/* ---- the ticker task -------------------------------------------------------------------- */

/* Reads clock readings as they arrive; finishes, at end of stream, with the worst
 * lateness it saw, in ns. */
struct ticker {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_source *ticks;
    ax_result rc;
    size_t got; /* bytes of `sent` read so far: a stream may split it */
    uint64_t sent;
    uint64_t worst_ns;
    struct ax_read_future read;
};

static ax_result ticker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ticker *t = (struct ticker *)self;
    AX_ASYNC_BEGIN(&t->co);
    for (;;) {
        ax_read_future_init(&t->read, t->ticks, (char *)&t->sent + t->got, sizeof t->sent - t->got);
        AX_AWAIT(&t->co, cx, &t->read.base, t->rc);
        if (t->rc <= 0)
            break;
        t->got += (size_t)t->rc;
        if (t->got < sizeof t->sent)
            continue;
        uint64_t late = ax_now_ns() - t->sent;
        if (late > t->worst_ns)
            t->worst_ns = late;
        t->got = 0;
    }
    AX_ASYNC_END(&t->co, t->rc < 0 ? t->rc : (ax_result)t->worst_ns);
}

static void ticker_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct ticker *)self)->co);
}

static const struct ax_future_ops ticker_ops = {.poll = ticker_poll, .drop = ticker_drop};

/* ---- the worker task ------------------------------------------------------------------ */

/* The helper thread's job: sleep, then say so through a socket. */
struct helper {
    pthread_t thread;
    bool started;
    int done_fd;
    uint64_t sleep_ns;
};

static void *helper_run(void *arg)
{
    struct helper *h = arg;
    ax_sleep_ns(h->sleep_ns); /* blocks this thread only */
    ax_write_all(h->done_fd, "!", 1);
    return NULL;
}

// snippet blocking-worker
struct worker {
    struct ax_future base;
    struct ax_coroutine co;
    bool on_thread;
    struct ax_source *go;
    struct ax_source *done; /* the helper writes to done_fd; the worker awaits this end */
    int done_fd;
    uint64_t sleep_ns;
    struct helper *helper;
    ax_result rc;
    char byte;
    struct ax_read_future read;
};

static ax_result worker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct worker *w = (struct worker *)self;
    AX_ASYNC_BEGIN(&w->co);
    ax_read_future_init(&w->read, w->go, &w->byte, 1); /* wait for the cue */
    AX_AWAIT(&w->co, cx, &w->read.base, w->rc);
    if (!w->on_thread) {
        ax_sleep_ns(w->sleep_ns); /* the pitfall: the thread sleeps, every task waits */
        AX_ASYNC_RETURN(&w->co, 0);
    }
    /* The fix: the sleep happens elsewhere; this task parks on a socket meanwhile. */
    w->helper->done_fd = w->done_fd;
    w->helper->sleep_ns = w->sleep_ns;
    if (pthread_create(&w->helper->thread, NULL, helper_run, w->helper) != 0)
        AX_ASYNC_RETURN(&w->co, -EAGAIN);
    w->helper->started = true;
    ax_read_future_init(&w->read, w->done, &w->byte, 1);
    AX_AWAIT(&w->co, cx, &w->read.base, w->rc);
    AX_ASYNC_END(&w->co, w->rc < 0 ? w->rc : 0);
}
// end snippet

static void worker_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct worker *)self)->co);
}

static const struct ax_future_ops worker_ops = {.poll = worker_poll, .drop = worker_drop};

/* ---- one run ---------------------------------------------------------------------------- */

/* Runs the ticker and the worker together; returns the ticker's worst lateness in ms. */
static double run(bool on_thread, uint64_t sleep_ns)
{
    int ticks[2], go[2], done[2];
    make_socketpair(ticks);
    make_socketpair(go);
    make_socketpair(done);

    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        die("executor", err);
    struct ax_source *sources[3];
    int watched[] = {ticks[0], go[0], done[0]};
    for (int i = 0; i < 3; i++)
        if ((err = ax_source_open(executor, watched[i], &sources[i])) < 0)
            die("source", err);
    struct ticker *t = ax_task_alloc(executor, sizeof *t);
    struct worker *w = ax_task_alloc(executor, sizeof *w);
    if (t == NULL || w == NULL)
        die("tasks", -ENOMEM);
    t->base.ops = &ticker_ops;
    t->ticks = sources[0];
    struct helper helper = {0};
    w->base.ops = &worker_ops;
    w->on_thread = on_thread;
    w->go = sources[1];
    w->done = sources[2];
    w->done_fd = done[1];
    w->sleep_ns = sleep_ns;
    w->helper = &helper;
    struct ax_task *ticker = ax_task_spawn(&t->base);
    struct ax_task *worker = ax_task_spawn(&w->base);

    struct metronome m = {.tick_fd = ticks[1], .go_fd = go[1]};
    pthread_t metronome;
    if (pthread_create(&metronome, NULL, metronome_run, &m) != 0)
        die("pthread_create", -EAGAIN);
    ax_result rc = ax_block_on(executor, worker);
    if (rc < 0)
        die("the worker", (int)rc);
    ax_result worst_ns = ax_block_on(executor, ticker); /* until the metronome stops */
    if (worst_ns < 0)
        die("the ticker", (int)worst_ns);
    pthread_join(metronome, NULL);
    if (helper.started)
        pthread_join(helper.thread, NULL);
    for (int i = 0; i < 3; i++)
        ax_source_close(sources[i]);
    ax_executor_free(executor);
    int fds[] = {ticks[1], go[1], done[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        close(fds[i]);
    return (double)worst_ns / (double)AX_NS_PER_MS;
}

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: pitfall-blocking [--sleep-ms N] [--tsv]\n"
                "  a task's slow job sleeps N ms (1..5000, default 200), first in the task and\n"
                "  then on a helper thread; a ticker task reports how late it got its ticks\n"
                "  --tsv  the results as name<TAB>value<TAB>unit lines\n");
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"sleep-ms", required_argument, NULL, 's'},
        {"tsv", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    unsigned sleep_ms = 200;
    bool tsv = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "s:t", options, NULL)) != -1) {
        char extra;
        if (opt == 'H')
            usage(stdout, 0);
        else if (opt == 't')
            tsv = true;
        else if (opt != 's' || sscanf(optarg, "%u%c", &sleep_ms, &extra) != 1 || sleep_ms < 1 ||
                 sleep_ms > 5000)
            usage(stderr, 2);
    }
    if (optind != argc)
        usage(stderr, 2);

    uint64_t sleep_ns = sleep_ms * AX_NS_PER_MS;
    double in_task = run(false, sleep_ns);
    double on_thread = run(true, sleep_ns);
    if (tsv) {
        printf("pitfalls.blocking_sleep_ms\t%u\tms\n", sleep_ms);
        printf("pitfalls.blocking_stall_ms.in_task\t%.3f\tms\n", in_task);
        printf("pitfalls.blocking_stall_ms.on_thread\t%.3f\tms\n", on_thread);
        return 0;
    }
    printf("a ticker task gets a clock reading every %d ms; another task sleeps %u ms\n", TICK_MS,
           sleep_ms);
    printf("  sleeping in the task:       the ticker's worst lateness is %8.3f ms\n", in_task);
    printf("  sleeping on another thread: the ticker's worst lateness is %8.3f ms\n", on_thread);
    return 0;
}
