/* Exercise 06-request-deadline: a handler stops its backend call at its own deadline or
 * at its parent's cancellation, whichever comes first, says which it was, and leaves
 * nothing behind: no connection, no timer, no token under the parent.
 *
 * The backends are real sockets on 127.0.0.1, each served by a task on the handler's
 * own executor (tests/support/backend.h), which answers at a set moment of virtual time,
 * or hangs up, or stays silent. The parent token is the test's: it plays the server, or
 * the client's connection, and a small task cancels it at a set moment. Everything runs
 * on paused time, where a deadline passes as soon as nothing else can happen. */
#include "axtest.h"
#include "backend.h"
#include "handle_request.h"
#include "loopback.h"
#include "virtual_time.h"

#include "ax/cancel.h"
#include "ax/error.h"
#include "ax/list.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT, REPLY_CAP = 64, BACKENDS = 3, PATIENCE_MS = 5000 };
static const uint64_t START = AXT_START;
static const uint64_t BUDGET = 1 * S; /* every request's, unless a test says otherwise */
static const char REQUEST[] = "GET apples\n";

/* What a handler came to, kept outside its task. */
struct outcome {
    ax_result result;
    uint64_t ended; /* the executor's time when it finished */
    bool done;
};

struct scene {
    struct ax_executor *executor;
    int fds_at_start;
    struct ax_cancel_token *parent; /* the server's token, or a connection's */
    struct axt_backend backend[BACKENDS];
    int backends;
    struct backend_request req[BACKENDS]; /* req[i] asks backend[i] */
    char reply[BACKENDS][REPLY_CAP];
    uint64_t cancelled_at; /* when the canceller cancelled (on the wheel's tick) */
};

/* ---- the handler under test, in a task of its own ------------------------------------- */

struct runner {
    struct ax_future base;
    struct handle_request handler;
    struct ax_timeout outer; /* drops the handler early, in the tests that want it */
    struct ax_future *top; /* &handler.base, or &outer.base */
    struct outcome *out;
};

static ax_result runner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct runner *r = (struct runner *)self;
    ax_result rc = ax_poll(r->top, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    *r->out = (struct outcome){.result = rc, .ended = ax_executor_now(cx->executor), .done = true};
    return rc;
}

static void runner_drop(struct ax_future *self)
{
    ax_future_drop(((struct runner *)self)->top);
}

static const struct ax_future_ops runner_ops = {.poll = runner_poll, .drop = runner_drop};

/* Starts a handler on parent with budget over req; with drop_at, a timeout around it
 * drops it at that time. */
static struct ax_task *start(struct scene *sc, struct ax_cancel_token *parent, uint64_t budget,
                             const struct backend_request *req, uint64_t drop_at,
                             struct outcome *out)
{
    struct runner *r = ax_task_alloc(sc->executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct runner){.base = {&runner_ops}, .top = &r->handler.base, .out = out};
    handle_request_init(&r->handler, parent, budget, req);
    if (drop_at != 0) {
        ax_timeout_init(&r->outer, &r->handler.base, drop_at);
        r->top = &r->outer.base;
    }
    return ax_task_spawn(&r->base);
}

/* The backend call alone, on token, over the scene's first request. */
struct call_runner {
    struct ax_future base;
    struct backend_call call;
    struct outcome *out;
};

static ax_result call_runner_poll(struct ax_future *self, struct ax_context *cx)
{
    struct call_runner *r = (struct call_runner *)self;
    ax_result rc = ax_poll(&r->call.base, cx);
    if (rc == AX_PENDING)
        return AX_PENDING;
    *r->out = (struct outcome){.result = rc, .ended = ax_executor_now(cx->executor), .done = true};
    return rc;
}

static void call_runner_drop(struct ax_future *self)
{
    ax_future_drop(&((struct call_runner *)self)->call.base);
}

static const struct ax_future_ops call_runner_ops = {.poll = call_runner_poll,
                                                     .drop = call_runner_drop};

