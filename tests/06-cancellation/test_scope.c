/* Structured scopes: a scope's wait ends only after its last child, the first error in
 * time wins and aborts the siblings once each, cancellation from outside, from a parent
 * token, from a deadline and from a dropped wait, and scopes nested three deep. Time is
 * virtual: nothing here sleeps. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/cancel.h"
#include "ax/scope.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>
#include <limits.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT };
static const uint64_t START = AXT_START; /* virtual time starts here */

/* A timer fires on the first wheel tick at or after its deadline. */
#define ck_assert_at(time, deadline)                                                               \
    ck_assert_msg((time) >= (deadline) && (time) - (deadline) < TICK,                              \
                  "%s at %llu ns, not within a tick of %llu", #time, (unsigned long long)(time),   \
                  (unsigned long long)(deadline))

static struct ax_scope *new_scope(struct ax_executor *executor, struct ax_cancel_token *parent)
{
    struct ax_scope *scope;
    ck_assert_int_eq(ax_scope_new(&scope, executor, parent), 0);
    return scope;
}

/* What the test sees of a child, kept outside its task. */
struct tally {
    int polls, drops, finished;
    uint64_t finished_at;
    int spawn_rc; /* of the spawn a child made into its own scope */
};

/* A child: optionally yields `yields` times, aborts a task or spawns into a scope at its
 * first poll, then waits on `inner` (a sleep or a token; none: done at once) and
 * returns `value`. */
struct kid {
    struct ax_future base;
    struct tally *tally;
    ax_result value;
    int yields;
    struct ax_task **abort_at_poll;
    struct ax_scope *spawn_into;
    struct ax_future *inner; /* NULL, or points into the union */
    union {
        struct ax_sleep sleep;
        struct ax_cancel_wait watch;
    };
};

static struct kid *new_kid(struct ax_executor *executor, struct tally *tally, ax_result value);

static ax_result kid_poll(struct ax_future *self, struct ax_context *cx)
{
    struct kid *kid = (struct kid *)self;
    kid->tally->polls++;
    if (kid->abort_at_poll != NULL) {
        ax_task_abort(*kid->abort_at_poll);
        kid->abort_at_poll = NULL;
    }
    if (kid->spawn_into != NULL) {
        struct kid *grandchild = new_kid(cx->executor, kid->tally + 1, 42);
        kid->tally->spawn_rc = ax_scope_spawn(kid->spawn_into, &grandchild->base);
        kid->spawn_into = NULL;
    }
    if (kid->yields > 0) {
        kid->yields--;
        struct ax_waker again = ax_waker_clone(cx);
        ax_wake(&again);
        return AX_PENDING;
    }
    if (kid->inner != NULL && ax_poll(kid->inner, cx) == AX_PENDING)
        return AX_PENDING;
    kid->tally->finished++;
    kid->tally->finished_at = ax_executor_now(cx->executor);
    return kid->value;
}

static void kid_drop(struct ax_future *self)
{
    struct kid *kid = (struct kid *)self;
    kid->tally->drops++;
    if (kid->inner != NULL)
        ax_future_drop(kid->inner);
}

static const struct ax_future_ops kid_ops = {.poll = kid_poll, .drop = kid_drop};

static struct kid *new_kid(struct ax_executor *executor, struct tally *tally, ax_result value)
{
    struct kid *kid = ax_task_alloc(executor, sizeof *kid);
    ck_assert_ptr_nonnull(kid);
    *kid = (struct kid){.base = {&kid_ops}, .tally = tally, .value = value};
    return kid;
}

/* Children that finish with value at a virtual time, or when a token is cancelled. */
static void spawn_at(struct ax_scope *scope, struct ax_executor *executor, struct tally *tally,
                     ax_result value, uint64_t at_ns)
{
    struct kid *kid = new_kid(executor, tally, value);
    ax_sleep_until_init(&kid->sleep, at_ns);
    kid->inner = &kid->sleep.base;
    ck_assert_int_eq(ax_scope_spawn(scope, &kid->base), 0);
}

