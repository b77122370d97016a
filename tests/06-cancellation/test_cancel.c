/* Cancellation tokens: the tree, the ordering rules of ax/cancel.h, waiting, guards and
 * deadlines. Time is virtual (paused) wherever it matters; nothing here sleeps. */
#include "axtest.h"
#include "virtual_time.h"
#include "ax/cancel.h"
#include "ax/combine.h"
#include "ax/task.h"
#include "ax/timer.h"

#include <errno.h>

#define MS (1000ull * 1000)
#define S  (1000 * MS)
enum { TICK = 1 << AX_WHEEL_TICK_SHIFT };
static const uint64_t START = AXT_START; /* virtual time starts here */

static struct ax_cancel_token *new_root(void)
{
    struct ax_cancel_token *token;
    ck_assert_int_eq(ax_cancel_new(&token), 0);
    return token;
}

static struct ax_cancel_token *new_child(struct ax_cancel_token *parent)
{
    struct ax_cancel_token *token;
    ck_assert_int_eq(ax_cancel_child(parent, &token), 0);
    return token;
}

static size_t list_length(const struct ax_list *head)
{
    size_t n = 0;
    for (const struct ax_list *node = head->next; node != head; node = node->next)
        n++;
    return n;
}

/* Waits on a token, then logs its id and the time it woke at. */
struct waiter {
    struct ax_future base;
    struct ax_cancel_wait wait;
    int id;
    int *log, *count;
    uint64_t *woke_at;
};

static ax_result waiter_poll(struct ax_future *self, struct ax_context *cx)
{
    struct waiter *w = (struct waiter *)self;
    ax_result rc = ax_poll(&w->wait.base, cx);
    if (rc == AX_PENDING)
        return rc;
    if (w->log != NULL)
        w->log[*w->count] = w->id;
    if (w->count != NULL)
        ++*w->count;
    if (w->woke_at != NULL)
        *w->woke_at = ax_executor_now(cx->executor);
    return rc;
}

static void waiter_drop(struct ax_future *self)
{
    ax_future_drop(&((struct waiter *)self)->wait.base);
}

static const struct ax_future_ops waiter_ops = {.poll = waiter_poll, .drop = waiter_drop};

static struct ax_task *spawn_waiter(struct ax_executor *executor, struct ax_cancel_token *token,
                                    int id, int *log, int *count, uint64_t *woke_at)
{
    struct waiter *w = ax_task_alloc(executor, sizeof *w);
    ck_assert_ptr_nonnull(w);
    *w = (struct waiter){
        .base = {&waiter_ops}, .id = id, .log = log, .count = count, .woke_at = woke_at};
    ax_cancel_wait_init(&w->wait, token);
    return ax_task_spawn(&w->base);
}

/* ---- the tree --------------------------------------------------------------------- */

START_TEST(cancelling_a_token_cancels_its_whole_subtree)
{
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *a = new_child(root), *b = new_child(root);
    struct ax_cancel_token *a1 = new_child(a), *a2 = new_child(a), *a1x = new_child(a1);
    struct ax_cancel_token *tree[] = {root, a, b, a1, a2, a1x};
    ax_cancel(root);
    int cancelled = 0;
    for (int i = 0; i < 6; i++)
        cancelled += ax_cancelled(tree[i]);
    ck_assert_int_eq(cancelled, 6);
    for (int i = 5; i >= 0; i--)
        ax_cancel_release(tree[i]);
}
END_TEST

START_TEST(cancelling_a_child_reaches_neither_its_parent_nor_its_siblings)
{
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *a = new_child(root), *b = new_child(root), *a1 = new_child(a);
    ax_cancel(a);
    ck_assert(ax_cancelled(a) && ax_cancelled(a1));
    ck_assert(!ax_cancelled(root));
    ck_assert(!ax_cancelled(b));
    ax_cancel_release(a1);
    ax_cancel_release(a);
    ax_cancel_release(b);
    ax_cancel_release(root);
}
END_TEST

