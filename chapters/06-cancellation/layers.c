/*
 * layers: one deadline and one shutdown, passed down through three layers of work.
 *
 *     build/bin/layers [--deadline-ms N] [--optional-ms N] [--users-ms N]
 *                      [--recs-ms N] [--shutdown-ms N]
 *
 * A server answers one request, the way a web handler would:
 *
 *   server     a root token: cancelled when the server shuts down (--shutdown-ms)
 *   request    a scope under the root, with the request's deadline (--deadline-ms)
 *   handler    a child of that scope: it calls two backends at once, the user record
 *              (needed) and recommendations (nice to have), the latter under a
 *              tighter deadline of its own (--optional-ms), on a child token
 *   backend    a call that takes three round trips of (latency / 3) each and watches
 *              the token it was handed between and during them
 *
 * Nobody computes "now + something" but the layer that owns a budget: the deadline
 * travels down inside the token tree. Recommendations that miss their own deadline
 * are skipped and the reply goes out without them (a child's cancellation never
 * reaches its parent); a request that misses its deadline, or a server that shuts down,
 * stops everything under it. Each layer prints what it sees, with the time since the
 * start, so the run reads as a timeline.
 *
 * Two ways a layer learns it must stop show up in the output. A backend whose own token
 * fires while its task still runs sees it in its select and returns -ECANCELED ("gave
 * up"). A task that a scope aborts is not polled again: it is dropped, and its drop
 * function is where it cleans up ("dropped"), as a Rust future's Drop would.
 */
#include "ax/async.h"
#include "ax/cancel.h"
#include "ax/clock.h"
#include "ax/combine.h"
#include "ax/error.h"
#include "ax/scope.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

enum { ROUND_TRIPS = 3 };

struct options {
    uint64_t deadline, optional, users, recs, shutdown; /* ns; shutdown 0: never */
};

static uint64_t start_ns;
static struct ax_cancel_token *server; /* the root: cancelled at shutdown */

static void say(const char *who, const char *what, const char *why)
{
    printf("%7.1f ms  %-15s %s%s%s\n", (double)(ax_now_ns() - start_ns) / AX_NS_PER_MS, who, what,
           why[0] ? ": " : "", why);
}

/* Who cancelled a token: the highest of its ancestors that is cancelled too. The tree
 * here has three levels: the server, a request, the handler's optional part. */
static const char *cause(const struct ax_cancel_token *token)
{
    while (token->parent != NULL && ax_cancelled(token->parent))
        token = token->parent;
    if (token == server)
        return "the server is shutting down";
    return token->parent == server ? "the request's deadline" : "its own deadline";
}

// snippet layers-backend
/* Layer 3: a backend call, given a token by its caller. It never looks at a clock. */
struct backend {
    struct ax_future base;
    struct ax_coroutine co;
    const char *name;
    struct ax_cancel_token *token; /* borrowed from the caller, who outlives the call */
    uint64_t latency;
    int trips;
    struct ax_cancel_wait cancelled;
    struct ax_sleep trip;
    struct ax_future *either[2];
    struct ax_select select;
};

static ax_result backend_poll(struct ax_future *self, struct ax_context *cx)
{
    struct backend *b = (struct backend *)self;
    ax_result rc;
    AX_ASYNC_BEGIN(&b->co);
    for (b->trips = 0; b->trips < ROUND_TRIPS; b->trips++) {
        ax_cancel_wait_init(&b->cancelled, b->token);
        ax_sleep_init(&b->trip, b->latency / ROUND_TRIPS);
        b->either[0] = &b->cancelled.base;
        b->either[1] = &b->trip.base;
        ax_select_init(&b->select, b->either, 2);
        AX_AWAIT(&b->co, cx, &b->select.base, rc);
        if (b->select.winner == 0) {
            say(b->name, "gave up", cause(b->token));
            AX_ASYNC_RETURN(&b->co, -ECANCELED);
        }
    }
    say(b->name, "answered", "");
    (void)rc;
    AX_ASYNC_END(&b->co, 0);
}

static void backend_drop(struct ax_future *self)
{
    struct backend *b = (struct backend *)self;
    if (b->co.resume_at > 0) /* stopped mid-call: this is where its socket would close */
        say(b->name, "dropped", "its call abandoned");
    AX_ASYNC_DROP(&b->co);
}
// end snippet

static const struct ax_future_ops backend_ops = {.poll = backend_poll, .drop = backend_drop};

// snippet layers-handler
/* Layer 2: the handler. Both backends at once; recommendations on a shorter leash. */
struct handler {
    struct ax_future base;
    struct ax_coroutine co;
    const struct options *opt;
    struct ax_scope *request; /* the scope this handler runs in */
    struct ax_cancel_token *optional; /* a child of the request's token */
    struct backend users, recs;
    struct ax_future *calls[2];
    ax_result results[2];
    bool finished[2];
    struct ax_join_all both;
};

