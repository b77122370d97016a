//@ 06
/* Structured scopes: children, their watchers and the wait; the rules are in ax/scope.h. */
#include "ax/scope.h"
#include "ax/list.h"
#include "ax/task.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct ax_scope {
    struct ax_executor *executor;
    struct ax_cancel_token *token; /* the scope's own: a child of the parent's */
    struct ax_list watchers; /* struct watcher, by link: children not yet recorded */
    ax_result *results; /* by spawn order; AX_PENDING while the child runs */
    size_t count, capacity; /* children spawned, room in results */
    size_t running; /* children not yet recorded */
    ax_result error; /* 0 until closed; then the first error, or -ECANCELED */
    struct ax_waker waiter; /* the wait's task, woken when the last child is recorded */
    uint32_t refs; /* the creator's, one per watcher, one per wait */
    bool closed;
};

/* Joins one child and records its result in the scope. */
struct watcher {
    struct ax_future base;
    struct ax_scope *scope; /* a reference, held until drop */
    size_t index;
    struct ax_list link; /* in scope->watchers until recorded */
    struct ax_join join; /* holds the child's handle until it finishes */
};

static void unref(struct ax_scope *scope)
{
    if (--scope->refs > 0)
        return;
    ax_cancel_release(scope->token);
    free(scope->results);
    free(scope);
}

// snippet scope-close
/* Rule 2: once, for the first cause. Aborting a parked child drops it here and now,
 * which only queues its watcher, so the list is not changed under the loop. */
static void close_scope(struct ax_scope *scope, ax_result error)
{
    if (scope->closed)
        return;
    scope->closed = true;
    scope->error = error;
    ax_cancel(scope->token);
    struct ax_list *node;
    ax_list_for_each(node, &scope->watchers)
    {
        ax_task_abort(ax_container_of(node, struct watcher, link)->join.task);
    }
}

static void record(struct watcher *watcher, ax_result result)
{
    struct ax_scope *scope = watcher->scope;
    ax_list_remove(&watcher->link);
    scope->results[watcher->index] = result;
    scope->running--;
    if (result < 0)
        close_scope(scope, result); /* the first error closes; later ones change nothing */
    if (scope->running == 0)
        ax_waker_wake(&scope->waiter);
}
// end snippet

static ax_result watcher_poll(struct ax_future *self, struct ax_context *cx)
{
    struct watcher *watcher = (struct watcher *)self;
    ax_result result = ax_poll(&watcher->join.base, cx);
    if (result == AX_PENDING)
        return result;
    record(watcher, result);
    return 0;
}

static void watcher_drop(struct ax_future *self)
{
    struct watcher *watcher = (struct watcher *)self;
    ax_future_drop(&watcher->join.base); /* gives the handle back if the join is pending */
    if (ax_list_linked(&watcher->link)) /* dropped unfinished: by ax_executor_free */
        record(watcher, -ECANCELED);
    unref(watcher->scope);
}

static const struct ax_future_ops watcher_ops = {.poll = watcher_poll, .drop = watcher_drop};

int ax_scope_new(struct ax_scope **out, struct ax_executor *executor,
                 struct ax_cancel_token *parent)
{
    struct ax_scope *scope = calloc(1, sizeof *scope);
    if (scope == NULL)
        return -ENOMEM;
    int err =
        parent != NULL ? ax_cancel_child(parent, &scope->token) : ax_cancel_new(&scope->token);
    if (err < 0) {
        free(scope);
        return err;
    }
    scope->executor = executor;
    ax_list_init(&scope->watchers);
    scope->refs = 1;
    *out = scope;
    return 0;
}

void ax_scope_release(struct ax_scope *scope)
{
    if (scope->running > 0)
        close_scope(scope, -ECANCELED); /* dropped while children run: stop them */
    unref(scope);
}

struct ax_cancel_token *ax_scope_token(struct ax_scope *scope)
{
    return scope->token;
}