START_TEST(a_child_of_a_cancelled_token_is_born_cancelled)
{
    struct ax_cancel_token *root = new_root();
    ax_cancel(root);
    struct ax_cancel_token *child = new_child(root);
    struct ax_cancel_token *grandchild = new_child(child);
    ck_assert(ax_cancelled(child));
    ck_assert(ax_cancelled(grandchild));
    ax_cancel_release(grandchild);
    ax_cancel_release(child);
    ax_cancel_release(root);
}
END_TEST

START_TEST(a_released_child_leaves_its_parents_list)
{
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *a = new_child(root), *b = new_child(root);
    ck_assert_uint_eq(list_length(&root->children), 2);
    ax_cancel_release(a);
    ck_assert_uint_eq(list_length(&root->children), 1);
    ck_assert_uint_eq(root->refs, 2); /* its creator's and b's */
    ax_cancel(root); /* reaches b only: a is gone */
    ck_assert(ax_cancelled(b));
    ax_cancel_release(b);
    ck_assert_uint_eq(root->refs, 1);
    ax_cancel_release(root);
}
END_TEST

/* ---- release orders (run under ASan and valgrind: no use after free, no leak) ------ */

START_TEST(releasing_a_parent_before_its_child_keeps_the_parent_until_the_child_goes)
{
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *child = new_child(root);
    struct ax_cancel_token *grandchild = new_child(child);
    ax_cancel_release(root); /* kept alive by child */
    ax_cancel_release(child); /* kept alive by grandchild */
    ck_assert(!ax_cancelled(grandchild));
    ck_assert_ptr_eq(grandchild->parent->parent, root);
    ax_cancel_release(grandchild); /* frees all three */
}
END_TEST

START_TEST(releasing_a_child_before_its_parent_frees_the_child_at_once)
{
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *child = new_child(root);
    struct ax_cancel_token *grandchild = new_child(child);
    ax_cancel_release(grandchild);
    ax_cancel_release(child);
    ck_assert(ax_list_empty(&root->children));
    ax_cancel(root);
    ax_cancel_release(root);
}
END_TEST

START_TEST(a_wait_keeps_a_released_chain_alive_until_it_is_dropped)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *mid = new_child(root);
    struct ax_cancel_token *leaf = new_child(mid);
    struct ax_task *task = spawn_waiter(executor, leaf, 0, NULL, NULL, NULL);
    ax_cancel_release(leaf);
    ax_cancel_release(mid);
    ax_cancel_release(root); /* only the wait holds the chain now */
    axt_run_turn(executor);
    ax_task_detach(task);
    ax_executor_free(executor); /* drops the pending wait: the chain goes with it */
}
END_TEST

START_TEST(a_chain_a_hundred_thousand_deep_is_cancelled_and_freed_without_recursion)
{
    enum { DEPTH = 100000 };
    struct ax_cancel_token *root = new_root(), *leaf = root;
    for (int i = 0; i < DEPTH; i++) {
        struct ax_cancel_token *child = new_child(leaf);
        if (leaf != root)
            ax_cancel_release(leaf); /* the child keeps it */
        leaf = child;
    }
    ax_cancel(root);
    ck_assert(ax_cancelled(leaf));
    ax_cancel_release(leaf); /* frees the whole chain but the root */
    ck_assert(ax_list_empty(&root->children));
    ax_cancel_release(root);
}
END_TEST

START_TEST(ten_thousand_children_and_their_waiting_tasks_are_cancelled_in_one_call)
{
    enum { N = 10000 };
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root = new_root();
    static struct ax_cancel_token *children[N];
    int woken = 0;
    for (int i = 0; i < N; i++) {
        children[i] = new_child(root);
        ax_task_detach(spawn_waiter(executor, children[i], i, NULL, &woken, NULL));
    }
    axt_run_turn(executor); /* every waiter is registered */
    ax_cancel(root);
    int cancelled = 0;
    for (int i = 0; i < N; i++)
        cancelled += ax_cancelled(children[i]);
    ck_assert_int_eq(cancelled, N);
    ck_assert_int_eq(woken, 0); /* queued, not run */
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(woken, N);
    for (int i = 0; i < N; i++)
        ax_cancel_release(children[i]);
    ax_cancel_release(root);
    ax_executor_free(executor);
}
END_TEST

