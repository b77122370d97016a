//@ 06
/*
 * Cancellation tokens; the rules are in ax/cancel.h.
 *
 * Two invariants keep ax_cancel simple. A cancelled token's whole subtree is cancelled
 * (a cancel marks all of it, and a child of a cancelled token is born cancelled), so a
 * walk can skip a cancelled child and everything under it. And a token is freed only
 * when its children are gone (each holds a reference to it), so the tree a walk follows
 * never changes under it: waking a task only queues it.
 *
 * The walk is iterative, through the parent pointers: a chain of tokens a hundred
 * thousand deep costs no stack. The same goes for release, which may free a whole chain
 * of ancestors that only their children kept alive.
 */
#include "ax/cancel.h"
#include "executor.h"

#include <errno.h>
#include <stdlib.h>

static void deadline_fired(struct ax_timer *timer);

static struct ax_cancel_token *token_of_sibling(struct ax_list *sibling)
{
    return ax_container_of(sibling, struct ax_cancel_token, sibling);
}

static int make(struct ax_cancel_token *parent, struct ax_cancel_token **out)
{
    struct ax_cancel_token *token = malloc(sizeof *token);
    if (token == NULL)
        return -ENOMEM;
    *token = (struct ax_cancel_token){.parent = parent, .refs = 1};
    ax_list_init(&token->children);
    ax_list_init(&token->sibling);
    ax_list_init(&token->waiters);
    ax_timer_init(&token->deadline, deadline_fired);
    if (parent != NULL) {
        parent->refs++;
        token->cancelled = parent->cancelled;
        ax_list_push_back(&parent->children, &token->sibling);
    }
    *out = token;
    return 0;
}

int ax_cancel_new(struct ax_cancel_token **out)
{
    return make(NULL, out);
}

int ax_cancel_child(struct ax_cancel_token *parent, struct ax_cancel_token **out)
{
    return make(parent, out);
}

struct ax_cancel_token *ax_cancel_ref(struct ax_cancel_token *token)
{
    token->refs++;
    return token;
}

/* A pending timer is in its executor's wheel. One the executor let go of when it was
 * freed (ax_wheel_clear) is not pending any more, and its executor is not touched. */
static void stop_deadline(struct ax_cancel_token *token)
{
    if (token->deadline.pending)
        ax_wheel_cancel(&token->executor->timers, &token->deadline);
    token->executor = NULL;
}

// snippet cancel-release
void ax_cancel_release(struct ax_cancel_token *token)
{
    /* Freeing a token gives back its reference to its parent, which may free that. */
    while (token != NULL && --token->refs == 0) {
        struct ax_cancel_token *parent = token->parent;
        stop_deadline(token);
        ax_list_remove(&token->sibling);
        free(token); /* no children (they hold references) and no waiters (likewise) */
        token = parent;
    }
}
// end snippet

// snippet cancel-tree
/* Marks one token and wakes its waiters, oldest first. */
static void cancel_one(struct ax_cancel_token *token)
{
    token->cancelled = true;
    stop_deadline(token);
    struct ax_list *node;
    while ((node = ax_list_pop_front(&token->waiters)) != NULL)
        ax_wake(&ax_container_of(node, struct ax_cancel_wait, link)->waker);
}

/* The token after `token` in a pre-order walk of root's subtree that skips cancelled
 * subtrees: its first live child, else the next live sibling of it or of the nearest
 * ancestor that has one; NULL once back at root. */
static struct ax_cancel_token *next_to_cancel(struct ax_cancel_token *token,
                                              struct ax_cancel_token *root)
{
    struct ax_list *from = token->children.next, *end = &token->children;
    for (;;) {
        for (struct ax_list *node = from; node != end; node = node->next)
            if (!token_of_sibling(node)->cancelled)
                return token_of_sibling(node);
        if (token == root)
            return NULL;
        from = token->sibling.next; /* token's subtree is done: on to its later siblings */
        token = token->parent;
        end = &token->children;
    }
}

void ax_cancel(struct ax_cancel_token *token)
{
    if (token->cancelled)
        return; /* and so is all of its subtree */
    for (struct ax_cancel_token *t = token; t != NULL; t = next_to_cancel(t, token))
        cancel_one(t);
}
// end snippet

// snippet cancel-deadline
static void deadline_fired(struct ax_timer *timer)
{
    struct ax_cancel_token *token = ax_container_of(timer, struct ax_cancel_token, deadline);
    token->executor = NULL; /* a fired timer is no longer in the wheel */
    ax_cancel(token);
}

int ax_cancel_at(struct ax_cancel_token *token, struct ax_executor *executor, uint64_t deadline_ns)
{
    if (token->cancelled)
        return 0;
    if (token->deadline.pending) {
        if (token->executor != executor)
            return -EINVAL;
        if (token->deadline.deadline <= deadline_ns)
            return 0; /* the earlier deadline stands */
        stop_deadline(token);
    }
    if (deadline_ns <= executor->now) {
        ax_cancel(token); /* already past: no timer needed */
        return 0;
    }
    token->executor = executor;
    ax_wheel_insert(&executor->timers, &token->deadline, deadline_ns);
    return 0;
}
// end snippet

/* ---- waiting ---------------------------------------------------------------------- */

// snippet cancel-wait
static ax_result cancel_wait_poll(struct ax_future *self, struct ax_context *cx)
{
    struct ax_cancel_wait *wait = (struct ax_cancel_wait *)self;
    if (wait->token->cancelled)
        return 0;
    if (!ax_list_linked(&wait->link))
        ax_list_push_back(&wait->token->waiters, &wait->link);
    if (!ax_waker_wakes(&wait->waker, cx)) {
        ax_waker_drop(&wait->waker);
        wait->waker = ax_waker_clone(cx);
    }
    return AX_PENDING;
}

static void cancel_wait_drop(struct ax_future *self)
{
    struct ax_cancel_wait *wait = (struct ax_cancel_wait *)self;
    ax_list_remove(&wait->link);
    ax_waker_drop(&wait->waker);
    ax_cancel_release(wait->token);
    wait->token = NULL;
}
// end snippet

static const struct ax_future_ops cancel_wait_ops = {.poll = cancel_wait_poll,
                                                     .drop = cancel_wait_drop};

void ax_cancel_wait_init(struct ax_cancel_wait *wait, struct ax_cancel_token *token)
{
    *wait = (struct ax_cancel_wait){.base = {&cancel_wait_ops}, .token = ax_cancel_ref(token)};
    ax_list_init(&wait->link);
}

/* ---- guard ------------------------------------------------------------------------ */

void ax_cancel_guard_init(struct ax_cancel_guard *guard, struct ax_cancel_token *token)
{
    *guard = (struct ax_cancel_guard){.token = ax_cancel_ref(token), .armed = true};
}

void ax_cancel_guard_disarm(struct ax_cancel_guard *guard)
{
    guard->armed = false;
}

void ax_cancel_guard_drop(struct ax_cancel_guard *guard)
{
    if (guard->token == NULL)
        return;
    if (guard->armed)
        ax_cancel(guard->token);
    ax_cancel_release(guard->token);
    guard->token = NULL;
}