/* Rule 5: a refused future is started already aborted, so the executor drops it. */
static int refuse(struct ax_future *future, int err)
{
    struct ax_task *task = ax_task_spawn(future);
    ax_task_abort(task);
    ax_task_detach(task);
    return err;
}

static bool reserve_result(struct ax_scope *scope)
{
    if (scope->count < scope->capacity)
        return true;
    size_t capacity = scope->capacity > 0 ? 2 * scope->capacity : 8;
    ax_result *results = realloc(scope->results, capacity * sizeof *results);
    if (results == NULL)
        return false;
    scope->results = results;
    scope->capacity = capacity;
    return true;
}

// snippet scope-spawn
int ax_scope_spawn(struct ax_scope *scope, struct ax_future *future)
{
    if (scope->closed)
        return refuse(future, -ECANCELED);
    struct watcher *watcher =
        reserve_result(scope) ? ax_task_alloc(scope->executor, sizeof *watcher) : NULL;
    if (watcher == NULL)
        return refuse(future, -ENOMEM);
    *watcher = (struct watcher){.base = {&watcher_ops}, .scope = scope, .index = scope->count};
    scope->refs++;
    scope->results[scope->count++] = AX_PENDING;
    scope->running++;
    ax_list_push_back(&scope->watchers, &watcher->link);
    /* The watcher first: it parks on the join before its child runs, so it is woken
     * exactly when the child finishes, and watchers report in finishing order. */
    struct ax_task *watching = ax_task_spawn(&watcher->base);
    ax_join_init(&watcher->join, ax_task_spawn(future));
    ax_task_detach(watching);
    return 0;
}
// end snippet

void ax_scope_cancel(struct ax_scope *scope)
{
    close_scope(scope, -ECANCELED);
}

int ax_scope_cancel_at(struct ax_scope *scope, uint64_t deadline_ns)
{
    return ax_cancel_at(scope->token, scope->executor, deadline_ns);
}

size_t ax_scope_children(const struct ax_scope *scope)
{
    return scope->count;
}

ax_result ax_scope_result(const struct ax_scope *scope, size_t index)
{
    return index < scope->count ? scope->results[index] : -EINVAL;
}

/* ---- the wait ---------------------------------------------------------------------- */

// snippet scope-wait
static ax_result wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_scope_wait *wait = (struct ax_scope_wait *)self;
    struct ax_scope *scope = wait->scope;
    if (wait->finished)
        return -EINVAL; /* polled after it finished */
    if (scope->running == 0) {
        wait->finished = true;
        ax_waker_drop(&scope->waiter);
        return scope->error;
    }
    /* Its token cancelled from above or by its deadline: the scope stops the rest. */
    if (!scope->closed && ax_poll(&wait->cancelled.base, cx) != AX_PENDING)
        close_scope(scope, -ECANCELED);
    if (!ax_waker_wakes(&scope->waiter, cx)) {
        ax_waker_drop(&scope->waiter);
        scope->waiter = ax_waker_clone(cx);
    }
    return AX_PENDING;
}

static void wait_drop(struct ax_future *self)
{
    struct ax_scope_wait *wait = (struct ax_scope_wait *)self;
    struct ax_scope *scope = wait->scope;
    if (!wait->finished)
        close_scope(scope, -ECANCELED); /* the parent was cancelled: so are its children */
    ax_waker_drop(&scope->waiter);
    ax_future_drop(&wait->cancelled.base);
    unref(scope);
}
// end snippet

static const struct ax_future_ops wait_ops = {.poll = wait_poll, .drop = wait_drop};

void ax_scope_wait_init(struct ax_scope_wait *wait, struct ax_scope *scope)
{
    *wait = (struct ax_scope_wait){.base = {&wait_ops}, .scope = scope};
    scope->refs++;
    ax_cancel_wait_init(&wait->cancelled, scope->token);
}