static void spawn_watching(struct ax_scope *scope, struct ax_executor *executor,
                           struct tally *tally, ax_result value, struct ax_cancel_token *token)
{
    struct kid *kid = new_kid(executor, tally, value);
    ax_cancel_wait_init(&kid->watch, token);
    kid->inner = &kid->watch.base;
    ck_assert_int_eq(ax_scope_spawn(scope, &kid->base), 0);
}

/* The parent's side: a task that waits on the scope and notes, outside the task (whose
 * memory goes with it), whether and when the wait finished. */
struct outcome {
    bool done;
    uint64_t done_at;
};

struct holder {
    struct ax_future base;
    struct ax_scope_wait wait;
    struct outcome *outcome;
};

static ax_result holder_poll(struct ax_future *self, struct ax_context *cx)
{
    struct holder *h = (struct holder *)self;
    ax_result rc = ax_poll(&h->wait.base, cx);
    if (rc != AX_PENDING) {
        h->outcome->done = true;
        h->outcome->done_at = ax_executor_now(cx->executor);
    }
    return rc;
}

static void holder_drop(struct ax_future *self)
{
    ax_future_drop(&((struct holder *)self)->wait.base);
}

static const struct ax_future_ops holder_ops = {.poll = holder_poll, .drop = holder_drop};

static struct ax_task *spawn_holder(struct ax_executor *executor, struct ax_scope *scope,
                                    struct outcome *outcome)
{
    struct holder *h = ax_task_alloc(executor, sizeof *h);
    ck_assert_ptr_nonnull(h);
    *h = (struct holder){.base = {&holder_ops}, .outcome = outcome};
    ax_scope_wait_init(&h->wait, scope);
    return ax_task_spawn(&h->base);
}

/* Frees the scope and the executor once nothing is left running. */
static void finish(struct ax_executor *executor, struct ax_scope *scope)
{
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_scope_release(scope);
    ax_executor_free(executor);
}

START_TEST(every_child_succeeding_makes_the_wait_return_zero_with_each_result)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[5] = {0};
    for (int i = 0; i < 5; i++) /* the last spawned finishes first */
        spawn_at(scope, executor, &tally[i], 10 + i, START + (uint64_t)(5 - i) * MS);
    struct outcome h = {0};
    ck_assert_int_eq(ax_block_on(executor, spawn_holder(executor, scope, &h)), 0);
    ck_assert_at(h.done_at, START + 5 * MS);
    ck_assert_uint_eq(ax_scope_children(scope), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(ax_scope_result(scope, i), 10 + (ax_result)i);
    ck_assert_int_eq(ax_scope_result(scope, 5), -EINVAL);
    ck_assert(!ax_cancelled(ax_scope_token(scope)));
    finish(executor, scope);
}
END_TEST

START_TEST(a_failing_child_aborts_each_sibling_once_and_its_error_is_the_result)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[4] = {0};
    spawn_at(scope, executor, &tally[0], 7, START); /* done before the failure */
    spawn_at(scope, executor, &tally[1], -EIO, START + 1 * MS);
    spawn_at(scope, executor, &tally[2], -EPIPE, START + 2 * MS); /* would fail later */
    spawn_at(scope, executor, &tally[3], 0, START + 10 * S);
    struct outcome h = {0};
    ck_assert_int_eq(ax_block_on(executor, spawn_holder(executor, scope, &h)), -EIO);
    ck_assert_at(h.done_at, START + 1 * MS); /* the ten-second sleeper did not hold it */
    ck_assert(ax_cancelled(ax_scope_token(scope)));
    ck_assert_int_eq(ax_scope_result(scope, 0), 7);
    ck_assert_int_eq(ax_scope_result(scope, 1), -EIO);
    ck_assert_int_eq(ax_scope_result(scope, 2), -ECANCELED);
    ck_assert_int_eq(ax_scope_result(scope, 3), -ECANCELED);
    for (int i = 2; i < 4; i++) {
        ck_assert_msg(tally[i].polls == 1 && tally[i].drops == 1 && tally[i].finished == 0,
                      "sibling %d: %d polls, %d drops, %d finished", i, tally[i].polls,
                      tally[i].drops, tally[i].finished);
    }
    finish(executor, scope);
}
END_TEST