static struct outcome run_call(struct scene *sc, struct ax_cancel_token *token)
{
    struct outcome out = {0};
    struct call_runner *r = ax_task_alloc(sc->executor, sizeof *r);
    ck_assert_ptr_nonnull(r);
    *r = (struct call_runner){.base = {&call_runner_ops}, .out = &out};
    backend_call_init(&r->call, token, &sc->req[0]);
    ax_block_on(sc->executor, ax_task_spawn(&r->base));
    ck_assert_msg(out.done, "the call's task ended without finishing");
    return out;
}

/* Runs one handler, on the scene's parent and first backend, to its end. */
static struct outcome run(struct scene *sc, uint64_t budget, uint64_t drop_at)
{
    struct outcome out = {0};
    ax_block_on(sc->executor, start(sc, sc->parent, budget, &sc->req[0], drop_at, &out));
    ck_assert_msg(out.done, "the handler's task ended without finishing");
    return out;
}

/* ---- the parent's side ---------------------------------------------------------------- */

/* Cancels a token at a set time: the server shutting down, a client hanging up. */
struct canceller {
    struct ax_future base;
    struct ax_sleep sleep;
    struct ax_cancel_token *token;
    uint64_t *when;
};

static ax_result canceller_poll(struct ax_future *self, struct ax_context *cx)
{
    struct canceller *c = (struct canceller *)self;
    if (ax_poll(&c->sleep.base, cx) == AX_PENDING)
        return AX_PENDING;
    ax_cancel(c->token);
    *c->when = ax_executor_now(cx->executor);
    return 0;
}

static void canceller_drop(struct ax_future *self)
{
    ax_future_drop(&((struct canceller *)self)->sleep.base);
}

static const struct ax_future_ops canceller_ops = {.poll = canceller_poll, .drop = canceller_drop};

static void cancel_at(struct scene *sc, struct ax_cancel_token *token, uint64_t when)
{
    struct canceller *c = ax_task_alloc(sc->executor, sizeof *c);
    ck_assert_ptr_nonnull(c);
    *c = (struct canceller){.base = {&canceller_ops}, .token = token, .when = &sc->cancelled_at};
    ax_sleep_until_init(&c->sleep, when);
    ax_task_detach(ax_task_spawn(&c->base));
}

/* ---- the scene ------------------------------------------------------------------------ */

static void scene_open(struct scene *sc)
{
    *sc = (struct scene){.fds_at_start = axt_open_fds()};
    sc->executor = axt_paused_executor();
    ck_assert_int_eq(ax_cancel_new(&sc->parent), 0);
}

/* A backend playing script, and a request to it; returns its index. */
static int add_backend(struct scene *sc, const struct axt_backend_script *script)
{
    ck_assert_int_lt(sc->backends, BACKENDS);
    int i = sc->backends++;
    axt_backend_open(&sc->backend[i], sc->executor, script);
    sc->req[i] = (struct backend_request){.host = "127.0.0.1",
                                          .port = sc->backend[i].port,
                                          .line = REQUEST,
                                          .len = strlen(REQUEST),
                                          .reply = sc->reply[i],
                                          .cap = REPLY_CAP};
    return i;
}

static void scene_close(struct scene *sc)
{
    ax_cancel_release(sc->parent);
    ax_executor_free(sc->executor);
    for (int i = 0; i < sc->backends; i++)
        axt_backend_close(&sc->backend[i]);
    int open = axt_open_fds();
    ck_assert_msg(open == sc->fds_at_start, "%d descriptors were left open",
                  open - sc->fds_at_start);
}

/* ---- checks --------------------------------------------------------------------------- */

static const char *describe(ax_result rc)
{
    return rc >= 0 ? "a reply line" : ax_strerror((int)rc);
}

static void assert_result(const struct outcome *out, ax_result want)
{
    ck_assert_msg(out->result == want, "the handler finished with %lld (%s); expected %lld (%s)",
                  (long long)out->result, describe(out->result), (long long)want, describe(want));
}