/* ---- the ordering rules ----------------------------------------------------------- */

START_TEST(cancel_wakes_parents_before_children_and_each_tokens_waiters_in_order)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *a = new_child(root), *b = new_child(root), *a1 = new_child(a);
    int log[5], count = 0;
    /* Registered in this order: a1, b, root, a, root. */
    struct ax_cancel_token *on[] = {a1, b, root, a, root};
    for (int i = 0; i < 5; i++)
        ax_task_detach(spawn_waiter(executor, on[i], i, log, &count, NULL));
    axt_run_turn(executor);
    ax_cancel(root);
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 5);
    /* Pre-order: root (2, then 4), a (3), a1 (0), b (1). */
    static const int order[] = {2, 4, 3, 0, 1};
    ck_assert_mem_eq(log, order, sizeof order);
    ax_cancel_release(a1);
    ax_cancel_release(b);
    ax_cancel_release(a);
    ax_cancel_release(root);
    ax_executor_free(executor);
}
END_TEST

START_TEST(cancelling_twice_wakes_a_waiter_once)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    int count = 0;
    ax_task_detach(spawn_waiter(executor, token, 0, NULL, &count, NULL));
    axt_run_turn(executor);
    ax_cancel(token);
    ax_cancel(token);
    ck_assert(ax_cancelled(token));
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(count, 1);
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

/* Waits on a token and, in the same poll that registered the wait, cancels it. */
struct self_cancel {
    struct ax_future base;
    struct ax_cancel_wait wait;
    struct ax_cancel_token *token;
    int *polls;
};

static ax_result self_cancel_poll(struct ax_future *self, struct ax_context *cx)
{
    struct self_cancel *s = (struct self_cancel *)self;
    ++*s->polls;
    ax_result rc = ax_poll(&s->wait.base, cx);
    if (rc == AX_PENDING)
        ax_cancel(s->token); /* wakes this very task: it is polled again, later */
    return rc;
}

static void self_cancel_drop(struct ax_future *self)
{
    ax_future_drop(&((struct self_cancel *)self)->wait.base);
}

static const struct ax_future_ops self_cancel_ops = {.poll = self_cancel_poll,
                                                     .drop = self_cancel_drop};

START_TEST(a_task_may_cancel_the_token_it_waits_on_from_inside_its_poll)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    int other = 0, polls = 0;
    ax_task_detach(spawn_waiter(executor, token, 0, NULL, &other, NULL));
    struct self_cancel *s = ax_task_alloc(executor, sizeof *s);
    *s = (struct self_cancel){.base = {&self_cancel_ops}, .token = token, .polls = &polls};
    ax_cancel_wait_init(&s->wait, token);
    struct ax_task *task = ax_task_spawn(&s->base);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_int_eq(polls, 2); /* not re-entered by its own cancel */
    ck_assert_int_eq(ax_executor_run(executor), 0);
    ck_assert_int_eq(other, 1); /* the other waiter was woken too */
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

/* ---- waiting ---------------------------------------------------------------------- */

START_TEST(a_wait_finishes_once_its_token_is_cancelled_and_not_before)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    int count = 0;
    struct ax_task *task = spawn_waiter(executor, token, 0, NULL, &count, NULL);
    axt_run_turn(executor);
    axt_run_turn(executor);
    ck_assert_int_eq(count, 0);
    ck_assert_uint_eq(list_length(&token->waiters), 1);
    ax_cancel(token);
    ck_assert_int_eq(count, 0); /* woken means queued: it has not run yet */
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_int_eq(count, 1);
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_finishes_when_an_ancestor_is_cancelled)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *mid = new_child(root), *leaf = new_child(mid);
    struct ax_task *task = spawn_waiter(executor, leaf, 0, NULL, NULL, NULL);
    ax_cancel_release(leaf); /* the wait's reference keeps it, and it keeps mid */
    ax_cancel_release(mid);
    axt_run_turn(executor);
    ax_cancel(root);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert(ax_list_empty(&root->children)); /* the wait let go of the chain */
    ax_cancel_release(root);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_on_a_cancelled_token_finishes_at_its_first_poll)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ax_cancel(token);
    int count = 0;
    struct ax_task *task = spawn_waiter(executor, token, 0, NULL, &count, NULL);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_int_eq(count, 1);
    ck_assert_uint_eq(token->refs, 1);
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