START_TEST(the_first_error_is_the_first_in_time_not_in_spawn_order)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[2] = {0};
    /* Both timers fire in one tick, in deadline order: the kid spawned first fails
     * second, and both fail before either failure is recorded. */
    spawn_at(scope, executor, &tally[0], -EPIPE, START + 1 * MS + 1);
    spawn_at(scope, executor, &tally[1], -EIO, START + 1 * MS);
    struct outcome h = {0};
    ck_assert_int_eq(ax_block_on(executor, spawn_holder(executor, scope, &h)), -EIO);
    ck_assert_int_eq(tally[0].finished + tally[1].finished, 2); /* both really failed */
    ck_assert_int_eq(ax_scope_result(scope, 0), -EPIPE);
    finish(executor, scope);
}
END_TEST

START_TEST(the_wait_stays_pending_while_a_child_still_sleeps)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[2] = {0};
    spawn_at(scope, executor, &tally[0], 1, START);
    spawn_at(scope, executor, &tally[1], 2, START + 5 * S);
    struct outcome h = {0};
    struct ax_task *task = spawn_holder(executor, scope, &h);
    axt_run_turn(executor);
    axt_run_turn(executor);
    ck_assert(!h.done);
    ck_assert_int_eq(ax_scope_result(scope, 0), 1);
    ck_assert_int_eq(ax_scope_result(scope, 1), AX_PENDING);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_at(h.done_at, START + 5 * S);
    ck_assert_at(tally[1].finished_at, START + 5 * S);
    finish(executor, scope);
}
END_TEST

START_TEST(cancelling_from_outside_aborts_the_children_and_the_wait_waits_for_each)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[3] = {0};
    spawn_at(scope, executor, &tally[0], 0, START + 10 * S);
    spawn_at(scope, executor, &tally[1], 0, START + 20 * S);
    struct kid *busy = new_kid(executor, &tally[2], 0);
    busy->yields = INT_MAX; /* always queued: dropped at its turn */
    ck_assert_int_eq(ax_scope_spawn(scope, &busy->base), 0);
    struct outcome h = {0};
    struct ax_task *task = spawn_holder(executor, scope, &h);
    axt_run_turn(executor);
    ax_scope_cancel(scope);
    ck_assert(ax_cancelled(ax_scope_token(scope)));
    ck_assert_int_eq(tally[0].drops + tally[1].drops, 2); /* parked: dropped at once */
    ck_assert_int_eq(tally[2].drops, 0); /* queued: not yet */
    ax_scope_cancel(scope); /* twice: nothing more */
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED);
    ck_assert_at(h.done_at, START);
    ck_assert_int_eq(tally[2].drops, 1);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(ax_scope_result(scope, i), -ECANCELED);
    finish(executor, scope);
}
END_TEST

START_TEST(a_real_error_before_the_cancel_stays_the_result)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[2] = {0};
    spawn_at(scope, executor, &tally[0], -EIO, START);
    struct outcome h = {0};
    struct ax_task *task = spawn_holder(executor, scope, &h);
    axt_run_turn(executor);
    ax_scope_cancel(scope);
    ck_assert_int_eq(ax_block_on(executor, task), -EIO);
    finish(executor, scope);
}
END_TEST