/* A timer fires on the first wheel tick at or after its deadline; a cancel is seen in
 * the same instant. */
static void assert_ended_at(const struct outcome *out, uint64_t when)
{
    ck_assert_msg(out->ended >= when && out->ended < when + TICK,
                  "the handler finished at %+lld ms, expected at %+lld ms (from the start)",
                  (long long)(out->ended - START) / (long long)MS,
                  (long long)(when - START) / (long long)MS);
}

/* The handler gave its token back: the parent has no child and no waiter left, and no
 * timer is pending but the `others` the test knows of (a backend still waiting to
 * answer). */
static void assert_nothing_left(const struct scene *sc, struct ax_cancel_token *parent,
                                size_t others)
{
    ck_assert_msg(ax_list_empty(&parent->children),
                  "the request's token is still a child of the parent: it was not released");
    ck_assert_msg(ax_list_empty(&parent->waiters), "something still waits on the parent token");
    size_t timers = ax_executor_timers(sc->executor);
    ck_assert_msg(timers == others, "%zu timers are pending after the handler ended; expected %zu",
                  timers, others);
}

static void assert_hung_up(const struct axt_backend *b)
{
    ck_assert_msg(b->accepted, "the backend was never called");
    ck_assert_msg(axt_backend_hung_up(b), "the handler has finished and its connection is open");
}

static void assert_not_contacted(const struct axt_backend *b)
{
    ck_assert_msg(!axt_backend_contacted(b), "the backend was called, and should not have been");
}

/* A request more than the kernel can hold for a listener nobody accepts from: more than
 * a full send buffer (at most tcp_wmem's maximum) and the listener's receive buffer
 * together, so that sending it blocks. One "\n", at the end. */
static char *big_request(int listen_fd, size_t *len)
{
    int receive = 0;
    socklen_t size = sizeof receive;
    ck_assert_int_eq(getsockopt(listen_fd, SOL_SOCKET, SO_RCVBUF, &receive, &size), 0);
    size_t wmem_max = 4 << 20;
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
    if (f != NULL) {
        unsigned long low, def, max;
        if (fscanf(f, "%lu %lu %lu", &low, &def, &max) == 3)
            wmem_max = max;
        fclose(f);
    }
    *len = wmem_max + (size_t)receive + (1 << 20);
    char *request = malloc(*len);
    ck_assert_ptr_nonnull(request);
    memset(request, 'a', *len - 1);
    request[*len - 1] = '\n';
    return request;
}

/* The handler hung up on a listener nobody accepted from: the connection waiting there
 * ends after the bytes it sent, so they are read first. */
