/*
 * cancel-token: the smallest cancellation there is, in C.
 *
 *     build/bin/cancel-token [--cancel-ms N | --no-cancel] [--sleep-ms N]
 *
 * A worker task waits for whichever comes first: its token being cancelled, or a long
 * sleep (ten seconds unless --sleep-ms says otherwise). The program makes a root token
 * and hands the worker a child of it, spawns the worker, cancels the root and waits
 * for the worker to finish. The worker sees its child token cancelled and says so. This
 * is the same program as the Rust (tokio-util's CancellationToken, child_token and
 * select!) and Go (context.WithCancel and select) examples the chapter sets beside it.
 *
 * By default the root is cancelled at once, before the worker has even run, as in
 * those examples. --cancel-ms N puts a deadline on the root instead (the token cancels
 * itself N ms later, on the executor's timers); --no-cancel never cancels it, and the
 * worker's sleep wins.
 */
#include "ax/async.h"
#include "ax/cancel.h"
#include "ax/clock.h"
#include "ax/combine.h"
#include "ax/error.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

// snippet cancel-token-worker
/* Waits for its token or for its sleep, whichever comes first, and says which. */
struct worker {
    struct ax_future base;
    struct ax_coroutine co;
    struct ax_cancel_token *token; /* borrowed: main keeps it until the worker is done */
    uint64_t sleep_ns, started;
    struct ax_cancel_wait cancelled;
    struct ax_sleep sleep;
    struct ax_future *either[2];
    struct ax_select select; /* owns `cancelled` and `sleep` once initialised */
};

static ax_result worker_poll(struct ax_future *self, struct ax_context *cx)
{
    struct worker *w = (struct worker *)self;
    ax_result rc;
    AX_ASYNC_BEGIN(&w->co);
    w->started = ax_now_ns();
    ax_cancel_wait_init(&w->cancelled, w->token);
    ax_sleep_init(&w->sleep, w->sleep_ns);
    w->either[0] = &w->cancelled.base;
    w->either[1] = &w->sleep.base;
    ax_select_init(&w->select, w->either, 2);
    AX_AWAIT(&w->co, cx, &w->select.base, rc); /* the loser is dropped inside */
    printf("worker: %s after %.1f ms\n", w->select.winner == 0 ? "cancelled" : "done",
           (double)(ax_now_ns() - w->started) / AX_NS_PER_MS);
    (void)rc; /* both finish with 0 */
    AX_ASYNC_END(&w->co, 0);
}
// end snippet

static void worker_drop(struct ax_future *self)
{
    AX_ASYNC_DROP(&((struct worker *)self)->co);
}

static const struct ax_future_ops worker_ops = {.poll = worker_poll, .drop = worker_drop};

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: cancel-token [--cancel-ms N | --no-cancel] [--sleep-ms N]\n"
                "  a worker waits for its token or a sleep (default 10000 ms); the root\n"
                "  token is cancelled at once, or N ms later, or never\n");
    exit(status);
}

static long parse_ms(const char *text)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > 3600 * 1000)
        usage(stderr, 2);
    return v;
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "cancel-token: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"cancel-ms", required_argument, NULL, 'c'},
        {"no-cancel", no_argument, NULL, 'n'},
        {"sleep-ms", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    long cancel_ms = 0, sleep_ms = 10000; /* cancel_ms < 0: never */
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cancel_ms = parse_ms(optarg);
            break;
        case 'n':
            cancel_ms = -1;
            break;
        case 's':
            sleep_ms = parse_ms(optarg);
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

    struct ax_executor *executor;
    int err = ax_executor_new(&executor, NULL);
    if (err < 0)
        fail("executor", err);
    // snippet cancel-token-main
    struct ax_cancel_token *token, *child;
    if ((err = ax_cancel_new(&token)) < 0 || (err = ax_cancel_child(token, &child)) < 0)
        fail("token", err);
    struct worker *w = ax_task_alloc(executor, sizeof *w);
    if (w == NULL)
        fail("worker", -ENOMEM);
    *w = (struct worker){
        .base = {&worker_ops}, .token = child, .sleep_ns = (uint64_t)sleep_ms * AX_NS_PER_MS};
    struct ax_task *handle = ax_task_spawn(&w->base);
    if (cancel_ms == 0)
        ax_cancel(token); /* the whole tree: the worker's child token too */
    else if (cancel_ms > 0)
        ax_cancel_at(token, executor,
                     ax_executor_now(executor) + (uint64_t)cancel_ms * AX_NS_PER_MS);
    ax_result rc = ax_block_on(executor, handle); /* runs the worker; gives the handle back */
    ax_cancel_release(child);
    ax_cancel_release(token);
    // end snippet
    ax_executor_free(executor);
    if (rc < 0)
        fail("worker", (int)rc);
    return 0;
}