START_TEST(cancelling_the_parent_token_reaches_the_children_through_the_scope_token)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root;
    ck_assert_int_eq(ax_cancel_new(&root), 0);
    struct ax_scope *scope = new_scope(executor, root);
    struct tally tally[2] = {0};
    for (int i = 0; i < 2; i++) /* each stops cleanly, with 0, when the token says so */
        spawn_watching(scope, executor, &tally[i], 0, ax_scope_token(scope));
    struct outcome h = {0};
    struct ax_task *task = spawn_holder(executor, scope, &h);
    axt_run_turn(executor);
    ck_assert(!ax_cancelled(ax_scope_token(scope)));
    ax_cancel(root);
    ck_assert(ax_cancelled(ax_scope_token(scope)));
    ck_assert_int_eq(ax_block_on(executor, task), -ECANCELED); /* the scope was cancelled */
    ck_assert_int_eq(tally[0].finished + tally[1].finished, 2); /* both saw it themselves */
    ck_assert_int_eq(ax_scope_result(scope, 0), 0);
    ck_assert_int_eq(ax_scope_result(scope, 1), 0);
    ax_cancel_release(root);
    finish(executor, scope);
}
END_TEST

START_TEST(a_cancelled_scope_token_never_reaches_the_parent_token)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root;
    ck_assert_int_eq(ax_cancel_new(&root), 0);
    struct ax_scope *scope = new_scope(executor, root);
    ax_scope_cancel(scope);
    ck_assert(ax_cancelled(ax_scope_token(scope)));
    ck_assert(!ax_cancelled(root));
    ax_scope_release(scope);
    ax_cancel_release(root);
    ax_executor_free(executor);
}
END_TEST

START_TEST(dropping_the_wait_midway_aborts_every_child_and_leaves_nothing)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[3] = {0};
    spawn_at(scope, executor, &tally[0], 0, START + 10 * S);
    spawn_watching(scope, executor, &tally[1], 0, ax_scope_token(scope));
    struct kid *busy = new_kid(executor, &tally[2], 0);
    busy->yields = INT_MAX;
    ck_assert_int_eq(ax_scope_spawn(scope, &busy->base), 0);
    struct outcome h = {0};
    struct ax_task *parent = spawn_holder(executor, scope, &h);
    axt_run_turn(executor);
    ax_task_abort(parent); /* parked: its future, and so the wait, dropped now */
    ck_assert_int_eq(tally[0].drops, 1);
    ck_assert_int_eq(tally[2].drops, 0); /* queued: dropped at its turn, unpolled */
    ck_assert_int_eq(ax_block_on(executor, parent), -ECANCELED);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_msg(tally[0].drops == 1 && tally[1].drops == 1 && tally[2].drops == 1,
                  "drops: %d %d %d", tally[0].drops, tally[1].drops, tally[2].drops);
    ck_assert_int_eq(tally[0].finished + tally[1].finished + tally[2].finished, 0);
    finish(executor, scope);
}
END_TEST

START_TEST(a_child_polled_when_the_wait_is_dropped_goes_as_its_poll_returns)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[2] = {0};
    struct ax_task *parent = NULL;
    spawn_at(scope, executor, &tally[0], 0, START + 10 * S);
    struct kid *rebel = new_kid(executor, &tally[1], 0); /* always queued again */
    rebel->yields = INT_MAX;
    struct outcome h = {0};
    parent = spawn_holder(executor, scope, &h);
    ck_assert_int_eq(ax_scope_spawn(scope, &rebel->base), 0);
    axt_run_turn(executor); /* everyone parked but the rebel, queued again */
    rebel->abort_at_poll = &parent; /* at its next poll, which then returns pending */
    int polls = tally[1].polls;
    ck_assert_int_eq(ax_block_on(executor, parent), -ECANCELED);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(tally[1].polls, polls + 1);
    ck_assert_int_eq(tally[1].drops, 1);
    ck_assert_int_eq(tally[1].finished, 0);
    ck_assert_int_eq(tally[0].drops, 1);
    ck_assert_int_eq(ax_scope_result(scope, 1), -ECANCELED);
    finish(executor, scope);
}
END_TEST