/* Polls its wait several times in each of several polls of its task. */
struct repoll {
    struct ax_future base;
    struct ax_cancel_wait wait;
    int polls;
};

static ax_result repoll_poll(struct ax_future *self, struct ax_context *cx)
{
    struct repoll *r = (struct repoll *)self;
    ax_result rc = AX_PENDING;
    for (int i = 0; i < 3 && rc == AX_PENDING; i++)
        rc = ax_poll(&r->wait.base, cx);
    if (rc == AX_PENDING && ++r->polls < 3) {
        struct ax_waker again = ax_waker_clone(cx);
        ax_wake(&again); /* poll me again at once */
    }
    return rc;
}

static void repoll_drop(struct ax_future *self)
{
    ax_future_drop(&((struct repoll *)self)->wait.base);
}

static const struct ax_future_ops repoll_ops = {.poll = repoll_poll, .drop = repoll_drop};

START_TEST(a_wait_polled_again_and_again_is_registered_once)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    struct repoll *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct repoll){.base = {&repoll_ops}};
    ax_cancel_wait_init(&r->wait, token);
    struct ax_task *task = ax_task_spawn(&r->base);
    for (int i = 0; i < 4; i++)
        axt_run_turn(executor);
    ck_assert_int_eq(r->polls, 3);
    ck_assert_uint_eq(list_length(&token->waiters), 1);
    ck_assert_uint_eq(token->refs, 2); /* the creator's and the wait's */
    ax_cancel(token);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_uint_eq(token->refs, 1);
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

/* A wait raced against a sleep, in a select. */
struct race {
    struct ax_future base;
    struct ax_cancel_wait wait;
    struct ax_sleep sleep;
    struct ax_future *pair[2];
    struct ax_select select;
};

static ax_result race_poll(struct ax_future *self, struct ax_context *cx)
{
    struct race *r = (struct race *)self;
    ax_result rc = ax_poll(&r->select.base, cx);
    return rc == AX_PENDING ? rc : (ax_result)r->select.winner;
}

static void race_drop(struct ax_future *self)
{
    ax_future_drop(&((struct race *)self)->select.base);
}

static const struct ax_future_ops race_ops = {.poll = race_poll, .drop = race_drop};

/* Returns 0 when the wait wins, 1 when the sleep does. */
static struct ax_task *spawn_race(struct ax_executor *executor, struct ax_cancel_token *token,
                                  uint64_t sleep_ns)
{
    struct race *r = ax_task_alloc(executor, sizeof *r);
    *r = (struct race){.base = {&race_ops}};
    ax_cancel_wait_init(&r->wait, token);
    ax_sleep_init(&r->sleep, sleep_ns);
    r->pair[0] = &r->wait.base;
    r->pair[1] = &r->sleep.base;
    ax_select_init(&r->select, r->pair, 2);
    return ax_task_spawn(&r->base);
}

/* Cancels a token once its sleep ends. */
struct canceller {
    struct ax_future base;
    struct ax_sleep sleep;
    struct ax_cancel_token *token;
};

static ax_result canceller_poll(struct ax_future *self, struct ax_context *cx)
{
    struct canceller *c = (struct canceller *)self;
    ax_result rc = ax_poll(&c->sleep.base, cx);
    if (rc != AX_PENDING)
        ax_cancel(c->token);
    return rc;
}

static void canceller_drop(struct ax_future *self)
{
    ax_future_drop(&((struct canceller *)self)->sleep.base);
}

static const struct ax_future_ops canceller_ops = {.poll = canceller_poll, .drop = canceller_drop};