static void assert_hung_up_after_draining(int listen_fd)
{
    int far_end = accept(listen_fd, NULL, NULL);
    ck_assert_msg(far_end >= 0, "the handler never connected");
    struct timeval limit = {.tv_sec = PATIENCE_MS / 1000};
    setsockopt(far_end, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    static char sink[64 * 1024];
    ssize_t n;
    while ((n = read(far_end, sink, sizeof sink)) > 0 || (n < 0 && errno == EINTR))
        continue;
    ck_assert_msg(n == 0 || (n < 0 && errno == ECONNRESET),
                  "the handler has finished, and its connection is still open");
    close(far_end);
}

/* ---- the backend answers -------------------------------------------------------------- */

START_TEST(request_gets_the_backends_reply_line)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script prompt = {.reply = "42 apples\nand more\n"};
    add_backend(&sc, &prompt);
    axt_backend_expect(&sc.backend[0], 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, 9);
    ck_assert_msg(strcmp(sc.reply[0], "42 apples") == 0, "the reply line is %s",
                  axt_quoted(sc.reply[0]));
    ck_assert_msg(strcmp(sc.backend[0].request, REQUEST) == 0, "the backend got %s",
                  axt_quoted(sc.backend[0].request));
    assert_hung_up(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    ck_assert_msg(!ax_cancelled(sc.parent), "the handler cancelled its parent");
    scene_close(&sc);
}
END_TEST

START_TEST(request_waits_for_a_slow_backend_that_answers_within_its_budget)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script slow = {.answer_at = AXT_START + 600 * MS,
                                                   .reply = "ripe\n"};
    add_backend(&sc, &slow);
    axt_backend_expect(&sc.backend[0], 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, 4);
    ck_assert_str_eq(sc.reply[0], "ripe");
    assert_ended_at(&out, START + 600 * MS);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

/* ---- the request's own deadline ------------------------------------------------------- */

START_TEST(request_times_out_at_its_deadline_when_the_backend_is_too_slow)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script too_slow = {.answer_at = AXT_START + 3 * S,
                                                       .reply = "too late\n"};
    add_backend(&sc, &too_slow);
    axt_backend_expect(&sc.backend[0], 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ETIMEDOUT);
    assert_ended_at(&out, START + BUDGET);
    ck_assert_msg(!ax_cancelled(sc.parent), "the request's deadline cancelled its parent");
    assert_hung_up(&sc.backend[0]);
    /* The deadline is in the token: the call below the handler arms no timer of its own
     * (no ax_timeout, no sleep), so the only one pending while it waited was the
     * request's. */
    ck_assert_msg(sc.backend[0].timers_at_request == 1,
                  "%zu timers were pending while the backend was called; the request's deadline "
                  "should be the only one",
                  sc.backend[0].timers_at_request);
    assert_nothing_left(&sc, sc.parent, 1); /* the backend's own, for its answer */
    scene_close(&sc);
}
END_TEST

START_TEST(request_with_a_zero_budget_times_out_without_calling_the_backend)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script prompt = {.reply = "42 apples\n"};
    add_backend(&sc, &prompt);
    struct outcome out = run(&sc, 0, 0);
    assert_result(&out, -ETIMEDOUT);
    assert_ended_at(&out, START);
    assert_not_contacted(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(request_times_out_in_a_connect_that_hangs)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script unused = {0};
    add_backend(&sc, &unused);
    struct axt_full_listener full;
    axt_full_listener_open(&full, AF_INET);
    sc.req[0].port = full.port;
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ETIMEDOUT);
    assert_ended_at(&out, START + BUDGET);
    assert_nothing_left(&sc, sc.parent, 0);
    axt_full_listener_close(&full);
    scene_close(&sc); /* and the connecting socket was closed */
}
END_TEST

/* ---- the parent's cancellation -------------------------------------------------------- */

START_TEST(cancelling_the_parent_mid_call_stops_the_request_at_once)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script silent = {0};
    add_backend(&sc, &silent);
    axt_backend_expect(&sc.backend[0], 0);
    cancel_at(&sc, sc.parent, START + 300 * MS);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ECANCELED);
    assert_ended_at(&out, START + 300 * MS);
    ck_assert_msg(
        out.ended == sc.cancelled_at,
        "the handler finished %lld ns after its parent was cancelled, not in that instant",
        (long long)(out.ended - sc.cancelled_at));
    assert_hung_up(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(cancelling_the_parent_stops_a_connect_that_hangs)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script unused = {0};
    add_backend(&sc, &unused);
    struct axt_full_listener full;
    axt_full_listener_open(&full, AF_INET);
    sc.req[0].port = full.port;
    cancel_at(&sc, sc.parent, START + 300 * MS);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ECANCELED);
    assert_ended_at(&out, START + 300 * MS);
    assert_nothing_left(&sc, sc.parent, 0);
    axt_full_listener_close(&full);
    scene_close(&sc);
}
END_TEST