START_TEST(a_deadline_on_the_scope_stops_its_children_when_it_fires)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    ck_assert_int_eq(ax_scope_cancel_at(scope, START + 1 * S), 0);
    struct tally tally[3] = {0};
    spawn_at(scope, executor, &tally[0], 5, START + 500 * MS);
    spawn_watching(scope, executor, &tally[1], 0, ax_scope_token(scope));
    spawn_at(scope, executor, &tally[2], 0, START + 10 * S); /* deaf to the token */
    struct outcome h = {0};
    ck_assert_int_eq(ax_block_on(executor, spawn_holder(executor, scope, &h)), -ECANCELED);
    ck_assert_at(h.done_at, START + 1 * S);
    ck_assert_at(tally[1].finished_at, START + 1 * S); /* it stopped itself */
    ck_assert_int_eq(ax_scope_result(scope, 0), 5);
    ck_assert_int_eq(ax_scope_result(scope, 1), 0);
    ck_assert_int_eq(ax_scope_result(scope, 2), -ECANCELED); /* the scope stopped it */
    ck_assert_int_eq(tally[2].drops, 1);
    finish(executor, scope);
}
END_TEST

START_TEST(spawning_into_a_closed_scope_refuses_and_the_executor_drops_the_future)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    ax_scope_cancel(scope);
    struct tally tally = {0};
    struct kid *kid = new_kid(executor, &tally, 0);
    ck_assert_int_eq(ax_scope_spawn(scope, &kid->base), -ECANCELED);
    ck_assert_uint_eq(ax_scope_children(scope), 0);
    ck_assert_int_eq(tally.drops, 0); /* the executor's, at its next turn */
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(tally.drops, 1);
    ck_assert_int_eq(tally.polls, 0);
    finish(executor, scope);
}
END_TEST

START_TEST(a_thousand_children_each_report_their_result)
{
    enum { N = 1000 };
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    static struct tally tally[N];
    for (int i = 0; i < N; i++)
        spawn_at(scope, executor, &tally[i], i, START + (uint64_t)(i % 7) * MS);
    struct outcome h = {0};
    ck_assert_int_eq(ax_block_on(executor, spawn_holder(executor, scope, &h)), 0);
    size_t wrong = N;
    for (size_t i = N; i-- > 0;)
        if (ax_scope_result(scope, i) != (ax_result)i || tally[i].drops != 1)
            wrong = i;
    ck_assert_msg(wrong == N, "child %zu: result %lld, %d drops", wrong,
                  (long long)ax_scope_result(scope, wrong), tally[wrong].drops);
    ck_assert_at(h.done_at, START + 6 * MS);
    finish(executor, scope);
}
END_TEST

START_TEST(a_child_can_spawn_into_its_own_scope)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[2] = {0}; /* the child's, then its sibling's */
    struct kid *kid = new_kid(executor, &tally[0], 1);
    kid->spawn_into = scope;
    ck_assert_int_eq(ax_scope_spawn(scope, &kid->base), 0);
    struct outcome h = {0};
    ck_assert_int_eq(ax_block_on(executor, spawn_holder(executor, scope, &h)), 0);
    ck_assert_int_eq(tally[0].spawn_rc, 0);
    ck_assert_uint_eq(ax_scope_children(scope), 2);
    ck_assert_int_eq(ax_scope_result(scope, 0), 1);
    ck_assert_int_eq(ax_scope_result(scope, 1), 42);
    finish(executor, scope);
}
END_TEST

START_TEST(releasing_a_scope_while_children_run_aborts_them)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    struct tally tally[2] = {0};
    spawn_at(scope, executor, &tally[0], 0, START + 10 * S);
    spawn_at(scope, executor, &tally[1], 0, START + 20 * S);
    axt_run_turn(executor);
    ax_scope_release(scope); /* no wait: as tokio's JoinSet, dropping it stops the work */
    ck_assert_int_eq(tally[0].drops + tally[1].drops, 2);
    ck_assert_int_eq(ax_executor_run(executor), 0); /* the watchers record, then let go */
    ck_assert_uint_eq(ax_executor_tasks(executor), 0);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_executor_free(executor);
}
END_TEST