START_TEST(a_select_of_a_wait_and_a_ten_second_sleep_returns_at_the_cancel)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    struct ax_task *race = spawn_race(executor, token, 10 * S);
    struct canceller *c = ax_task_alloc(executor, sizeof *c);
    *c = (struct canceller){.base = {&canceller_ops}, .token = token};
    ax_sleep_until_init(&c->sleep, START + 2 * S);
    ax_task_detach(ax_task_spawn(&c->base));
    ck_assert_int_eq(ax_block_on(executor, race), 0); /* the wait won */
    ck_assert_uint_ge(ax_executor_now(executor), START + 2 * S);
    ck_assert_uint_le(ax_executor_now(executor), START + 2 * S + TICK);
    ck_assert_uint_eq(ax_executor_timers(executor), 0); /* the sleep's timer is gone */
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_wait_dropped_before_the_cancel_leaves_nothing_on_the_token)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_block_on(executor, spawn_race(executor, token, S)), 1); /* sleep won */
    ck_assert(ax_list_empty(&token->waiters));
    ck_assert_uint_eq(token->refs, 1);
    ax_cancel(token); /* wakes nobody, touches no freed wait */
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

/* ---- guards ----------------------------------------------------------------------- */

START_TEST(a_guard_dropped_armed_cancels_its_token)
{
    struct ax_cancel_token *token = new_root();
    struct ax_cancel_guard guard;
    ax_cancel_guard_init(&guard, token);
    ck_assert(!ax_cancelled(token));
    ax_cancel_guard_drop(&guard);
    ck_assert(ax_cancelled(token));
    ck_assert_uint_eq(token->refs, 1);
    ax_cancel_release(token);
}
END_TEST

START_TEST(a_disarmed_guard_leaves_its_token_alone)
{
    struct ax_cancel_token *token = new_root();
    struct ax_cancel_guard guard;
    ax_cancel_guard_init(&guard, token);
    ax_cancel_guard_disarm(&guard);
    ax_cancel_guard_drop(&guard);
    ck_assert(!ax_cancelled(token));
    ck_assert_uint_eq(token->refs, 1);
    ax_cancel_release(token);
}
END_TEST

START_TEST(a_guard_keeps_its_token_after_the_creator_lets_go)
{
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *helper = new_child(root);
    struct ax_cancel_guard guard;
    ax_cancel_guard_init(&guard, root);
    ax_cancel_release(root);
    ax_cancel_guard_drop(&guard); /* the scope ends: its helper is stopped */
    ck_assert(ax_cancelled(helper));
    ax_cancel_release(helper);
}
END_TEST

/* ---- deadlines -------------------------------------------------------------------- */

START_TEST(a_deadline_cancels_its_token_at_its_time_and_not_before)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_cancel_at(token, executor, START + 5 * S), 0);
    uint64_t woke = 0;
    struct ax_task *task = spawn_waiter(executor, token, 0, NULL, NULL, &woke);
    axt_run_turn(executor);
    ax_executor_advance_time(executor, 5 * S - MS);
    axt_run_turn(executor); /* the timers due by then have fired */
    ck_assert(!ax_cancelled(token));
    ck_assert_uint_eq(ax_executor_timers(executor), 1);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert(ax_cancelled(token));
    ck_assert_uint_ge(woke, START + 5 * S);
    ck_assert_uint_le(woke, START + 5 * S + TICK);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_deadline_cancels_the_subtree_under_its_token)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *child = new_child(root);
    ck_assert_int_eq(ax_cancel_at(root, executor, START + 3 * S), 0);
    uint64_t woke = 0;
    ck_assert_int_eq(ax_block_on(executor, spawn_waiter(executor, child, 0, NULL, NULL, &woke)), 0);
    ck_assert_uint_ge(woke, START + 3 * S);
    ck_assert_uint_le(woke, START + 3 * S + TICK);
    ax_cancel_release(child);
    ax_cancel_release(root);
    ax_executor_free(executor);
}
END_TEST