static ax_result handler_poll(struct ax_future *self, struct ax_context *cx)
{
    struct handler *h = (struct handler *)self;
    ax_result rc;
    AX_ASYNC_BEGIN(&h->co);
    struct ax_cancel_token *request = ax_scope_token(h->request);
    int err = ax_cancel_child(request, &h->optional);
    if (err == 0)
        err = ax_cancel_at(h->optional, cx->executor,
                           ax_executor_now(cx->executor) + h->opt->optional);
    if (err < 0)
        AX_ASYNC_RETURN(&h->co, err);
    h->users = (struct backend){
        .base = {&backend_ops}, .name = "users", .token = request, .latency = h->opt->users};
    h->recs = (struct backend){.base = {&backend_ops},
                               .name = "recommendations",
                               .token = h->optional,
                               .latency = h->opt->recs};
    h->calls[0] = &h->users.base;
    h->calls[1] = &h->recs.base;
    ax_join_all_init(&h->both, h->calls, h->results, h->finished, 2);
    say("handler", "called users and recommendations", "");
    AX_AWAIT(&h->co, cx, &h->both.base, rc);
    if (h->results[0] < 0) /* the user record is needed */
        AX_ASYNC_RETURN(&h->co, h->results[0]);
    say("handler", h->results[1] < 0 ? "replied without recommendations" : "replied in full", "");
    (void)rc;
    AX_ASYNC_END(&h->co, 0);
}

static void handler_drop(struct ax_future *self)
{
    struct handler *h = (struct handler *)self;
    if (h->co.resume_at > 0)
        say("handler", "dropped", "no reply");
    AX_ASYNC_DROP(&h->co); /* drops the join, and with it each call still running */
    if (h->optional != NULL)
        ax_cancel_release(h->optional);
}
// end snippet

static const struct ax_future_ops handler_ops = {.poll = handler_poll, .drop = handler_drop};

// snippet layers-request
/* Layer 1: the request. A scope under the server's token, with the request's deadline;
 * the handler runs inside it and cannot outlive it. */
struct request {
    struct ax_future base;
    struct ax_coroutine co;
    const struct options *opt;
    struct ax_scope *scope;
    struct ax_scope_wait wait;
};

static ax_result request_poll(struct ax_future *self, struct ax_context *cx)
{
    struct request *r = (struct request *)self;
    ax_result rc = 0;
    AX_ASYNC_BEGIN(&r->co);
    int err = ax_scope_new(&r->scope, cx->executor, server);
    if (err == 0)
        err = ax_scope_cancel_at(r->scope, ax_executor_now(cx->executor) + r->opt->deadline);
    struct handler *h = err < 0 ? NULL : ax_task_alloc(cx->executor, sizeof *h);
    if (h != NULL) {
        *h = (struct handler){.base = {&handler_ops}, .opt = r->opt, .request = r->scope};
        err = ax_scope_spawn(r->scope, &h->base);
    }
    if (err < 0 || h == NULL)
        AX_ASYNC_RETURN(&r->co, err < 0 ? err : -ENOMEM);
    ax_scope_wait_init(&r->wait, r->scope);
    AX_AWAIT(&r->co, cx, &r->wait.base, rc);
    say("request", rc < 0 ? "failed" : "answered", rc < 0 ? cause(ax_scope_token(r->scope)) : "");
    AX_ASYNC_END(&r->co, rc);
}
// end snippet

static void request_drop(struct ax_future *self)
{
    struct request *r = (struct request *)self;
    AX_ASYNC_DROP(&r->co);
    if (r->scope != NULL)
        ax_scope_release(r->scope);
}

static const struct ax_future_ops request_ops = {.poll = request_poll, .drop = request_drop};

static void usage(FILE *to, int status)
{
    fprintf(to, "usage: layers [--deadline-ms N] [--optional-ms N] [--users-ms N]\n"
                "              [--recs-ms N] [--shutdown-ms N]\n"
                "  one request (deadline, default 250 ms) calls two backends (users, default\n"
                "  120 ms; recommendations, default 300 ms, skipped after --optional-ms,\n"
                "  default 100); --shutdown-ms cancels the server's token N ms in\n");
    exit(status);
}

static uint64_t parse_ms(const char *text)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 1 || v > 60 * 1000)
        usage(stderr, 2);
    return (uint64_t)v * AX_NS_PER_MS;
}

static void fail(const char *what, int err)
{
    fprintf(stderr, "layers: %s: %s\n", what, ax_strerror(err));
    exit(1);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"deadline-ms", required_argument, NULL, 'd'},
        {"optional-ms", required_argument, NULL, 'o'},
        {"users-ms", required_argument, NULL, 'u'},
        {"recs-ms", required_argument, NULL, 'r'},
        {"shutdown-ms", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'H'},
        {0},
    };
    struct options o = {250 * AX_NS_PER_MS, 100 * AX_NS_PER_MS, 120 * AX_NS_PER_MS,
                        300 * AX_NS_PER_MS, 0};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            o.deadline = parse_ms(optarg);
            break;
        case 'o':
            o.optional = parse_ms(optarg);
            break;
        case 'u':
            o.users = parse_ms(optarg);
            break;
        case 'r':
            o.recs = parse_ms(optarg);
            break;
        case 's':
            o.shutdown = parse_ms(optarg);
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
    if (err < 0 || (err = ax_cancel_new(&server)) < 0)
        fail("start", err);
    start_ns = ax_now_ns();
    if (o.shutdown > 0)
        ax_cancel_at(server, executor, ax_executor_now(executor) + o.shutdown);
    struct request *r = ax_task_alloc(executor, sizeof *r);
    if (r == NULL)
        fail("request", -ENOMEM);
    *r = (struct request){.base = {&request_ops}, .opt = &o};
    ax_result rc = ax_block_on(executor, ax_task_spawn(&r->base));
    ax_cancel_release(server);
    ax_executor_free(executor);
    /* A request that failed was still handled: only a failure to run is an error. */
    if (rc < 0 && rc != -ECANCELED)
        fail("request", (int)rc);
    return 0;
}