/* A child that runs a scope of its own under its parent scope's token: at depth 0 its
 * children are the leaves (one sleeping, one watching its token), otherwise another
 * layer. */
struct layer {
    struct ax_future base;
    struct ax_cancel_token *parent; /* the enclosing scope's token */
    int depth;
    struct tally *leaves;
    struct ax_scope *scope; /* NULL until the first poll */
    struct ax_scope_wait wait;
};

static struct layer *new_layer(struct ax_executor *executor, struct ax_cancel_token *parent,
                               int depth, struct tally *leaves);

static ax_result layer_poll(struct ax_future *self, struct ax_context *cx)
{
    struct layer *layer = (struct layer *)self;
    if (layer->scope == NULL) {
        int err = ax_scope_new(&layer->scope, cx->executor, layer->parent);
        if (err < 0)
            return err;
        struct ax_cancel_token *token = ax_scope_token(layer->scope);
        if (layer->depth > 0) {
            struct layer *inner = new_layer(cx->executor, token, layer->depth - 1, layer->leaves);
            ck_assert_int_eq(ax_scope_spawn(layer->scope, &inner->base), 0);
        } else {
            spawn_at(layer->scope, cx->executor, &layer->leaves[0], 0, START + 10 * S);
            spawn_watching(layer->scope, cx->executor, &layer->leaves[1], 0, token);
        }
        ax_scope_wait_init(&layer->wait, layer->scope);
    }
    return ax_poll(&layer->wait.base, cx);
}

static void layer_drop(struct ax_future *self)
{
    struct layer *layer = (struct layer *)self;
    if (layer->scope == NULL)
        return;
    ax_future_drop(&layer->wait.base);
    ax_scope_release(layer->scope);
}

static const struct ax_future_ops layer_ops = {.poll = layer_poll, .drop = layer_drop};

static struct layer *new_layer(struct ax_executor *executor, struct ax_cancel_token *parent,
                               int depth, struct tally *leaves)
{
    struct layer *layer = ax_task_alloc(executor, sizeof *layer);
    ck_assert_ptr_nonnull(layer);
    *layer =
        (struct layer){.base = {&layer_ops}, .parent = parent, .depth = depth, .leaves = leaves};
    return layer;
}

/* Cancels a scope at a virtual time: the "parent decided to stop" from outside. */
struct canceller {
    struct ax_future base;
    struct ax_sleep sleep;
    struct ax_scope *scope;
};

static ax_result canceller_poll(struct ax_future *self, struct ax_context *cx)
{
    struct canceller *c = (struct canceller *)self;
    if (ax_poll(&c->sleep.base, cx) == AX_PENDING)
        return AX_PENDING;
    ax_scope_cancel(c->scope);
    return 0;
}

static void canceller_drop(struct ax_future *self)
{
    ax_future_drop(&((struct canceller *)self)->sleep.base);
}

static const struct ax_future_ops canceller_ops = {.poll = canceller_poll, .drop = canceller_drop};

START_TEST(cancelling_the_outer_of_three_nested_scopes_stops_the_innermost_tasks)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *outer = new_scope(executor, NULL);
    struct tally leaves[2] = {0};
    struct layer *middle = new_layer(executor, ax_scope_token(outer), 1, leaves);
    ck_assert_int_eq(ax_scope_spawn(outer, &middle->base), 0);
    struct canceller *c = ax_task_alloc(executor, sizeof *c);
    *c = (struct canceller){.base = {&canceller_ops}, .scope = outer};
    ax_sleep_until_init(&c->sleep, START + 1 * S);
    ax_task_detach(ax_task_spawn(&c->base));
    struct outcome h = {0};
    ck_assert_int_eq(ax_block_on(executor, spawn_holder(executor, outer, &h)), -ECANCELED);
    ck_assert_at(h.done_at, START + 1 * S);
    ck_assert_msg(leaves[0].polls == 1 && leaves[1].polls == 1, "leaves polled %d, %d times",
                  leaves[0].polls, leaves[1].polls);
    ck_assert_int_eq(leaves[0].drops + leaves[1].drops, 2);
    ck_assert_int_eq(leaves[0].finished, 0); /* the sleeper never got to its 10 s */
    ck_assert_int_eq(ax_scope_result(outer, 0), -ECANCELED);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    finish(executor, outer);
}
END_TEST