static uint64_t cancelled_at(uint64_t first_ns, uint64_t second_ns)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_cancel_at(token, executor, first_ns), 0);
    ck_assert_int_eq(ax_cancel_at(token, executor, second_ns), 0);
    ck_assert_uint_eq(ax_executor_timers(executor), 1);
    uint64_t woke = 0;
    ck_assert_int_eq(ax_block_on(executor, spawn_waiter(executor, token, 0, NULL, NULL, &woke)), 0);
    ax_cancel_release(token);
    ax_executor_free(executor);
    return woke;
}

START_TEST(a_second_deadline_keeps_the_earlier_one)
{
    uint64_t later_second = cancelled_at(START + 5 * S, START + 10 * S);
    uint64_t earlier_second = cancelled_at(START + 10 * S, START + 5 * S);
    ck_assert_uint_ge(later_second, START + 5 * S);
    ck_assert_uint_le(later_second, START + 5 * S + TICK);
    ck_assert_uint_ge(earlier_second, START + 5 * S);
    ck_assert_uint_le(earlier_second, START + 5 * S + TICK);
}
END_TEST

START_TEST(a_deadline_already_past_cancels_at_once)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_cancel_at(token, executor, START - S), 0);
    ck_assert(ax_cancelled(token));
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_cancel_release(token);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_deadline_is_removed_when_its_token_is_cancelled_first)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *root = new_root();
    struct ax_cancel_token *child = new_child(root);
    ck_assert_int_eq(ax_cancel_at(child, executor, START + 60 * S), 0);
    ck_assert_uint_eq(ax_executor_timers(executor), 1);
    ax_cancel(root); /* through the parent */
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ck_assert_int_eq(ax_cancel_at(child, executor, START + 60 * S), 0); /* ignored */
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_cancel_release(child);
    ax_cancel_release(root);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_deadline_is_removed_when_its_token_is_released)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_cancel_at(token, executor, START + 60 * S), 0);
    ck_assert_uint_eq(ax_executor_timers(executor), 1);
    ax_cancel_release(token);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_token_with_a_pending_deadline_may_outlive_its_executor)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root(), *child;
    ck_assert_int_eq(ax_cancel_child(token, &child), 0);
    ck_assert_int_eq(ax_cancel_at(child, executor, START + 60 * S), 0);
    ck_assert_int_eq(ax_cancel_at(token, executor, START + 90 * S), 0);
    ax_executor_free(executor); /* the deadlines are disarmed, never fired */
    ck_assert(!ax_cancelled(token) && !ax_cancelled(child));
    ax_cancel(token); /* touches no executor: ASan and valgrind would see it */
    ck_assert(ax_cancelled(child));
    ax_cancel_release(child);
    ax_cancel_release(token);
}
END_TEST

START_TEST(a_token_released_after_its_executor_is_freed_leaves_cleanly)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_cancel_at(token, executor, START + 60 * S), 0);
    ax_executor_free(executor);
    struct ax_executor *next = axt_paused_executor(); /* may reuse the old one's memory */
    ck_assert_int_eq(ax_cancel_at(token, next, START + 30 * S), 0);
    ck_assert_uint_eq(ax_executor_timers(next), 1);
    ax_cancel_release(token);
    ck_assert_uint_eq(ax_executor_timers(next), 0);
    ax_executor_free(next);
}
END_TEST

START_TEST(a_deadline_outlives_the_creators_reference_while_a_wait_holds_the_token)
{
    struct ax_executor *executor = axt_paused_executor();
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_cancel_at(token, executor, START + 5 * S), 0);
    uint64_t woke = 0;
    struct ax_task *task = spawn_waiter(executor, token, 0, NULL, NULL, &woke);
    ax_cancel_release(token);
    ck_assert_uint_eq(ax_executor_timers(executor), 1);
    ck_assert_int_eq(ax_block_on(executor, task), 0);
    ck_assert_uint_ge(woke, START + 5 * S);
    ck_assert_uint_eq(ax_executor_timers(executor), 0);
    ax_executor_free(executor);
}
END_TEST