START_TEST(a_parent_cancelled_already_is_reported_without_calling_the_backend)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script prompt = {.reply = "42 apples\n"};
    add_backend(&sc, &prompt);
    ax_cancel(sc.parent);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ECANCELED);
    assert_ended_at(&out, START);
    assert_not_contacted(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

/* A server with a deadline of its own: when it fires first, the request was cancelled
 * from above, not timed out. */
START_TEST(the_parents_earlier_deadline_is_reported_as_cancelled)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script silent = {0};
    add_backend(&sc, &silent);
    axt_backend_expect(&sc.backend[0], 0);
    ck_assert_int_eq(ax_cancel_at(sc.parent, sc.executor, START + 400 * MS), 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ECANCELED);
    assert_ended_at(&out, START + 400 * MS);
    assert_hung_up(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(the_parents_later_deadline_leaves_the_request_its_own_timeout)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script silent = {0};
    add_backend(&sc, &silent);
    axt_backend_expect(&sc.backend[0], 0);
    ck_assert_int_eq(ax_cancel_at(sc.parent, sc.executor, START + 5 * S), 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ETIMEDOUT);
    assert_ended_at(&out, START + BUDGET);
    ck_assert_msg(!ax_cancelled(sc.parent), "the request's deadline cancelled its parent");
    assert_nothing_left(&sc, sc.parent, 1); /* the parent's own deadline */
    scene_close(&sc);
}
END_TEST

/* The deadline and the parent fire in the same instant: the parent wins the tie, since
 * by the time the handler looks, nobody wants the answer any more. */
START_TEST(a_tie_between_the_deadline_and_the_parent_goes_to_the_parent)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script silent = {0};
    add_backend(&sc, &silent);
    axt_backend_expect(&sc.backend[0], 0);
    ck_assert_int_eq(ax_cancel_at(sc.parent, sc.executor, START + BUDGET), 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ECANCELED);
    assert_ended_at(&out, START + BUDGET);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

/* Nobody accepts: the kernel completes the handshake alone, and the request fills its
 * buffers, so the call is stopped while it sends. */
START_TEST(cancelling_the_parent_mid_send_stops_the_request_at_once)
{
    struct scene sc;
    scene_open(&sc);
    uint16_t port;
    int listen_fd = axt_loopback_listen(AF_INET, 16, &port);
    size_t len;
    char *request = big_request(listen_fd, &len);
    struct backend_request req = {.host = "127.0.0.1",
                                  .port = port,
                                  .line = request,
                                  .len = len,
                                  .reply = sc.reply[0],
                                  .cap = REPLY_CAP};
    axt_hold_clock(sc.executor, 0, axt_until_connection_waiting, &listen_fd);
    cancel_at(&sc, sc.parent, START + 300 * MS);
    struct outcome out = {0};
    ax_block_on(sc.executor, start(&sc, sc.parent, BUDGET, &req, 0, &out));
    assert_result(&out, -ECANCELED);
    ck_assert_msg(
        out.ended == sc.cancelled_at,
        "the handler finished %lld ns after its parent was cancelled, not in that instant",
        (long long)(out.ended - sc.cancelled_at));
    assert_hung_up_after_draining(listen_fd);
    assert_nothing_left(&sc, sc.parent, 0);
    close(listen_fd);
    free(request);
    scene_close(&sc);
}
END_TEST

/* The server's token has a child per client connection, and each request is a child of
 * its connection's: a client that hangs up stops its own requests and nobody else's. */
START_TEST(cancelling_one_connection_stops_its_requests_and_no_other)
{
    struct scene sc;
    scene_open(&sc);
    struct ax_cancel_token *gone, *staying;
    ck_assert_int_eq(ax_cancel_child(sc.parent, &gone), 0);
    ck_assert_int_eq(ax_cancel_child(sc.parent, &staying), 0);
    static const struct axt_backend_script silent = {0};
    static const struct axt_backend_script answers = {.answer_at = AXT_START + 500 * MS,
                                                      .reply = "still here\n"};
    add_backend(&sc, &silent);
    add_backend(&sc, &silent);
    add_backend(&sc, &answers);
    for (int i = 0; i < BACKENDS; i++)
        axt_backend_expect(&sc.backend[i], 0);
    cancel_at(&sc, gone, START + 200 * MS);
    struct outcome out[BACKENDS] = {{0}};
    struct ax_task *task[BACKENDS] = {
        start(&sc, gone, BUDGET, &sc.req[0], 0, &out[0]),
        start(&sc, gone, BUDGET, &sc.req[1], 0, &out[1]),
        start(&sc, staying, BUDGET, &sc.req[2], 0, &out[2]),
    };
    for (int i = 0; i < BACKENDS; i++)
        ax_block_on(sc.executor, task[i]);
    for (int i = 0; i < 2; i++) {
        assert_result(&out[i], -ECANCELED);
        ck_assert_msg(out[i].ended == sc.cancelled_at,
                      "request %d under the connection that went finished %lld ns after it went", i,
                      (long long)(out[i].ended - sc.cancelled_at));
        assert_hung_up(&sc.backend[i]);
    }
    assert_result(&out[2], 10);
    assert_ended_at(&out[2], START + 500 * MS);
    ck_assert_msg(!ax_cancelled(staying) && !ax_cancelled(sc.parent),
                  "cancelling one connection reached another, or the server");
    assert_nothing_left(&sc, gone, 0);
    assert_nothing_left(&sc, staying, 0);
    ax_cancel_release(gone);
    ax_cancel_release(staying);
    scene_close(&sc);
}
END_TEST

START_TEST(shutting_the_server_down_stops_the_requests_of_every_connection)
{
    struct scene sc;
    scene_open(&sc);
    struct ax_cancel_token *conn[2];
    static const struct axt_backend_script silent = {0};
    struct outcome out[2] = {{0}};
    struct ax_task *task[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(ax_cancel_child(sc.parent, &conn[i]), 0);
        add_backend(&sc, &silent);
        axt_backend_expect(&sc.backend[i], 0);
        task[i] = start(&sc, conn[i], BUDGET, &sc.req[i], 0, &out[i]);
    }
    cancel_at(&sc, sc.parent, START + 250 * MS);
    for (int i = 0; i < 2; i++) {
        ax_block_on(sc.executor, task[i]);
        assert_result(&out[i], -ECANCELED);
        assert_ended_at(&out[i], START + 250 * MS);
        assert_hung_up(&sc.backend[i]);
        assert_nothing_left(&sc, conn[i], 0);
        ax_cancel_release(conn[i]);
    }
    scene_close(&sc);
}
END_TEST

/* ---- the backend call on its own ------------------------------------------------------ */

/* The call knows only that its token was cancelled, not why: a deadline is a cancel. */
START_TEST(the_backend_call_reports_its_tokens_deadline_as_cancelled)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script silent = {0};
    add_backend(&sc, &silent);
    axt_backend_expect(&sc.backend[0], 0);
    struct ax_cancel_token *token;
    ck_assert_int_eq(ax_cancel_child(sc.parent, &token), 0);
    ck_assert_int_eq(ax_cancel_at(token, sc.executor, START + 500 * MS), 0);
    struct outcome out = run_call(&sc, token);
    assert_result(&out, -ECANCELED);
    assert_ended_at(&out, START + 500 * MS);
    assert_hung_up(&sc.backend[0]);
    ck_assert_msg(ax_list_empty(&token->waiters), "the call left a waiter on its token");
    ax_cancel_release(token);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

/* ---- the backend fails ---------------------------------------------------------------- */

START_TEST(a_refused_connection_is_neither_timed_out_nor_cancelled)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script unused = {0};
    add_backend(&sc, &unused);
    sc.req[0].port = axt_refused_port(AF_INET);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -ECONNREFUSED);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_backend_that_hangs_up_mid_line_gives_eof)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script half = {.reply = "half a li", .hang_up = true};
    add_backend(&sc, &half);
    axt_backend_expect(&sc.backend[0], 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, AX_EOF);
    assert_hung_up(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(a_reply_longer_than_the_buffer_is_refused)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script wordy = {.reply = "a line of more than eight bytes\n"};
    add_backend(&sc, &wordy);
    sc.req[0].cap = 8;
    axt_backend_expect(&sc.backend[0], 0);
    struct outcome out = run(&sc, BUDGET, 0);
    assert_result(&out, -EMSGSIZE);
    assert_hung_up(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

/* ---- dropped, and bad input ----------------------------------------------------------- */

START_TEST(a_handler_dropped_mid_call_closes_its_connection_and_leaves_nothing)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script silent = {0};
    add_backend(&sc, &silent);
    axt_backend_expect(&sc.backend[0], 0);
    struct outcome out = run(&sc, BUDGET, START + 300 * MS);
    ck_assert_msg(out.result == -ETIMEDOUT, "the timeout around the handler finished with %s",
                  describe(out.result));
    assert_ended_at(&out, START + 300 * MS);
    ck_assert_msg(sc.backend[0].request_in, "the backend never had the request");
    assert_hung_up(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

START_TEST(bad_arguments_are_refused_without_calling_the_backend)
{
    struct scene sc;
    scene_open(&sc);
    static const struct axt_backend_script prompt = {.reply = "42 apples\n"};
    add_backend(&sc, &prompt);
    struct outcome out = {0};
    ax_block_on(sc.executor, start(&sc, NULL, BUDGET, &sc.req[0], 0, &out));
    ck_assert_msg(out.result == -EINVAL, "with no parent token: %s", describe(out.result));
    out = run_call(&sc, NULL);
    ck_assert_msg(out.result == -EINVAL, "a backend call with no token: %s", describe(out.result));
    sc.req[0].cap = 0;
    out = run(&sc, BUDGET, 0);
    ck_assert_msg(out.result == -EINVAL, "with no room for a reply: %s", describe(out.result));
    assert_not_contacted(&sc.backend[0]);
    assert_nothing_left(&sc, sc.parent, 0);
    scene_close(&sc);
}
END_TEST

static Suite *handle_request_suite(void)
{
    Suite *s = suite_create("06-request-deadline");
    TCase *tc = axt_tcase("handle_request");
    tcase_add_test(tc, request_gets_the_backends_reply_line);
    tcase_add_test(tc, request_waits_for_a_slow_backend_that_answers_within_its_budget);
    tcase_add_test(tc, request_times_out_at_its_deadline_when_the_backend_is_too_slow);
    tcase_add_test(tc, request_with_a_zero_budget_times_out_without_calling_the_backend);
    tcase_add_test(tc, request_times_out_in_a_connect_that_hangs);
    tcase_add_test(tc, cancelling_the_parent_mid_call_stops_the_request_at_once);
    tcase_add_test(tc, cancelling_the_parent_stops_a_connect_that_hangs);
    tcase_add_test(tc, a_parent_cancelled_already_is_reported_without_calling_the_backend);
    tcase_add_test(tc, the_parents_earlier_deadline_is_reported_as_cancelled);
    tcase_add_test(tc, the_parents_later_deadline_leaves_the_request_its_own_timeout);
    tcase_add_test(tc, a_tie_between_the_deadline_and_the_parent_goes_to_the_parent);
    tcase_add_test(tc, cancelling_the_parent_mid_send_stops_the_request_at_once);
    tcase_add_test(tc, cancelling_one_connection_stops_its_requests_and_no_other);
    tcase_add_test(tc, shutting_the_server_down_stops_the_requests_of_every_connection);
    tcase_add_test(tc, the_backend_call_reports_its_tokens_deadline_as_cancelled);
    tcase_add_test(tc, a_refused_connection_is_neither_timed_out_nor_cancelled);
    tcase_add_test(tc, a_backend_that_hangs_up_mid_line_gives_eof);
    tcase_add_test(tc, a_reply_longer_than_the_buffer_is_refused);
    tcase_add_test(tc, a_handler_dropped_mid_call_closes_its_connection_and_leaves_nothing);
    tcase_add_test(tc, bad_arguments_are_refused_without_calling_the_backend);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(handle_request_suite)