START_TEST(freeing_the_executor_midway_drops_every_nested_scope_and_child)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *outer = new_scope(executor, NULL);
    struct tally leaves[2] = {0};
    ck_assert_int_eq(
        ax_scope_spawn(outer, &new_layer(executor, ax_scope_token(outer), 1, leaves)->base), 0);
    struct outcome h = {0};
    ax_task_detach(spawn_holder(executor, outer, &h));
    for (int i = 0; i < 4; i++) /* down to the leaves, all parked */
        axt_run_turn(executor);
    ck_assert_int_eq(leaves[0].polls + leaves[1].polls, 2);
    ax_executor_free(executor); /* valgrind and ASan check that nothing is left or reused */
    ck_assert_int_eq(leaves[0].drops + leaves[1].drops, 2);
    ck_assert(!h.done);
    ax_scope_release(outer); /* its children are gone: only its memory goes now */
}
END_TEST

START_TEST(a_scope_with_a_deadline_may_be_released_after_its_executor_is_freed)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_scope *scope = new_scope(executor, NULL);
    ck_assert_int_eq(ax_scope_cancel_at(scope, START + 60 * S), 0);
    struct tally leaves[2] = {0};
    ck_assert_int_eq(
        ax_scope_spawn(scope, &new_layer(executor, ax_scope_token(scope), 1, leaves)->base), 0);
    axt_run_turn(executor);
    ax_executor_free(executor); /* drops the children and disarms the deadline */
    ck_assert_int_eq(ax_scope_result(scope, 0), -ECANCELED);
    ax_scope_release(scope);
}
END_TEST

static Suite *scope_suite(void)
{
    Suite *s = suite_create("06-scope");
    TCase *tc = axt_tcase("scope");
    tcase_add_test(tc, every_child_succeeding_makes_the_wait_return_zero_with_each_result);
    tcase_add_test(tc, a_failing_child_aborts_each_sibling_once_and_its_error_is_the_result);
    tcase_add_test(tc, the_first_error_is_the_first_in_time_not_in_spawn_order);
    tcase_add_test(tc, the_wait_stays_pending_while_a_child_still_sleeps);
    tcase_add_test(tc, cancelling_from_outside_aborts_the_children_and_the_wait_waits_for_each);
    tcase_add_test(tc, a_real_error_before_the_cancel_stays_the_result);
    tcase_add_test(tc, cancelling_the_parent_token_reaches_the_children_through_the_scope_token);
    tcase_add_test(tc, a_cancelled_scope_token_never_reaches_the_parent_token);
    tcase_add_test(tc, dropping_the_wait_midway_aborts_every_child_and_leaves_nothing);
    tcase_add_test(tc, a_child_polled_when_the_wait_is_dropped_goes_as_its_poll_returns);
    tcase_add_test(tc, a_deadline_on_the_scope_stops_its_children_when_it_fires);
    tcase_add_test(tc, spawning_into_a_closed_scope_refuses_and_the_executor_drops_the_future);
    tcase_add_test(tc, a_thousand_children_each_report_their_result);
    tcase_add_test(tc, a_child_can_spawn_into_its_own_scope);
    tcase_add_test(tc, releasing_a_scope_while_children_run_aborts_them);
    tcase_add_test(tc, cancelling_the_outer_of_three_nested_scopes_stops_the_innermost_tasks);
    tcase_add_test(tc, freeing_the_executor_midway_drops_every_nested_scope_and_child);
    tcase_add_test(tc, a_scope_with_a_deadline_may_be_released_after_its_executor_is_freed);
    suite_add_tcase(s, tc);
    return s;
}

AXT_MAIN(scope_suite)