START_TEST(a_deadline_pending_in_one_executor_refuses_another)
{
    struct ax_executor *executor = axt_paused_executor(), *other;
    ck_assert_int_eq(ax_executor_new(&other, NULL), 0);
    struct ax_cancel_token *token = new_root();
    ck_assert_int_eq(ax_cancel_at(token, executor, START + 5 * S), 0);
    ck_assert_int_eq(ax_cancel_at(token, other, 1), -EINVAL);
    ax_cancel_release(token);
    ax_executor_free(other);
    ax_executor_free(executor);
}
END_TEST

static Suite *cancel_suite(void)
{
    Suite *s = suite_create("06-cancel");
    TCase *tree = axt_tcase("tree");
    tcase_add_test(tree, cancelling_a_token_cancels_its_whole_subtree);
    tcase_add_test(tree, cancelling_a_child_reaches_neither_its_parent_nor_its_siblings);
    tcase_add_test(tree, a_child_of_a_cancelled_token_is_born_cancelled);
    tcase_add_test(tree, a_released_child_leaves_its_parents_list);
    tcase_add_test(tree, releasing_a_parent_before_its_child_keeps_the_parent_until_the_child_goes);
    tcase_add_test(tree, releasing_a_child_before_its_parent_frees_the_child_at_once);
    tcase_add_test(tree, a_wait_keeps_a_released_chain_alive_until_it_is_dropped);
    tcase_add_test(tree, a_chain_a_hundred_thousand_deep_is_cancelled_and_freed_without_recursion);
    tcase_add_test(tree, ten_thousand_children_and_their_waiting_tasks_are_cancelled_in_one_call);
    suite_add_tcase(s, tree);

    TCase *order = axt_tcase("ordering");
    tcase_add_test(order, cancel_wakes_parents_before_children_and_each_tokens_waiters_in_order);
    tcase_add_test(order, cancelling_twice_wakes_a_waiter_once);
    tcase_add_test(order, a_task_may_cancel_the_token_it_waits_on_from_inside_its_poll);
    suite_add_tcase(s, order);

    TCase *wait = axt_tcase("wait");
    tcase_add_test(wait, a_wait_finishes_once_its_token_is_cancelled_and_not_before);
    tcase_add_test(wait, a_wait_finishes_when_an_ancestor_is_cancelled);
    tcase_add_test(wait, a_wait_on_a_cancelled_token_finishes_at_its_first_poll);
    tcase_add_test(wait, a_wait_polled_again_and_again_is_registered_once);
    tcase_add_test(wait, a_select_of_a_wait_and_a_ten_second_sleep_returns_at_the_cancel);
    tcase_add_test(wait, a_wait_dropped_before_the_cancel_leaves_nothing_on_the_token);
    suite_add_tcase(s, wait);

    TCase *guard = axt_tcase("guard");
    tcase_add_test(guard, a_guard_dropped_armed_cancels_its_token);
    tcase_add_test(guard, a_disarmed_guard_leaves_its_token_alone);
    tcase_add_test(guard, a_guard_keeps_its_token_after_the_creator_lets_go);
    suite_add_tcase(s, guard);

    TCase *deadline = axt_tcase("deadline");
    tcase_add_test(deadline, a_deadline_cancels_its_token_at_its_time_and_not_before);
    tcase_add_test(deadline, a_deadline_cancels_the_subtree_under_its_token);
    tcase_add_test(deadline, a_second_deadline_keeps_the_earlier_one);
    tcase_add_test(deadline, a_deadline_already_past_cancels_at_once);
    tcase_add_test(deadline, a_deadline_is_removed_when_its_token_is_cancelled_first);
    tcase_add_test(deadline, a_deadline_is_removed_when_its_token_is_released);
    tcase_add_test(deadline,
                   a_deadline_outlives_the_creators_reference_while_a_wait_holds_the_token);
    tcase_add_test(deadline, a_deadline_pending_in_one_executor_refuses_another);
    tcase_add_test(deadline, a_token_with_a_pending_deadline_may_outlive_its_executor);
    tcase_add_test(deadline, a_token_released_after_its_executor_is_freed_leaves_cleanly);
    suite_add_tcase(s, deadline);
    return s;
}

AXT_MAIN(cancel_suite)
